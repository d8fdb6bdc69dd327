"""A trained back-off for the intent rules: multinomial naive Bayes over character 1-3-grams.

The rules decide; this model only speaks when they end in the out_of_scope fallback without
an explicit out-of-scope cue (see `parser.parse`). Its weights are trained offline from
nlp/data/train.jsonl by `python -m nlp.train` into nlp/data/model.json (counts, plus the
SHA-256 of the training file so a test can tell when the two drift apart)."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nlp.resources import DATA_DIR

TRAIN_FILE = DATA_DIR / "train.jsonl"
MODEL_FILE = DATA_DIR / "model.json"
NGRAMS = (1, 2, 3)
MIN_COUNT = 2  # n-grams seen fewer times in all of training are dropped (2/3 of them)
ALPHA = 0.1  # Laplace smoothing of the per-class n-gram counts
# Naive Bayes treats overlapping n-grams as independent, so its raw posterior is far too
# sure; the log-likelihood is divided by this power of the feature count before softmax.
TEMPER = 0.5
_SKIP = set(" \t\r\n，,。.！!？?；;、~～…：:\"'“”‘’()（）")


def features(text: str) -> list[str]:
    """Character n-grams of the (normalised, slot-masked) text; punctuation splits runs."""
    runs: list[str] = []
    current: list[str] = []
    for ch in text.lower():
        if ch in _SKIP:
            if current:
                runs.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        runs.append("".join(current))
    out: list[str] = []
    for run in runs:
        padded = f"^{run}$"
        for n in NGRAMS:
            source = run if n == 1 else padded
            out.extend(source[i:i + n] for i in range(len(source) - n + 1))
    return out


def file_hash(path: Path = TRAIN_FILE) -> str:
    """SHA-256 of the training file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(rows: Iterable[tuple[str, str]], featurize=features) -> dict:
    """Counts of a naive Bayes model from (text, intent) rows; deterministic (sorted output)."""
    docs: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = {}
    for text, label in rows:
        docs[label] += 1
        counts.setdefault(label, Counter()).update(featurize(text))
    labels = sorted(docs)
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    vocab = sorted(f for f, n in total.items() if n >= MIN_COUNT)
    sparse: dict[str, list[int]] = {}
    for f in vocab:
        # Flat [class index, count, class index, count, ...] over the classes that saw f.
        sparse[f] = [
            v for i, lab in enumerate(labels) if counts[lab][f] for v in (i, counts[lab][f])
        ]
    return {"labels": labels, "docs": [docs[lab] for lab in labels], "counts": sparse}


@dataclass(frozen=True)
class Model:
    """Log-probabilities ready for scoring."""

    labels: tuple[str, ...]
    prior: tuple[float, ...]
    unseen: tuple[float, ...]  # log-probability of an n-gram a class never saw
    # n-gram -> (class index, log-probability minus `unseen`) for the classes that saw it
    loglik: dict[str, tuple[tuple[int, float], ...]]

    @classmethod
    def from_counts(cls, data: dict) -> Model:
        labels = tuple(data["labels"])
        docs = data["docs"]
        counts = data["counts"]
        size = len(counts)
        totals = [0] * len(labels)
        for row in counts.values():
            for j in range(0, len(row), 2):
                totals[row[j]] += row[j + 1]
        prior = tuple(math.log(d / sum(docs)) for d in docs)
        unseen = tuple(math.log(ALPHA) - math.log(t + ALPHA * size) for t in totals)
        gain = {c: math.log(c + ALPHA) - math.log(ALPHA) for r in counts.values() for c in r[1::2]}
        loglik = {
            f: tuple((row[j], gain[row[j + 1]]) for j in range(0, len(row), 2))
            for f, row in counts.items()
        }
        return cls(labels, prior, unseen, loglik)

    def predict(self, text: str, featurize=features) -> list[tuple[str, float]]:
        """(label, probability) pairs, most probable first."""
        feats = [f for f in featurize(text) if f in self.loglik]
        if not feats:
            return [(lab, 1.0 / len(self.labels)) for lab in self.labels]
        sums = [u * len(feats) for u in self.unseen]
        for f in feats:
            for i, v in self.loglik[f]:
                sums[i] += v
        scale = 1.0 / len(feats) ** TEMPER
        logits = [p + s * scale for p, s in zip(self.prior, sums, strict=True)]
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        probs = (e / total for e in exps)
        return sorted(zip(self.labels, probs, strict=True), key=lambda kv: -kv[1])


_lock = threading.Lock()
_model: Model | None = None


def load(path: Path = MODEL_FILE) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def model() -> Model:
    """The committed model, loaded once across threads."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = Model.from_counts(load())
    return _model
