"""Slots found by vocabulary: repair/complaint category, clinic service, parking kind, wished facility."""

from __future__ import annotations

import re
from functools import lru_cache

from nlp.resources import lexicon

_PUNCT = re.compile(r"[，,。.！!？?；;、~～\s…]+")


def _first_match(text: str, table: dict[str, list[str]]) -> str | None:
    """The first category (in file order) any of whose words occurs in text."""
    for category, words in table.items():
        if any(word in text for word in words):
            return category
    return None


def _earliest_match(text: str, table: dict[str, list[str]]) -> str | None:
    """The category whose word occurs earliest in text (ties: longer word, then file order)."""
    best: tuple[int, int] | None = None
    found = None
    for category, words in table.items():
        for word in words:
            pos = text.find(word)
            if pos >= 0 and (best is None or (pos, -len(word)) < best):
                best, found = (pos, -len(word)), category
    return found


def repair_category(text: str) -> str:
    """Category of a repair message; "other" when no vocabulary word occurs."""
    return _first_match(text, lexicon()["repair_category"]) or "other"


def complaint_category(text: str) -> str:
    """Category of a complaint message; "other" when no vocabulary word occurs."""
    return _first_match(text, lexicon()["complaint_category"]) or "other"


def service(text: str) -> str | None:
    """Clinic service named in a booking message, if any."""
    return _earliest_match(text, lexicon()["service"])


def parking_kind(text: str) -> str | None:
    """Fixed or temporary parking, if the message says which."""
    return _first_match(text, lexicon()["parking_kind"])


@lru_cache(maxsize=1)
def _facility_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    table = lexicon()["facility"]

    def alternation(words: list[str]) -> str:
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))

    verbs = re.compile(f"(?:{alternation(table['verbs'])})")
    front = re.compile(f"^(?:{alternation(table['strip_front'])})+")
    stop = re.compile(f"(?:{alternation(table['stop'])})")
    lead = re.compile(f"^(?:{alternation(table['lead_in'])})+")
    return verbs, front, stop, lead


def _clean(phrase: str, front: re.Pattern[str], stop: re.Pattern[str]) -> str:
    phrase = front.sub("", phrase)
    m = stop.search(phrase)
    if m:
        phrase = phrase[: m.start()]
    return phrase.strip("的了呗哈吧")


def facility(text: str) -> str | None:
    """The wished-for facility as a short noun phrase (希望装个自助打印机 -> 自助打印机)."""
    verbs, front, stop, lead = _facility_patterns()
    clauses = [c for c in _PUNCT.split(text) if c]
    candidates: list[str] = []
    for clause in clauses:
        body = lead.sub("", clause)
        for m in verbs.finditer(body):
            phrase = _clean(body[m.end():], front, stop)
            if phrase:
                candidates.append(phrase)
                break
        if candidates:
            break
    if not candidates:
        for clause in clauses:
            phrase = _clean(lead.sub("", clause), front, stop)
            if len(phrase) >= 2:
                candidates.append(phrase)
                break
    if not candidates:
        return None
    phrase = candidates[0]
    return phrase[:12] if len(phrase) > 12 else phrase
