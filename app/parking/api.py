"""Parking in the mini-program: every zone's free spaces (stale counts flagged, their numbers withheld),
my household's vehicles, and sending a car notice to a plate's owner."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import current_app, jsonify
from pydantic import ConfigDict, Field, model_validator

from app.binding.me_api import current_resident
from app.core.clock import utcnow
from app.core.db import db
from app.core.redis_conn import get_redis
from app.parking import car_notices, parking
from app.parking.models import NOTICE_KINDS
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import ERROR_RESPONSES
from miniprogram_api.validation import REQUIRED_TEXT_PATTERN, Body, ErrorCode, RequiredText, Text, refuse

CHANNEL = "wxa"
ZONE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string", "example": "30幢"},
        "building": {"type": "string", "nullable": True, "description": "楼号；共用停车场为 null"},
        "fixed_capacity": {"type": "integer"}, "temporary_capacity": {"type": "integer"},
        "fixed_free": {"type": "integer", "nullable": True, "description": "数据过期时为 null"},
        "temporary_free": {"type": "integer", "nullable": True, "description": "数据过期时为 null"},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True},
        "age_minutes": {"type": "integer", "nullable": True}, "stale": {"type": "boolean"},
        "mine": {"type": "boolean", "description": "是我家所在的楼"},
    },
}
ZONES = {"description": "各停车区域余位", "type": "object", "properties": {
    "zones": {"type": "array", "items": ZONE}, "stale_minutes": {"type": "integer"}}}
VEHICLE = {"type": "object", "properties": {"id": {"type": "integer"}, "plate": {"type": "string"},
                                            "created_at": {"type": "string", "format": "date-time"}}}
VEHICLES = {"description": "我家登记的车辆", "type": "object",
            "properties": {"vehicles": {"type": "array", "items": VEHICLE}}}
PLATE_HELP = "例如 浙A12345（空格、小写可以）；认不出车牌时 422 invalid_plate"


class VehicleAdd(Body):
    """A plate to register to the household."""

    plate: RequiredText(20) = Field(title="车牌号", examples=["浙A12345"], description=PLATE_HELP)


class CarNoticeSend(Body):
    """A notice to a plate's owner; kind text needs the words."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"kind": {"enum": [k for k in NOTICE_KINDS if k != "text"]}}},
        {"properties": {"text": {"type": "string", "pattern": REQUIRED_TEXT_PATTERN}}, "required": ["text"]}]})

    plate: RequiredText(20) = Field(title="车牌号", description=PLATE_HELP)
    kind: Annotated[Literal[NOTICE_KINDS], ErrorCode.of("invalid_kind", "提醒类型不对")] = Field(
        title="提醒类型", description="move 挪车 / lights 车灯未关 / window 车窗未关 / text 自己写（需填 text）")
    text: Text(200) = Field("", title="留言")

    @model_validator(mode="after")
    def _words_for_text(self) -> CarNoticeSend:
        if self.kind == "text" and not self.text:
            raise refuse("missing_field", "请填写留言内容", field="text")
        return self


NOTICE = {"description": "已发送（或暂时无法直接联系车主，转给物业）", "type": "object", "properties": {
    "id": {"type": "integer"}, "plate": {"type": "string"}, "kind": {"type": "string"},
    "status": {"type": "string", "enum": ["sent", "unmatched"]}, "message": {"type": "string"}}}


@api_route("/parking/zones", summary="各停车区域余位（固定/临时）", tags=("parking",),
           responses={200: ZONES, 403: ERROR_RESPONSES[403]})
def parking_zones():
    """Every zone of the resident's community; a count older than PARKING_STALE_MINUTES is stale."""
    resident = current_resident()
    stale = int(current_app.config.get("PARKING_STALE_MINUTES", parking.STALE_MINUTES))
    now = utcnow()
    found = parking.availability(db.session, get_redis(current_app), resident.community_id, now=now,
                                 stale_minutes=stale)
    own = resident.household.unit.building.number if resident.household is not None else None
    return jsonify({"stale_minutes": stale, "zones": [{
        "id": a.zone_id, "code": a.code, "name": a.name, "building": a.building,
        "fixed_capacity": a.fixed_capacity, "temporary_capacity": a.temporary_capacity,
        "fixed_free": None if a.stale else a.fixed_free, "temporary_free": None if a.stale else a.temporary_free,
        "updated_at": a.at.isoformat() + "Z" if a.at else None, "age_minutes": a.age_minutes(now),
        "stale": a.stale, "mine": a.building is not None and a.building == own,
    } for a in found]})


def _vehicles(resident) -> dict:
    rows = car_notices.household_vehicles(db.session, resident.household_id) if resident.household_id else []
    return {"vehicles": [{"id": v.id, "plate": v.plate, "created_at": v.created_at.isoformat() + "Z"}
                         for v in rows]}


@api_route("/me/vehicles", summary="我家的车辆", tags=("parking",),
           responses={200: VEHICLES, 403: ERROR_RESPONSES[403]})
def my_vehicles():
    """The plates registered to the resident's household."""
    return jsonify(_vehicles(current_resident()))


@api_route("/me/vehicles", methods=("POST",), summary="登记车辆", tags=("parking",), body=VehicleAdd,
           responses={200: VEHICLES, **{s: ERROR_RESPONSES[s] for s in (403, 422)}})
def add_vehicle(body: VehicleAdd):
    """Register a plate to the household (a plate another household registered too is settled by staff;
    the answer is the same)."""
    resident = current_resident()
    car_notices.register_vehicle(db.session, resident, body.plate)
    return jsonify(_vehicles(resident))


@api_route("/me/vehicles/<id:vehicle_id>", methods=("DELETE",), summary="删除车辆",
           tags=("parking",), responses={200: VEHICLES, **{s: ERROR_RESPONSES[s] for s in (403, 404)}})
def delete_vehicle(vehicle_id: int):
    """Remove one of the household's plates."""
    resident = current_resident()
    car_notices.remove_vehicle(db.session, resident, vehicle_id)
    return jsonify(_vehicles(resident))


@api_route("/car-notices", methods=("POST",), summary="给车主发提醒（挪车/车灯/车窗/留言）", tags=("parking",),
           body=CarNoticeSend, responses={200: NOTICE, **{s: ERROR_RESPONSES[s] for s in (403, 422, 429)}})
def send_car_notice(body: CarNoticeSend):
    """Tell a plate's owner without either side learning who the other is; unknown plates go to staff."""
    resident = current_resident()
    notice = car_notices.send_notice(
        db.session, get_redis(current_app), community_id=resident.community_id, plate=body.plate,
        kind=body.kind, text=body.text, resident=resident, source=CHANNEL)
    return jsonify({"id": notice.id, "plate": notice.plate, "kind": notice.kind, "status": notice.status,
                    "message": car_notices.sender_reply(notice)})


OWNER_NOTICES = {"description": "最近12小时关于我家车辆的提醒（不含发送人信息）", "type": "object", "properties": {
    "notices": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "plate": {"type": "string"}, "kind": {"type": "string"},
        "text": {"type": "string"}, "status": {"type": "string", "enum": ["sent", "handled"]},
        "created_at": {"type": "string", "format": "date-time"}}}}}}


def _owner_notices(resident) -> dict:
    return {"notices": [{"id": n.id, "plate": n.plate, "kind": n.kind, "text": car_notices.owner_text(n),
                         "status": n.status, "created_at": n.created_at.isoformat() + "Z"}
                        for n in car_notices.notices_for_owner(db.session, resident)]}


@api_route("/me/car-notices", summary="关于我家车辆的提醒", tags=("parking",),
           responses={200: OWNER_NOTICES, 403: ERROR_RESPONSES[403]})
def my_car_notices():
    """Recent notices about the household's cars, without who sent them."""
    return jsonify(_owner_notices(current_resident()))


@api_route("/me/car-notices/<id:notice_id>/handled", methods=("POST",), summary="回复已处理",
           tags=("parking",), responses={200: OWNER_NOTICES, **{s: ERROR_RESPONSES[s] for s in (403, 404, 409)}})
def handled_car_notice(notice_id: int):
    """The owner dealt with it; the sender is told (without learning who the owner is)."""
    resident = current_resident()
    car_notices.mark_handled(db.session, resident, notice_id)
    return jsonify(_owner_notices(resident))
