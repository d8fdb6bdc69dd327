"""The pipeline behind `parse`: normalise, find pattern slots, score intents, fill slots."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import opencc

from nlp import intents, slips, vocab
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


_converters = threading.local()


def _simplified(text: str) -> str:
    """Traditional characters as simplified (請問還有臨時車位嗎 → 请问还有临时车位吗), by OpenCC; one converter
    per thread, so parse stays safe to call from many threads at once."""
    converter = getattr(_converters, "t2s", None)
    if converter is None:
        converter = _converters.t2s = opencc.OpenCC("t2s")
    return converter.convert(text)


def normalize(text: str) -> str:
    """Unicode NFKC (full-width forms to ASCII), traditional characters to simplified, the pinyin-typo
    table, then slips found by sound (电体 → 电梯, 马桶赌了 → 马桶堵了)."""
    return slips.correct(typo_fixer()(_simplified(unicodedata.normalize("NFKC", text))))


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
    elif intent.startswith("activity_"):
        found = vocab.activity(text)
        if found:
            slots["activity"] = found
    elif intent == "merchant_query":
        found = vocab.shop(text)
        if found:
            slots["shop"] = found
    return slots


# The trained back-off (nlp/classifier.py) answers only when the rules fall back to
# out_of_scope without an out-of-scope cue of their own, its top class is not out_of_scope
# with at least this probability, and, for an action intent, the message names something
# of the community (a word class below, or a building/unit/room/plate slot) AND the rules
# saw some evidence for that very intent (a positive score below their threshold). The
# last guard keeps the false action rate on out-of-domain sets under 0.5%; without it,
# words like 视频 (a video consult) or 台 (an object) let 2-4% of them through.
# Tuned by `python -m nlp.crossval` (and a sweep of these guards: see the commit message).
BACKOFF_ENABLED = True
BACKOFF_THRESHOLD = 0.7
ANCHOR_CLASSES = frozenset({
    "objects", "nuisances", "facilities", "places", "actors", "parking_places", "reported",
})
ANCHOR_SLOTS = frozenset({"building", "unit", "room", "plate"})
# Classes that mark a message as a how-to question (never backed off), a personal device
# (not a repair: 电视坏了去哪修) or praise (not a complaint: 钢琴弹得真好).
BLOCK_CLASSES = frozenset({"how_to"})
BLOCKS = {"repair": frozenset({"personal_devices"}), "complaint": frozenset({"praise"})}
# A backed-off repair must name a failure or ask for a fix (电梯没坏 就是有点慢 does not:
# a negated failure does not count as a hit).
NEEDS_CLASSES = {"repair": frozenset({"failures", "fix_requests"})}
# A backed-off booking must name a clinic service (后天晚上8点打开空调 is no booking).
NEEDS_SLOTS = {
    name: frozenset({"service"}) for name in ("booking_create", "booking_cancel", "booking_query")
}
PASSIVE = frozenset({"greeting", intents.FALLBACK})
# The contract-v2 intents are decided by the rules alone: their cues are specific (a person in
# danger, a shop, an activity) and the anchors above say nothing about them (附近哪里可以钓鱼
# names a nuisance word, not a shop), so the back-off stays silent when it would say one.
RULES_ONLY = frozenset({
    "emergency", "info", "activity_query", "activity_signup", "activity_cancel", "merchant_query",
})


@dataclass
class _Rules:
    """The rules' view of one message, kept so the back-off can look at it."""

    fixed: str
    slots: dict[str, str]
    spans: list[Span]
    masked: str
    cue_text: str
    present: set[str]
    scores: dict[str, float]
    intent: str
    confidence: float


def _rules(text: str, now: datetime | None) -> _Rules:
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
    return _Rules(fixed, slots, spans, masked, cue_text, present, scores, intent, confidence)


def anchored(rules: _Rules, label: str = "") -> bool:
    """True when the message names something of the community (the back-off's guard) and
    none of the advice/device/praise classes; for some labels a further class is needed."""
    m = intents.model(_mask_exemplar)
    hits = intents.class_hits(m, rules.cue_text.lower())
    if (BLOCK_CLASSES | BLOCKS.get(label, frozenset())) & hits:
        return False
    needs = NEEDS_CLASSES.get(label)
    if needs is not None and not needs & hits:
        return False
    needs = NEEDS_SLOTS.get(label)
    if needs is not None and not needs & rules.present:
        return False
    return bool(rules.present & ANCHOR_SLOTS or ANCHOR_CLASSES & hits)


def _backoff(rules: _Rules, clf: Any, threshold: float) -> tuple[str, float] | None:
    """The classifier's intent and a moderate confidence, or None when it should not speak."""
    if rules.intent != intents.FALLBACK:
        return None
    m = intents.model(_mask_exemplar)
    if rules.scores.get(intents.FALLBACK, 0.0) >= m.min_score:
        return None  # the rules chose out_of_scope on a cue of their own
    label, prob = clf.predict(rules.masked)[0]
    if label == intents.FALLBACK or label in RULES_ONLY or prob < threshold:
        return None
    if label not in PASSIVE and (rules.scores.get(label, 0.0) <= 0 or not anchored(rules, label)):
        return None
    # At least START (0.5) so a flow starts, well below a confident rule decision.
    return label, round(0.5 + 0.2 * prob, 3)


def _finish(rules: _Rules, intent: str, confidence: float) -> Parse:
    slots = dict(rules.slots)
    blanked = synonym_mapper()(blank(rules.fixed, rules.spans))
    slots.update(_vocab_slots(intent, blanked, rules.fixed))
    return Parse(intent=intent, confidence=confidence, slots=slots)


def parse(text: str, now: datetime | None = None) -> Parse:
    """Turn one resident message into an intent, a confidence and normalised slots."""
    rules = _rules(text, now)
    intent, confidence = rules.intent, rules.confidence
    if BACKOFF_ENABLED and intent == intents.FALLBACK:
        from nlp import classifier

        found = _backoff(rules, classifier.model(), BACKOFF_THRESHOLD)
        if found is not None:
            intent, confidence = found
    return _finish(rules, intent, confidence)
