"""Dates, day periods and clock times in a message, resolved against a reference `now`."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from nlp.numerals import NUMERAL, to_int
from nlp.spans import Span

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
RELATIVE_DAYS = {
    "前天": -2, "昨天": -1, "昨日": -1, "昨儿": -1, "今天": 0, "今日": 0, "今儿": 0,
    "明天": 1, "明日": 1, "明儿": 1, "后天": 2, "后日": 2, "大后天": 3,
}
PERIODS = {
    "上午": "morning", "早上": "morning", "早晨": "morning", "清早": "morning", "一早": "morning",
    "早": "morning", "下午": "afternoon", "午后": "afternoon", "傍晚": "evening",
    "晚上": "evening", "晚": "evening", "夜里": "evening", "夜间": "evening",
}  # 中午, 凌晨 and 半夜 name no period of the contract
# 今早/明晚 carry both a day and a period.
DAY_PERIOD = {
    "昨晚": (-1, "evening"), "昨夜": (-1, "evening"), "今早": (0, "morning"),
    "明早": (1, "morning"), "今晚": (0, "evening"), "明晚": (1, "evening"),
    "今夜": (0, "evening"), "明晨": (1, "morning"),
}

_WD = "[一二三四五六日天1-7]"
DATE_RE = re.compile(
    rf"(?P<md>(?P<month>{NUMERAL})月(?P<day>{NUMERAL})[号日])"
    rf"|(?P<wk>(?P<next>下个?|这个?|本|上个?)?(?:周|星期|礼拜)(?P<wd>{_WD}))"
    rf"|(?P<dp>昨晚|昨夜|今早|明早|今晚|明晚|今夜|明晨)"
    r"|(?P<rel>大后天|前天|昨天|昨日|昨儿|今天|今日|今儿|明天|明日|明儿|后天|后日)"
)
PERIOD_RE = re.compile(
    r"(?P<dur>一|整)?"
    r"(?P<p>上午|早上|早晨|清早|一早|下午|午后|傍晚|晚上|夜里|夜间|中午|凌晨|半夜)"
    r"(?P<greet>好)?"
)
CLOCK_RE = re.compile(
    r"(?P<hh>[01]?\d|2[0-3])[:：](?P<mm>[0-5]\d)"
    rf"|(?P<h>{NUMERAL})[点點时](?:(?P<half>半)|(?P<q1>一刻)|(?P<q3>三刻)|(?:(?P<m>{NUMERAL})分?))?(?:钟)?"
)
# "晚上回家啥都看不见": a period describing when a problem shows, not naming a time.
DESCRIPTIVE_RE = re.compile(r"\s*(回家|出门|上下楼|走路|(太|很|特别|好)?黑|看不见|睡觉时)")
# "上午还是下午" is a question about the period, not a statement of one.
PERIOD_QUESTION_RE = re.compile(
    r"(上午|早上|下午|晚上)(还是|或者|或|和|跟)(上午|早上|下午|晚上)|(上午|早上)(下午|晚上)"
)


def _resolve_date(m: re.Match[str], today: date) -> tuple[date | None, str | None]:
    """Turn one date match into a calendar date and, for 今晚-like words, a period."""
    if m.group("md"):
        month, day = to_int(m.group("month")), to_int(m.group("day"))
        if month is None or day is None:
            return None, None
        try:
            found = date(today.year, month, day)
        except ValueError:
            return None, None
        if found < today:
            try:
                found = date(today.year + 1, month, day)
            except ValueError:
                return None, None
        return found, None
    if m.group("wk"):
        weekday = WEEKDAYS[m.group("wd")]
        prefix = m.group("next") or ""
        monday = today - timedelta(days=today.weekday())
        if prefix.startswith("下"):
            return monday + timedelta(days=7 + weekday), None
        if prefix.startswith("上"):
            return monday - timedelta(days=7 - weekday), None
        if prefix:
            return monday + timedelta(days=weekday), None
        ahead = (weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead), None
    if m.group("dp"):
        offset, period = DAY_PERIOD[m.group("dp")]
        return today + timedelta(days=offset), period
    return today + timedelta(days=RELATIVE_DAYS[m.group("rel")]), None


def _clock(m: re.Match[str]) -> tuple[int, int] | None:
    """Hour and minute of one clock match, or None when out of range."""
    if m.group("hh"):
        return int(m.group("hh")), int(m.group("mm"))
    hour = to_int(m.group("h"))
    if hour is None or hour > 24:
        return None
    minute = 0
    if m.group("half"):
        minute = 30
    elif m.group("q1"):
        minute = 15
    elif m.group("q3"):
        minute = 45
    elif m.group("m"):
        minute = to_int(m.group("m")) or 0
        if minute > 59:
            return None
    return hour % 24, minute


BARE_PM_UNTIL = 6  # a bare 1点..6点 means 13:00..18:00 (nobody books at 3 a.m.)
_CLOCK_BEFORE = set("到在约是于午晚早上下晨夜从至等前")
_A_BIT_BEFORE = set("快早晚好大小有慢多少高低亮近远轻重点些稍再差")
_CLOCK_AFTER = set("钟前后左右到多整过来去的之以开半,，。？?!！吗呢吧啊有 ")


def _is_a_bit(text: str, m: re.Match[str]) -> bool:
    """True for 快一点/一点反馈: a bare Chinese-numeral 点 that means "a bit", not a clock time."""
    if m.group("hh") or (m.group("h") or "").isdigit() or m.end() - m.start() > 2:
        return False
    if m.group("h") not in ("一", "两", "几"):
        return False
    before = text[m.start() - 1] if m.start() else " "
    after = text[m.end()] if m.end() < len(text) else " "
    if after == "儿" or before in _A_BIT_BEFORE:
        return True
    return not (before in _CLOCK_BEFORE or after in _CLOCK_AFTER)


def find_times(text: str, now: datetime) -> tuple[dict[str, str], list[Span]]:
    """Find date, period and time slots in the text; return them with the consumed spans."""
    slots: dict[str, str] = {}
    spans: list[Span] = []
    today = now.date()
    taken = [False] * len(text)

    for m in DATE_RE.finditer(text):
        found, period = _resolve_date(m, today)
        if found is None:
            continue
        slots.setdefault("date", found.isoformat())
        if period:
            slots.setdefault("period", period)
        spans.append(Span(m.start(), m.end(), "time"))
        taken[m.start():m.end()] = [True] * (m.end() - m.start())

    period_word = None
    asks_period = PERIOD_QUESTION_RE.search(text) is not None
    for m in PERIOD_RE.finditer(text):
        if any(taken[m.start("p"):m.end("p")]):
            continue
        if (m.group("dur") and not taken[m.start()]) or m.group("greet"):
            # 一晚上 is a duration and 早上好 a greeting: neither names a time.
            continue
        if DESCRIPTIVE_RE.match(text, m.end("p")):
            continue
        period_word = period_word or m.group("p")
        spans.append(Span(m.start("p"), m.end("p"), "time"))
        taken[m.start("p"):m.end("p")] = [True] * (m.end("p") - m.start("p"))
    if period_word and not asks_period and "period" not in slots:
        period = PERIODS.get(period_word)
        if period:
            slots["period"] = period
    elif asks_period:
        slots.pop("period", None)

    for m in CLOCK_RE.finditer(text):
        if any(taken[m.start():m.end()]):
            continue
        clock = _clock(m)
        if clock is None or _is_a_bit(text, m):
            continue
        hour, minute = clock
        period = slots.get("period")
        later = period in ("afternoon", "evening") and hour < 12
        if later or (period_word == "中午" and hour < 6) or (period == "evening" and hour == 12):
            hour += 12
        elif period_word is None and 1 <= hour <= BARE_PM_UNTIL and not m.group("hh"):
            # "明天3点来修": with no word for the part of day, an early hour is the afternoon.
            hour += 12
        slots.setdefault("time", f"{hour % 24:02d}:{minute:02d}")
        spans.append(Span(m.start(), m.end(), "time"))
        taken[m.start():m.end()] = [True] * (m.end() - m.start())
        break
    return slots, spans
