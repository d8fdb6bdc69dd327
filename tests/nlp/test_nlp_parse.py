"""parse(): the contract's shape, intents on hand-written messages, slots, purity."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp import Parse, parse

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
INTENTS = {
    "repair", "complaint", "wish", "parking_query", "car_notice", "booking_create",
    "booking_cancel", "booking_query", "ticket_status", "human", "greeting", "out_of_scope",
    # contract version 2
    "emergency", "info", "activity_query", "activity_signup", "activity_cancel", "merchant_query",
}
SLOTS = {
    "building", "unit", "room", "category", "service", "date", "period", "time",
    "plate", "parking_kind", "facility", "activity", "shop",
}


def check_shape(result: Parse) -> None:
    assert isinstance(result, Parse)
    assert result.intent in INTENTS
    assert 0.0 <= result.confidence <= 1.0
    assert set(result.slots) <= SLOTS
    assert all(isinstance(v, str) and v for v in result.slots.values())
    data = result.to_dict()
    assert set(data) == {"intent", "confidence", "slots"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_parse_never_raises(text):
    check_shape(parse(text, now=NOW))


SLOT_ALPHABET = "0123456789一二三十号楼栋幢单元室点半上午下午明天周浙A·.- 坏了预约"


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=SLOT_ALPHABET, max_size=60))
def test_parse_never_raises_on_slot_like_text(text):
    check_shape(parse(text, now=NOW))


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("30幢还有临时车位吗", "parking_query", {"building": "30", "parking_kind": "temporary"}),
        ("3号楼电梯坏了", "repair", {"building": "3", "category": "elevator"}),
        ("厨房水管漏水", "repair", {"category": "water"}),
        ("楼道灯不亮了", "repair", {"category": "lighting"}),
        ("楼上天天半夜装修太吵", "complaint", {"category": "noise"}),
        ("有人高空抛物", "complaint", {"category": "falling_object"}),
        ("希望小区装个自助打印机", "wish", {"facility": "自助打印机"}),
        ("能不能建个乒乓球室", "wish", {"facility": "乒乓球室"}),
        ("浙A12345挡住出口了请挪车", "car_notice", {"plate": "浙A12345"}),
        ("预约明天上午测血压", "booking_create",
         {"service": "blood_pressure", "date": "2026-11-25", "period": "morning"}),
        ("取消我明天的心电图预约", "booking_cancel", {"service": "ecg", "date": "2026-11-25"}),
        ("我约的体检是几点", "booking_query", {"service": "checkup"}),
        ("我报修的水管修好了没", "ticket_status", {}),
        ("转人工", "human", {}),
        ("你好", "greeting", {}),
        ("今天天气怎么样", "out_of_scope", {"date": "2026-11-24"}),
    ],
)
def test_contract_examples(text, intent, slots):
    result = parse(text, now=NOW)
    assert result.intent == intent
    assert dict(result.slots) == slots


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("电梯已经修好了谢谢", "greeting"),  # already fixed: not a new repair
        ("你好，我家楼到灯怀了", "repair"),  # pinyin-input typos
        ("电题又坏了", "repair"),
        ("打开空调", "out_of_scope"),
        ("京A12345今天限行吗", "out_of_scope"),
        ("胃炎怎么治？", "out_of_scope"),
        ("查询明天北京到上海的航班", "out_of_scope"),
        ("", "out_of_scope"),
    ],
)
def test_cues_and_negatives(text, intent):
    assert parse(text, now=NOW).intent == intent


def test_fallback_has_low_confidence():
    assert parse("嗯那个就是说", now=NOW).confidence <= 0.6


def test_naive_now_is_shanghai_and_default_now_works():
    naive = datetime(2026, 11, 24, 23, 30)
    assert parse("明天上午测血压", now=naive).slots["date"] == "2026-11-25"
    utc = datetime(2026, 11, 24, 17, 0, tzinfo=ZoneInfo("UTC"))  # 01:00 on the 25th in Shanghai
    assert parse("明天上午测血压", now=utc).slots["date"] == "2026-11-26"
    check_shape(parse("明天上午测血压"))


def test_parse_is_frozen_and_pure():
    first = parse("3号楼电梯坏了", now=NOW)
    with pytest.raises(AttributeError):
        first.intent = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.slots["building"] = "9"  # type: ignore[index]
    assert parse("3号楼电梯坏了", now=NOW) == first


def test_thread_safe():
    texts = ["3号楼电梯坏了", "预约明天上午测血压", "浙A12345挡住出口了请挪车", "你好"] * 50
    expected = [parse(t, now=NOW) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda t: parse(t, now=NOW), texts))
    assert got == expected


def test_facility_is_a_short_noun_phrase():
    assert parse("建议增设几个充电桩", now=NOW).slots["facility"] == "充电桩"
    assert parse("小区要是有个快递柜就好了", now=NOW).slots["facility"] == "快递柜"


def test_period_question_states_none():
    slots = parse("我约的胃镜是上午还是下午", now=NOW).slots
    assert "period" not in slots


@pytest.mark.parametrize("text, expected", [
    ("我住五零二，水管漏水", {"room": "502"}),
    ("3幢五零二厕所漏水", {"building": "3", "room": "502"}),
    ("8栋2单元幺零零三没有热水", {"building": "8", "unit": "2", "room": "1003"}),
    ("我家一二零三马桶堵了", {"room": "1203"}),
    ("五零二", {"room": "502"}),
])
def test_a_room_said_digit_by_digit_is_a_room(text, expected):
    slots = parse(text).slots
    assert {key: slots.get(key) for key in expected} == expected


@pytest.mark.parametrize("text", ["一二三四五六七", "电话一三八零", "我家住三楼"])
def test_spoken_digits_without_a_home_context_are_not_a_room(text):
    assert "room" not in parse(text).slots


@pytest.mark.parametrize("text, intent, slots", [
    ("請問還有臨時車位嗎", "parking_query", {"parking_kind": "temporary"}),
    ("3號樓電梯壞了", "repair", {"building": "3", "category": "elevator"}),
    ("希望小區裝個自助打印機", "wish", {}),
])
def test_traditional_characters_read_as_simplified(text, intent, slots):
    parsed = parse(text)
    assert parsed.intent == intent and parsed.confidence >= 0.5
    assert {key: parsed.slots.get(key) for key in slots} == slots
