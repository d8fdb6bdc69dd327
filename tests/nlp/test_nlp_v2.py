"""Contract version 2: emergency, info, activity_* and merchant_query, the activity and shop
slots, and the accuracy of the sets written for them (nlu_dev4 for development; nlu_holdout_v2
written before any tuning and never tuned on)."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nlp import parse
from nlp.evaluate import evaluate, load_cases, slot_matches
from nlp.intents import INTENTS

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Tuesday
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
NEW = ("emergency", "info", "activity_query", "activity_signup", "activity_cancel", "merchant_query")


def test_the_new_labels_exist():
    assert set(NEW) <= set(INTENTS)


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        # the contract's own examples
        ("我老伴晕倒了叫不醒", "emergency", {}),
        ("我妈摔倒了起不来", "emergency", {}),
        ("楼道里冒烟了", "emergency", {}),
        ("物业电话多少", "info", {}),
        ("物业费怎么交", "info", {}),
        ("卫生服务站几点下班", "info", {}),
        ("这周末有什么活动", "activity_query", {}),
        ("明天的太极拳还上吗", "activity_query", {"date": "2026-11-25", "activity": "太极拳"}),
        ("帮我报名周六的书法课", "activity_signup", {"date": "2026-11-28", "activity": "书法课"}),
        ("我想参加合唱团", "activity_signup", {"activity": "合唱团"}),
        ("周六的书法课我去不了了 帮我取消报名", "activity_cancel",
         {"date": "2026-11-28", "activity": "书法课"}),
        ("附近有修鞋的吗", "merchant_query", {"shop": "修鞋"}),
        ("小区门口那家水果店几点关门", "merchant_query", {"shop": "水果店"}),
        ("谢谢", "greeting", {}),
    ],
)
def test_contract_v2_examples(text, intent, slots):
    result = parse(text, now=NOW)
    assert result.intent == intent, result
    assert dict(result.slots) == slots


@pytest.mark.parametrize(
    "text",
    [
        "家里老人摔倒了起不来",
        "有人晕倒了",
        "着火了",
        "我爸胸口疼得厉害 满头大汗",
        "我老公突然喘不上气来了",
        "救命 我婆婆在厕所里摔了 头在流血",
        "5栋楼下有个老太太倒在地上起不来了",
        # a person in danger wins over the repair or complaint in the same message
        "楼梯扶手断了 我妈摔倒了起不来",
        "煤气泄漏了 我老伴晕在厨房里",
    ],
)
def test_a_person_in_danger_is_an_emergency(text):
    result = parse(text, now=NOW)
    assert result.intent == "emergency", result
    assert result.confidence >= 0.75  # above any flow's start cut: never the menu


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        # the contract: a trapped lift and a smell of gas stay repairs (the chat treats them as urgent)
        ("电梯里有人被困", "repair", "elevator"),
        ("闻到煤气味", "repair", "gas"),
        ("电梯坏了 里面没人", "repair", "elevator"),
        ("插座冒火花", "repair", "power"),
        ("楼道灯坏了 我妈差点摔倒", "repair", "lighting"),
        ("有人把电瓶车推进电梯带回家充电 万一起火怎么办", "complaint", "other"),
    ],
)
def test_no_person_in_danger_stays_a_report(text, intent, category):
    result = parse(text, now=NOW)
    assert result.intent == intent, result
    assert result.slots.get("category") == category


@pytest.mark.parametrize(
    "text", ["梦见着火了是什么意思", "头晕该怎么办", "新建联系人王艳13666120967"]
)
def test_not_an_emergency(text):
    assert parse(text, now=NOW).intent != "emergency"


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("垃圾几点收", {}),
        ("诊所几点开门", {}),
        ("物业几点上班", {}),
        ("物业费可以在手机上交吗", {}),
        ("明天停电吗", {"date": "2026-11-25"}),
        ("请问一下那个物业的电话号码是多少 我手机换了找不到了", {}),
    ],
)
def test_common_questions_are_info(text, slots):
    result = parse(text, now=NOW)
    assert result.intent == "info", result
    assert dict(result.slots) == slots


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("家里停水了", "repair"),  # a cut that happened is a repair, an announced one is info
        ("让物业给我回个电话", "human"),  # asking to be called is a person, not a phone number
        ("物业费乱收 凭什么涨价", "complaint"),
        ("再见", "greeting"),
        ("好的 谢谢你们 再见", "greeting"),
        ("希望小区旁边开个超市", "wish"),
        ("孩子上幼儿园怎么报名", "out_of_scope"),
        ("周六的体检预约取消", "booking_cancel"),
    ],
)
def test_neighbours_of_the_new_intents(text, intent):
    assert parse(text, now=NOW).intent == intent


@pytest.mark.parametrize(
    ("text", "intent", "activity"),
    [
        ("想报老年大学的电脑班", "activity_signup", "电脑班"),
        ("孙子想学下象棋 给他报个象棋班", "activity_signup", "象棋班"),
        ("帮我报一下下周三的义诊", "activity_signup", "义诊"),
        ("太级拳明天还有吗", "activity_query", "太极拳"),  # a typing slip
        ("我要退出合唱团", "activity_cancel", "合唱团"),
        ("报名的园艺课取消", "activity_cancel", "园艺课"),
        ("我报名的太极拳班能取消吗", "activity_cancel", "太极拳班"),
        ("周四的合唱排练取消了吗", "activity_query", "合唱排练"),
    ],
)
def test_activity_slot(text, intent, activity):
    result = parse(text, now=NOW)
    assert result.intent == intent, result
    assert result.slots.get("activity") == activity


@pytest.mark.parametrize(
    ("text", "shop"),
    [
        ("附近有没有药店", "药店"),
        ("附近有24小时便利店吗", "便利店"),
        ("附近有干洗店吗", "干洗店"),
        ("附近有没有修电动车的铺子", "修电动车"),
        ("附近哪有修鞋配钥匙的", "修鞋"),
        ("西门那家包子铺还开着吗", "包子铺"),
        ("小区周边有菜鸟驿站吗", "菜鸟驿站"),
    ],
)
def test_shop_slot(text, shop):
    result = parse(text, now=NOW)
    assert result.intent == "merchant_query", result
    assert result.slots.get("shop") == shop


def test_complaints_about_shops_stay_complaints():
    result = parse("楼下新开的饭店把排烟管直接接到我家窗户底下", now=NOW)
    assert result.intent == "complaint"


def test_activity_and_shop_are_scored_by_containment():
    assert slot_matches("activity", "书法", "书法课")
    assert not slot_matches("activity", "书法课", "书法")
    assert slot_matches("shop", "药店", "24小时药店") is False  # more than twice as long
    assert slot_matches("shop", "修鞋", "修鞋")


# Measured at the end of the work: nlu_dev4 0.997 intent / 0.996 slot F1 (it was tuned on);
# nlu_holdout_v2 0.951 intent / 0.970 slot F1 (0.971 / 0.980 when first scored; the later
# changes came from the other tests and the out-of-domain sets, never from its errors). The
# bars are those figures minus a margin: regression guards.
@pytest.fixture(scope="module")
def dev4_report():
    path = DATA / "nlu_dev4.jsonl"
    assert path.is_file(), path
    return evaluate(load_cases(path))


def test_dev4_covers_every_new_intent(dev4_report):
    for label in NEW:
        assert dev4_report.per_intent[label]["support"] >= 40, label


def test_dev4_accuracy(dev4_report):
    wrong = [e for e in dev4_report.errors if e["expected"] != e["got"]]
    assert dev4_report.intent_accuracy >= 0.97, wrong[:20]
    assert dev4_report.slot_f1 >= 0.96, dev4_report.per_slot
    for label in NEW:
        assert dev4_report.per_intent[label]["f1"] >= 0.93, (label, dev4_report.per_intent)


def test_holdout_v2_accuracy():
    path = DATA / "nlu_holdout_v2.jsonl"
    assert path.is_file(), path
    report = evaluate(load_cases(path))
    wrong = [e for e in report.errors if e["expected"] != e["got"]]
    assert report.intent_accuracy >= 0.92, wrong
    assert report.slot_f1 >= 0.93, report.per_slot
    for label in NEW:
        assert report.per_intent[label]["recall"] >= 0.8, (label, report.per_intent)
