"""The evaluation scoring rules (facility containment, false positives) and the CLI."""

import json
from datetime import datetime

from nlp.evaluate import Case, evaluate, false_action_rate, load_negatives, main, slot_matches

NOW = datetime.fromisoformat("2026-11-24T10:00:00+08:00")


def test_facility_containment_rule():
    assert slot_matches("facility", "充电桩", "电动车充电桩")
    assert not slot_matches("facility", "充电桩", "小区里的电动车充电桩")  # more than twice as long
    assert not slot_matches("facility", "充电桩", None)
    assert slot_matches("building", "3", "3")
    assert not slot_matches("building", "3", "30")


def test_evaluate_counts_intents_and_slots():
    cases = [
        Case("3号楼电梯坏了", "repair", {"building": "3", "category": "elevator"}, NOW),
        Case("你好", "greeting", {}, NOW),
        Case("3号楼电梯坏了", "complaint", {"building": "3"}, NOW),  # wrong intent, extra slot
    ]
    report = evaluate(cases)
    assert report.cases == 3
    assert abs(report.intent_accuracy - 2 / 3) < 1e-9
    assert report.slot_recall == 1.0
    assert report.per_slot["category"]["precision"] == 0.5
    assert report.confusion["complaint"] == {"repair": 1}
    assert report.latency_ms["p50"] > 0


def test_negatives_and_cli(tmp_path, capsys):
    tsv = tmp_path / "neg.tsv"
    rows = "Sentence\tTag\n今天天气怎么样\tweather\n3号楼电梯坏了\tother\n"
    tsv.write_text(rows, encoding="utf-8")
    texts = load_negatives(tsv)
    assert texts == ["今天天气怎么样", "3号楼电梯坏了"]
    report = false_action_rate(texts)
    assert report.false_actions == 1 and report.rate == 0.5

    dev = tmp_path / "dev.jsonl"
    case = {"text": "转人工", "intent": "human", "slots": {}}
    dev.write_text(json.dumps(case) + "\n", encoding="utf-8")
    assert main([str(dev), "--json", "--negatives", str(tsv)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["report"]["intent_accuracy"] == 1.0
    assert out["negatives"][0]["false_actions"] == 1
