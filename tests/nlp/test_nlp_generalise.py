"""Unseen wording still finds its intent: an object plus a failure word is a repair, a nuisance
in the community is a complaint, a wish word plus a facility is a wish, whatever the exact
phrase; and the class evidence does not turn everyday out-of-domain requests into actions."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlp import parse

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("暖气片一点都不热", "water"),
        ("屋顶漏雨 下雨天家里要接盆", "water"),
        ("5栋旁边的化粪池满了往外溢", "water"),
        ("家里总闸老跳", "power"),
        ("插头一插就冒火星", "power"),
        ("车库入口的道闸抬杆不起来", "door"),
        ("我家防盗门锁芯坏了 钥匙插不进去", "door"),
        ("楼道里的应急灯一直在闪", "lighting"),
        ("小区健身区的太空漫步机链条断了", "facility"),
        ("客厅墙皮起鼓了一大片", "other"),
        ("人行道地砖碎了好几块", "other"),
        ("井盖丢了 晚上走路容易掉下去", "other"),
        ("小区大门的人脸识别坏了进不去", "door"),
        ("门铃按了不响", "door"),
        ("走廊的灯一闪一闪的", "lighting"),
        ("电梯下行的时候突然一沉", "elevator"),
        ("阳台墙面起了好多泡", "other"),
        ("台阶缺了一块水泥", "other"),
        ("健身区的跑步机坏了", "facility"),
        ("洗衣机的排水口往外冒水", "water"),
        ("马桶水箱一直在流水", "water"),
    ],
)
def test_object_plus_failure_is_a_repair(text, category):
    result = parse(text, now=NOW)
    assert result.intent == "repair"
    assert result.slots["category"] == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("垃圾桶旁边蚊虫特别多", "sanitation"),
        ("草坪上到处是狗粪", "pets"),
        ("物业办事拖拖拉拉 打电话也没人接", "service"),
        ("早上六点就有人在楼下跳操 音乐放得震天响", "noise"),
        ("楼上小孩在家拍球 咚咚咚的", "noise"),
        ("隔壁棋牌室打牌到凌晨 吆喝声不断", "noise"),
        ("广场舞音响开得太大声了", "noise"),
        ("保安上班时间在门卫室睡觉", "service"),
        ("保安半夜对着业主大吼大叫", "service"),
        ("对门养的柯基见人就咬", "pets"),
        ("有人用望远镜往我家看", "other"),
        ("物业收费不开发票", "service"),
    ],
)
def test_community_nuisance_is_a_complaint(text, category):
    result = parse(text, now=NOW)
    assert result.intent == "complaint"
    assert result.slots["category"] == category


@pytest.mark.parametrize(
    ("text", "facility"),
    [
        ("盼着小区能有个快递柜", "快递柜"),
        ("小区可以修一条健身步道吗", "健身步道"),
        ("想申请在楼下装个晾衣架", "晾衣架"),
        ("能不能在门口放个共享雨伞", "共享雨伞"),
        ("想要个露天电影场 夏天放放电影", "露天电影场"),
        ("地库要是多几个新能源充电桩就好了", "充电桩"),
        ("那个 嗯 能不能在七幢门口弄个 那个 电瓶车充电棚", "充电棚"),
    ],
)
def test_wish_and_its_facility(text, facility):
    result = parse(text, now=NOW)
    assert result.intent == "wish"
    assert facility in result.slots["facility"]
    assert len(result.slots["facility"]) <= 2 * len(facility)


@pytest.mark.parametrize(
    "text",
    [
        "把客厅的灯关掉",
        "电视坏了去哪修",
        "能不能放一个北京的新闻",
        "我的手机坏了怎么办",
        "学个老鼠叫给我听听",
        "梦到老鼠是什么意思",
        "帮我查一下今天的限行尾号",
        "灯泡坏了自己怎么换",
        "我家狗狗总是叫怎么训练",
        "噪音多少分贝算扰民",
        "我想养只猫 有什么建议",
        "小区里能不能遛狗",
        "隔壁小孩钢琴弹得真好",
        "附近哪里可以钓鱼",
    ],
)
def test_class_evidence_leaves_everyday_requests_alone(text):
    assert parse(text, now=NOW).intent in ("out_of_scope", "greeting")


def test_a_neighbours_nuisance_is_not_a_repair():
    assert parse("楼上空调外机滴水滴在我家空调上 嗒嗒响 一晚上睡不着", now=NOW).intent == "complaint"


def test_negated_failure_is_not_a_repair():
    assert parse("电梯没坏 就是有点慢", now=NOW).intent != "repair"


@pytest.mark.parametrize(
    "text",
    ["昨天报的漏水 师傅几点来", "下水道报修都三天了", "我家漏水的事跟进得怎么样了", "上次跟你们说的事咋样了"],
)
def test_follow_up_on_a_report_is_a_status_question(text):
    assert parse(text, now=NOW).intent == "ticket_status"


@pytest.mark.parametrize("text", ["哈哈好的", "有人吗", "谢了", "好的 麻烦了", "知道啦"])
def test_short_acknowledgements_are_greetings(text):
    assert parse(text, now=NOW).intent == "greeting"


def test_a_car_notice_names_the_car():
    assert parse("有辆车双排停在门口 我开不出去", now=NOW).intent != "car_notice"
    assert parse("浙A12345双排停在门口 我开不出去", now=NOW).intent == "car_notice"


def test_venting_about_staff_is_not_asking_for_one():
    assert parse("物业的人死哪去了 电梯坏了三天没人管", now=NOW).intent != "human"
