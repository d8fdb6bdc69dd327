"""Intent scoring: weighted cue evidence over the message and its jieba tokens, fuzzy similarity
to exemplars, negation and "already fixed" cues, and a fallback to out_of_scope."""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from nlp.resources import classes, cues, intents

INTENTS = (
    "repair", "complaint", "wish", "parking_query", "car_notice", "booking_create",
    "booking_cancel", "booking_query", "ticket_status", "human", "emergency", "info",
    "activity_query", "activity_signup", "activity_cancel", "merchant_query", "greeting",
    "out_of_scope",
)
FALLBACK = "out_of_scope"
SECONDARY = 0.4  # share of each further cue's weight added to the strongest one
UNANCHORED = 0.3  # evidence kept by an intent whose domain anchor is missing
TIE = 0.3  # within a family, scores this close count as a tie
VETO = -3.0  # a combo weight at or below this counts after the class floor, not before
_NOT_NEGATING_BIE = set("识区特分告级类性个差辨鉴派离道送惜临")  # ...别 that is not "don't"


@dataclass(frozen=True)
class _Cues:
    pattern: re.Pattern[str] | None  # multi-character cues, as an overlapping lookahead
    weights: dict[str, float]
    tokens: dict[str, float]  # single-character cues, matched as whole tokens
    patterns: tuple[tuple[re.Pattern[str], float], ...]  # phrase patterns (regular expressions)
    requires: re.Pattern[str] | None  # a domain anchor; without it the evidence is damped
    slot_weights: dict[str, float]
    combos: tuple[tuple[tuple[str, ...], float], ...] = ()  # word classes that must all occur
    anchor_classes: frozenset[str] = frozenset()  # a hit in one of these anchors like `requires`


@dataclass(frozen=True)
class _Model:
    cues: dict[str, _Cues]
    classes: dict[str, re.Pattern[str]]  # word class -> lookahead over its fragments
    exemplars: list[str]
    exemplar_intents: list[str]
    negators: tuple[str, ...]
    resolved: re.Pattern[str]
    resolved_not_before: tuple[str, ...]
    resolved_damps: frozenset[str]
    resolved_factor: float
    question: re.Pattern[str]
    min_score: float
    min_gap: float
    fuzzy_weight: float
    families: dict[str, str]  # intent -> family name (booking_* share one)
    defaults: dict[str, str]  # family -> intent chosen when its members tie
    # intent -> score at or above which it wins outright (a person in danger beats a repair)
    priority: dict[str, float] = field(default_factory=dict)


_lock = threading.Lock()
_model: _Model | None = None


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def _lookahead(words: list[str]) -> re.Pattern[str]:
    alternation = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    return re.compile(f"(?=({alternation}))")


def _build(mask_exemplar: Any) -> _Model:
    table = intents()
    extra = cues()
    per_intent: dict[str, _Cues] = {}
    exemplars: list[str] = []
    owners: list[str] = []
    for name in INTENTS:
        spec = table.get(name) or {}
        weights = {str(k).lower(): float(v) for k, v in (spec.get("cues") or {}).items()}
        multi = [w for w in weights if len(w) >= 2]
        per_intent[name] = _Cues(
            pattern=_lookahead(multi) if multi else None,
            weights=weights,
            tokens={w: v for w, v in weights.items() if len(w) == 1},
            patterns=tuple(
                (re.compile(str(p)), float(v)) for p, v in (spec.get("patterns") or {}).items()
            ),
            slot_weights={k: float(v) for k, v in (spec.get("slots") or {}).items()},
            requires=re.compile(spec["requires"]) if spec.get("requires") else None,
            combos=tuple(
                (tuple(str(c).split("+")), float(v))
                for c, v in (spec.get("combos") or {}).items()
            ),
            anchor_classes=frozenset(spec.get("anchor_classes") or ()),
        )
        for example in spec.get("exemplars") or []:
            exemplars.append(mask_exemplar(str(example)))
            owners.append(name)
    thresholds = extra["thresholds"]
    return _Model(
        cues=per_intent,
        classes={
            name: re.compile("(?=(" + "|".join(f"(?:{part})" for part in parts) + "))")
            for name, parts in classes().items()
        },
        exemplars=exemplars,
        exemplar_intents=owners,
        negators=tuple(sorted(extra["negators"], key=len, reverse=True)),
        resolved=_alternation(extra["resolved"]),
        resolved_not_before=tuple(extra.get("resolved_not_before") or ()),
        resolved_damps=frozenset(extra["resolved_damps"]),
        resolved_factor=float(extra["resolved_factor"]),
        question=_alternation([str(q) for q in extra["question"]]),
        min_score=float(thresholds["min_score"]),
        min_gap=float(thresholds["min_gap"]),
        fuzzy_weight=float(thresholds["fuzzy_weight"]),
        families={i: f for f, spec in extra["families"].items() for i in spec["members"]},
        defaults={f: spec["default"] for f, spec in extra["families"].items()},
        priority={k: float(v) for k, v in (extra.get("priority") or {}).items()},
    )


def model(mask_exemplar: Any) -> _Model:
    """The compiled intent model, built once (exemplars are masked like messages)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _build(mask_exemplar)
    return _model


def _negated(text: str, start: int, negators: tuple[str, ...]) -> bool:
    """True when the cue starting at `start` directly follows a negator (optionally 是/再/太).

    The A不A question form (能不能, 可不可以, 是不是) is not a negation."""
    before = text[max(0, start - 4):start]
    if len(before) >= 3 and before[-2] in "不没" and before[-1] == before[-3]:
        return False
    if len(before) >= 4 and before[-3] in "不没" and before[-2:] == before[-4:-2]:
        return False
    if before.endswith(("是", "再", "太", "会", "能", "用")):
        before = before[:-1]
    if before.endswith("别") and before[-2:-1] in _NOT_NEGATING_BIE:
        return False  # 识别坏了, 特别慢: 别 is part of a word here
    return before.endswith(negators)


def _inside_a_not_a(text: str, start: int, cue: str) -> bool:
    """True when a cue like 不能用 is really the tail of the question form 能不能用."""
    return (
        cue[0] in "不没"
        and start > 0
        and len(cue) > 1
        and text[start - 1] == cue[1]
    )


def _evidence(m: _Model, spec: _Cues, text: str, tokens: list[tuple[str, int]]) -> float:
    """Weighted evidence for one intent: strongest cue plus a share of the others."""
    found: list[float] = []
    covered: list[tuple[int, int]] = []
    if spec.pattern is not None:
        # The pattern is a lookahead, so cues may overlap (我的预约 and 预约记录 both count).
        for hit in spec.pattern.finditer(text):
            cue = hit.group(1)
            if _inside_a_not_a(text, hit.start(), cue):
                continue
            weight = spec.weights[cue]
            if weight > 0 and _negated(text, hit.start(), m.negators):
                weight = -0.5 * weight
            found.append(weight)
            covered.append((hit.start(), hit.start() + len(cue)))
    for token, start in tokens:
        weight = spec.tokens.get(token)
        if weight is None or any(a <= start < b for a, b in covered):
            continue
        if weight > 0 and _negated(text, start, m.negators):
            weight = -0.5 * weight
        found.append(weight)
    for pattern, weight in spec.patterns:
        if pattern.search(text):
            found.append(weight)
    if not found:
        return 0.0
    positive = sorted((w for w in found if w > 0), reverse=True)
    negative = sum(w for w in found if w < 0)
    if not positive:
        return negative
    return positive[0] + SECONDARY * sum(positive[1:]) + negative


def _class_hits(m: _Model, text: str) -> set[str]:
    """The word classes with at least one occurrence in text that no negator precedes."""
    hits = set()
    for name, pattern in m.classes.items():
        for hit in pattern.finditer(text):
            if hit.group(1) and not _negated(text, hit.start(), m.negators):
                hits.add(name)
                break
    return hits


def class_hits(m: _Model, text: str) -> set[str]:
    """The word classes that occur in (lowered) text, each not right after a negator."""
    return _class_hits(m, text)


def _has(name: str, hits: set[str]) -> bool:
    """A combo part: a word class that occurs, or with a leading "!" one that does not."""
    return name[1:] not in hits if name.startswith("!") else name in hits


def _resolved(m: _Model, text: str) -> bool:
    """True when the message reports a problem as already fixed (and does not ask about it)."""
    for hit in m.resolved.finditer(text):
        if _negated(text, hit.start(), m.negators):
            continue
        if m.question.search(text, hit.end()):
            continue
        if text[hit.end():].lstrip().startswith(m.resolved_not_before):
            continue
        return True
    return False


def _fuzzy(m: _Model, text: str) -> dict[str, float]:
    """Best similarity (0..1) of text to each intent's exemplars, above a length-aware cutoff."""
    size = len(text)
    if size <= 2:
        return {}
    cutoff = 88 if size <= 4 else 80 if size <= 8 else 72 if size <= 16 else 65
    best: dict[str, float] = {}
    for _, score, index in process.extract(
        text, m.exemplars, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5
    ):
        owner = m.exemplar_intents[index]
        best[owner] = max(best.get(owner, 0.0), score / 100.0)
    return best


def score(
    m: _Model, text: str, masked: str, tokens: list[tuple[str, int]], present: set[str]
) -> dict[str, float]:
    """Raw score of each intent: cues over `text`, exemplar similarity over `masked`."""
    lowered = text.lower()
    scores = {name: _evidence(m, spec, lowered, tokens) for name, spec in m.cues.items()}
    hits = _class_hits(m, lowered)
    for name, spec in m.cues.items():
        scores[name] += sum(w for slot, w in spec.slot_weights.items() if slot in present)
        if (
            spec.requires is not None
            and scores[name] > 0
            and not spec.requires.search(lowered)
            and not spec.anchor_classes & hits
        ):
            scores[name] *= UNANCHORED
        # Class evidence (an object plus a failure, a wish verb plus a facility) carries
        # messages whose exact phrases the cue lists do not know; it is its own anchor.
        weights = [w for names, w in spec.combos if all(_has(c, hits) for c in names)]
        # Counter-evidence (a neighbour's doing) lowers the cue evidence below the floor...
        scores[name] += sum(w for w in weights if VETO < w < 0)
        positive = [w for w in weights if w > 0]
        if positive:
            # A floor, not a bonus: messages whose cues already say more keep their score.
            best = max(positive)
            if scores[name] < best:
                # Counter-cues (帮我, 给我听) still count against it.
                extra = scores[name]
                scores[name] = best + (SECONDARY * extra if extra > 0 else extra)
        # ...while a veto (a how-to question: 灯泡坏了自己怎么换) counts after it.
        scores[name] += sum(w for w in weights if w <= VETO)
    for name, similarity in _fuzzy(m, masked).items():
        scores[name] += m.fuzzy_weight * similarity
    if _resolved(m, lowered):
        for name in m.resolved_damps:
            scores[name] *= m.resolved_factor
    if any(v >= m.min_score for k, v in scores.items() if k not in ("greeting", FALLBACK)):
        scores["greeting"] *= 0.3
    return scores


def decide(m: _Model, scores: dict[str, float]) -> tuple[str, float]:
    """Pick the intent, falling back when the best score is low or the top two are too close.

    Intents of one family (the booking_* trio) compete with others as one: the gap is
    measured to the best other family, and within the family a near tie goes to its default.
    An intent with a priority (emergency) wins outright once its score reaches it."""
    for name, floor in m.priority.items():
        top = scores.get(name, 0.0)
        if top >= floor:
            others = max((v for k, v in scores.items() if k != name), default=0.0)
            strength = 1.0 - math.exp(-top / 3.0)
            margin = max(0.0, top - max(others, 0.0)) / top
            return name, round(min(1.0, max(0.75, strength * (0.5 + 0.5 * margin))), 3)
    family_best: dict[str, tuple[str, float]] = {}
    for name, value in scores.items():
        family = m.families.get(name, name)
        if family not in family_best or value > family_best[family][1]:
            family_best[family] = (name, value)
    ranked = sorted(family_best.items(), key=lambda kv: kv[1][1], reverse=True)
    family, (best, top) = ranked[0]
    second = max(ranked[1][1][1], 0.0) if len(ranked) > 1 else 0.0
    if family in m.defaults:
        default = m.defaults[family]
        if scores[default] >= top - TIE:
            best = default
    strength = 1.0 - math.exp(-max(top, 0.0) / 3.0)
    margin = (top - second) / top if top > 0 else 0.0
    confidence = strength * (0.5 + 0.5 * margin)
    if best == FALLBACK:
        return FALLBACK, round(min(0.6, max(confidence, 0.3)), 3)
    if top < m.min_score or top - second < m.min_gap:
        return FALLBACK, round(min(0.3, 0.3 * (1 - confidence)) + 0.05, 3)
    return best, round(min(1.0, max(0.0, confidence)), 3)
