"""Chinese numeral conversion, used only inside matched spans."""

import pytest

from nlp.numerals import to_digits, to_int


@pytest.mark.parametrize(
    ("span", "value"),
    [
        ("三十", 30), ("十五", 15), ("十", 10), ("二十一", 21), ("一百零五", 105),
        ("一百一十", 110), ("两", 2), ("一二零三", 1203), ("二〇二六", 2026),
        ("1203", 1203), ("３０", 30), ("九", 9), ("一千二百", 1200),
    ],
)
def test_to_int(span, value):
    assert to_int(span) == value


@pytest.mark.parametrize("span", ["", "下", "3十", "三a"])
def test_not_a_numeral(span):
    assert to_int(span) is None


def test_to_digits():
    assert to_digits("三十") == "30"
    assert to_digits("abc") is None
