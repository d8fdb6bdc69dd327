"""Licence plates: separators, case, new-energy plates, and what is not a plate."""

import pytest

from nlp import parse
from nlp.plates import find_plates, normalize_plate


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("浙A12345挡住出口了", "浙A12345"),
        ("浙a·12345", "浙A12345"),
        ("浙a.12345", "浙A12345"),
        ("浙 A 123 45 挡路了", "浙A12345"),
        ("浙b8k9q2车灯没关", "浙B8K9Q2"),
        ("新能源 浙AD12345", "浙AD12345"),
        ("苏E D12345", "苏ED12345"),
        ("粤B12345F", "粤B12345F"),
        ("浙Ａ１２３４５", "浙A12345"),
        ("浙A12345 6号楼", "浙A12345"),
    ],
)
def test_plates_are_normalised(text, plate):
    plates, spans = find_plates(text)
    assert plates == [plate]
    assert spans[0].kind == "plate"


@pytest.mark.parametrize(
    "text", ["尾号为2的车", "京A123456", "浙A1234挂", "浙ABCDEF", "电话13812345678"]
)
def test_not_plates(text):
    assert find_plates(text)[0] == []


def test_normalize_plate_rejects_implausible():
    assert normalize_plate("浙A12") is None
    assert normalize_plate("浙AB12345") is None  # 6 characters but no D/F: not new-energy


def test_plate_slot_through_parse():
    assert parse("浙a·12345挡住出口了请挪车").slots["plate"] == "浙A12345"
