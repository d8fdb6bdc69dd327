"""Loading of the data files under nlp/data/ (intents, lexicon, cues, typos, synonyms), once."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _load_once(name: str, loader: Any) -> Any:
    """Return the cached result of loader(), computing it under a lock the first time."""
    value = _cache.get(name)
    if value is None:
        with _lock:
            value = _cache.get(name)
            if value is None:
                value = loader()
                _cache[name] = value
    return value


def _read_yaml(name: str) -> Any:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _read_pairs(name: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            wrong, right = line.split("\t")[:2]
            pairs[wrong.strip()] = right.strip()
    return pairs


@dataclass(frozen=True)
class Replacer:
    """Longest-first substring replacement from a table of pairs."""

    table: dict[str, str]
    pattern: re.Pattern[str] | None

    @classmethod
    def from_pairs(cls, pairs: dict[str, str]) -> Replacer:
        """Compile one alternation so a single pass replaces every entry."""
        if not pairs:
            return cls(pairs, None)
        keys = sorted(pairs, key=len, reverse=True)
        return cls(pairs, re.compile("|".join(map(re.escape, keys))))

    def __call__(self, text: str) -> str:
        """Apply the table to text."""
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.table[m.group(0)], text)


def intents() -> dict[str, dict[str, Any]]:
    """Intent cues, slot weights and exemplars from intents.yaml."""
    return _load_once("intents", lambda: _read_yaml("intents.yaml"))


def lexicon() -> dict[str, Any]:
    """Slot vocabularies from lexicon.yaml."""
    return _load_once("lexicon", lambda: _read_yaml("lexicon.yaml"))


def cues() -> dict[str, Any]:
    """Negation, resolution and question cues and thresholds from cues.yaml."""
    return _load_once("cues", lambda: _read_yaml("cues.yaml"))


def classes() -> dict[str, list[str]]:
    """Word classes (object, failure, nuisance, wish verb, facility...) from classes.yaml."""
    return _load_once("classes", lambda: _read_yaml("classes.yaml"))


def typo_fixer() -> Replacer:
    """Replacer for pinyin-input typos (typos.tsv)."""
    return _load_once("typos", lambda: Replacer.from_pairs(_read_pairs("typos.tsv")))


def synonym_mapper() -> Replacer:
    """Replacer for variant words (synonyms.tsv)."""
    return _load_once("synonyms", lambda: Replacer.from_pairs(_read_pairs("synonyms.tsv")))
