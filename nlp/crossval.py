"""Honest estimate of the back-off: K-fold cross-validation over nlp/data/train.jsonl.

    python -m nlp.crossval [--folds 5] [--thresholds 0.4,0.5,...]

In each fold the classifier is retrained on the other folds and the rules + back-off are
scored on the held fold (intent accuracy). The rules themselves were tuned on all of these
lines, so the rules-only figure is optimistic; the subset `dev3/5` (every fifth line of
nlu_dev3, source index % 5 == 4, which the rule tuning left alone) is the fairer one.
Also prints the false action rate of the full model on the out-of-domain sets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nlp import classifier
from nlp import parser as P
from nlp.evaluate import PASSIVE_INTENTS, load_negatives
from nlp.train import read_rows

REPO = Path(__file__).resolve().parents[1]
EXTERNAL = REPO.parent / "shared" / "external"
EXTERNAL_SETS = ("smp2017-ecdt-task1.tsv", "smp2020-ecdt.jsonl")


def _sources(path: Path = classifier.TRAIN_FILE) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line).get("source", "") for line in fh if line.strip()]


def _untouched(source: str) -> bool:
    name, _, index = source.partition(":")
    return name == "nlu_dev3" and index.isdigit() and int(index) % 5 == 4


def _decide(rules: P._Rules, clf: classifier.Model, threshold: float | None) -> str:
    if threshold is None:
        return rules.intent
    found = P._backoff(rules, clf, threshold)
    return found[0] if found else rules.intent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7,0.8,0.9")
    ap.add_argument("--no-external", action="store_true")
    args = ap.parse_args(argv)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    rows = read_rows()
    sources = _sources()
    rules = [P._rules(text, None) for text, _ in rows]
    views = [r.masked for r in rules]
    gold = [label for _, label in rows]
    settings: list[float | None] = [None, *thresholds]
    names = ["rules"] + [f"bo@{t:g}" for t in thresholds]
    correct = {s: [0] * args.folds for s in names}
    sizes = [0] * args.folds
    sub_correct = dict.fromkeys(names, 0)
    sub_size = 0
    rescued: dict[str, int] = dict.fromkeys(names, 0)
    broken: dict[str, int] = dict.fromkeys(names, 0)
    for k in range(args.folds):
        held = [i for i in range(len(rows)) if i % args.folds == k]
        train_rows = [(views[i], gold[i]) for i in range(len(rows)) if i % args.folds != k]
        clf = classifier.Model.from_counts(classifier.train(train_rows))
        sizes[k] = len(held)
        for i in held:
            untouched = _untouched(sources[i])
            sub_size += untouched
            for name, setting in zip(names, settings, strict=True):
                got = _decide(rules[i], clf, setting)
                ok = got == gold[i]
                correct[name][k] += ok
                sub_correct[name] += ok and untouched
                if setting is not None and got != rules[i].intent:
                    rescued[name] += ok
                    broken[name] += rules[i].intent == gold[i]
    print(f"{args.folds}-fold CV over {len(rows)} lines (intent accuracy)")
    header = "setting      " + " ".join(f"fold{k + 1:<3}" for k in range(args.folds))
    print(header + "  mean    dev3/5  changed: right/broke")
    for name in names:
        accs = [c / n for c, n in zip(correct[name], sizes, strict=True)]
        mean = sum(correct[name]) / sum(sizes)
        sub = sub_correct[name] / sub_size if sub_size else 0.0
        print(
            f"{name:<12} " + " ".join(f"{a:.3f}  " for a in accs)
            + f" {mean:.3f}   {sub:.3f}   {rescued[name]}/{broken[name]}"
        )
    print(f"(dev3/5: {sub_size} lines of nlu_dev3 the rule tuning never looked at)")
    if args.no_external:
        return 0
    full = classifier.Model.from_counts(classifier.train(zip(views, gold, strict=True)))
    for name in EXTERNAL_SETS:
        path = EXTERNAL / name
        if not path.is_file():
            print(f"{path}: missing")
            continue
        texts = load_negatives(path)
        ext_rules = [P._rules(t, None) for t in texts]
        line = []
        for label, setting in zip(names, settings, strict=True):
            wrong = sum(_decide(r, full, setting) not in PASSIVE_INTENTS for r in ext_rules)
            line.append(f"{label} {wrong / len(texts):.4f}")
        print(f"false action rate {name} ({len(texts)}): " + ", ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
