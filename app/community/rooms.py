"""Reading a room and a phone number out of what residents type: 3幢2单元1201, 3-2-1201, 三幢二单元1201.

Numerals are read by nlp.numerals, the one reader of 三十, 两百零五 and 一二零三 in the project."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.numerals import to_int

_NUM = r"(?:\d{1,4}|[零〇一二两三四五六七八九十百]{1,5})"
_BUILDING_MARK = r"(?:号楼|幢|栋|楼|座|号|#)"

# 3幢2单元1201室 / 3号楼2单元1201 / 三幢二单元1201 / 3栋1201 (no unit)
_SPELLED = re.compile(
    rf"(?P<building>{_NUM})\s*{_BUILDING_MARK}\s*"
    rf"(?:(?P<unit>{_NUM})\s*单元\s*)?"
    r"(?P<room>\d{3,5})\s*(?:室|号)?"
)
# 3-2-1201 / 3—2—1201 / 3/2/1201, and 3-1201 (building-room)
_DASHED = re.compile(
    r"(?<!\d)(?P<building>\d{1,4})\s*[-－—–/]\s*"
    r"(?:(?P<unit>\d{1,2})\s*[-－—–/]\s*)?"
    r"(?P<room>\d{3,5})(?!\d)"
)
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


@dataclass(frozen=True)
class RoomRef:
    """A room as the resident named it; unit is None when they left it out."""

    building: str
    unit: str | None
    room: str

    @property
    def label(self) -> str:
        """The address written the community's way: 3幢2单元1201."""
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building}幢{unit}{self.room}"


def _digits(text: str | None) -> str | None:
    if text is None:
        return None
    value = to_int(text)
    return None if value is None else str(value)


def find_phone(text: str) -> str | None:
    """The first mainland mobile number in text (spaces or dashes allowed), as 11 digits."""
    match = _PHONE.search(text)
    return "".join(match.groups()) if match else None


def strip_phone(text: str) -> str:
    """Text with any mobile number removed, so its digits are not read as a room."""
    return _PHONE.sub(" ", text)


def parse_room(text: str) -> RoomRef | None:
    """The room named in text, or None when it names none."""
    text = strip_phone(text)
    for pattern in (_SPELLED, _DASHED):
        match = pattern.search(text)
        if match is None:
            continue
        building = _digits(match.group("building"))
        unit = _digits(match.group("unit"))
        if building is None or building == "0":
            continue
        return RoomRef(building=building, unit=unit, room=match.group("room"))
    return None


def normalise_phone(raw: str) -> str:
    """Digits only, without a +86 / 0086 prefix."""
    digits = re.sub(r"\D", "", raw or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    return digits
