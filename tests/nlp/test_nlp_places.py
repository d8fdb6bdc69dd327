"""Building, unit and room numbers in their usual written forms."""

import pytest

from nlp.places import find_places


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30幢还有临时车位吗", {"building": "30"}),
        ("三十栋", {"building": "30"}),
        ("30号楼", {"building": "30"}),
        ("30#楼", {"building": "30"}),
        ("十二幢二单元", {"building": "12", "unit": "2"}),
        ("2单元", {"unit": "2"}),
        ("二单元", {"unit": "2"}),
        ("301室", {"room": "301"}),
        ("1502", {"room": "1502"}),
        ("我家1502厕所漏水", {"room": "1502"}),
        ("2-1203", {"building": "2", "room": "1203"}),
        ("2-1-1203", {"building": "2", "unit": "1", "room": "1203"}),
        ("8栋2单元1201", {"building": "8", "unit": "2", "room": "1201"}),
        ("5号楼3单元502室", {"building": "5", "unit": "3", "room": "502"}),
        ("30幢502", {"building": "30", "room": "502"}),
    ],
)
def test_places(text, expected):
    assert find_places(text)[0] == expected


@pytest.mark.parametrize(
    "text", ["15层的灯", "18楼", "电话13812345678", "2026年", "一下", "花了300元"]
)
def test_not_places(text):
    assert find_places(text)[0] == {}
