"""Building, unit and room numbers: 30幢, 三十栋, 30#楼, 2单元, 1203室, 2-1203, 8栋2单元1201."""

from __future__ import annotations

import re

from nlp.numerals import NUMERAL, to_digits
from nlp.spans import Span

_BUILDING_SUFFIX = r"(?:幢|栋|棟|号楼|號樓|#楼|＃楼|#|＃|号院|座)"
BUILDING_RE = re.compile(rf"(?<![0-9])(?P<b>{NUMERAL}){_BUILDING_SUFFIX}")
UNIT_RE = re.compile(rf"(?<![0-9])(?P<u>{NUMERAL})(?:单元|單元)")
ROOM_RE = re.compile(rf"(?<![0-9])(?P<r>{NUMERAL})(?:室|房间|号房|房)")
# 2-1203, 2-1-1203 (building-unit-room), 2栋-1203.
DASH_RE = re.compile(
    r"(?<![0-9A-Za-z:：.])(?P<b>\d{1,3})[-－—~～]"
    r"(?:(?P<u>\d{1,2})[-－—~～])?(?P<r>\d{3,4})(?![0-9])"
)
# A bare 3-4 digit number right after a building or unit: 8栋2单元1201, 30幢502.
FOLLOW_ROOM_RE = re.compile(
    r"^\s*[-－]?\s*(?P<r>\d{3,4})(?:号|室)?(?![0-9层楼年元块号米度个次分点%])"
)
# A bare 3-4 digit number elsewhere that names a home: 1502漏水, 我家1502.
BARE_ROOM_RE = re.compile(
    r"(?<![0-9A-Za-z.:：])(?P<r>\d{3,4})(?![0-9A-Za-z.:：%层楼年元块米度个次分点号月日天周])"
)
_NOT_ROOM_BEFORE = ("电话", "手机", "尾号", "号码", "密码", "验证码", "编号", "单号", "工号", "第")
# A room read out digit by digit, as people say it (and voice recognition writes it): 五零二, 幺零零三.
# Taken only right after a building or unit, or after words that introduce a home (住, 我家, 房号).
_SPOKEN = "[零〇一二三四五六七八九幺]{3,4}"
_NOT_AFTER_SPOKEN = "(?![零〇一二三四五六七八九幺十百千层楼年元块米度个次分点])"
FOLLOW_SPOKEN_ROOM_RE = re.compile(rf"^\s*(?P<r>{_SPOKEN})(?:号|室)?{_NOT_AFTER_SPOKEN}")
ONLY_SPOKEN_ROOM_RE = re.compile(rf"^\s*(?P<r>{_SPOKEN})(?:号|室)?[。.！!]?\s*$")  # the whole message: 五零二
CUE_SPOKEN_ROOM_RE = re.compile(
    rf"(?:住在|家住|住|我家|房号是?|房间号是?)(?P<r>{_SPOKEN}){_NOT_AFTER_SPOKEN}")


def _add(slots: dict[str, str], key: str, raw: str | None) -> bool:
    """Store a numeral as digits under key unless already set; True when stored."""
    if raw is None or key in slots:
        return False
    digits = to_digits(raw)
    if digits is None or digits == "0":
        return False
    slots[key] = digits
    return True


def find_places(text: str) -> tuple[dict[str, str], list[Span]]:
    """Find building, unit and room slots in the text; return them with the consumed spans."""
    slots: dict[str, str] = {}
    spans: list[Span] = []
    taken = [False] * len(text)

    def claim(start: int, end: int) -> None:
        spans.append(Span(start, end, "place"))
        taken[start:end] = [True] * (end - start)

    for m in DASH_RE.finditer(text):
        if _add(slots, "building", m.group("b")):
            _add(slots, "unit", m.group("u"))
            _add(slots, "room", m.group("r"))
            claim(m.start(), m.end())
    last_end = -1
    named = ((BUILDING_RE, "building", "b"), (UNIT_RE, "unit", "u"), (ROOM_RE, "room", "r"))
    for regex, key, group in named:
        for m in regex.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            if _add(slots, key, m.group(group)):
                claim(m.start(), m.end())
                if key != "room":
                    last_end = max(last_end, m.end())
                break
    if "room" not in slots and last_end >= 0:
        m = FOLLOW_ROOM_RE.match(text[last_end:]) or FOLLOW_SPOKEN_ROOM_RE.match(text[last_end:])
        if m and _add(slots, "room", m.group("r")):
            claim(last_end, last_end + m.end())
    if "room" not in slots:
        m = CUE_SPOKEN_ROOM_RE.search(text) or ONLY_SPOKEN_ROOM_RE.match(text)
        if m and not any(taken[m.start("r"):m.end("r")]) and _add(slots, "room", m.group("r")):
            claim(m.start("r"), m.end("r"))
    if "room" not in slots:
        for m in BARE_ROOM_RE.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            before = text[max(0, m.start() - 3):m.start()]
            if any(before.endswith(word) for word in _NOT_ROOM_BEFORE):
                continue
            if _add(slots, "room", m.group("r")):
                claim(m.start(), m.end())
                break
    return slots, spans
