"""Train the back-off classifier from nlp/data/train.jsonl into nlp/data/model.json.

    python -m nlp.train            # retrain and write the weights
    python -m nlp.train --check    # exit 1 when model.json is out of date

train.jsonl holds text and intent only (a copy of the labelled dev sets' messages). The
classifier sees messages as the parser does: normalised, slots masked, synonyms mapped."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nlp import classifier


def read_rows(path: Path = classifier.TRAIN_FILE) -> list[tuple[str, str]]:
    """(text, intent) pairs of a JSONL file."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                rows.append((row["text"], row["intent"]))
    return rows


def view(text: str) -> str:
    """The text as the classifier sees it inside `parse`."""
    from nlp.parser import _rules

    return _rules(text, None).masked


def build(rows: list[tuple[str, str]]) -> dict:
    """Model data (counts) from raw (text, intent) rows."""
    return classifier.train((view(text), label) for text, label in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check model.json is in sync")
    args = parser.parse_args(argv)
    digest = classifier.file_hash()
    if args.check:
        ok = classifier.load().get("train_sha256") == digest
        print("model.json in sync" if ok else "model.json out of date: run python -m nlp.train")
        return 0 if ok else 1
    data = build(read_rows())
    data = {"train_sha256": digest, "ngrams": list(classifier.NGRAMS), **data}
    with open(classifier.MODEL_FILE, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
        fh.write("\n")
    print(f"{classifier.MODEL_FILE}: {len(data['counts'])} n-grams, {len(data['labels'])} labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
