"""The pipeline behind `parse`: normalise, find pattern slots, score intents, fill slots."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from nlp import intents, vocab
from nlp.places import find_places
from nlp.plates import find_plates
from nlp.resources import synonym_mapper, typo_fixer
from nlp.segment import cut
from nlp.spans import Span, blank, mask
from nlp.times import find_times

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_CHARS = 500  # longer messages are judged on their beginning


@dataclass(frozen=True)
class Parse:
    """One message's intent, confidence in [0, 1] and normalised slots."""

    intent: str
    confidence: float
    slots: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.slots, MappingProxyType):
            object.__setattr__(self, "slots", MappingProxyType(dict(self.slots)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form: {"intent", "confidence", "slots"}."""
        return {"intent": self.intent, "confidence": self.confidence, "slots": dict(self.slots)}


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(SHANGHAI)
    if now.tzinfo is None:
        return now.replace(tzinfo=SHANGHAI)
    return now.astimezone(SHANGHAI)


def normalize(text: str) -> str:
    """Unicode NFKC (full-width forms to ASCII), then the pinyin-typo table."""
    return typo_fixer()(unicodedata.normalize("NFKC", text))


def extract_patterns(text: str, now: datetime) -> tuple[dict[str, str], list[Span]]:
    """Plates, then times, then places, each on the text with earlier finds blanked out."""
    slots: dict[str, str] = {}
    plates, spans = find_plates(text)
    if plates:
        slots["plate"] = plates[0]
    time_slots, time_spans = find_times(blank(text, spans), now)
    spans += time_spans
    place_slots, place_spans = find_places(blank(text, spans))
    spans += place_spans
    slots.update(time_slots)
    slots.update(place_slots)
    return slots, spans


def _mask_exemplar(text: str) -> str:
    """An exemplar as the fuzzy matcher sees messages: slots replaced by markers."""
    fixed = normalize(text)
    _, spans = extract_patterns(fixed, datetime(2026, 1, 1, tzinfo=SHANGHAI))
    return synonym_mapper()(mask(fixed, spans))


def _tokens(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    pos = 0
    for token in cut(text):
        start = text.find(token, pos)
        if start < 0:
            start = pos
        out.append((token.lower(), start))
        pos = start + len(token)
    return out


def _vocab_slots(intent: str, text: str, raw: str) -> dict[str, str]:
    slots: dict[str, str] = {}
    if intent == "repair":
        slots["category"] = vocab.repair_category(text)
    elif intent == "complaint":
        slots["category"] = vocab.complaint_category(text)
    elif intent.startswith("booking_"):
        found = vocab.service(text)
        if found:
            slots["service"] = found
    elif intent == "parking_query":
        found = vocab.parking_kind(text)
        if found:
            slots["parking_kind"] = found
    elif intent == "wish":
        found = vocab.facility(raw)
        if found:
            slots["facility"] = found
    return slots


def parse(text: str, now: datetime | None = None) -> Parse:
    """Turn one resident message into an intent, a confidence and normalised slots."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    when = _now(now)
    fixed = normalize(text[:MAX_CHARS])
    slots, spans = extract_patterns(fixed, when)
    masked = synonym_mapper()(mask(fixed, spans))
    model = intents.model(_mask_exemplar)
    present = set(slots)
    if vocab.service(masked):
        present.add("service")
    cue_text = synonym_mapper()(mask(fixed, [s for s in spans if s.kind == "plate"]))
    scores = intents.score(model, cue_text, masked, _tokens(cue_text), present)
    intent, confidence = intents.decide(model, scores)
    blanked = synonym_mapper()(blank(fixed, spans))
    slots.update(_vocab_slots(intent, blanked, fixed))
    return Parse(intent=intent, confidence=confidence, slots=slots)
