"""The trained back-off (nlp/classifier.py): deterministic training, weights in sync with
nlp/data/train.jsonl, and it answers only for an in-domain message the rules let fall."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlp import classifier, parse
from nlp import parser as P
from nlp.train import build, read_rows

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class _Always:
    """A stand-in classifier that is always sure of one label."""

    def __init__(self, label: str, prob: float = 0.99) -> None:
        self.answer = [(label, prob), ("out_of_scope", 1 - prob)]

    def predict(self, text: str) -> list[tuple[str, float]]:
        return self.answer


def test_committed_weights_match_the_training_file():
    # Edit train.jsonl -> run `python -m nlp.train` -> commit both.
    assert classifier.load()["train_sha256"] == classifier.file_hash()


def test_committed_weights_are_a_fresh_training_run():
    data = classifier.load()
    fresh = build(read_rows())
    assert fresh["labels"] == data["labels"]
    assert fresh["docs"] == data["docs"]
    assert fresh["counts"] == data["counts"]


def test_training_is_deterministic():
    rows = [("电梯坏了", "repair"), ("楼上太吵", "complaint"), ("你好", "greeting")] * 3
    first = classifier.train(rows)
    second = classifier.train(list(reversed(rows)))
    assert first == second
    a = classifier.Model.from_counts(first).predict("电梯又坏了")
    b = classifier.Model.from_counts(second).predict("电梯又坏了")
    assert a == b
    assert a[0][0] == "repair"


def test_probabilities_sum_to_one():
    ranked = classifier.model().predict("楼下有人半夜唱歌")
    assert abs(sum(p for _, p in ranked) - 1.0) < 1e-9
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)


def test_features_are_character_ngrams_split_at_punctuation():
    feats = classifier.features("漏水，快")
    assert "漏" in feats and "漏水" in feats and "^漏水" in feats and "快" in feats
    assert not any("，" in f for f in feats)
    assert not any("水快" in f for f in feats)


@pytest.mark.parametrize(
    "text",
    ["今天天气怎么样", "给我讲个笑话", "打开优酷视频", "收听中国人民广播电台", "从厦门到昆明的飞机"],
)
def test_no_backoff_without_a_domain_anchor_or_rule_evidence(text):
    rules = P._rules(text, NOW)
    for label in ("repair", "complaint", "wish", "booking_create", "parking_query"):
        assert P._backoff(rules, _Always(label), 0.5) is None, label


@pytest.mark.parametrize(
    "text", ["灯泡坏了自己怎么换", "电视坏了去哪修", "电梯没坏 就是有点慢"]
)
def test_no_backed_off_repair_for_advice_devices_or_a_negated_failure(text):
    rules = P._rules(text, NOW)
    assert P._backoff(rules, _Always("repair"), 0.5) is None


def test_backoff_needs_the_threshold_and_an_in_domain_top_class():
    rules = P._rules("5栋门口的垃圾桶满出来一星期了", NOW)
    assert rules.intent == "out_of_scope"  # the rules alone let it fall
    assert P._backoff(rules, _Always("complaint", 0.6), 0.7) is None
    assert P._backoff(rules, _Always("out_of_scope", 0.99), 0.7) is None
    label, confidence = P._backoff(rules, _Always("complaint", 0.9), 0.7)
    assert label == "complaint"
    assert 0.5 <= confidence <= 0.7  # starts a flow, never interrupts one (0.85)


def test_backoff_never_overrides_a_rule_decision():
    rules = P._rules("3号楼电梯坏了", NOW)
    assert rules.intent == "repair"
    assert P._backoff(rules, _Always("complaint"), 0.5) is None


# Unseen-style messages written for this test (not in any dev set) that the rules alone
# let fall to out_of_scope; the back-off catches them.
@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        ("5栋门口的垃圾桶满出来一星期了", "complaint", "sanitation"),
        ("12幢楼下那只大黄狗见人就追", "complaint", "pets"),
        ("保洁阿姨把垃圾直接倒在花坛后面", "complaint", "sanitation"),
        ("有人在单元门口烧香", "complaint", "other"),
    ],
)
def test_unseen_reports_are_rescued(text, intent, category):
    assert P._rules(text, NOW).intent == "out_of_scope"
    result = parse(text, now=NOW)
    assert result.intent == intent
    assert result.slots.get("category") == category
    assert 0.5 <= result.confidence <= 0.7


def test_backoff_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(P, "BACKOFF_ENABLED", False)
    assert parse("5栋门口的垃圾桶满出来一星期了", now=NOW).intent == "out_of_scope"
