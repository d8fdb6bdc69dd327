"""Dates, periods and clock times resolved against `now`, including month and year ends."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlp.times import find_times

SH = ZoneInfo("Asia/Shanghai")
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=SH)


def times(text, now=TUESDAY):
    return find_times(text, now)[0]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("今天", "2026-11-24"), ("明天", "2026-11-25"), ("后天", "2026-11-26"),
        ("大后天", "2026-11-27"), ("昨天", "2026-11-23"),
        ("周四", "2026-11-26"), ("星期五", "2026-11-27"), ("礼拜天", "2026-11-29"),
        ("周二", "2026-12-01"),  # said on a Tuesday: the following Tuesday
        ("下周三", "2026-12-02"), ("下星期一", "2026-11-30"), ("下周二", "2026-12-01"),
        ("12月3号", "2026-12-03"), ("十二月三日", "2026-12-03"),
        ("11月1号", "2027-11-01"),  # already past this year
        ("11月24号", "2026-11-24"),
    ],
)
def test_dates(text, date):
    assert times(text)["date"] == date


def test_month_and_year_ends():
    new_year_eve = datetime(2026, 12, 31, 9, 0, tzinfo=SH)
    assert times("明天", new_year_eve)["date"] == "2027-01-01"
    assert times("后天", datetime(2026, 2, 27, 9, 0, tzinfo=SH))["date"] == "2026-03-01"
    assert times("下周一", new_year_eve)["date"] == "2027-01-04"
    assert times("周四", new_year_eve)["date"] == "2027-01-07"  # Thursday on a Thursday
    assert times("1月2号", new_year_eve)["date"] == "2027-01-02"


def test_next_week_on_a_sunday():
    # Weeks start on Monday: on Sunday 29 November, next week begins the very next day.
    sunday = datetime(2026, 11, 29, 20, 0, tzinfo=SH)
    assert times("下周一", sunday)["date"] == "2026-11-30"
    assert times("下周日", sunday)["date"] == "2026-12-06"
    assert times("周一", sunday)["date"] == "2026-11-30"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下午3点", {"period": "afternoon", "time": "15:00"}),
        ("上午九点半", {"period": "morning", "time": "09:30"}),
        ("晚上8点", {"period": "evening", "time": "20:00"}),
        ("下午三点一刻", {"period": "afternoon", "time": "15:15"}),
        ("10:30", {"time": "10:30"}),
        ("早上", {"period": "morning"}),
        ("明晚", {"date": "2026-11-25", "period": "evening"}),
        ("凌晨两点", {"time": "02:00"}),
    ],
)
def test_periods_and_times(text, expected):
    assert times(text) == expected


@pytest.mark.parametrize(
    "text", ["上午还是下午", "快一点", "一点反馈都没有", "一下", "早上好", "叫了一晚上", "周末"]
)
def test_no_time_stated(text):
    assert times(text) == {}


@pytest.mark.parametrize(
    ("text", "time"),
    [("明天3点来修", "15:00"), ("两点半", "14:30"), ("8点", "08:00"), ("03:00", "03:00"),
     ("凌晨两点", "02:00"), ("半夜3点还在吵", "03:00")],
)
def test_bare_early_hours_are_afternoon(text, time):
    assert times(text)["time"] == time
