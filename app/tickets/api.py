"""Repairs and complaints in the mini-program: create, mine, detail with timeline, photos, rate, reopen,
cancel, follow; and POST /chat, the chat box, through the same chat core as the official account."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from flask import current_app, jsonify, request
from pydantic import ConfigDict, Field, model_validator

from app.binding.me_api import current_resident
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import NotFound, ValidationFailed
from app.core.timeline import resident_actor
from app.core.uploads import save_photo, send_photo
from app.tickets import records, serialise, tickets
from app.tickets.models import COMPLAINT_CATEGORIES, OUTCOMES, REPAIR_CATEGORIES, STATUSES, Ticket, TicketPhoto
from app.tickets.records import Location
from app.tickets.sla import sla_policy
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref
from miniprogram_api.validation import (
    REQUIRED_TEXT_PATTERN,
    Body,
    ErrorCode,
    Int,
    Query,
    RequiredText,
    Text,
    refuse,
)

PHOTO_PREFIX = "/api/v1/ticket-photos/"

COMPONENTS["TicketSummary"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "number": {"type": "string", "example": "BX2611240001"},
        "kind": {"type": "string", "enum": ["repair", "complaint"]}, "kind_label": {"type": "string"},
        "category": {"type": "string", "enum": sorted(set(REPAIR_CATEGORIES) | set(COMPLAINT_CATEGORIES))},
        "category_label": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)}, "status_label": {"type": "string"},
        "priority": {"type": "string", "enum": ["normal", "urgent"]},
        "place": {"type": "string", "example": "3幢 电梯"}, "description": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
COMPONENTS["Ticket"] = {
    "allOf": [ref("TicketSummary"), {"type": "object", "properties": {
        "outcome": {"type": "string", "enum": list(OUTCOMES), "nullable": True},
        "outcome_reason": {"type": "string", "nullable": True},
        "assignee": {"type": "string", "nullable": True, "description": "负责的工作人员"},
        "photos": {"type": "array", "items": {"type": "object", "properties": {
            "url": {"type": "string"}, "stage": {"type": "string", "enum": ["report", "before", "after"]}}}},
        "timeline": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "from": {"type": "string", "nullable": True},
            "to": {"type": "string", "nullable": True}, "actor": {"type": "string"},
            "actor_name": {"type": "string"}, "note": {"type": "string"},
            "at": {"type": "string", "format": "date-time"}}}},
        "can_cancel": {"type": "boolean"}, "can_rate": {"type": "boolean"}, "can_reopen": {"type": "boolean"},
        "rating": {"type": "object", "nullable": True},
    }}],
}
def _text(value: str | int | None) -> str | None:
    return str(value).strip() or None if value is not None else None


_ANY_BUILDING = {"anyOf": [{"type": "string", "pattern": REQUIRED_TEXT_PATTERN}, {"type": "integer"}]}


class TicketCreate(Body):
    """A new report: either at_home=true (the bound room), or a building and/or a place of shared space."""

    model_config = ConfigDict(json_schema_extra={
        "description": "二选一：at_home=true（地点取绑定的房号），或填写 building 和/或 place（楼栋公共部位）；"
                       "都没有时 422 missing_field（details.fields）。",
        "anyOf": [{"properties": {"at_home": {"const": True}}, "required": ["at_home"]},
                  {"properties": {"building": _ANY_BUILDING}, "required": ["building"]},
                  {"properties": {"place": {"type": "string", "pattern": REQUIRED_TEXT_PATTERN}},
                   "required": ["place"]}]})

    kind: Annotated[Literal["repair", "complaint"], ErrorCode.of("bad_kind", "类型只能是报修或投诉")] = Field(
        title="类型")
    category: Text(20) = Field(None, title="类别", description=(
        "报修：" + "、".join(REPAIR_CATEGORIES) + "；投诉：" + "、".join(COMPLAINT_CATEGORIES) + "。其他值记为 other"))
    description: RequiredText(1000) = Field(title="问题描述")
    at_home: bool = Field(False, title="在自己家里", description="true 时地点取绑定的房号")
    building: Text(20) | Int(0, 99999) = Field(None, title="楼号")
    unit: Text(20) | Int(0, 99999) = Field(None, title="单元")
    place: Text(100) = Field(None, title="位置", examples=["电梯"])
    photos: list[Text(500)] = Field([], max_length=records.MAX_PHOTOS, title="照片地址", description=(
        f"先用 POST /tickets/{{id}}/photos 上传；或创建后再上传。不是 {PHOTO_PREFIX} 开头的地址被忽略"))

    @model_validator(mode="after")
    def _somewhere(self) -> TicketCreate:
        if not self.at_home and not _text(self.building) and not self.place:
            raise refuse("missing_field", "请选择在家里，或填写楼栋和位置", fields=["building", "place"])
        return self


class TicketRate(Body):
    """Three scores 1–5 and an optional comment."""

    overall: Int(1, 5) = Field(title="总体评分")
    speed: Int(1, 5) = Field(title="速度")
    attitude: Int(1, 5) = Field(title="态度")
    comment: Text(300) = Field("", title="评价")


class TicketCancel(Body):
    """Why the resident withdraws the report (optional)."""

    reason: Text(300) = Field("", title="原因")


class TicketReopen(Body):
    """What is still wrong."""

    reason: RequiredText(300) = Field(title="原因")


class TicketListQuery(Query):
    """?status=open lists only unfinished tickets."""

    status: Literal["open"] = Field(None, title="状态", description="open：只列未完成的")


TICKET_OK = {200: {"description": "成功", **ref("Ticket")}}
ERRORS = {s: ERROR_RESPONSES[s] for s in (403, 404, 409)}
CHANNEL = "wxa"


@api_route("/tickets", methods=("POST",), summary="报事报修：新建", tags=("tickets",), body=TicketCreate,
           responses={201: {"description": "已提交", **ref("Ticket")}, 403: ERROR_RESPONSES[403]})
def create_ticket(body: TicketCreate):
    """Report a repair or complaint: at home (the bound room) or a building's shared place."""
    resident = current_resident()
    if body.at_home:
        household = resident.household
        location = Location(household.unit.building.number, household.unit.number, household.room, "家中") \
            if household else Location(place="家中")
    else:
        location = Location(building=_text(body.building), unit=_text(body.unit), place=body.place or "")
    photos = [{"url": u} for u in body.photos if u.startswith(PHOTO_PREFIX)]
    ticket = tickets.create_ticket(db.session, resident=resident, kind=body.kind, category=body.category,
                                   description=body.description, location=location, source=CHANNEL,
                                   photos=photos, sla=sla_policy(current_app.config))
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out), 201


@api_route("/tickets", summary="我家的报修和投诉", tags=("tickets",), query=TicketListQuery,
           responses={200: {"description": "成功", "type": "object", "properties": {
               "tickets": {"type": "array", "items": ref("TicketSummary")}}}, 403: ERROR_RESPONSES[403]})
def list_tickets(query: TicketListQuery):
    """The household's tickets and the ones followed, newest first (?status=open for unfinished only)."""
    rows = tickets.tickets_for_resident(db.session, current_resident(), open_only=query.status == "open")
    return jsonify({"tickets": [serialise.summary(t) for t in rows]})


@api_route("/tickets/<id:ticket_id>", summary="单子详情和处理进度", tags=("tickets",),
           responses={**TICKET_OK, **ERRORS})
def ticket_detail(ticket_id: int):
    """One ticket of the household, with photos and the timeline; another household's is not found."""
    resident = current_resident()
    ticket = tickets.ticket_for_resident(db.session, ticket_id, resident)
    return jsonify(serialise.for_resident(db.session, ticket, resident, utcnow()))


@api_route("/tickets/<id:ticket_id>/photos", methods=("POST",), summary="上传照片",
           tags=("tickets",), responses={**TICKET_OK, **ERRORS, 413: {"description": "图片过大"},
                                         422: ERROR_RESPONSES[422]})
def upload_photo(ticket_id: int):
    """Upload a photo (multipart field `file`: JPEG, PNG or WebP up to 5 MB) to an open ticket."""
    resident = current_resident()
    ticket = tickets.ticket_to_act_on(db.session, ticket_id, resident)  # followers only read
    if len(ticket.photos) >= records.MAX_PHOTOS:
        raise ValidationFailed(f"每张单子最多 {records.MAX_PHOTOS} 张照片", code="too_many_photos")
    name = save_photo(request.files.get("file"), _photo_dir(), str(ticket.id))
    tickets.add_photo(db.session, ticket, url=PHOTO_PREFIX + name, actor=resident_actor(resident))
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out)


@api_route("/ticket-photos/<name>", summary="查看照片", tags=("tickets",),
           responses={200: {"description": "图片"}, 404: ERROR_RESPONSES[404]})
def photo_file(name: str):
    """A ticket photo, for residents who may see the ticket."""
    photo = db.session.query(TicketPhoto).filter_by(url=PHOTO_PREFIX + name).first()
    path = _photo_dir() / name
    if photo is None or "/" in name or not path.is_file():
        raise NotFound("没有这张图片", code="photo_not_found")
    tickets.ticket_for_resident(db.session, photo.ticket_id, current_resident())
    return send_photo(path)


def _photo_dir() -> Path:
    return Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads") / "tickets"


@api_route("/tickets/<id:ticket_id>/rate", methods=("POST",), summary="评价（总体、速度、态度）",
           tags=("tickets",), body=TicketRate, responses={**TICKET_OK, **ERRORS})
def rate_ticket(ticket_id: int, body: TicketRate):
    """Rate a resolved ticket 1–5 on overall, speed and attitude; this closes it."""
    resident = current_resident()
    tickets.rate(db.session, ticket_id, resident, overall=body.overall, speed=body.speed,
                 attitude=body.attitude, comment=body.comment)
    out = serialise.for_resident(db.session, records.get_ticket(db.session, ticket_id), resident, utcnow())
    return jsonify(out)


@api_route("/tickets/<id:ticket_id>/reopen", methods=("POST",), summary="没修好，重新打开",
           tags=("tickets",), body=TicketReopen, responses={**TICKET_OK, **ERRORS})
def reopen_ticket(ticket_id: int, body: TicketReopen):
    """Reopen a resolved ticket within 7 days, saying what is still wrong."""
    resident = current_resident()
    ticket = tickets.reopen(db.session, ticket_id, resident, body.reason, sla=sla_policy(current_app.config))
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out)


@api_route("/tickets/<id:ticket_id>/cancel", methods=("POST",), summary="撤销",
           tags=("tickets",), body=TicketCancel, responses={**TICKET_OK, **ERRORS})
def cancel_ticket(ticket_id: int, body: TicketCancel):
    """Withdraw a report before work has started."""
    resident = current_resident()
    ticket = tickets.cancel(db.session, ticket_id, resident, body.reason)
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out)


@api_route("/tickets/<id:ticket_id>/follow", methods=("POST",), summary="关注同一问题的单子",
           tags=("tickets",), responses={**TICKET_OK, **ERRORS})
def follow_ticket(ticket_id: int):
    """Follow a neighbour's shared-area ticket (same community) to get its updates."""
    resident = current_resident()
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.community_id != resident.community_id or ticket.room is not None:
        raise NotFound("没有找到这张单子", code="ticket_not_found")
    tickets.follow(db.session, ticket, resident)
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out)
