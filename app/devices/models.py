"""Devices: the registry of a community's edge devices, the events they send, the commands we send them,
and the alarms (one model for every kind, ISA-18.2 states) with their timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Building
from app.core.clock import utcnow
from app.core.db import db

DEVICE_KINDS = ("camera", "lift_gateway", "air_sensor", "mist_curtain", "temp_sensor", "smoke_sensor",
                "leak_sensor", "door_lock", "water_meter", "power_meter", "card_reader")
COMMAND_STATUSES = ("pending", "sent", "acked", "timed_out", "failed")
ALARM_TYPES = ("falling_object", "ebike_in_lift", "air_quality", "temperature", "smoke", "water_leak", "no_data",
               "stuck_value", "device_offline")
SEVERITIES = ("critical", "major", "minor", "warning")  # most urgent first
ALARM_STATES = ("active_unack", "active_ack", "cleared_unack", "cleared")
ENTRY_KINDS = ("raised", "repeat", "ack", "clear", "assign", "shelve", "suppress", "escalate", "remind", "confirm",
               "reject", "command", "note")


class Device(db.Model):
    """An edge device of a community: a camera, a lift gateway, a sensor, a lock or a meter."""

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))  # the id the device uses in topics and HTTP
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(60), default="")
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="SET NULL"), index=True)
    floor: Mapped[int | None]
    location: Mapped[str] = mapped_column(String(100), default="")  # "3幢1单元电梯", "东门"
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"), index=True)
    # mosquitto's own PBKDF2-SHA512 form ($7$...): the password file is written from it as it is
    secret_hash: Mapped[str] = mapped_column(String(255), default="")
    secret_rotated_at: Mapped[datetime | None]
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None]  # naive UTC
    battery: Mapped[int | None]  # percent
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # per-device knobs (thresholds, transport)

    building: Mapped[Building | None] = relationship()


class DeviceEvent(db.Model):
    """One event a device sent, kept once per (device, event id)."""

    __tablename__ = "device_event"
    __table_args__ = (UniqueConstraint("device_id", "event_id"),
                      Index("ix_device_event_device_id_occurred_at", "device_id", "occurred_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]  # naive UTC, the device's time
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)


class DeviceCommand(db.Model):
    """A command to a device (hold_doors, mist_on, ...), with its acknowledgement, retries and deadline."""

    __tablename__ = "device_command"
    __table_args__ = (Index("ix_device_command_status_deadline_at", "status", "deadline_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]  # when the current attempt times out
    timeout_s: Mapped[int] = mapped_column(default=10)  # per attempt
    max_attempts: Mapped[int] = mapped_column(default=3)  # the first send and its retries
    reason: Mapped[str] = mapped_column(String(200), default="")
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm.id", ondelete="SET NULL"))


class Alarm(db.Model):
    """An alarm of any kind: one active per (device, type); repeats update it and count."""

    __tablename__ = "alarm"
    __table_args__ = (Index("ix_alarm_community_id_state", "community_id", "state"),
                      Index("ix_alarm_device_id_type", "device_id", "type"))

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(40))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="SET NULL"))
    location: Mapped[str] = mapped_column(String(100), default="")
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(15), default="active_unack")
    shelved_until: Mapped[datetime | None]
    shelve_reason: Mapped[str | None] = mapped_column(String(200))
    suppressed: Mapped[bool] = mapped_column(default=False)
    suppressed_until: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime]
    acked_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    repeat_count: Mapped[int] = mapped_column(default=0)
    last_repeat_at: Mapped[datetime | None]
    group_key: Mapped[str | None] = mapped_column(String(80), index=True)  # chattering / flood grouping
    confirmed: Mapped[bool | None]  # staff confirmed (True) or rejected (False) before residents are told
    escalation_level: Mapped[int] = mapped_column(default=0)

    device: Mapped[Device | None] = relationship()
    building: Mapped[Building | None] = relationship()

    @property
    def active(self) -> bool:
        """Whether the condition still holds (not cleared)."""
        return self.state in ("active_unack", "active_ack")

    @property
    def acknowledged(self) -> bool:
        """Whether staff acknowledged it."""
        return self.state in ("active_ack", "cleared")


class AlarmEntry(db.Model):
    """One line of an alarm's timeline."""

    __tablename__ = "alarm_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(12))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")


TYPE_LABELS = {"falling_object": "高空抛物", "ebike_in_lift": "电动车进电梯", "air_quality": "空气质量",
               "temperature": "温度异常", "smoke": "烟感报警", "water_leak": "漏水", "no_data": "设备无数据",
               "stuck_value": "读数卡死", "device_offline": "设备离线"}
SEVERITY_LABELS = {"critical": "紧急", "major": "重要", "minor": "一般", "warning": "提示"}
STATE_LABELS = {"active_unack": "未确认", "active_ack": "处理中", "cleared_unack": "已恢复未确认", "cleared": "已关闭"}
KIND_LABELS = {"camera": "摄像头", "lift_gateway": "电梯网关", "air_sensor": "空气监测", "mist_curtain": "喷雾幕",
               "temp_sensor": "温度传感器", "smoke_sensor": "烟感", "leak_sensor": "水浸传感器", "door_lock": "门锁",
               "water_meter": "水表", "power_meter": "电表", "card_reader": "刷卡器"}
