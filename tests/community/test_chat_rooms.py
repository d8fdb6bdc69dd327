"""Rooms and phone numbers as residents type them."""

from __future__ import annotations

import pytest

from app.community.rooms import RoomRef, find_phone, parse_room
from nlp.numerals import to_int


@pytest.mark.parametrize(("text", "expected"), [
    ("3幢2单元1201", RoomRef("3", "2", "1201")),
    ("3-2-1201", RoomRef("3", "2", "1201")),
    ("3号楼2单元1201", RoomRef("3", "2", "1201")),
    ("三幢二单元1201", RoomRef("3", "2", "1201")),
    ("我住十二栋三单元502室", RoomRef("12", "3", "502")),
    ("30#1单元301", RoomRef("30", "1", "301")),
    ("2-1203", RoomRef("2", None, "1203")),
    ("3 — 2 — 1201", RoomRef("3", "2", "1201")),
    ("3幢2单元1201 13912345678", RoomRef("3", "2", "1201")),
])
def test_rooms_are_read_in_every_usual_form(text, expected):
    assert parse_room(text) == expected


@pytest.mark.parametrize("text", ["你好", "13912345678", "12", "0幢1单元101", ""])
def test_text_without_a_room_gives_none(text):
    assert parse_room(text) is None


def test_phone_numbers_with_spaces_or_dashes():
    assert find_phone("手机 139 1234 5678") == "13912345678"
    assert find_phone("139-1234-5678，谢谢") == "13912345678"
    assert find_phone("3-2-1201") is None and find_phone("12345678901") is None


def test_chinese_numerals():
    # the one numeral reader (nlp.numerals) serves rooms, the roster and the chat alike
    assert [to_int(t) for t in ("三", "十", "十二", "三十", "三十二", "两百零五", "7", "幢", "五零二")] == [
        3, 10, 12, 30, 32, 205, 7, None, 502]
    assert parse_room("三十幢二单元1201") == RoomRef("30", "2", "1201")
    assert RoomRef("3", None, "101").label == "3幢101" and RoomRef("3", "2", "101").label == "3幢2单元101"
