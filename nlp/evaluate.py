"""Evaluate `parse` on a labelled JSONL file (intent and slot scores, latency) and measure the
false action rate on out-of-domain sets.

    python -m nlp.evaluate tests/data/nlu_dev.jsonl [--json] [--errors]
    python -m nlp.evaluate --negatives ../shared/external/smp2020-ecdt.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nlp.intents import INTENTS
from nlp.parser import parse

DEFAULT_NOW = "2026-11-24T10:00:00+08:00"
PASSIVE_INTENTS = ("greeting", "out_of_scope")
CONTAINED_SLOTS = frozenset({"facility", "activity", "shop"})


@dataclass
class Case:
    """One labelled message."""

    text: str
    intent: str
    slots: dict[str, str]
    now: datetime


@dataclass
class Report:
    """Scores of one evaluation run."""

    cases: int = 0
    intent_accuracy: float = 0.0
    macro_f1: float = 0.0
    per_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    slot_precision: float = 0.0
    slot_recall: float = 0.0
    slot_f1: float = 0.0
    per_slot: dict[str, dict[str, float]] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


def load_cases(path: str | Path) -> list[Case]:
    """Read a JSONL evaluation file (contract format)."""
    cases = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            cases.append(Case(
                text=row["text"],
                intent=row["intent"],
                slots={k: str(v) for k, v in (row.get("slots") or {}).items()},
                now=datetime.fromisoformat(row.get("now") or DEFAULT_NOW),
            ))
    return cases


def slot_matches(name: str, expected: str, got: str | None) -> bool:
    """Contract rule: exact match, except facility, activity and shop (expected contained, at
    most twice as long)."""
    if got is None:
        return False
    if name in CONTAINED_SLOTS:
        return expected in got and len(got) <= 2 * len(expected)
    return expected == got


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def evaluate(cases: list[Case]) -> Report:
    """Run parse over the cases and score intents, slots and latency."""
    report = Report(cases=len(cases))
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    slot_counts: dict[str, Counter[str]] = defaultdict(Counter)
    latencies: list[float] = []
    correct = 0
    parse("预热")  # load the dictionary and data first: latency is measured warm
    for case in cases:
        start = time.perf_counter()
        result = parse(case.text, now=case.now)
        latencies.append((time.perf_counter() - start) * 1000)
        confusion[case.intent][result.intent] += 1
        correct += result.intent == case.intent
        wrong_slots = {}
        for name, expected in case.slots.items():
            got = result.slots.get(name)
            if slot_matches(name, expected, got):
                slot_counts[name]["tp"] += 1
            else:
                slot_counts[name]["fn"] += 1
                if got is not None:
                    slot_counts[name]["fp"] += 1
                wrong_slots[name] = {"expected": expected, "got": got}
        for name, got in result.slots.items():
            if name not in case.slots:
                slot_counts[name]["fp"] += 1
                wrong_slots[name] = {"expected": None, "got": got}
        if result.intent != case.intent or wrong_slots:
            report.errors.append({
                "text": case.text, "expected": case.intent, "got": result.intent,
                "confidence": result.confidence, "slots": wrong_slots,
            })
    report.intent_accuracy = correct / len(cases) if cases else 0.0
    labels = sorted(set(confusion) | {g for row in confusion.values() for g in row},
                    key=lambda x: INTENTS.index(x) if x in INTENTS else len(INTENTS))
    f1s = []
    for label in labels:
        tp = confusion[label][label]
        fp = sum(confusion[other][label] for other in labels if other != label)
        fn = sum(confusion[label].values()) - tp
        precision, recall, f1 = _prf(tp, fp, fn)
        report.per_intent[label] = {"precision": precision, "recall": recall, "f1": f1,
                                    "support": sum(confusion[label].values())}
        if report.per_intent[label]["support"]:
            f1s.append(f1)
    report.macro_f1 = sum(f1s) / len(f1s) if f1s else 0.0
    report.confusion = {k: dict(v) for k, v in confusion.items()}
    totals = Counter()
    for name, counts in sorted(slot_counts.items()):
        precision, recall, f1 = _prf(counts["tp"], counts["fp"], counts["fn"])
        report.per_slot[name] = {"precision": precision, "recall": recall, "f1": f1,
                                 "support": counts["tp"] + counts["fn"]}
        totals.update(counts)
    report.slot_precision, report.slot_recall, report.slot_f1 = _prf(
        totals["tp"], totals["fp"], totals["fn"])
    report.latency_ms = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}
    return report


def load_negatives(path: str | Path) -> list[str]:
    """Texts of an out-of-domain set: TSV/CSV with a Sentence column, or JSONL with "text"."""
    path = Path(path)
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line)["text"] for line in fh if line.strip()]
    with open(path, encoding="utf-8", newline="") as fh:
        sample = fh.readline()
        fh.seek(0)
        delimiter = "\t" if "\t" in sample else ","
        rows = csv.DictReader(fh, delimiter=delimiter)
        return [row["Sentence"] for row in rows if row.get("Sentence")]


@dataclass
class NegativeReport:
    """False action rate on one out-of-domain set."""

    path: str
    total: int
    false_actions: int
    rate: float
    worst: list[dict[str, Any]]


def false_action_rate(texts: list[str], path: str = "", worst: int = 15) -> NegativeReport:
    """Share of out-of-domain texts given an action intent, with the most confident ones."""
    now = datetime.fromisoformat(DEFAULT_NOW)
    wrong = []
    for text in texts:
        result = parse(text, now=now)
        if result.intent not in PASSIVE_INTENTS:
            wrong.append(
                {"text": text, "intent": result.intent, "confidence": result.confidence}
            )
    wrong.sort(key=lambda row: row["confidence"], reverse=True)
    rate = len(wrong) / len(texts) if texts else 0.0
    return NegativeReport(str(path), len(texts), len(wrong), rate, wrong[:worst])


def _row(name: str, row: dict[str, float]) -> str:
    return (
        f"{name:16s} {row['precision']:.3f}  {row['recall']:.3f}  {row['f1']:.3f}"
        f"  {int(row['support']):4d}"
    )


def _print_report(report: Report, show_errors: bool) -> None:
    print(
        f"cases {report.cases}  intent accuracy {report.intent_accuracy:.4f}"
        f"  macro-F1 {report.macro_f1:.4f}"
    )
    print(
        f"slots precision {report.slot_precision:.4f}  recall {report.slot_recall:.4f}"
        f"  F1 {report.slot_f1:.4f}"
    )
    print(f"latency p50 {report.latency_ms['p50']:.3f} ms  p99 {report.latency_ms['p99']:.3f} ms")
    print("\nintent            prec   rec    f1     n")
    for label, row in report.per_intent.items():
        print(_row(label, row))
    print("\nslot              prec   rec    f1     n")
    for name, row in report.per_slot.items():
        print(_row(name, row))
    print("\nconfusion (expected -> got: count), off-diagonal only")
    for expected, row in report.confusion.items():
        for got, count in sorted(row.items(), key=lambda kv: -kv[1]):
            if got != expected:
                print(f"  {expected:16s} -> {got:16s} {count}")
    if show_errors:
        print("\nerrors")
        for err in report.errors:
            same = err["expected"] == err["got"]
            mark = "" if same else f"{err['expected']} -> {err['got']} "
            print(f"  {err['text']}  | {mark}({err['confidence']}) {err['slots'] or ''}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m nlp.evaluate", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", help="labelled JSONL file")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--errors", action="store_true", help="list every wrong case")
    parser.add_argument(
        "--negatives", action="append", default=[],
        help="out-of-domain set (TSV with a Sentence column, or JSONL with text); repeatable",
    )
    args = parser.parse_args(argv)
    if not args.file and not args.negatives:
        parser.error("give a labelled file and/or --negatives")
    output: dict[str, Any] = {}
    if args.file:
        report = evaluate(load_cases(args.file))
        if args.json:
            data = asdict(report)
            if not args.errors:
                data.pop("errors")
            output["report"] = data
        else:
            _print_report(report, args.errors)
    for path in args.negatives:
        neg = false_action_rate(load_negatives(path), path)
        if args.json:
            output.setdefault("negatives", []).append(asdict(neg))
        else:
            counts = f"{neg.false_actions}/{neg.total}"
            print(f"\n{neg.path}: false action rate {neg.rate:.4f} ({counts})")
            for row in neg.worst:
                print(f"  {row['intent']:16s} {row['confidence']:.3f}  {row['text']}")
    if args.json:
        json.dump(output, sys.stdout, ensure_ascii=False, indent=2)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
