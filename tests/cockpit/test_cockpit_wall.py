"""The wall screen: opened with a display token an admin makes in the console; revoking it answers 403 on the
page, the data and the stream (and ends an open stream); it never shows a resident's name or a small count."""

from __future__ import annotations

import json
import re

import pytest
from cockpit_world import build
from console_forms import login, post

from app.cockpit import privacy, snapshots, tokens
from app.cockpit.models import DisplayToken
from app.core.clock import utcnow
from app.core.db import db


@pytest.fixture
def admin(client, db_session, make_resident, make_staff):
    world = build(db_session, make_resident)
    staff = make_staff("admin", username="ck_admin", password="right-password")
    snapshots.refresh(db_session, world.community_id, utcnow())
    db_session.commit()
    assert login(client, "ck_admin", "right-password").status_code == 303
    staff.world = world
    return staff


def _make_link(client) -> str:
    page = post(client, "/console/cockpit/displays", {"label": "物业大厅大屏"})
    assert page.status_code == 200 and "只显示这一次" in page.text
    return re.search(r'id="new-url">([^<]+)<', page.text).group(1)


def _events(response, count: int) -> list[tuple[str, dict]]:
    """Read `count` events (heartbeats skipped) from a streamed SSE response."""
    out, buffer = [], ""
    chunks = iter(response.response)
    while len(out) < count:
        chunk = next(chunks)
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            name = re.search(r"^event: (.+)$", block, re.M)
            data = re.search(r"^data: (.+)$", block, re.M)
            if name and data:
                out.append((name.group(1), json.loads(data.group(1))))
    return out


def test_an_admin_makes_a_link_and_revoking_it_closes_page_data_and_stream(app, client, admin, db_session,
                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "COCKPIT_STREAM_POLL_SECONDS", 0.05)
    url = _make_link(client)
    path = url.split("://", 1)[1].split("/", 1)[1]
    wall = client.application.test_client()  # the screen: no console cookie
    assert wall.get(f"/{path}").status_code == 200
    data = wall.get(f"/{path}/data")
    assert data.status_code == 200 and data.json["community"]["id"] == admin.world.community_id
    assert data.headers["Cache-Control"] == "no-store"
    stream = wall.get(f"/{path}/stream", buffered=False)
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    assert _events(stream, 1)[0][0] == "hello"

    row = db_session.query(DisplayToken).one()
    assert row.token_hash != path.rsplit("/", 1)[1]  # only the hash is kept
    listing = client.get("/console/cockpit/displays")
    assert "物业大厅大屏" in listing.text and path.rsplit("/", 1)[1] not in listing.text  # never shown again
    assert post(client, f"/console/cockpit/displays/{row.id}/revoke").status_code == 302

    assert _events(stream, 1)[0][0] == "revoked"  # the open stream is told and ends
    stream.close()
    page = wall.get(f"/{path}")
    assert page.status_code == 403 and "已停用" in page.text
    for suffix in ("/data", "/stream"):
        refused = wall.get(f"/{path}{suffix}")
        assert refused.status_code == 403 and refused.json["error"]["code"] == "display_token_refused"
    assert wall.get("/cockpit/wall/not-a-token/data").status_code == 403


def test_only_admins_manage_links_and_only_their_own(client, admin, db_session, make_staff, make_community):
    other = make_staff("admin", username="ck_other", password="right-password", community=make_community("别的小区"))
    theirs, _token = tokens.create(db_session, other, "别的小区大屏")
    property_staff = make_staff("property", username="ck_kefu", password="right-password")
    db_session.commit()
    assert post(client, f"/console/cockpit/displays/{theirs.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(DisplayToken, theirs.id).revoked_at is None  # not this admin's community
    assert post(client, "/console/cockpit/displays", {"label": "  "}).status_code == 302  # a name is required
    assert db_session.query(DisplayToken).filter_by(community_id=admin.community_id).count() == 0
    other_client = client.application.test_client()
    assert login(other_client, property_staff.username, "right-password").status_code == 303
    assert other_client.get("/console/cockpit/displays").status_code == 403
    assert other_client.get("/console/cockpit").status_code == 200


def test_the_wall_shows_no_names_and_no_small_counts(client, admin, db_session):
    url = _make_link(client)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    wall = client.application.test_client()
    text = wall.get(path).text + wall.get(f"{path}/data").text
    data = wall.get(f"{path}/data").json
    for resident in admin.world.residents:
        assert resident.name not in text and resident.phone not in text
    assert "我要找人工" not in text  # what a resident wrote to the escalation stays in the console
    by_building = dict(data["charts"]["residents_by_building"])
    assert by_building["2幢"] == "<5"  # three people
    assert by_building["1幢"] == 8 and by_building["3幢"] == "≥5"  # hidden too: else 17 - 8 - 6 = 3
    residents = next(t for t in data["tiles"] if t["key"] == "residents")
    assert dict(residents["details"])["独居老人"] == "<5"
    welfare = next(t for t in data["tiles"] if t["key"] == "welfare")
    assert welfare["value"] == "<5"
    ages = dict(data["charts"]["age_bands"])
    assert all(v == 0 or v == "<5" or v == "≥5" or (isinstance(v, int) and v >= 5) for v in ages.values())
    assert not any(t["key"] == "health" for t in data["tiles"])  # never on the wall


def test_small_counts_are_hidden_and_one_hidden_cell_takes_another_with_it():
    assert privacy.count(0, 5) == 0 and privacy.count(4, 5) == "<5" and privacy.count(5, 5) == 5
    assert privacy.breakdown({"a": 3, "b": 7, "c": 20}, 5) == {"a": "<5", "b": "≥5", "c": 20}
    assert privacy.breakdown({"a": 3, "b": 2, "c": 20}, 5) == {"a": "<5", "b": "<5", "c": 20}
    assert privacy.breakdown({"a": 6, "b": 7}, 5) == {"a": 6, "b": 7}
    assert privacy.min_group({"COCKPIT_MIN_GROUP_SIZE": "10"}) == 10 and privacy.min_group({}) == 5
    assert privacy.min_group({"COCKPIT_MIN_GROUP_SIZE": "1"}) == 2  # never exact single people
