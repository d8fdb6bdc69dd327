"""The community's words that several features must read the same way: one list each.

Chat, tickets and escalations all decide what is urgent and what asks for a person from here,
so a trapped lift is urgent from the chat and from the mini-program alike.
"""

from __future__ import annotations

import re

HUMAN_WORDS = frozenset({"转人工", "人工", "人工客服", "找人工"})
CANCEL_WORDS = frozenset({"取消", "算了", "退出", "不要了", "不报了", "不用了", "不弄了", "撤销"})
YES_WORDS = frozenset({"确认", "确定", "是", "是的", "对", "对的", "好", "好的", "可以", "提交", "确认提交", "嗯",
                       "嗯嗯", "没错", "没问题", "行", "ok", "yes", "y", "1"})
NO_WORDS = frozenset({"不", "不对", "不是", "错了", "否", "不行", "no", "n"})
WISH_WORDS = ("心愿", "愿望", "许愿", "许的愿")

# A person or a home in danger now: the word, and which danger it names. Each gets safety advice
# at once and an urgent escalation; the faults among them (gas, a trapped lift) also an urgent repair.
SAFETY_WORDS = {
    "燃气味": "gas", "煤气味": "gas", "天然气味": "gas",
    "着火": "fire", "起火": "fire",
    "电梯困人": "lift", "困在电梯": "lift", "关在电梯": "lift",
    "有人晕倒": "fainted",
}
# What a safety reaction is given for the parser's `emergency` intent when the text has no safety word.
EMERGENCY = "emergency"
# A person's body in danger (not a fire or a fault): the family doctor of the household is told too.
MEDICAL_WORDS = ("晕倒", "昏倒", "昏过去", "晕过去", "摔倒", "摔了一跤", "跌倒", "起不来", "叫不醒", "不省人事", "昏迷",
                 "胸口疼", "胸口痛", "胸痛", "心口疼", "心脏", "喘不上气", "喘不过气", "呼吸困难", "上不来气", "中风",
                 "抽搐", "抽筋", "口吐白沫", "流血不止", "大出血", "脑梗", "心梗", "没有呼吸", "没呼吸", "没反应")


def is_medical(text: str) -> bool:
    """Whether a cry for help names a person's body in danger (晕倒, 摔倒起不来, 胸口疼), not a fire or a fault."""
    return any(word in (text or "") for word in MEDICAL_WORDS)


# Urgent for a repair's SLA: every safety word, and faults that cannot wait.
URGENT_WORDS = (*SAFETY_WORDS, "漏水严重", "水漫", "淹了", "爆管", "困人", "被困", "漏气", "冒烟", "火灾",
                "触电", "漏电")


_PUNCTUATION = re.compile(r"[\s,，.。!！?？~～、…]+")
# what may follow a cancel word in the same breath and still only cancel: 算了 不投诉了, 不用了谢谢, 算了吧
_CANCEL_TAIL = re.compile(r"^(?:吧|啦|了|呀|哈|啊|嘛|谢谢|谢了|先这样|先不|不.{1,3}了|没事了?)*$")


def says_cancel(text: str) -> bool:
    """Whether a message only calls off what is being written: a cancel word, alone or with a refusal
    after it (算了 不投诉了, 不用了谢谢); 取消预约 names something else and is not this."""
    bare = _PUNCTUATION.sub("", text or "")
    if bare in CANCEL_WORDS:
        return True
    word = next((w for w in sorted(CANCEL_WORDS, key=len, reverse=True) if bare.startswith(w)), None)
    return word is not None and bool(_CANCEL_TAIL.match(bare[len(word):]))


def names_a_wish(text: str) -> bool:
    """Whether the message speaks of a wish (心愿) rather than a repair or complaint."""
    return any(word in (text or "") for word in WISH_WORDS)


def safety_word(text: str) -> str | None:
    """The first safety word in the text, if any."""
    return next((word for word in SAFETY_WORDS if word in (text or "")), None)


def is_urgent(text: str) -> bool:
    """Whether a report names something urgent (漏水严重, 电梯困人, 燃气味, 着火, ...)."""
    return any(word in (text or "") for word in URGENT_WORDS)
