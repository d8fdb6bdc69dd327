"""Which common question a message asks: rapidfuzz over each entry's question and synonyms.

Pure: text and entries in, ranked matches out. A phrase scores by its characters (typos, one word
swapped: rapidfuzz's ratio) and by its words (jieba), where the question's frame (怎么, 几点, 多少)
weighs little and the subject (物业费, 垃圾, 诊所) much, so 水费怎么交 is not 物业费怎么交.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from rapidfuzz import fuzz

THRESHOLD = 60.0  # a message the parser calls `info`: the best entry at least this close is the answer
STRICT_THRESHOLD = 75.0  # a message the parser is unsure of: only a near-certain match is answered
CLOSE_MARGIN = 10.0  # a second entry this close to the first is mentioned too
# a message the parser is unsure of is also answered by an entry this close that no other entry comes near:
# 电瓶车在哪里充电 (70 to 电动车在哪充电, the next 20) is that question, whatever the parser made of it
CLEAR_MIN, CLEAR_MARGIN = 62.0, 15.0
CHAR_WEIGHT = 0.4  # the rest is the words' share
CHAR_FLOOR = 20.0  # below this the words are not weighed: even all of them shared would give at most 68

_PUNCTUATION = re.compile(r"[\W_]+")
# polite openings and sentence particles that say nothing about what is asked (longest first)
FILLERS = ("请问一下", "麻烦问一下", "想问一下", "我想知道", "请问", "想问下", "想问", "问一下", "问下", "麻烦",
           "你好", "您好", "小助手", "一下", "吗", "呢", "啊", "呀", "吧", "哦", "哈", "嘛", "的")
# the frame of a question: the same in 物业费怎么交 and 水费怎么交, so it weighs little
FRAME_WORDS = frozenset({
    "怎么", "怎样", "如何", "咋", "几点", "多少", "哪", "哪里", "哪儿", "在", "了", "去", "什么", "啥", "时候",
    "什么时候", "时间", "可以", "能", "要", "是", "有", "没有", "我", "我们", "家", "现在", "今天", "到", "给", "谁",
})
FRAME_WEIGHT = 0.25


class Entry(Protocol):
    """What matching needs of an entry (FaqEntry has it)."""

    id: int
    question: str

    @property
    def phrases(self) -> list[str]: ...


@dataclass(frozen=True)
class Match:
    """One entry and how close the message came to it (0-100)."""

    entry: Entry
    score: float


def normalise(text: str) -> str:
    """text as compared: the parser's normalisation, variant words mapped, lower case, no punctuation,
    spaces, polite openings or particles."""
    # the parser's own clean-up (imported on first use: jieba takes seconds to load): full-width forms,
    # pinyin-input slips (电题 -> 电梯), then variant words (物管 -> 物业)
    from nlp.parser import normalize  # noqa: PLC0415
    from nlp.resources import synonym_mapper  # noqa: PLC0415

    text = synonym_mapper()(normalize(text or "")).lower()
    text = _PUNCTUATION.sub("", text)
    for filler in FILLERS:
        text = text.replace(filler, "")
    return text


@dataclass(frozen=True)
class _Prepared:
    bare: str
    words: tuple[str, ...]
    weights: tuple[float, ...]
    chars: frozenset[str]


def _prepare(text: str) -> _Prepared:
    from nlp.segment import cut  # noqa: PLC0415

    bare = normalise(text)
    words = tuple(word for word in cut(bare) if word.strip())
    return _Prepared(bare, words, tuple(_weight(w) for w in words), frozenset(bare))


_phrase = lru_cache(maxsize=4096)(_prepare)  # staff's phrases recur in every match; residents' texts rarely do


def _weight(word: str) -> float:
    return FRAME_WEIGHT if word in FRAME_WORDS else float(min(len(word), 3))


def _pair(word: str, other: str) -> float:
    if word == other:
        return 1.0
    if len(word) < 2 or len(other) < 2:
        return 0.0
    if len(word) >= 3 and len(other) >= 3 and fuzz.ratio(word, other) >= 80:  # 门禁卡 / 门进卡
        return 0.8
    return 0.5 if word in other or other in word else 0.0  # 停车 / 停车费


def _word_score(one: _Prepared, two: _Prepared) -> float:
    """The share of both phrases' word weight that the other phrase has too (100 = the same words)."""
    total = sum(one.weights) + sum(two.weights)
    if not total:
        return 0.0
    best_one = [0.0] * len(one.words)
    best_two = [0.0] * len(two.words)
    for i, word in enumerate(one.words):
        for j, other in enumerate(two.words):
            value = _pair(word, other)
            if value > best_one[i]:
                best_one[i] = value
            if value > best_two[j]:
                best_two[j] = value
    shared = (sum(w * v for w, v in zip(one.weights, best_one, strict=True))
              + sum(w * v for w, v in zip(two.weights, best_two, strict=True)))
    return 100.0 * shared / total


def score(text: str, phrase: str) -> float:
    """How close a message is to one phrase, 0-100."""
    return _score(_prepare(text), _phrase(phrase))


def _score(one: _Prepared, two: _Prepared) -> float:
    if not one.bare or not two.bare or one.chars.isdisjoint(two.chars):
        return 0.0
    if one.bare == two.bare:
        return 100.0
    chars = fuzz.ratio(one.bare, two.bare)
    if chars < CHAR_FLOOR:  # so few characters shared that the words cannot lift it near a threshold
        return CHAR_WEIGHT * chars
    return CHAR_WEIGHT * chars + (1 - CHAR_WEIGHT) * _word_score(one, two)


def rank(text: str, entries: Iterable[Entry]) -> list[Match]:
    """Every entry with its best phrase's score, closest first (ties: the older entry first)."""
    asked = _prepare(text)
    found = [Match(entry, max((_score(asked, _phrase(phrase)) for phrase in entry.phrases if phrase), default=0.0))
             for entry in entries]
    return sorted(found, key=lambda m: (-m.score, m.entry.id))


def best(text: str, entries: Iterable[Entry], threshold: float = THRESHOLD) -> tuple[Match | None, Match | None]:
    """The entry a message asks about (None below threshold), and a second one close enough to mention."""
    ranked = [m for m in rank(text, entries) if m.score >= threshold]
    if not ranked:
        return None, None
    top = ranked[0]
    close = ranked[1] if len(ranked) > 1 and top.score - ranked[1].score <= CLOSE_MARGIN else None
    return top, close


def clear_winner(text: str, entries: Iterable[Entry]) -> Match | None:
    """For a message the parser is unsure of: an entry at STRICT_THRESHOLD, or one at CLEAR_MIN that leads the
    next by CLEAR_MARGIN; None otherwise."""
    ranked = rank(text, entries)
    if not ranked:
        return None
    top = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    if top.score >= STRICT_THRESHOLD or (top.score >= CLEAR_MIN and top.score - second >= CLEAR_MARGIN):
        return top
    return None
