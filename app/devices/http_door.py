"""The HTTP door for devices that speak only HTTP: signed event and state reports, and fetching commands.

Signing (as parking's camera API, with its helper): X-Device: <community id>/<device code>,
X-Device-Timestamp: <unix seconds> (±300 s), X-Device-Signature: hex(HMAC-SHA256(device secret,
"<timestamp>." + raw body)). A signature is accepted once (replay refused); event ids make repeats harmless.
"""

from __future__ import annotations

import hmac
import logging

import redis
from flask import current_app, jsonify, request

from app.core.clock import unix_seconds, utcnow
from app.core.db import db
from app.core.errors import AppError, BadRequest, Conflict, Unauthorized
from app.core.redis_conn import get_redis
from app.devices import commands, events
from app.devices.models import Device
from app.devices.registry import device_secret, find_device
from app.parking.ingest import TIMESTAMP_WINDOW, sign
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import ERROR_RESPONSES
from miniprogram_api.validation import read_json

log = logging.getLogger(__name__)
MAX_BODY = 512 * 1024
MAX_EVENTS = 500
REPLAY_KEY = "devices:sig:{device}:{signature}"
ERRORS = {s: ERROR_RESPONSES[s] for s in (400, 401, 409, 422)}


def authenticate(body: bytes) -> Device:
    """The device that signed this request; refuses unknown devices, bad signatures, old timestamps, replays."""
    if len(body) > MAX_BODY:
        raise BadRequest("请求内容过大", code="payload_too_large")
    who, timestamp = request.headers.get("X-Device", ""), request.headers.get("X-Device-Timestamp", "")
    signature = request.headers.get("X-Device-Signature", "").strip().lower()
    if not who or not timestamp or not signature:
        raise Unauthorized("缺少设备签名", code="missing_signature")
    community, _, code = who.partition("/")
    device = find_device(db.session, int(community), code) if community.isdigit() and code else None
    if device is None or not device.active:
        raise Unauthorized("未知的设备", code="unknown_device")
    secret = device_secret(device, seal_key=current_app.config["SECRET_KEY"])
    expected = sign(secret, timestamp, body) if secret else ""
    if not secret or not hmac.compare_digest(expected, signature):
        raise Unauthorized("签名不正确", code="bad_signature")
    if not timestamp.isdigit() or abs(unix_seconds() - int(timestamp)) > TIMESTAMP_WINDOW:
        raise Unauthorized("时间戳超出有效期，请校准设备时间", code="stale_timestamp")
    try:
        fresh = get_redis(current_app).set(REPLAY_KEY.format(device=device.id, signature=expected), 1, nx=True,
                                           ex=TIMESTAMP_WINDOW * 2)
    except redis.RedisError as exc:  # event ids still keep a replay from changing anything
        log.warning("device door: replay check unavailable: %s", exc)
        fresh = True
    if not fresh:
        raise Conflict("重复的请求（重放）已拒绝", code="replay")
    return device


def _signed() -> tuple[Device, dict]:
    body = request.get_data(cache=True)
    try:
        device = authenticate(body)
    except AppError as err:
        log.warning("device request refused: %s code=%s", request.headers.get("X-Device", "-")[:80], err.code)
        raise
    return device, read_json()


@api_route("/devices/events", methods=("POST",), auth=False, summary="设备事件上报（仅支持 HTTP 的设备，设备签名）",
           tags=("devices",), responses={200: {"description": "stored 新事件数；duplicates 已收到过的事件数"},
                                         **ERRORS})
def device_events():
    """一条事件 {id, type, at, ...} 或批量 {events: [...]}；同一 id 只记一次。
    签名：X-Device（小区编号/设备编号）、X-Device-Timestamp（Unix 秒，±300 秒）、
    X-Device-Signature = hex(HMAC-SHA256(设备密钥, 时间戳 + '.' + 原始请求体))。"""
    device, body = _signed()
    batch = body.get("events") if isinstance(body.get("events"), list) else [body]
    if len(batch) > MAX_EVENTS:
        raise BadRequest(f"一次最多上报 {MAX_EVENTS} 条事件", code="too_many_events")
    now = utcnow()
    stored = sum(1 for event in batch if events.ingest(db.session, device, event, now) is not None)
    return jsonify({"stored": stored, "duplicates": len(batch) - stored})


@api_route("/devices/state", methods=("POST",), auth=False, summary="设备状态上报（在线、电量，设备签名）",
           tags=("devices",), responses={200: {"description": "online 在线；battery 电量"}, **ERRORS})
def device_state():
    """状态 {online?, battery?}：记为此刻在线并更新电量。签名同事件上报。"""
    device, body = _signed()
    events.apply_state(db.session, device, body, utcnow())
    return jsonify({"online": device.online, "battery": device.battery})


@api_route("/devices/commands", methods=("POST",), auth=False, summary="设备取待执行指令（设备签名）",
           tags=("devices",), responses={200: {"description": "commands: [{id, name, params, attempt, at}]"}, **ERRORS})
def device_commands():
    """取走待执行的指令（请求体 {"nonce": 每次不同}，签名同事件上报）；
    执行后以 command_ack 事件 {command_id, ok} 确认。"""
    device, _body = _signed()
    now = utcnow()
    events.seen(db.session, device, now)
    return jsonify({"commands": commands.fetch_pending(db.session, device, now)})
