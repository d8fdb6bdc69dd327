"""Welfare in the mini-program: a watched resident sees their own status and checks in with one tap; the
resident or their registered family contact sets away / in hospital until a date (or back to normal)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from flask import jsonify
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from app.binding.me_api import current_resident
from app.community.models import Resident
from app.core.clock import SHANGHAI, local_now, utcnow
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.welfare import board
from app.welfare import watch as watching
from app.welfare.models import WelfareWatch
from app.welfare.signals import resident_spoke
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import ERROR_RESPONSES
from miniprogram_api.validation import Body, ErrorCode, Int, Text

NOT_WATCHED = "您还没有加入独居老人关怀，如需加入请联系楼栋管家"


class WelfareStatus(BaseModel):
    """A watched resident's own status (never another resident's, never staff notes)."""

    watch_id: int
    name: str
    mode: Literal["normal", "away", "hospital", "visit"] = Field(description="normal 正常；away 外出；hospital 住院；"
                                                                              "visit 探访中")
    mode_label: str
    mode_until: datetime | None = Field(description="外出/住院到何时（UTC），到期自动恢复")
    last_activity_at: datetime = Field(description="最近一次活动迹象（UTC）")
    next_check_at: datetime | None = Field(description="若一直没有活动迹象，何时提醒楼栋管家（UTC）")


class WelfareMe(BaseModel):
    """The signed-in resident's own watch (null when not watched) and the family members they are contact for."""

    me: WelfareStatus | None
    family: list[WelfareStatus]


class ModeBody(Body):
    """Away or in hospital until a date (inclusive), or back to normal; for oneself or a family member."""

    mode: Annotated[Literal["normal", "away", "hospital"], ErrorCode.of("bad_mode", "状态只能是正常、外出或住院")] = (
        Field(title="状态"))
    until: Text(10) = Field(None, title="截止日期（含当天）", examples=["2026-05-20"],
                            description="外出、住院时必填，格式 YYYY-MM-DD（北京时间）")
    watch_id: Int(1) = Field(None, title="家人的关怀编号",
                             description="为家人设置时填写（见 GET /welfare/me 的 family）；不填为自己设置")


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def _status(watch: WelfareWatch, now: datetime) -> WelfareStatus:
    info = board.resident_status(watch, now)
    return WelfareStatus(watch_id=watch.id, name=watch.resident.name, mode=info["mode"], mode_label=info["mode_label"],
                         mode_until=_utc(info["mode_until"]), last_activity_at=_utc(info["last_activity_at"]),
                         next_check_at=_utc(info["next_check_at"]))


def _family_watches(resident: Resident) -> list[WelfareWatch]:
    """The watches this resident is the registered family contact (or the consenting relative) of."""
    return list(db.session.scalars(select(WelfareWatch).where(
        WelfareWatch.active.is_(True), WelfareWatch.resident_id != resident.id,
        or_(WelfareWatch.family_phone == resident.phone,
            (WelfareWatch.consent_relation == "family") & (WelfareWatch.consent_phone == resident.phone)))
        .order_by(WelfareWatch.id)))


@api_route("/welfare/me", summary="独居关怀：我的状态（和我登记为家属的家人）", tags=("welfare",),
           responses={200: {"description": "成功", **WelfareMe.model_json_schema()}, 403: ERROR_RESPONSES[403]})
def welfare_me():
    """The resident's own watch status, and the family members whose contact they are."""
    resident, now = current_resident(), utcnow()
    own = watching.watch_of_resident(db.session, resident.id)
    out = WelfareMe(me=_status(own, now) if own else None,
                    family=[_status(w, now) for w in _family_watches(resident)])
    return jsonify(out.model_dump(mode="json"))


@api_route("/welfare/checkin", methods=("POST",), summary="独居关怀：报平安（一键）", tags=("welfare",),
           responses={200: {"description": "已报平安", **WelfareStatus.model_json_schema()},
                      403: ERROR_RESPONSES[403], 404: ERROR_RESPONSES[404]})
def welfare_checkin():
    """A watched resident says they are fine: the timer starts again."""
    resident, now = current_resident(), utcnow()
    watch = watching.watch_of_resident(db.session, resident.id)
    if watch is None:
        raise NotFound(NOT_WATCHED, code="not_watched")
    resident_spoke(db.session, watch, "checkin", now)
    return jsonify(_status(watch, now).model_dump(mode="json"))


def _until(value: str | None) -> datetime:
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise ValidationFailed("请填写截止日期，格式 YYYY-MM-DD", code="bad_until", details={"field": "until"}) from exc
    if day < local_now().date():
        raise ValidationFailed("截止日期不能早于今天", code="bad_until", details={"field": "until"})
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC).replace(tzinfo=None)


@api_route("/welfare/mode", methods=("POST",), summary="独居关怀：设置外出、住院或恢复正常", tags=("welfare",),
           body=ModeBody, responses={200: {"description": "已设置", **WelfareStatus.model_json_schema()},
                                     403: ERROR_RESPONSES[403], 404: ERROR_RESPONSES[404],
                                     422: ERROR_RESPONSES[422]})
def welfare_mode(body: ModeBody):
    """Away or in hospital until a date (ends by itself), or back to normal: for oneself, or for a family
    member whose registered contact the resident is."""
    resident, now = current_resident(), utcnow()
    if body.watch_id is None:
        watch, by = watching.watch_of_resident(db.session, resident.id), f"{resident.name}（本人，小程序）"
    else:
        watch = next((w for w in _family_watches(resident) if w.id == body.watch_id), None)
        by = f"{resident.name}（家属，小程序）"
    if watch is None:
        raise NotFound(NOT_WATCHED if body.watch_id is None else "没有找到您登记为家属的这位家人",
                       code="not_watched")
    until = _until(body.until) if body.mode != "normal" else None
    watching.set_mode(db.session, watch, body.mode, until=until, by=by, now=now)
    return jsonify(_status(watch, now).model_dump(mode="json"))
