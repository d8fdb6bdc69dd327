"""Pinyin-input slips in domain words, found by sound: corrected where they are slips, left alone where the
characters make words of their own."""

from __future__ import annotations

import pytest

from nlp import parse
from nlp.slips import correct


@pytest.mark.parametrize(("typed", "meant"), [
    ("电体坏了", "电梯坏了"),
    ("我家马桶赌了", "我家马桶堵了"),
    ("楼道等不亮", "楼道灯不亮"),
    ("家里停店了", "家里停电了"),
    ("我家下水到堵了", "我家下水道堵了"),
    ("冲电庄坏了", "充电桩坏了"),  # southern accent: ch/c, zh/z, ng/n are one sound
    ("预约太极全", "预约太极拳"),
])
def test_slips_are_corrected(typed, meant):
    assert correct(typed) == meant


@pytest.mark.parametrize("text", [
    "给我接听电话",  # 听电 sounds like 停电, but 接听 and 电话 are words
    "楼道的窗户玻璃碎了一块",  # 楼道的 is not 楼道灯: 的 and 灯 sound different
    "电梯坏了",
    "水漏到楼下了",
    "明天去体检",
])
def test_words_are_left_alone(text):
    assert correct(text) == text


@pytest.mark.parametrize(("text", "intent", "category"), [
    ("电体坏了", "repair", "elevator"),
    ("我家马桶赌了", "repair", "water"),
    ("家里停店了", "repair", "power"),
])
def test_the_parser_reads_the_corrected_words(text, intent, category):
    parsed = parse(text)
    assert parsed.intent == intent and parsed.slots.get("category") == category
