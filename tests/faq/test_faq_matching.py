"""Matching a message to a common question: synonyms, typos and variant words, the question's frame weighing
little, close calls, and nothing for what no entry is about."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.faq import matching, small_talk


@dataclass
class Entry:
    id: int
    question: str
    synonyms: list[str] = field(default_factory=list)

    @property
    def phrases(self) -> list[str]:
        return [self.question, *self.synonyms]


PHONE = Entry(1, "物业电话是多少", ["物业联系方式", "怎么联系物业"])
HOURS = Entry(2, "物业几点上班", ["物业办公时间", "周末物业上班吗"])
FEES = Entry(3, "物业费怎么交", ["物业费在哪交", "物业费多少钱"])
RUBBISH = Entry(4, "垃圾几点收", ["垃圾投放时间", "几点倒垃圾"])
CLINIC = Entry(5, "社区卫生服务站几点开门", ["诊所几点开门", "卫生站上班时间"])
LOST = Entry(6, "东西丢了去哪找", ["失物招领"])
ENTRIES = [PHONE, HOURS, FEES, RUBBISH, CLINIC, LOST]


def _answer(text: str, entries=ENTRIES, threshold: float = matching.THRESHOLD):
    top, _close = matching.best(text, entries, threshold)
    return top.entry if top is not None else None


@pytest.mark.parametrize(("text", "expected"), [
    ("物业电话多少", PHONE),
    ("请问一下，物业的电话是多少啊？", PHONE),  # fillers and punctuation say nothing
    ("怎么联系物业", PHONE),  # a synonym word for word
    ("物业费咋交", FEES),
    ("物业费在哪里交", FEES),
    ("几点倒垃圾", RUBBISH),
    ("垃圾什么时候收", RUBBISH),
    ("诊所几点开门", CLINIC),
    ("卫生服务站几点下班", CLINIC),
    ("物业周六上班吗", HOURS),
    ("失物招领在哪", LOST),
])
def test_questions_and_their_synonyms_find_their_entry(text, expected):
    assert _answer(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("物业电弧多少", PHONE),  # a slip of the input method
    ("物管电话多少", PHONE),  # a variant word (物管 = 物业), mapped as the parser maps it
    ("管理处几点上班", HOURS),
    ("物业费怎么交？！", FEES),  # full-width punctuation
])
def test_typos_and_variant_words_still_match(text, expected):
    assert _answer(text) is expected


@pytest.mark.parametrize("text", ["水费怎么交", "今天天气怎么样", "健身房几点开门", "小区wifi密码", "帮我写首诗", ""])
def test_a_question_no_entry_is_about_matches_nothing(text):
    """The frame (怎么交, 几点) is shared; the subject decides: 水费 is not 物业费."""
    assert _answer(text) is None


def test_a_close_second_entry_is_offered_too():
    shop_phone = Entry(7, "诊所电话是多少", ["卫生站电话"])
    top, close = matching.best("电话是多少", [PHONE, shop_phone])
    assert top is not None and close is not None
    assert {top.entry.id, close.entry.id} == {PHONE.id, shop_phone.id}
    assert top.score - close.score <= matching.CLOSE_MARGIN
    top, close = matching.best("物业电话多少", [PHONE, shop_phone])  # clear: no second
    assert top.entry is PHONE and close is None


def test_the_strict_threshold_answers_only_near_certain_matches():
    assert _answer("物业电弧多少", threshold=matching.STRICT_THRESHOLD) is None
    assert _answer("物业电话多少", threshold=matching.STRICT_THRESHOLD) is PHONE


def test_rank_orders_by_score_and_normalise_strips_what_says_nothing():
    ranked = matching.rank("物业费怎么交", ENTRIES)
    assert ranked[0].entry is FEES and ranked[0].score == 100
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)
    assert matching.normalise("请问，物业 的电话是多少呀？！") == "物业电话是多少"


@pytest.mark.parametrize(("text", "kind"), [
    ("谢谢", small_talk.THANKS), ("好的谢谢", small_talk.THANKS), ("谢谢师傅", small_talk.THANKS),
    ("再见", small_talk.BYE), ("拜拜", small_talk.BYE), ("没事了", small_talk.BYE), ("88", small_talk.BYE),
    ("谢谢，再见", small_talk.THANKS_BYE), ("好的", small_talk.ACK), ("收到", small_talk.ACK),
    ("你好", None), ("在吗", None), ("早上好", None), ("不用谢", None),
])
def test_small_talk_kinds(text, kind):
    assert small_talk.kind(text) == kind


def test_small_talk_said_alone_or_inside_a_request():
    assert small_talk.kind("我家水管漏了谢谢") == small_talk.THANKS
    assert small_talk.kind("我家水管漏了谢谢", whole=True) is None
    assert small_talk.kind("bye", whole=True) == small_talk.BYE
    assert small_talk.reply(small_talk.THANKS, "王阿姨").startswith("不客气，王阿姨")
