"""Chinese licence plates: find them in a message and normalise to upper case without separators."""

from __future__ import annotations

import re

from nlp.spans import Span

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_SEP = r"[\s·.．•・\-—_]*"
_ALNUM = r"[A-Za-z0-9Ａ-Ｚａ-ｚ０-９]"
# Province, city letter, then 5 (ordinary) or 6 (new-energy) characters, separators allowed.
_HEAD = rf"(?<![A-Za-z0-9])([{PROVINCES}]){_SEP}([A-Za-zＡ-Ｚａ-ｚ]){_SEP}"
_END = r"(?![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])"
# Province, city letter, then 6 (new-energy) or 5 (ordinary) characters, separators allowed.
PLATE_RE = re.compile(rf"{_HEAD}({_ALNUM}(?:{_SEP}{_ALNUM}){{4,5}}){_END}")
SHORT_RE = re.compile(rf"{_HEAD}({_ALNUM}(?:{_SEP}{_ALNUM}){{4}})")
_FULLWIDTH = str.maketrans(
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ０１２３４５６７８９",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
)
_STRIP = re.compile(r"[\s·.．•・\-—_]")


def normalize_plate(raw: str) -> str | None:
    """The plate in canonical form (浙A12345, 浙AD12345), or None when implausible."""
    s = _STRIP.sub("", raw.translate(_FULLWIDTH)).upper()
    if len(s) not in (7, 8) or s[0] not in PROVINCES or not s[1].isalpha():
        return None
    tail = s[2:]
    if not tail.isalnum() or sum(ch.isdigit() for ch in tail) < 3:
        return None
    if len(tail) == 6 and not (tail[0] in "DF" or tail[-1] in "DF"):
        return None
    return s


def find_plates(text: str) -> tuple[list[str], list[Span]]:
    """Find every plausible plate in the text, in order of appearance."""
    plates: list[str] = []
    spans: list[Span] = []
    for m in PLATE_RE.finditer(text):
        plate = normalize_plate(m.group(0))
        end = m.end()
        if plate is None:
            # "浙A12345 6号楼": an ordinary plate followed by a separate number.
            short = SHORT_RE.match(text, m.start())
            if short and text[short.end() : short.end() + 1].isspace():
                plate = normalize_plate(short.group(0))
                end = short.end()
        if plate:
            plates.append(plate)
            spans.append(Span(m.start(), end, "plate"))
    return plates, spans
