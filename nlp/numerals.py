"""Small converter from Chinese numerals to integers, applied only inside matched spans."""

from __future__ import annotations

import re

DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "○": 0, "O": 0,
    "一": 1, "幺": 1, "壹": 1,
    "二": 2, "两": 2, "俩": 2, "贰": 2,
    "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5,
    "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}

# Characters a numeral span may contain (digits, units, full-width digits).
NUMERAL_CHARS = "0-9０-９零〇一二两三四五六七八九十百千壹贰叁肆伍陆柒捌玖拾佰仟幺"
NUMERAL = f"[{NUMERAL_CHARS}]+"

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_ASCII_RUN = re.compile(r"^\d+$")


def to_int(span: str) -> int | None:
    """Convert a numeral span such as "三十", "二〇二六", "1203" or "十五" to an int."""
    s = span.strip().translate(_FULLWIDTH)
    if not s:
        return None
    if _ASCII_RUN.match(s):
        return int(s)
    if any(ch.isdigit() for ch in s):
        # Mixed forms like "3十" are not numerals we trust.
        return None
    if not any(ch in UNITS for ch in s):
        # Digit-by-digit reading: "一二零三" -> 1203, "二〇二六" -> 2026.
        if all(ch in DIGITS for ch in s):
            return int("".join(str(DIGITS[ch]) for ch in s))
        return None
    total = 0
    current = 0
    for ch in s:
        if ch in DIGITS:
            current = DIGITS[ch]
        elif ch in UNITS:
            unit = UNITS[ch]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return total + current


def to_digits(span: str) -> str | None:
    """Return the numeral span as a string of ASCII digits, or None when it is not a numeral."""
    value = to_int(span)
    return None if value is None else str(value)
