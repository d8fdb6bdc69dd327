"""What the page receives: a snapshot's figures with Chinese labels and the privacy rule applied (never a name,
never a small count of people), the same for the console and the wall screen."""

from __future__ import annotations

import importlib
from datetime import datetime

from app.cockpit import privacy
from app.cockpit.figures import AGE_BANDS
from app.cockpit.plan import RULE_ZH

SEVERITY_LABELS = {"critical": "严重", "major": "重要", "minor": "次要", "warning": "提示"}
ALARM_TYPE_LABELS = {
    "falling_object": "高空抛物", "ebike_in_lift": "电瓶车进电梯", "air_quality": "空气质量",
    "temperature": "温度异常", "smoke": "烟雾", "water_leak": "漏水", "no_data": "设备无数据",
    "stuck_value": "读数不变", "device_offline": "设备离线",
}
ESCALATION_TRIGGER_LABELS = {"human": "住户要求人工", "fallback": "机器人答不上", "safety": "安全求助",
                             "takeover": "客服接手"}
WELFARE_LEVEL_LABELS = {"0": "楼栋管家", "1": "网格员", "2": "家属"}
TREND_LABELS = {"tickets": "新工单", "escalations": "转人工", "alarms": "告警", "wishes": "心愿",
                "bookings": "诊所预约"}
PARKING_STALE_MINUTES = 10
MAX_AGE_SECONDS = 60  # figures older than this are marked stale (the job refreshes every 30 s)


def _labels(module: str, name: str) -> dict:
    try:
        return dict(getattr(importlib.import_module(module), name))
    except (ImportError, AttributeError):
        return {}


def _pairs(values: dict, labels: dict) -> list[list]:
    return [[labels.get(k, k), v] for k, v in sorted(values.items(), key=lambda kv: -_num(kv[1]))]


def _num(value) -> float:
    return value if isinstance(value, int | float) else -1


def describe(event: dict) -> dict:
    """A live-list line for an alarm or an escalation: what and where, never who."""
    if event["kind"] == "alarm":
        title = f"{SEVERITY_LABELS.get(event['severity'], event['severity'])}告警 · " \
                f"{ALARM_TYPE_LABELS.get(event['type'], event['type'])}"
        where = event.get("location") or ""
        urgent = event["severity"] in ("critical", "major")
    else:
        title = "转人工" + (" · 紧急" if event.get("urgent") else "") + \
                f" · {ESCALATION_TRIGGER_LABELS.get(event.get('trigger'), '住户求助')}"
        where = f"{event['building']}幢" if event.get("building") else ""
        urgent = bool(event.get("urgent"))
    return {"kind": event["kind"], "id": event["id"], "community_id": event.get("community_id"),
            "title": title, "where": where, "urgent": urgent,
            "at": event.get("at")}


def view(figures: dict, *, community: dict, computed_at: datetime, now: datetime, size: int,
         parking_stale_minutes: int = PARKING_STALE_MINUTES, health: dict | None = None) -> dict:
    """The page's data: tiles, charts, parking zones with freshness and the live list."""
    tiles, charts = [], {}
    people = figures["residents"]
    tiles.append({"key": "residents", "label": "居民", "value": privacy.count(people["total"], size), "details": [
        ["有人住的户", privacy.count(people["households"], size)], ["总户数", people["households_total"]],
        ["独居老人", privacy.count(people["living_alone"], size)]]})
    charts["residents_by_building"] = [[f"{k}幢", v] for k, v in sorted(
        privacy.breakdown(people["by_building"], size).items(), key=lambda kv: _building_order(figures, kv[0]))]
    bands = privacy.breakdown(people["age_bands"], size)
    charts["age_bands"] = [[f"{label}岁", bands[label]] for label, _lo, _hi in AGE_BANDS] + \
        ([["年龄未知", bands["unknown"]]] if people["age_bands"].get("unknown") else [])
    if "tickets" in figures:
        t = figures["tickets"]
        status_labels = _labels("app.tickets.records", "STATUS_LABELS")
        tiles.append({"key": "tickets", "label": "未完成工单", "value": t["open"], "alert": t["sla_breached"] > 0,
                      "details": [["超时未受理", t["sla_breached"]], *_pairs(t["by_status"], status_labels)]})
        charts["tickets_by_category"] = _pairs(t["by_category"], _labels("app.tickets.records", "CATEGORY_LABELS"))
    if "wishes" in figures:
        stages = figures["wishes"]["by_stage"]
        tiles.append({"key": "wishes", "label": "心愿", "value": sum(stages.values()),
                      "details": _pairs(stages, _labels("app.wishes.wishes", "STATUS_LABELS"))})
    if "parking" in figures:
        p = figures["parking"]
        zones = [_zone(z, now, parking_stale_minutes) for z in p["zones"]]
        tiles.append({"key": "parking", "label": "空余车位", "value": p["free"], "details": [
            ["车位总数", p["total"]],
            *[[z["name"] + ("（数据过期）" if z["stale"] else ""), f"{z['free']}/{z['total']}"] for z in zones]]})
        charts["parking_zones"] = zones
        charts["parking_hours"] = figures.get("parking_hours")
    if "clinic" in figures:
        c = figures["clinic"]
        tiles.append({"key": "clinic", "label": "今日诊所预约", "value": privacy.count(c["today"], size),
                      "details": _pairs(privacy.breakdown(c["by_status"], size),
                                        _labels("app.clinic.bookings", "STATUS_LABELS"))})
    if health is not None:
        tiles.append({"key": "health", "label": "健康颜色（您负责的居民）", "value": health["total"],
                      "details": [["红", health["red"]], ["黄", health["yellow"]], ["绿", health["green"]]]})
    if "escalations" in figures:
        e = figures["escalations"]
        tiles.append({"key": "escalations", "label": "等待人工", "value": e["waiting"],
                      "alert": e["urgent_waiting"] > 0 or e["first_response_late"] > 0, "details": [
                          ["紧急", e["urgent_waiting"]], ["处理中", e["with_staff"]],
                          ["首次响应超时", e["first_response_late"]]]})
    if "campaigns" in figures:
        m = figures["campaigns"]
        tiles.append({"key": "campaigns", "label": "近30天群发", "value": m["sent_30d"], "details": [
            ["送达人次", m["delivered_30d"]], ["发送中", m["sending"]]]})
    if "alarms" in figures:
        a = figures["alarms"]
        tiles.append({"key": "alarms", "label": "未消除告警", "value": a["active"],
                      "alert": any(a["by_severity"].get(s) for s in ("critical", "major")),
                      "details": [[SEVERITY_LABELS[s], a["by_severity"].get(s, 0)] for s in SEVERITY_LABELS]
                      + [["离线设备", figures.get("devices", {}).get("offline", 0)]]})
        charts["alarms_by_severity"] = [[SEVERITY_LABELS[s], a["by_severity"].get(s, 0)] for s in SEVERITY_LABELS]
    if "welfare" in figures:
        w = figures["welfare"]
        tiles.append({"key": "welfare", "label": "独居关怀待上门", "value": privacy.count(w["open"], size),
                      "details": _pairs(privacy.breakdown(w["by_level"], size), WELFARE_LEVEL_LABELS)})
    trend = figures["trends"]
    charts["trends"] = {"days": trend["days"], "series": [
        {"key": k, "label": TREND_LABELS.get(k, k), "values": v} for k, v in trend["series"].items()]}
    charts["heatmap"] = figures["heatmap"]
    charts["plan"] = figures["plan"]
    charts["plan_rule"] = RULE_ZH
    age = max(0, int((now - computed_at).total_seconds()))
    return {"community": community, "computed_at": computed_at.isoformat() + "Z", "age_seconds": age,
            "stale": age > MAX_AGE_SECONDS, "min_group": size, "tiles": tiles, "charts": charts,
            "live": [describe(e) for e in figures.get("live", [])]}


def _zone(zone: dict, now: datetime, stale_minutes: int) -> dict:
    updated = datetime.fromisoformat(zone["updated_at"]) if zone.get("updated_at") else None
    minutes = None if updated is None else max(0, int((now - updated).total_seconds() // 60))
    return {"name": zone["name"], "free": zone["free"], "total": zone["total"], "age_minutes": minutes,
            "stale": minutes is None or minutes > stale_minutes}


def _building_order(figures: dict, label: str) -> int:
    order = {b["number"]: i for i, b in enumerate(figures.get("buildings", []))}
    return order.get(label, len(order))


def street_row(figures: dict, *, community: dict, size: int) -> dict:
    """One community's line on the street view: the headline counts and its buildings by colour."""
    colours = {"red": 0, "amber": 0, "green": 0}
    for b in figures.get("plan", []):
        colours[b["status"]] += 1
    return {
        **community,
        "residents": privacy.count(figures["residents"]["total"], size),
        "tickets_open": figures.get("tickets", {}).get("open"),
        "sla_breached": figures.get("tickets", {}).get("sla_breached"),
        "alarms_active": figures.get("alarms", {}).get("active"),
        "escalations_waiting": figures.get("escalations", {}).get("waiting"),
        "parking": (f"{figures['parking']['free']}/{figures['parking']['total']}" if "parking" in figures else None),
        "buildings": colours,
    }
