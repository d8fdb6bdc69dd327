"""Repairs and complaints in the mini-program: create, mine, detail with timeline, photos, rate, reopen,
cancel, follow; and POST /chat, the chat box, through the same chat core as the official account."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify, request

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
from miniprogram_api.openapi import api_route, json_body
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref

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
CREATE_REQUEST = {
    "type": "object", "required": ["kind", "description"],
    "properties": {
        "kind": {"type": "string", "title": "类型", "enum": ["repair", "complaint"], "maxLength": 10},
        "category": {"type": "string", "title": "类别", "maxLength": 20},
        "description": {"type": "string", "title": "问题描述", "maxLength": 1000},
        "at_home": {"type": "boolean", "title": "在自己家里", "description": "true 时地点取绑定的房号"},
        "building": {"type": ["string", "integer"], "title": "楼号", "maxLength": 20},
        "unit": {"type": ["string", "integer"], "title": "单元", "maxLength": 20},
        "place": {"type": "string", "title": "位置", "maxLength": 100, "example": "电梯"},
        "photos": {"type": "array", "title": "照片地址", "items": {"type": "string"},
                   "description": "先用 POST /tickets/{id}/photos 上传；或创建后再上传"},
    },
}
RATE_REQUEST = {
    "type": "object", "required": ["overall", "speed", "attitude"],
    "properties": {
        "overall": {"type": "integer", "title": "总体评分", "minimum": 1, "maximum": 5},
        "speed": {"type": "integer", "title": "速度", "minimum": 1, "maximum": 5},
        "attitude": {"type": "integer", "title": "态度", "minimum": 1, "maximum": 5},
        "comment": {"type": "string", "title": "评价", "maxLength": 300},
    },
}
REASON_REQUEST = {"type": "object", "properties": {"reason": {"type": "string", "title": "原因", "maxLength": 300}}}
REOPEN_REQUEST = {"type": "object", "required": ["reason"], "properties": REASON_REQUEST["properties"]}
TICKET_OK = {200: {"description": "成功", **ref("Ticket")}}
ERRORS = {s: ERROR_RESPONSES[s] for s in (403, 404, 409)}
CHANNEL = "wxa"


def _text(value) -> str | None:
    return str(value).strip() if value not in (None, "") else None


@api_route("/tickets", methods=("POST",), summary="报事报修：新建", tags=("tickets",), request_schema=CREATE_REQUEST,
           responses={201: {"description": "已提交", **ref("Ticket")}, 403: ERROR_RESPONSES[403]})
def create_ticket():
    """Report a repair or complaint: at home (the bound room) or a building's shared place."""
    body, resident = json_body(), current_resident()
    if body.get("at_home"):
        household = resident.household
        location = Location(household.unit.building.number, household.unit.number, household.room, "家中") \
            if household else Location(place="家中")
    else:
        location = Location(building=_text(body.get("building")), unit=_text(body.get("unit")),
                            place=_text(body.get("place")) or "")
        if not location.building and not location.place:
            raise ValidationFailed("请选择在家里，或填写楼栋和位置", code="missing_field",
                                   details={"fields": ["building", "place"]})
    photos = [{"url": u} for u in (body.get("photos") or []) if isinstance(u, str) and u.startswith(PHOTO_PREFIX)]
    ticket = tickets.create_ticket(db.session, resident=resident, kind=body["kind"], category=body.get("category"),
                                   description=body["description"], location=location, source=CHANNEL,
                                   photos=photos[:records.MAX_PHOTOS], sla=sla_policy(current_app.config))
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out), 201


@api_route("/tickets", summary="我家的报修和投诉", tags=("tickets",),
           responses={200: {"description": "成功", "type": "object", "properties": {
               "tickets": {"type": "array", "items": ref("TicketSummary")}}}, 403: ERROR_RESPONSES[403]})
def list_tickets():
    """The household's tickets and the ones followed, newest first (?status=open for unfinished only)."""
    rows = tickets.tickets_for_resident(db.session, current_resident(),
                                        open_only=request.args.get("status") == "open")
    return jsonify({"tickets": [serialise.summary(t) for t in rows]})


@api_route("/tickets/<int(max=2147483647):ticket_id>", summary="单子详情和处理进度", tags=("tickets",),
           responses={**TICKET_OK, **ERRORS})
def ticket_detail(ticket_id: int):
    """One ticket of the household, with photos and the timeline; another household's is not found."""
    resident = current_resident()
    ticket = tickets.ticket_for_resident(db.session, ticket_id, resident)
    return jsonify(serialise.for_resident(db.session, ticket, resident, utcnow()))


@api_route("/tickets/<int(max=2147483647):ticket_id>/photos", methods=("POST",), summary="上传照片",
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


@api_route("/tickets/<int(max=2147483647):ticket_id>/rate", methods=("POST",), summary="评价（总体、速度、态度）",
           tags=("tickets",), request_schema=RATE_REQUEST, responses={**TICKET_OK, **ERRORS})
def rate_ticket(ticket_id: int):
    """Rate a resolved ticket 1–5 on overall, speed and attitude; this closes it."""
    body, resident = json_body(), current_resident()
    tickets.rate(db.session, ticket_id, resident, overall=body["overall"], speed=body["speed"],
                 attitude=body["attitude"], comment=body.get("comment") or "")
    out = serialise.for_resident(db.session, records.get_ticket(db.session, ticket_id), resident, utcnow())
    return jsonify(out)


@api_route("/tickets/<int(max=2147483647):ticket_id>/reopen", methods=("POST",), summary="没修好，重新打开",
           tags=("tickets",), request_schema=REOPEN_REQUEST, responses={**TICKET_OK, **ERRORS})
def reopen_ticket(ticket_id: int):
    """Reopen a resolved ticket within 7 days, saying what is still wrong."""
    resident = current_resident()
    ticket = tickets.reopen(db.session, ticket_id, resident, json_body()["reason"], sla=sla_policy(current_app.config))
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out)


@api_route("/tickets/<int(max=2147483647):ticket_id>/cancel", methods=("POST",), summary="撤销",
           tags=("tickets",), request_schema=REASON_REQUEST, responses={**TICKET_OK, **ERRORS})
def cancel_ticket(ticket_id: int):
    """Withdraw a report before work has started."""
    resident = current_resident()
    ticket = tickets.cancel(db.session, ticket_id, resident, json_body().get("reason") or "")
    out = serialise.for_resident(db.session, ticket, resident, utcnow())
    return jsonify(out)


@api_route("/tickets/<int(max=2147483647):ticket_id>/follow", methods=("POST",), summary="关注同一问题的单子",
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
