"""Word segmentation with a private jieba.Tokenizer and the domain dictionary, built once."""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path

import jieba

from nlp.resources import DATA_DIR

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
USER_DICT = DATA_DIR / "userdict.txt"

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _build() -> jieba.Tokenizer:
    """Create the tokenizer, keep its cache in nlp/.cache/ and load the domain dictionary."""
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        cache_dir = CACHE_DIR
    except OSError:
        # A read-only install: fall back to the system temporary directory.
        cache_dir = Path(tempfile.gettempdir())
    tokenizer.tmp_dir = str(cache_dir)
    tokenizer.cache_file = str(cache_dir / "linli-jieba.cache")
    tokenizer.initialize()
    tokenizer.load_userdict(str(USER_DICT))
    return tokenizer


def tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer, initialised lazily and only once across threads."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _build()
    return _tokenizer


def cut(text: str) -> list[str]:
    """Segment text into words (HMM off, so unknown words are never invented), dropping blanks."""
    return [tok for tok in tokenizer().cut(text, HMM=False) if tok.strip()]
