"""Normalising one roster row: places, phones, birth years, roles, and the reasons for bad rows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.community.roster import RosterRow, RowError, parse_row
from app.community.roster_file import RosterLine

GOOD = {"building": "30", "unit": "2", "room": "1201", "name": "王秀英", "phone": "13800138000",
        "birth_year": "1948", "role": "业主", "openid": ""}


def parse(**changes: str) -> RosterRow | RowError:
    return parse_row(RosterLine(7, {**GOOD, **changes}), this_year=2026)


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("building", "30幢", "30"), ("building", "30栋", "30"), ("building", "30号楼", "30"),
        ("building", "三十幢", "30"), ("building", " ３０ 幢 ", "30"), ("building", "a座", "A"),
        ("unit", "2单元", "2"), ("unit", "二单元", "2"), ("room", "1201室", "1201"), ("room", "1201", "1201"),
        ("phone", "138-0013-8000", "13800138000"), ("phone", "+86 138 0013 8000", "13800138000"),
        ("phone", "0571-88886666", "057188886666"), ("phone", "(010)12345678", "01012345678"),
        ("birth_year", "1948年", 1948), ("birth_year", "1948.0", 1948), ("birth_year", "1948-03-02", 1948),
        ("birth_year", "", None), ("role", "租户", "tenant"), ("role", "家属", "family"), ("role", "Owner", "owner"),
        ("role", "", None), ("name", "王  秀英", "王秀英"), ("openid", "o_abc-123_XYZ", "o_abc-123_XYZ"),
    ],
)
def test_cells_are_normalised(field, raw, expected):
    row = parse(**{field: raw})
    assert isinstance(row, RosterRow), row
    assert getattr(row, field) == expected


@pytest.mark.parametrize(
    ("field", "raw", "reason"),
    [
        ("phone", "1380013800", "不是 11 位手机号"), ("phone", "23800138000", "不是 11 位手机号"),
        ("phone", "1.38001E+10", "科学计数法"), ("phone", "", "缺少手机"),
        ("name", "", "缺少姓名"), ("name", "王" * 51, "超过 50 个字"),
        ("building", "", "缺少楼栋"), ("building", "东区", "楼栋「东区」"), ("unit", "", "缺少单元"),
        ("room", "", "缺少房号"), ("room", "12-01", "房号「12-01」"),
        ("birth_year", "48", "应为 4 位年份"), ("birth_year", "1899", "不在 1900–2026 之间"),
        ("birth_year", "2027", "不在 1900–2026 之间"), ("role", "保姆", "应为 业主、租户 或 家属"),
        ("openid", "o x", "openid「o x」格式不对"),
    ],
)
def test_bad_cells_are_reported_with_the_row_number(field, raw, reason):
    error = parse(**{field: raw})
    assert isinstance(error, RowError) and error.line == 7
    assert reason in error.reason
    assert str(error).startswith("第 7 行：")


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.lists(st.sampled_from([" ", "-", "－", "　"]), min_size=0, max_size=3),
)
# from_regex is slow to warm up on a busy 2-core machine: that is no failure of the code under test
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_mobile_written_with_separators_comes_out_as_its_digits(mobile, separators):
    written = mobile[:3] + "".join(separators) + mobile[3:7] + "".join(separators) + mobile[7:]
    row = parse(phone=written)
    assert isinstance(row, RosterRow) and row.phone == mobile
