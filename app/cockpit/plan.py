"""The community's buildings coloured red / amber / green, and the heat map of open issues per building.

The rule (also shown under the plan):
- red: at least one active urgent alarm (severity critical or major) in the building, or at least
  RED_OVERDUE tickets there not accepted within their SLA;
- amber: otherwise, any overdue ticket, any offline device, or any other active alarm (minor, warning);
- green: none of these.
"""

from __future__ import annotations

RED_OVERDUE = 3
RULE_ZH = (f"红：有未消除的紧急告警（严重、重要），或超时未受理工单≥{RED_OVERDUE}；"
           "黄：有超时未受理工单、离线设备或其他未消除告警；绿：以上都没有。")
HEAT_ROWS = (("repair", "报修"), ("complaint", "投诉"), ("alarm", "告警"), ("escalation", "转人工"))


def building_status(*, urgent_alarms: int, other_alarms: int, overdue_tickets: int, offline_devices: int) -> str:
    """red | amber | green for one building, by the rule above."""
    if urgent_alarms > 0 or overdue_tickets >= RED_OVERDUE:
        return "red"
    if overdue_tickets > 0 or offline_devices > 0 or other_alarms > 0:
        return "amber"
    return "green"


def plan(figures: dict) -> list[dict]:
    """Each building in walking order with its colour and the counts behind it."""
    tickets = figures.get("tickets") or {}
    alarms = (figures.get("alarms") or {}).get("by_building", {})
    offline = (figures.get("devices") or {}).get("offline_by_building", {})
    overdue = tickets.get("overdue_by_building", {})
    out = []
    for b in figures.get("buildings", []):
        counts = {
            "urgent_alarms": alarms.get(str(b["id"]), {}).get("urgent", 0),
            "other_alarms": alarms.get(str(b["id"]), {}).get("other", 0),
            "overdue_tickets": overdue.get(b["number"], 0),
            "offline_devices": offline.get(str(b["id"]), 0),
        }
        out.append({"building": b["number"], "position": b["position"], "status": building_status(**counts),
                    **counts})
    return out


def heatmap(figures: dict) -> dict:
    """Open repairs, complaints, active alarms and open escalations per building: x = building, y = row."""
    tickets = (figures.get("tickets") or {}).get("by_building", {})
    alarms = (figures.get("alarms") or {}).get("by_building", {})
    waiting = (figures.get("escalations") or {}).get("by_building", {})
    numbers = [b["number"] for b in figures.get("buildings", [])]
    ids = {b["number"]: str(b["id"]) for b in figures.get("buildings", [])}
    cells = []
    for x, number in enumerate(numbers):
        values = {
            "repair": tickets.get(number, {}).get("repair", 0),
            "complaint": tickets.get(number, {}).get("complaint", 0),
            "alarm": sum(alarms.get(ids[number], {}).values()),
            "escalation": waiting.get(number, 0),
        }
        cells += [[x, y, values[key]] for y, (key, _label) in enumerate(HEAT_ROWS)]
    return {"buildings": [f"{n}幢" for n in numbers], "rows": [label for _k, label in HEAT_ROWS], "cells": cells,
            "max": max((c[2] for c in cells), default=0)}
