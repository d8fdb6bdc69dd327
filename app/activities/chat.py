"""Activities in chat: 这周末有什么活动 / 明天的太极拳还上吗 (answered at once), 帮我报名周六的书法课 (find it,
confirm, then a seat or the waitlist), 我想参加合唱团 (join the club), 周六的书法课我去不了了 (cancel), and
确认参加 from a resident offered a freed seat. Flows on the dialog framework (app/chat/dialog)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities import activities, clubs, signups
from app.activities.models import Activity, Club, Signup
from app.chat.conversations import to_naive_utc
from app.chat.dialog.core import Flow, Turn, proceed, register, register_answer
from app.community.models import Community, Resident
from app.core.clock import to_local
from app.core.errors import AppError

NOT_BOUND = "请先发送“绑定”绑定房号，我就能帮您报名社区活动。"
CONFIRM_WORDS = frozenset({"确认参加", "确认报名", "确认候补", "我要参加"})
CLUB_SUFFIX = ("团", "队", "社", "协会", "俱乐部", "小组")
LIST_MAX = 6
_NUMBER = re.compile(r"^\s*(?:第)?([1-9])\s*(?:个|项)?\s*$")


def _slots(turn: Turn) -> dict:
    return dict(getattr(turn.parsed, "slots", None) or {})


def community_of(session: Session, resident: Resident | None) -> int | None:
    """The resident's community; for someone not bound yet, the only community when there is one."""
    if resident is not None:
        return resident.community_id
    ids = list(session.scalars(select(Community.id).limit(2)))
    return ids[0] if len(ids) == 1 else None


def days_asked(text: str, slots: dict, today: date) -> tuple[date | None, date | None, str]:
    """The local days a message asks about (from, to) and how to say them; none named: the coming week."""
    monday = today - timedelta(days=today.weekday())
    if "下周末" in text:
        return monday + timedelta(days=12), monday + timedelta(days=13), "下周末"
    if "周末" in text:
        return max(today, monday + timedelta(days=5)), monday + timedelta(days=6), "这周末"
    if "下周" in text and not slots.get("date"):
        return monday + timedelta(days=7), monday + timedelta(days=13), "下周"
    if ("这周" in text or "本周" in text) and not slots.get("date"):
        return today, monday + timedelta(days=6), "这周"
    if slots.get("date"):
        try:
            day = date.fromisoformat(slots["date"])
        except ValueError:
            day = None
        if day is not None:
            return day, day, f"{day.month}月{day.day}日"
    return None, None, "近期"


def _seats(activity: Activity) -> str:
    if activity.status != "open":
        return "已取消"
    if activity.capacity == 0:
        return "不限名额"
    return f"余{activity.seats_left}位" if activity.seats_left else "已满，可候补"


def line(activity: Activity) -> str:
    """One activity in a list."""
    return f"{signups.when_label(activity)} {activity.title} · {activity.place or '社区'}（{_seats(activity)}）"


# ---- activity_query ----------------------------------------------------------------------------

def answer_query(turn: Turn) -> str:
    """What is on (in the days asked, by name), or whether a named one still takes place."""
    community_id = community_of(turn.session, turn.resident)
    if community_id is None:
        return NOT_BOUND
    slots, now = _slots(turn), to_naive_utc(turn.now)
    day_from, day_to, said = days_asked(turn.text, slots, to_local(now).date())
    if day_from is None:
        day_to = to_local(now).date() + timedelta(days=7 if not slots.get("activity") else 30)
    phrase = slots.get("activity")
    rows = activities.upcoming(turn.session, community_id, now=now, day_from=day_from, day_to=day_to, phrase=phrase,
                               include_cancelled=True)
    if phrase and rows and ("还" in turn.text or "吗" in turn.text):
        first = rows[0]
        if first.status != "open":
            return f"很抱歉，{line(first).split('（')[0]}已经取消了。"
        return f"还上的：{line(first)}。想报名请回复“报名{first.title}”。"
    open_rows = [a for a in rows if a.status == "open"]
    if not open_rows:
        what = f"“{phrase}”" if phrase else ""
        return (f"{said}还没有安排{what}活动。可以问我“这周末有什么活动”，"
                "或在小程序“邻里活动”里看看全部活动和兴趣社团。")
    lines = [f"{said}的社区活动："] + [f"{i}. {line(a)}" for i, a in enumerate(open_rows[:LIST_MAX], 1)]
    if len(open_rows) > LIST_MAX:
        lines.append(f"……共{len(open_rows)}场，小程序里可以看全部。")
    lines.append("想报名请回复“报名+活动名”，如“报名" + open_rows[0].title + "”。")
    return "\n".join(lines)


# ---- activity_signup ---------------------------------------------------------------------------

def _wants_club(turn: Turn, phrase: str | None) -> list[Club]:
    if not phrase or _slots(turn).get("date"):
        return []
    found = activities.find_clubs(turn.session, turn.resident.community_id, phrase)
    if found and (phrase.endswith(CLUB_SUFFIX) or "加入" in turn.text):
        return found
    return []


def _candidates(turn: Turn) -> list[Activity]:
    slots, now = _slots(turn), to_naive_utc(turn.now)
    day_from, day_to, _said = days_asked(turn.text, slots, to_local(now).date())
    rows = activities.upcoming(turn.session, turn.resident.community_id, now=now, day_from=day_from, day_to=day_to,
                               phrase=slots.get("activity"))
    return [a for a in rows if a.starts_at > now]


def _signup_guard(turn: Turn) -> str | None:
    if turn.resident is None:
        return NOT_BOUND
    phrase = _slots(turn).get("activity")
    if _wants_club(turn, phrase) or _candidates(turn):
        return None
    found = activities.find_clubs(turn.session, turn.resident.community_id, phrase or "")
    if found:
        return None
    what = f"“{phrase}”" if phrase else "可以报名的"
    return (f"抱歉，近期没有找到{what}活动。可以问我“这周末有什么活动”看看有哪些，"
            "或告诉我活动名称和日期，如“报名周六的书法课”。")


def _signup_begin(turn: Turn) -> dict:
    phrase = _slots(turn).get("activity")
    wanted = _wants_club(turn, phrase)
    if wanted:
        return {"club_id": wanted[0].id}
    rows = _candidates(turn)
    if not rows:  # only a club matched
        return {"club_id": activities.find_clubs(turn.session, turn.resident.community_id, phrase or "")[0].id}
    return {"choices": [a.id for a in rows[:LIST_MAX]]}


def _signup_review(turn: Turn) -> str | None:
    choices = turn.slots.get("choices") or []
    if turn.slots.get("club_id") or len(choices) == 1:
        if choices:
            turn.slots["activity_id"] = choices[0]
        return None
    turn.goto("pick")
    return _pick_prompt(turn)


def _pick_prompt(turn: Turn) -> str:
    rows = [turn.session.get(Activity, i) for i in turn.slots.get("choices") or []]
    lines = ["找到这几场活动，要报名哪一场？"] + [f"{i}. {line(a)}" for i, a in enumerate(rows, 1) if a is not None]
    lines.append("请回复序号，例如“1”；回复“取消”结束。")
    return "\n".join(lines)


def pick_number(text: str, count: int) -> int | None:
    """A 1-based choice typed as a digit, as a 0-based index; None when it is not one."""
    match = _NUMBER.match(text or "")
    if match is None or not 1 <= int(match.group(1)) <= count:
        return None
    return int(match.group(1)) - 1


def _signup_pick(turn: Turn) -> str | None:
    index = pick_number(turn.text, len(turn.slots.get("choices") or []))
    if index is None:
        return None
    turn.slots["activity_id"] = turn.slots["choices"][index]
    return proceed(_SIGNUP, turn)


def _signup_confirm(turn: Turn) -> str:
    if turn.slots.get("club_id"):
        club = turn.session.get(Club, turn.slots["club_id"])
        when = (f"，每{'两' if club.every_weeks == 2 else ''}周{signups.WEEKDAYS[club.weekday]} {club.session_time}"
                if club.every_weeks else "")
        return (f"请确认加入社团：{club.name}（负责人：{club.organiser_name}{when}）。\n"
                "加入后会收到社团的通知。确认请回复“确认”，不加入请回复“取消”。")
    activity = turn.session.get(Activity, turn.slots["activity_id"])
    full = activity.capacity and not activity.seats_left
    extra = "\n目前名额已满，确认后为您登记候补，有人取消时自动递补并通知您。" if full else ""
    return (f"请确认报名：\n活动：{activity.title}\n时间：{signups.when_label(activity)}\n"
            f"地点：{activity.place or '社区'}{extra}\n确认请回复“确认”，不报了请回复“取消”。")


def _signup_complete(turn: Turn) -> str:
    try:
        if turn.slots.get("club_id"):
            club = clubs.get_club(turn.session, turn.slots["club_id"], turn.resident.community_id)
            clubs.join(turn.session, club, turn.resident, now=to_naive_utc(turn.now))
            return f"已加入{club.name}！社团的活动和通知会发给您。想报名某次活动，回复“报名{club.name}”即可。"
        row = signups.sign_up(turn.session, turn.resident, turn.slots["activity_id"], now=to_naive_utc(turn.now),
                              source=turn.channel)
    except AppError as err:
        return err.message
    activity = row.activity
    if row.status == "waiting":
        ahead = turn.session.scalar(select(Signup.id).where(Signup.activity_id == activity.id,
                                                            Signup.status == "waiting", Signup.id != row.id).limit(1))
        place = "您在候补名单上" if ahead else "您是第一位候补"
        return f"“{activity.title}”名额已满，已为您登记候补（{place}）。有人取消时会自动递补并通知您确认。"
    return (f"报名成功！{activity.title}，{signups.when_label(activity)}，{activity.place or '社区'}。"
            "活动前一天会提醒您；去不了请回复“取消报名”。")


_SIGNUP = register(Flow(
    name="activity_signup", intents=("activity_signup",), slots=(),
    begin=_signup_begin, confirm=_signup_confirm, complete=_signup_complete, guard=_signup_guard,
    review=_signup_review, steps={"pick": _signup_pick}, step_prompts={"pick": _pick_prompt},
))


# ---- activity_cancel ---------------------------------------------------------------------------

def _mine(turn: Turn) -> list[Signup]:
    now = to_naive_utc(turn.now)
    rows = [s for s in signups.my_signups(turn.session, turn.resident, now=now) if s.activity.starts_at > now]
    slots = _slots(turn)
    narrowed = [s for s in rows if not slots.get("activity") or activities.matches(s.activity, slots["activity"])]
    if slots.get("date"):
        narrowed = [s for s in narrowed if activities.local_day(s.activity).isoformat() == slots["date"]]
    return narrowed or rows


def _cancel_guard(turn: Turn) -> str | None:
    if turn.resident is None:
        return NOT_BOUND
    if not _mine(turn):
        return "您目前没有报名待参加的活动，不需要取消。想看看有什么活动，可以问我“这周末有什么活动”。"
    return None


def _cancel_begin(turn: Turn) -> dict:
    return {"choices": [s.id for s in _mine(turn)[:LIST_MAX]]}


def _cancel_review(turn: Turn) -> str | None:
    if len(turn.slots["choices"]) == 1:
        turn.slots["signup_id"] = turn.slots["choices"][0]
        return None
    turn.goto("pick")
    return _cancel_list(turn)


def _cancel_list(turn: Turn) -> str:
    rows = [turn.session.get(Signup, i) for i in turn.slots.get("choices") or []]
    lines = ["您报名了这几场活动，要取消哪一个？"]
    lines += [f"{i}. {line(s.activity)}" for i, s in enumerate(rows, 1) if s is not None]
    lines.append("请回复序号，例如“1”；回复“取消”结束（报名保持不变）。")
    return "\n".join(lines)


def _cancel_pick(turn: Turn) -> str | None:
    index = pick_number(turn.text, len(turn.slots.get("choices") or []))
    if index is None:
        return None
    turn.slots["signup_id"] = turn.slots["choices"][index]
    return proceed(_CANCEL, turn)


def _cancel_confirm(turn: Turn) -> str:
    row = turn.session.get(Signup, turn.slots["signup_id"])
    return (f"要取消报名吗？\n{line(row.activity)}\n"
            "确认取消请回复“确认”；不取消请回复“取消”，报名保持不变。")


def _cancel_complete(turn: Turn) -> str:
    row = turn.session.get(Signup, turn.slots["signup_id"])
    try:
        signups.cancel(turn.session, row, now=to_naive_utc(turn.now))
    except AppError as err:
        return err.message
    return f"已取消“{row.activity.title}”（{signups.when_label(row.activity)}）的报名，名额会让给候补的邻居。"


_CANCEL = register(Flow(
    name="activity_cancel", intents=("activity_cancel",), slots=(),
    begin=_cancel_begin, confirm=_cancel_confirm, complete=_cancel_complete, guard=_cancel_guard,
    review=_cancel_review, steps={"pick": _cancel_pick}, step_prompts={"pick": _cancel_list},
))

register_answer("activity_query", answer_query)


def confirm_offer_reply(session: Session, resident: Resident | None, text: str, now: datetime) -> str | None:
    """确认参加: a resident offered a freed seat takes it (early reply, before the dialog)."""
    if resident is None or (text or "").strip() not in CONFIRM_WORDS:
        return None
    now = to_naive_utc(now)
    offered = session.scalars(select(Signup).where(Signup.resident_id == resident.id, Signup.status == "offered",
                                                   Signup.offer_expires_at > now).order_by(Signup.offer_expires_at))
    row = next(iter(offered), None)
    if row is None:
        return None
    signups.confirm_offer(session, row, now=now)
    activity = row.activity
    return f"已确认！您已报名“{activity.title}”，{signups.when_label(activity)}，{activity.place or '社区'}。"
