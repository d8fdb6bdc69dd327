"""Pinyin-input slips in the community's own words, found by sound (pypinyin) instead of listed one by one.

A resident typing 电体坏了, 马桶赌了 or 楼道等不亮 picked the right syllables and the wrong characters. A
window of the message that sounds like a domain term (tones ignored), shares at least one character with
it, and is not itself a word in jieba's dictionary, is replaced by the term. typos.tsv still lists slips that
change the sound (电题); this finds the rest. Syllables are compared the way pinyin input methods' "fuzzy
pinyin" does for southern accents: zh/z, ch/c, sh/s and final ng/n are one sound (充电桩 / 冲电庄).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from pypinyin import lazy_pinyin

from nlp.resources import DATA_DIR

_lock = threading.Lock()
_terms: dict[int, dict[str, str]] | None = None  # length -> pinyin key -> term
_FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=8192)
def _syllable(ch: str) -> str:
    if not _is_han(ch):
        return ch
    syllable = lazy_pinyin(ch)[0]
    for accented, plain in _FOLDS:
        if syllable.startswith(accented):
            syllable = plain + syllable[2:]
    return syllable[:-1] if syllable.endswith("ng") else syllable


def _key(chars: str) -> str:
    return " ".join(_syllable(ch) for ch in chars)


def _load() -> dict[int, dict[str, str]]:
    global _terms
    if _terms is None:
        with _lock:
            if _terms is None:
                by_length: dict[int, dict[str, str]] = {}
                for line in (DATA_DIR / "slip_terms.txt").read_text(encoding="utf-8").splitlines():
                    term = line.split("#", 1)[0].strip()
                    if len(term) in (2, 3) and all(_is_han(ch) for ch in term):
                        by_length.setdefault(len(term), {}).setdefault(_key(term), term)
                _terms = by_length
    return _terms


def _known(word: str) -> bool:
    from nlp.segment import tokenizer  # noqa: PLC0415 - jieba loads only when a slip is suspected

    return tokenizer().FREQ.get(word, 0) > 0


def _match(window: str, terms: dict[str, str]) -> str | None:
    term = terms.get(_key(window))
    if term is None or term == window or not set(term) & set(window):
        return None
    return None if _known(window) else term


def _bound_to_neighbours(text: str, start: int, end: int) -> bool:
    """Whether the window's first or last character makes a word with the character beside it (接听电话:
    听电 sounds like 停电, but 接听 and 电话 are words, so it is no slip)."""
    before = text[start - 1:start + 1] if start > 0 else ""
    after = text[end - 1:end + 1] if end < len(text) else ""
    return any(len(pair) == 2 and _known(pair) for pair in (before, after))


def correct(text: str) -> str:
    """text with windows that sound like a domain term (and are no word themselves) replaced by it."""
    terms = _load()
    out, i = [], 0
    while i < len(text):
        for size in (3, 2):
            window = text[i:i + size]
            if len(window) == size and all(_is_han(ch) for ch in window):
                term = _match(window, terms.get(size, {}))
                if term is not None and not _bound_to_neighbours(text, i, i + size):
                    out.append(term)
                    i += size
                    break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
