"""Repairs and complaints in chat: the two dialog flows, duplicates, photos and 我报修的进度."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.chat.conversations import set_dialog, to_naive_utc
from app.chat.dialog.core import (
    Flow,
    Slot,
    Turn,
    active_flow,
    proceed,
    register,
    register_answer,
)
from app.chat.env import ChatEnv
from app.chat.models import Conversation
from app.community.models import Resident
from app.core.clock import to_local
from app.core.words import is_urgent, names_a_wish, says_cancel
from app.tickets import tickets
from app.tickets.chat_places import (
    HOME_WORDS,
    QUESTION_ENDS,
    SHARED_WORDS,
    as_location,
    extract_location,
    first_word,
    home_location,
    location_from,
    merged_place,
    names_no_problem,
    place_prompt,
    shared_place,
)
from app.tickets.models import OPEN_STATUSES, Ticket
from app.tickets.records import CATEGORY_LABELS, KIND_LABELS, STATUS_LABELS, Location
from app.tickets.sla import sla_policy
from nlp import parse as parse_text

PHOTO_WINDOW = timedelta(minutes=10)
DUPLICATE_WINDOW = timedelta(hours=24)
NOT_BOUND = ("为了方便工作人员上门和联系您，报事报修需要先绑定房号。请发送“绑定”，按提示完成后再告诉我问题，"
             "我来帮您登记。")
FOLLOW_WORDS = frozenset({"关注", "加入", "跟进", "关注这单", "加入关注", "同一个", "一样", "是同一个"})
NEW_WORDS = frozenset({"新报", "单独", "单独提交", "新建", "重新报", "不是", "不一样", "仍然提交", "提交"})
SAFETY = {
    "gas": "请立即开窗通风，不要开关电器、不要用明火，人员先离开；必要时拨打燃气抢修电话或119。",
    "elevator": "被困请保持冷静，按电梯内警铃，不要扒门。",
    "fire": "请立即离开，拨打119！",
}


# ---- the flows ---------------------------------------------------------------------------------

def _guard(turn: Turn) -> str | None:
    return NOT_BOUND if turn.resident is None else None


def _begin(kind: str):
    def begin(turn: Turn) -> dict:
        slots = dict(getattr(turn.parsed, "slots", None) or {})
        turn.slots = {"kind": kind, "category": tickets.check_category(kind, slots.get("category")),
                      "description": turn.text, "urgent": is_urgent(turn.text), "photos": []}
        turn.slots["location"] = location_from(turn, answer=False)
        return turn.slots

    return begin


def _confirm(turn: Turn) -> str:
    kind = KIND_LABELS[turn.slots["kind"]]
    return (f"好的，我帮您登记一张{kind}单：\n地点：{as_location(turn.slots).label}\n"
            f"类别：{CATEGORY_LABELS.get(turn.slots['category'], '其他')}\n问题：{turn.slots['description']}\n"
            "确认提交请回复“确认”，不对请回复“取消”。")


def _complete(turn: Turn) -> str:
    slots = turn.slots
    ticket = tickets.create_ticket(
        turn.session, resident=turn.resident, kind=slots["kind"], category=slots["category"],
        description=slots["description"], location=as_location(slots), source=turn.channel,
        urgent=bool(slots.get("urgent")), photos=slots.get("photos") or [], now=to_naive_utc(turn.now),
        sla=sla_policy(turn.env.settings))
    set_dialog(turn.conversation, last_ticket={"id": ticket.id, "at": turn.now.isoformat()})
    kind = KIND_LABELS[ticket.kind]
    if ticket.priority == "urgent":
        advice = SAFETY["fire"] if any(w in ticket.description for w in ("着火", "起火", "火灾", "冒烟")) \
            else SAFETY.get(ticket.category, "请注意安全。")
        return (f"情况紧急，已直接为您登记{kind}并通知值班工作人员，单号{ticket.number}。\n{advice}\n"
                "工作人员会尽快联系您。")
    photos = (f"已附上{len(ticket.photos)}张照片。" if ticket.photos
              else "如有照片，可以直接发给我，我会附在这张单子上。")
    return (f"已为您提交{kind}，单号{ticket.number}。工作人员受理后会在微信里通知您进度。{photos}\n"
            "想了解进度，随时发“我报修的进度”。")


def _review(turn: Turn) -> str | None:
    """A shared-area problem someone reported in the last 24 h: offer to follow that ticket."""
    loc = turn.slots.get("location") or {}
    if loc.get("room") or not loc.get("building") or turn.slots.get("urgent"):
        return None
    since = to_naive_utc(turn.now) - DUPLICATE_WINDOW
    query = select(Ticket).where(Ticket.community_id == turn.resident.community_id, Ticket.building == loc["building"],
                                 Ticket.room.is_(None), Ticket.category == turn.slots["category"],
                                 Ticket.kind == turn.slots["kind"], Ticket.status.in_(OPEN_STATUSES),
                                 Ticket.created_at >= since)
    unit = loc.get("unit") or _own_unit(turn.resident, loc["building"])
    if unit:  # each 单元 has its own lift and stairwell: another unit's report is another problem
        query = query.where(or_(Ticket.unit.is_(None), Ticket.unit == str(unit)))
    existing = turn.session.scalar(query.order_by(Ticket.id.desc()).limit(1))
    if existing is None:
        return None
    turn.slots["duplicate_of"] = existing.id
    turn.goto("duplicate")
    return _duplicate_prompt(turn)


def _own_unit(resident: Resident, building: str) -> str | None:
    """The resident's own 单元 when they report something in their own building without naming one."""
    household = resident.household
    if household is None or household.unit.building.number != str(building):
        return None
    return household.unit.number


def _duplicate_prompt(turn: Turn) -> str:
    ticket = turn.session.get(Ticket, turn.slots["duplicate_of"])
    label = CATEGORY_LABELS.get(ticket.category, "")
    what = f"{ticket.place}的问题" if label and label in ticket.place else f"{ticket.place}的{label}问题"
    return (f"{what}，{_day_and_time(to_local(ticket.created_at), turn.now)}已有邻居反映过了"
            f"（单号{ticket.number}，{STATUS_LABELS[ticket.status]}）。\n"
            "回复“关注”加入这张单子，进度会同步通知您；回复“新报”仍单独提交。")


def _day_and_time(when: datetime, now: datetime) -> str:
    """今天 09:30 / 昨天 23:52 / 11月20日 08:00, by the resident's calendar day."""
    days = (now.date() - when.date()).days
    day = {0: "今天", 1: "昨天"}.get(days, f"{when.month}月{when.day}日")
    return f"{day}{when:%H:%M}"


def _duplicate_step(flow_name: str):
    def step(turn: Turn) -> str | None:
        if turn.text in FOLLOW_WORDS:
            ticket = turn.session.get(Ticket, turn.slots["duplicate_of"])
            set_dialog(turn.conversation, flow=None, form=None)
            tickets.follow(turn.session, ticket, turn.resident, now=to_naive_utc(turn.now))
            return f"已为您关注单号{ticket.number}，有进展会第一时间通知您。"
        if turn.text in NEW_WORDS:
            return proceed(_FLOWS[flow_name], turn)
        return None

    return step


ASK_PROBLEM = {"repair": "好的。请问是什么坏了、有什么问题？例如“厨房水管漏水”“3幢电梯不动了”。",
               "complaint": "好的。请问您要反映什么问题？例如“楼上半夜装修太吵”。"}


def _problem_prompt(turn: Turn) -> str:
    return ASK_PROBLEM[turn.slots["kind"]]


def _extract_problem(turn: Turn) -> str | None:
    """What is wrong, in the resident's words; a place found in the same answer fills the place too."""
    text = turn.text.strip()
    if len(text) < 2 or names_no_problem(text) or says_cancel(text):
        return None
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    if _only_a_place(text, slots):  # 我家 / 3幢电梯: where, not what; kept, and the question stands
        turn.slots["location"] = location_from(turn, answer=False) or turn.slots.get("location")
        return None
    category = tickets.check_category(turn.slots["kind"], slots.get("category"))
    if category:
        turn.slots["category"] = category
    turn.slots["urgent"] = bool(turn.slots.get("urgent")) or is_urgent(text)
    if not turn.slots.get("location"):
        turn.slots["location"] = location_from(turn, answer=False)
    turn.slots["description"] = text[:500]
    return text[:500]


def _only_a_place(text: str, slots: dict) -> bool:
    """Whether an answer names only where (我家, 3幢电梯, 楼道里) and nothing about what is wrong."""
    if slots.get("category"):
        return False
    rest = text
    for word in sorted((*HOME_WORDS, *SHARED_WORDS, "里", "的", "在", "是", "那", "这"), key=len, reverse=True):
        rest = rest.replace(word, "")
    for key in ("building", "unit", "room"):
        if slots.get(key):
            rest = rest.replace(slots[key], "")
    for mark in ("幢", "栋", "号楼", "单元", "室", "号"):
        rest = rest.replace(mark, "")
    return not any("\u4e00" <= ch <= "\u9fff" or ch.isalnum() for ch in rest)


HURRY_WORDS = ("很急", "急", "紧急", "赶紧", "马上", "快点", "尽快")
_CORRECTION = re.compile(
    r"^(?:哦|噢|啊|呃)?[，, ]*(?:不对|不是|错了|说错了|搞错了|应该是)[，, 。]*(?:是|应该是)?[，, ]*")


_INSTEAD = re.compile(r"^(?:哦|噢|啊|呃)?[，, ]*不是.{1,15}?[，, ]+(?:是|应该是|在)(.+)$")
_CLARIFY = re.compile(r"^(?:哦|噢)?[，, ]*(?:是|就是|在)(?!不是)\S")


def _amend(turn: Turn) -> str | None:
    """At the confirm step: 很急 raises the priority, a place moves the draft, 不对，是X replaces the problem,
    and more detail is added to it; None when the message says nothing about the draft."""
    text = turn.text.strip()
    asks = ("什么", "啥", "怎么", "为什么", "意思", "多少", "收费", "？", "?")
    if len(text) < 2 or text.endswith(QUESTION_ENDS) or any(word in text for word in asks):
        return None
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    kind = turn.slots["kind"]
    changes = []
    hurry = is_urgent(text) or any(word in text for word in HURRY_WORDS)
    if hurry and not turn.slots.get("urgent"):
        turn.slots["urgent"] = True
        changes.append("已标为紧急")
    instead = _INSTEAD.match(text)  # 不是30幢，是28幢: only what comes after 是 counts
    said = Turn(turn.session, turn.conversation, turn.resident, instead.group(1), parse_text(instead.group(1),
                turn.now), turn.now, turn.slots, turn.step, turn.env) if instead else turn
    place = merged_place(turn.slots.get("location"), location_from(said, answer=False),
                          dict(getattr(said.parsed, "slots", None) or {}))
    if place and place != turn.slots.get("location") and (place.get("building") or place.get("place")):
        turn.slots["location"] = place
        changes.append("地点已更新")
    correction = _CORRECTION.match(text) if not instead else None
    detail = (instead.group(1) if instead else _CORRECTION.sub("", text)).strip("，,。 ")
    if changes and _only_a_place(detail, dict(getattr(said.parsed, "slots", None) or {})):
        detail = ""  # 哦是3单元 / 是28幢: the place moved, the problem stays as it was
    clarifies = bool(_CLARIFY.match(text)) and not changes  # 是卫生间的水龙头: more about the same problem
    for word in HURRY_WORDS:
        detail = detail.removeprefix(word).strip("，,。 ")
    category = tickets.check_category(kind, slots["category"]) if slots.get("category") else None
    intent = getattr(turn.parsed, "intent", None)
    if correction and detail:
        turn.slots["description"] = detail[:500]
        if category:
            turn.slots["category"] = category
        changes.append("问题已改为“" + detail[:30] + "”")
    sure = intent == kind and float(getattr(turn.parsed, "confidence", 0) or 0) >= 0.5
    if (not correction and detail and (sure or category or changes or clarifies)
            and detail not in turn.slots["description"]):
        turn.slots["description"] = f"{turn.slots['description']}；{detail}"[:500]
        changes.append("已补充到问题描述")
    return "好的，" + "，".join(changes) if changes else None


def _make(kind: str) -> Flow:
    return register(Flow(
        name=kind, intents=(kind,), label={"repair": "报修", "complaint": "投诉"}[kind],
        slots=(Slot("problem", _problem_prompt, _extract_problem,
                    required=lambda turn: names_no_problem(turn.slots.get("description") or "")),
               Slot("location", place_prompt, extract_location),),
        begin=_begin(kind), confirm=_confirm, complete=_complete, guard=_guard, review=_review,
        skip_confirm=lambda turn: bool(turn.slots.get("urgent")),
        steps={"duplicate": _duplicate_step(kind)}, step_prompts={"duplicate": _duplicate_prompt}, amend=_amend,
    ))


_FLOWS = {kind: _make(kind) for kind in ("repair", "complaint")}


# ---- status and photos -------------------------------------------------------------------------

def _status(turn: Turn) -> str | None:
    """The tickets' part of 我的进度 (a message that names a wish is the wishes' alone)."""
    return None if names_a_wish(turn.text) else status_reply(turn.session, turn.resident)


def status_reply(session: Session, resident: Resident | None) -> str:
    """我报修的进度: the household's open (and just resolved) tickets and their states."""
    if resident is None:
        return "查询进度需要先绑定房号：发送“绑定”，按提示完成即可。"
    rows = tickets.tickets_for_resident(session, resident, open_only=True, limit=5)
    if not rows:
        return "您目前没有正在处理的报修或投诉。遇到问题直接告诉我，例如“3幢电梯坏了”。"
    lines = [f"您有{len(rows)}张单子在处理中："]
    for i, t in enumerate(rows, 1):
        who = f"，{t.assignee.name}负责" if t.assignee is not None and t.status in ("assigned", "in_progress") else ""
        lines.append(f"{i}. {KIND_LABELS[t.kind]}{t.number}（{t.place}，{CATEGORY_LABELS.get(t.category, '其他')}）："
                     f"{STATUS_LABELS[t.status]}{who}")
    if any(t.status == "resolved" for t in rows):
        lines.append("已处理的单子可在小程序里评价；问题还在的话，7天内可以重新打开。")
    return "\n".join(lines)


def attach_photo(session: Session, conversation: Conversation, resident: Resident | None, *, url: str,
                 media_id: str | None, now: datetime) -> str | None:
    """A photo from chat: kept for the report being written, or attached to one sent minutes ago."""
    if resident is None or not url:
        return None
    flow = active_flow(conversation)
    form = (conversation.dialog or {}).get("form") or {}
    if flow is not None and flow.name in _FLOWS:
        slots = dict(form.get("slots") or {})
        photos = list(slots.get("photos") or [])[:8] + [{"url": url, "media_id": media_id}]
        slots["photos"] = photos
        set_dialog(conversation, form={**form, "slots": slots})
        return f"收到照片（{len(photos)}张），提交时会一并附上。"
    last = (conversation.dialog or {}).get("last_ticket") or {}
    ticket = session.get(Ticket, last["id"]) if last.get("id") else None
    if ticket is None or not ticket.is_open or ticket.resident_id != resident.id:
        return None
    if to_naive_utc(now) - ticket.created_at > PHOTO_WINDOW:
        return None
    tickets.add_photo(session, ticket, url=url, media_id=media_id, actor=tickets.resident_actor(resident),
                      now=to_naive_utc(now))
    return f"照片已附在单号{ticket.number}上，工作人员处理时能看到。"


register_answer("ticket_status", _status)


# ---- safety words: an urgent ticket beside the urgent escalation -------------------------------------

SAFETY_REPAIRS = {"电梯困人": "elevator", "困在电梯": "elevator", "燃气味": "gas", "煤气味": "gas"}


def urgent_repair(session: Session, conversation: Conversation, resident: Resident | None, word: str, text: str,
                  parsed: Any, now: datetime, env: ChatEnv) -> None:
    """The chat core's safety reaction: a fault among the safety words becomes an urgent repair."""
    open_urgent_ticket(session, conversation, resident, word=word, text=text, parsed=parsed, now=now, env=env)


def open_urgent_ticket(session: Session, conversation: Conversation, resident: Resident | None, *, word: str,
                       text: str, parsed: Any, now: datetime, env: ChatEnv) -> Ticket | None:
    """For a safety word that is a fault property staff fix (a trapped lift, a gas smell), open an urgent
    repair at once, so dispatch and its SLA start while staff take the escalation; at most one per
    building and category while one is open, so repeated cries for help do not multiply tickets."""
    category = SAFETY_REPAIRS.get(word)
    if category is None or resident is None or resident.household is None:
        return None
    slots = dict(getattr(parsed, "slots", None) or {})
    home = home_location(resident)
    building = slots.get("building") or home["building"]
    shared = shared_place(text)
    if category == "elevator":
        location = Location(building=building, place="电梯")
    elif shared and not first_word(HOME_WORDS, text):  # 楼道里有煤气味: the stairwell of their building, not the flat
        location = Location(building=building, unit=slots.get("unit") or home["unit"], place=shared)
    else:
        location = Location(building=home["building"], unit=home["unit"], room=home["room"], place="家中")
    since = to_naive_utc(now) - DUPLICATE_WINDOW
    already = session.scalar(
        select(Ticket.id).where(Ticket.community_id == resident.community_id, Ticket.building == location.building,
                                Ticket.category == category, Ticket.priority == "urgent",
                                Ticket.status.in_(OPEN_STATUSES), Ticket.created_at >= since).limit(1))
    if already is not None:
        return None
    ticket = tickets.create_ticket(session, resident=resident, kind="repair", category=category,
                                   description=text[:500], location=location, source=conversation.channel,
                                   urgent=True, now=to_naive_utc(now), sla=sla_policy(env.settings))
    set_dialog(conversation, last_ticket={"id": ticket.id, "at": now.isoformat()})
    return ticket
