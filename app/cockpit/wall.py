"""The wall screen: /cockpit/wall/<token> with its data and its event stream, read-only with a display token
(no console login). A revoked or unknown token gets 403 on all three, and an open stream ends.

Also the blueprint that serves the cockpit's static files (Apache ECharts, the page script) from the project."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from app.cockpit import board, live, streets, tokens
from app.cockpit.models import DisplayToken, Street
from app.community.models import Community
from app.core.clock import utcnow
from app.core.db import db, unit_of_work
from app.core.errors import Forbidden

bp = Blueprint("cockpit", __name__, url_prefix="/cockpit", static_folder="static", static_url_path="/static")
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class TokenRefused(Forbidden):
    code, message = "display_token_refused", "此大屏链接无效或已停用，请向物业管理员索取新的链接"


def _token(token: str) -> DisplayToken:
    row = tokens.find(db.session, token)
    if row is None:
        raise TokenRefused()
    tokens.touch(row, utcnow())
    return row


def _communities(row: DisplayToken) -> list[Community]:
    if row.street_id is not None:
        return streets.communities_of(db.session, row.street_id)
    community = db.session.get(Community, row.community_id)
    return [community] if community is not None else []


@bp.get("/wall/<token>")
@unit_of_work
def wall(token: str):
    """The wall page: figures, charts and the live list, reconnecting by itself."""
    row = tokens.find(db.session, token)
    if row is None:
        err = TokenRefused()
        return render_template("cockpit/wall_refused.html", message=err.message), 403, NO_STORE
    tokens.touch(row, utcnow())
    base = f"/cockpit/wall/{token}"
    return render_template("cockpit/wall.html", label=row.label, data_url=f"{base}/data",
                           stream_url=f"{base}/stream"), 200, NO_STORE


@bp.get("/wall/<token>/data")
@unit_of_work
def wall_data(token: str):
    """The figures as JSON: one community's board, or a street's communities side by side."""
    row = _token(token)
    now = utcnow()
    communities = _communities(row)
    if row.street_id is not None:
        street = db.session.get(Street, row.street_id)
        data = {"street": {"id": street.id, "name": street.name},
                "rows": board.street_board(db.session, communities, now, current_app.config)}
    elif communities:
        data = board.community_board(db.session, communities[0], now, current_app.config)
    else:
        raise TokenRefused()
    data["wall"] = True
    return jsonify(data), 200, NO_STORE


@bp.get("/wall/<token>/stream")
@unit_of_work
def wall_stream(token: str):
    """New alarms and escalations as server-sent events; ends at once if the token is revoked."""
    row = _token(token)
    token_id = row.id
    ids = [c.id for c in _communities(row)]

    def allowed(session) -> bool:
        found = session.get(DisplayToken, token_id)
        return found is not None and found.active

    return event_stream(ids, allowed)


def event_stream(community_ids: list[int], allowed) -> Response:
    """The SSE response for these communities (shared with the console page); the request's session is
    closed before the stream starts, so the stream holds no database connection between polls."""
    sources = board.sources(db.session)
    cursor = live.Cursor.parse(request.headers.get("Last-Event-ID") or request.args.get("last_event_id"))
    if cursor is None:
        cursor = live.newest(db.session, sources)
    config = current_app.config
    body = live.stream(db.engine, sources=sources, community_ids=community_ids, cursor=cursor, allowed=allowed,
                       poll=float(config.get("COCKPIT_STREAM_POLL_SECONDS") or live.POLL_SECONDS),
                       duration=float(config.get("COCKPIT_STREAM_SECONDS") or live.DURATION_SECONDS))
    db.session.commit()
    db.session.close()
    return Response(body, mimetype="text/event-stream", headers={**NO_STORE, "X-Accel-Buffering": "no"})
