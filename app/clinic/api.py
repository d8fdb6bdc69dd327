"""Clinic bookings in the mini-program: services, bookable slots, create / cancel / reschedule / list mine,
the waitlist, one's own health data and its export; and the kiosk's device-authenticated measurements."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask import jsonify, request
from pydantic import ConfigDict, Field
from sqlalchemy import select

from app.binding.me_api import current_resident
from app.clinic import bookings, clinic
from app.clinic.models import BOOKING_STATUSES, MEASUREMENT_KINDS, SERVICE_CODES, Booking, ClinicService, KioskDevice
from app.clinic.readings import READINGS
from app.clinic.slots import open_slots, seats_for, service_by_code, slot_label
from app.community.models import Resident
from app.core.clock import to_local, utcnow
from app.core.db import db
from app.core.errors import NotFound, Unauthorized, ValidationFailed
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref
from miniprogram_api.validation import Body, ErrorCode, Id, Query, RequiredText, Text

CHANNEL = "wxa"
TAGS = ("clinic",)
COMPONENTS["ClinicSlot"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "service": {"type": "string", "enum": list(SERVICE_CODES)},
    "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
    "label": {"type": "string", "example": "11月26日（周四）09:30，陈文医生，卫生站1诊室"},
    "provider": {"type": "string"}, "specialty": {"type": "string"}, "place": {"type": "string"},
    "place_kind": {"type": "string", "enum": ["room", "home", "video"]},
    "seats": {"type": "integer", "description": "您还能约的空位"}, "full": {"type": "boolean"}}}
COMPONENTS["Booking"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string", "example": "YY2611250007"},
    "status": {"type": "string", "enum": list(BOOKING_STATUSES)}, "status_label": {"type": "string"},
    "service": {"type": "string", "enum": list(SERVICE_CODES)}, "service_name": {"type": "string"},
    "slot": ref("ClinicSlot"), "can_cancel": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"}}}


class SlotChoice(Body):
    """The slot to book, to move to, or to wait for."""

    slot_id: Id = Field(title="时段")
    note: Text(300) = Field("", title="备注")


class KioskMeasurement(Body):
    """One reading from a kiosk, for a resident found by phone."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"properties": {"kind": {"const": kind}, "values": {
            "type": "object", "additionalProperties": False,
            "required": [key for key, f in fields.items() if f.required],
            "properties": {key: {"type": "number", "minimum": f.low, "maximum": f.high,
                                 "description": f"{f.label}（{f.unit}）"} for key, f in fields.items()}}}}
        for kind, fields in READINGS.items()]})

    phone: RequiredText(20) = Field(title="住户手机号")
    kind: Annotated[Literal[MEASUREMENT_KINDS], ErrorCode.of("bad_measurement_kind", "不支持的测量项目")] = Field(
        title="测量项目")
    values: Annotated[dict[str, Any], ErrorCode.of("bad_measurement", "测量值格式不对")] = Field(
        title="测量值", description=(
            "blood_pressure: systolic, diastolic (mmHg), optional pulse (次/分), systolic above diastolic; "
            "others: value. Finite numbers within the plausible ranges of app/clinic/readings.py; any other key "
            "is refused (unknown_field)"))


class SlotsQuery(Query):
    """Which service's slots, on which day."""

    service: RequiredText(40) = Field(title="预约项目", description="GET /clinic/services 列出的 code，如 ecg")
    date: Annotated[str, ErrorCode.of("bad_date", "日期格式应为 YYYY-MM-DD"),
                    Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] = Field(
        None, title="日期", json_schema_extra={"format": "date"})


class MyBookingsQuery(Query):
    """?upcoming=1 for the bookings still to come."""

    upcoming: Literal["0", "1", "false", "true"] = Field("0", title="只看未来的", description="1 或 true：只列还没到的")


class HealthQuery(Query):
    """?format=download answers the same JSON as a file to keep."""

    format: Literal["download"] = Field(None, title="格式", description="download：作为文件下载")


BOOKING_OK = {"description": "成功", **ref("Booking")}
ERRORS = {s: ERROR_RESPONSES[s] for s in (403, 404, 409, 422)}


def _iso(value) -> str:
    return value.isoformat() + "Z"


def slot_json(slot, red: bool = False) -> dict:
    """A slot as the mini-program shows it."""
    seats = seats_for(slot, red)
    return {"id": slot.id, "service": slot.service.code, "starts_at": _iso(slot.starts_at),
            "ends_at": _iso(slot.ends_at), "label": slot_label(slot), "provider": slot.provider.name,
            "specialty": slot.provider.specialty, "place": slot.place.name, "place_kind": slot.place.kind,
            "seats": seats, "full": seats == 0}


def booking_json(booking: Booking) -> dict:
    """A booking of the resident's."""
    return {"id": booking.id, "number": booking.number, "status": booking.status,
            "status_label": bookings.STATUS_LABELS[booking.status], "service": booking.service.code,
            "service_name": booking.service.name, "slot": slot_json(booking.slot),
            "can_cancel": booking.status == "booked" and booking.starts_at > utcnow(),
            "created_at": _iso(booking.created_at)}


@api_route("/clinic/services", summary="社区诊所可预约的项目", tags=TAGS,
           responses={200: {"description": "成功"}, 403: ERROR_RESPONSES[403]})
def clinic_services():
    """The community's bookable services with their booking rules."""
    resident = current_resident()
    rows = db.session.scalars(select(ClinicService).where(ClinicService.community_id == resident.community_id,
                                                          ClinicService.active.is_(True)).order_by(ClinicService.id))
    return jsonify({"services": [{"code": s.code, "name": s.name, "place_kind": s.place_kind,
                                  "min_notice_minutes": s.min_notice_minutes, "horizon_days": s.horizon_days,
                                  "max_active": s.max_active_per_resident} for s in rows]})


@api_route("/clinic/slots", summary="可预约的时段", tags=TAGS, query=SlotsQuery,
           responses={200: {"description": "成功", "type": "object", "properties": {
               "slots": {"type": "array", "items": ref("ClinicSlot")}}}, **ERRORS})
def clinic_slots(query: SlotsQuery):
    """Slots of a service (?service=ecg, optional &date=YYYY-MM-DD) one may book now; full ones for the waitlist."""
    resident = current_resident()
    service = service_by_code(db.session, resident.community_id, query.service)
    if service is None:
        raise NotFound("没有这个预约项目", code="service_not_found")
    day = None
    if query.date is not None:
        try:
            day = date.fromisoformat(query.date)
        except ValueError:  # 2026-02-30 has the shape of a date but is none
            raise ValidationFailed("日期格式应为 YYYY-MM-DD", code="bad_date", details={"field": "date"}) from None
    red = clinic.colour_of(db.session, resident.id) == "red"
    rows = [s for s in open_slots(db.session, resident, service, utcnow(), free_only=False)
            if day is None or to_local(s.starts_at).date() == day]
    return jsonify({"slots": [slot_json(s, red) for s in rows[:200]]})


@api_route("/clinic/bookings", methods=("POST",), summary="预约", tags=TAGS, body=SlotChoice,
           responses={201: {"description": "已预约", **ref("Booking")}, **ERRORS})
def clinic_book(body: SlotChoice):
    """Take a seat in a slot; 409 slot_full (已约满) when none is left, already_booked for a second try."""
    booking = bookings.create_booking(db.session, current_resident(), body.slot_id, source=CHANNEL, note=body.note)
    out = booking_json(booking)
    return jsonify(out), 201


@api_route("/clinic/bookings", summary="我的预约", tags=TAGS, query=MyBookingsQuery,
           responses={200: {"description": "成功", "type": "object", "properties": {
               "bookings": {"type": "array", "items": ref("Booking")}}}, 403: ERROR_RESPONSES[403]})
def clinic_my_bookings(query: MyBookingsQuery):
    """The resident's bookings: ?upcoming=1 for the ones still to come (soonest first), else all (newest first)."""
    rows = bookings.bookings_for_resident(db.session, current_resident(), upcoming=query.upcoming in ("1", "true"))
    return jsonify({"bookings": [booking_json(b) for b in rows]})


@api_route("/clinic/bookings/<id:booking_id>/cancel", methods=("POST",), summary="取消预约",
           tags=TAGS, responses={200: BOOKING_OK, **ERRORS})
def clinic_cancel(booking_id: int):
    """Cancel one's booking before it starts; the seat goes to whoever books first (the waitlist is told)."""
    booking = bookings.booking_for_resident(db.session, booking_id, current_resident())
    bookings.cancel_booking(db.session, booking)
    out = booking_json(booking)
    return jsonify(out)


@api_route("/clinic/bookings/<id:booking_id>/reschedule", methods=("POST",), summary="改约",
           tags=TAGS, body=SlotChoice, responses={200: BOOKING_OK, **ERRORS})
def clinic_reschedule(booking_id: int, body: SlotChoice):
    """Move a booking to another slot of the same service; the old seat is kept if the new one is full."""
    booking = bookings.booking_for_resident(db.session, booking_id, current_resident())
    new = bookings.reschedule(db.session, booking, body.slot_id, source=CHANNEL)
    out = booking_json(new)
    return jsonify(out)


@api_route("/clinic/waitlist", methods=("POST",), summary="登记候补", tags=TAGS, body=SlotChoice,
           responses={201: {"description": "已登记候补"}, **ERRORS})
def clinic_waitlist(body: SlotChoice):
    """Wait for a seat in a full slot; the resident is told when one frees."""
    entry = bookings.join_waitlist(db.session, current_resident(), body.slot_id)
    out = {"slot_id": entry.slot_id, "status": entry.status}
    return jsonify(out), 201


@api_route("/clinic/health", summary="我的健康数据", tags=TAGS, query=HealthQuery,
           responses={200: {"description": "成功"}, 403: ERROR_RESPONSES[403]})
def clinic_my_health(query: HealthQuery):
    """One's own health colour and measurements (?format=download as a file to keep)."""
    data = clinic.export_own(db.session, current_resident())
    response = jsonify(data)
    if query.format == "download":
        response.headers["Content-Disposition"] = 'attachment; filename="health.json"'
    return response


def _device() -> KioskDevice:
    token = request.headers.get("X-Kiosk-Token") or ""
    device = db.session.scalar(select(KioskDevice).where(KioskDevice.token_hash == clinic.hash_device_token(token),
                                                         KioskDevice.active.is_(True))) if token else None
    if device is None:
        raise Unauthorized("设备未认证", code="bad_device_token")
    return device


@api_route("/clinic/kiosk/measurements", methods=("POST",), summary="自助检测设备上传测量结果", auth=False,
           tags=TAGS, body=KioskMeasurement,
           responses={201: {"description": "已记录"}, 401: ERROR_RESPONSES[401], 404: ERROR_RESPONSES[404],
                      422: ERROR_RESPONSES[422]})
def clinic_kiosk_measure(body: KioskMeasurement):
    """A kiosk (header X-Kiosk-Token) records a reading for a resident found by phone; the colour follows.

    422 before anything is stored: unknown_field (a key the kind has not), bad_measurement (missing, or not a
    finite number: NaN and Infinity, which Python's JSON parser accepts, a boolean or a string),
    implausible_reading (out of range, or systolic not above diastolic); each names the field."""
    device = _device()
    resident = db.session.scalar(select(Resident).where(Resident.community_id == device.community_id,
                                                        Resident.phone == body.phone))
    if resident is None:
        raise NotFound("没有找到这位住户", code="resident_not_found")
    reading = clinic.record_measurement(db.session, resident.id, body.kind, body.values, source="kiosk",
                                        device_id=device.id)
    out = {"id": reading.id, "colour": reading.colour,
           "resident_colour": clinic.colour_of(db.session, resident.id)}
    return jsonify(out), 201

