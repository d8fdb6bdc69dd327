"""POST /api/v1/parking/events: occupancy reports from the camera system, signed per device.

Not a mini-program route (no user token): each device signs with its own key. Refusals are logged and
answered with the API's one error shape and a stable code.
"""

from __future__ import annotations

import logging

from flask import current_app, jsonify, request

from app.core.db import db
from app.core.errors import AppError, BadRequest
from app.core.redis_conn import get_redis
from app.parking import ingest as parking_ingest
from app.parking import parking
from miniprogram_api.openapi import api_route, read_json
from miniprogram_api.schemas import ERROR_RESPONSES

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024

REPORT = {
    "description": "处理结果：applied 已更新；duplicate 同一 event_id 已处理过；late 比当前状态旧，只记入历史",
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["applied", "duplicate", "late"]},
        "zone": {"type": "string"}, "fixed_free": {"type": "integer"}, "temporary_free": {"type": "integer"},
        "at": {"type": "string", "format": "date-time", "description": "该区域最新状态的时间"},
    },
}
DESCRIPTION = (
    "请求头：X-Parking-Device（设备编号）、X-Parking-Timestamp（Unix 秒，±300 秒内有效）、"
    "X-Parking-Signature = hex(HMAC-SHA256(设备密钥, 时间戳 + '.' + 原始请求体))。"
    "请求体：{event_id, zone, at, fixed_occupied, temporary_occupied} 或 {..., fixed_free, temporary_free} "
    "或 {..., spaces: [{code, kind: fixed|temporary, occupied}]}。"
)


@api_route("/parking/events", methods=("POST",), auth=False, summary="车位占用上报（摄像头系统，设备签名）",
           tags=("parking",), responses={200: REPORT, **{s: ERROR_RESPONSES[s] for s in (400, 401, 403, 409, 422)}})
def parking_event():
    """Apply one signed occupancy report; duplicates and late reports are answered 200 and change nothing."""
    body = request.get_data(cache=True)
    device_key = request.headers.get("X-Parking-Device", "")[:40]
    try:
        if len(body) > MAX_BODY:
            raise BadRequest("请求内容过大", code="payload_too_large")
        conn = get_redis(current_app)
        device = parking_ingest.authenticate(
            db.session, conn, key_id=device_key, timestamp=request.headers.get("X-Parking-Timestamp"),
            signature=request.headers.get("X-Parking-Signature"), body=body,
            seal_key=current_app.config["SECRET_KEY"])
        outcome = parking_ingest.apply_report(db.session, device, read_json())
        db.session.commit()  # before the cache below sees the new counts
    except AppError as err:
        log.warning("parking event refused: device=%s code=%s status=%s %s", device_key or "-", err.code,
                    err.status, err.message)
        raise
    if outcome.status == "applied":
        parking.cache_zone(conn, outcome.zone)
    zone = outcome.zone
    return jsonify({"status": outcome.status, "zone": zone.code, "fixed_free": zone.fixed_free,
                    "temporary_free": zone.temporary_free,
                    "at": zone.last_event_at.isoformat() + "Z" if zone.last_event_at else None})
