"""The dev set meets the accuracy bar; out-of-domain public sets rarely trigger actions.

The project's own sets fail (never skip) when missing: a missing file is a broken checkout. The
public out-of-domain sets live in ../shared (see the README); without it they skip, except under CI."""

from pathlib import Path

import pytest

from nlp.evaluate import evaluate, false_action_rate, load_cases, load_negatives

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO / "tests" / "data" / "nlu_dev.jsonl"
# A second dev set written independently, with deliberately different wording: it checks that
# the vocabulary generalises beyond the first one (the held-out set stays unread).
DEV2_SET = REPO / "tests" / "data" / "nlu_dev2.jsonl"
# A third set, written independently and weighted to complaints, repairs, acknowledgements,
# ticket status, booking queries and out-of-scope near misses. Its every fifth line was kept
# out of tuning and scored once at the end (intent 0.73 there, against 0.69 before tuning):
# treat the thresholds below as regression guards, not as an estimate of unseen accuracy.
# All three sets are also the training data of the back-off classifier (nlp/data/train.jsonl),
# so their scores here include memorised lines; `python -m nlp.crossval` gives the honest
# figure (5-fold, and on dev3's untouched fifth).
DEV3_SET = REPO / "tests" / "data" / "nlu_dev3.jsonl"
EXTERNAL_SETS = ["smp2017-ecdt-task1.tsv", "smp2020-ecdt.jsonl"]


@pytest.fixture(scope="module")
def dev_report():
    assert DEV_SET.is_file(), f"dev set missing: {DEV_SET}"
    return evaluate(load_cases(DEV_SET))


def test_dev_set_is_substantial(dev_report):
    assert dev_report.cases >= 600


def test_dev_intent_accuracy(dev_report):
    wrong = [e for e in dev_report.errors if e["expected"] != e["got"]]
    assert dev_report.intent_accuracy >= 0.97, wrong[:20]


def test_dev_slot_f1(dev_report):
    assert dev_report.slot_f1 >= 0.95, dev_report.per_slot


@pytest.fixture(scope="module")
def dev2_report():
    assert DEV2_SET.is_file(), f"second dev set missing: {DEV2_SET}"
    return evaluate(load_cases(DEV2_SET))


def test_dev2_set_is_substantial(dev2_report):
    assert dev2_report.cases >= 300


def test_dev2_intent_accuracy(dev2_report):
    wrong = [e for e in dev2_report.errors if e["expected"] != e["got"]]
    assert dev2_report.intent_accuracy >= 0.95, wrong[:20]


def test_dev2_slot_f1(dev2_report):
    assert dev2_report.slot_f1 >= 0.95, dev2_report.per_slot


def test_dev2_no_intent_collapses_to_the_fallback(dev2_report):
    # The failure this set was written to catch: unseen wording of a report falling to
    # out_of_scope. Each action intent keeps most of its cases.
    for label in ("repair", "complaint", "wish", "parking_query"):
        assert dev2_report.per_intent[label]["recall"] >= 0.85, (label, dev2_report.per_intent)


@pytest.fixture(scope="module")
def dev3_report():
    assert DEV3_SET.is_file(), f"third dev set missing: {DEV3_SET}"
    return evaluate(load_cases(DEV3_SET))


def test_dev3_set_is_substantial(dev3_report):
    assert dev3_report.cases >= 400


def test_dev3_intent_accuracy(dev3_report):
    wrong = [e for e in dev3_report.errors if e["expected"] != e["got"]]
    assert dev3_report.intent_accuracy >= 0.94, wrong[:20]


def test_dev3_slot_f1(dev3_report):
    assert dev3_report.slot_f1 >= 0.97, dev3_report.per_slot


def test_dev3_focus_intents_keep_their_cases(dev3_report):
    # What the set was written to probe: reports and short replies falling to out_of_scope.
    for label in ("repair", "complaint", "greeting", "ticket_status", "booking_query"):
        assert dev3_report.per_intent[label]["recall"] >= 0.85, (label, dev3_report.per_intent)


def test_external_sets_are_present(shared_dir):
    for name in EXTERNAL_SETS:
        assert (shared_dir / "external" / name).is_file(), name


@pytest.mark.parametrize("name", EXTERNAL_SETS)
def test_false_action_rate(name, shared_dir):
    path = shared_dir / "external" / name
    assert path.is_file(), f"external set missing: {path}"
    texts = load_negatives(path)
    assert len(texts) > 1000
    report = false_action_rate(texts, str(path))
    assert report.rate <= 0.01, report.worst
