"""Roster import: CSV (UTF-8, BOM, GBK) and XLSX, re-import, bad rows, and the flask command."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.community.models import Building, Community, Household, Resident, Unit
from app.community.roster import import_roster, read_roster
from app.community.roster_file import RosterFileError
from app.core.errors import NotFound

ROSTERS = Path(__file__).resolve().parent.parent / "fixtures" / "rosters"
HEADER = ["building", "unit", "room", "name", "phone", "birth_year", "role", "openid"]


def write_csv(tmp_path: Path, rows: list[list[str]], *, name: str = "roster.csv", header=HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def resident(db_session, phone: str) -> Resident:
    return db_session.scalar(select(Resident).where(Resident.phone == phone))


def tag_names(resident: Resident) -> set[str]:
    return {t.name for t in resident.tags}


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


# ---- reading and importing ----------------------------------------------------------------

def test_utf8_csv_creates_rooms_and_residents(db_session, make_community):
    community = make_community()
    report = import_roster(db_session, read_roster(ROSTERS / "basic.csv"), community.id)

    assert report.ok and (report.rows, report.created, report.updated, report.unchanged) == (4, 4, 0, 0)
    wang = resident(db_session, "13800000001")
    assert (wang.name, wang.birth_year, wang.role, wang.oa_openid) == ("王秀英", 1948, "owner", "o_roster_0001")
    assert wang.household.label == "1幢1单元101"
    assert resident(db_session, "13800000002").household_id == wang.household_id  # same room, one household
    assert resident(db_session, "13800000003").role == "tenant"
    assert resident(db_session, "13800000004").household.label == "30幢2单元1201"
    numbers = db_session.scalars(select(Building.number).where(Building.community_id == community.id)).all()
    assert sorted(numbers) == ["1", "30"]
    assert (count(db_session, Unit), count(db_session, Household)) == (3, 3)


def test_gbk_csv_with_chinese_headers_is_normalised(db_session, make_community):
    community = make_community()
    report = import_roster(db_session, read_roster(ROSTERS / "chinese_headers_gbk.csv"), community.id)

    assert report.ok, report.errors
    wang = resident(db_session, "13800138000")  # "138 0013 8000"
    assert (wang.name, wang.role, wang.oa_openid) == ("王秀英", "owner", "o_gbk_0001")
    assert wang.household.label == "30幢2单元1201"
    liu = resident(db_session, "057188886666")  # a landline with its area code
    assert (liu.birth_year, liu.role, liu.household.label) == (1962, "family", "3幢1单元502")
    zhang = resident(db_session, "13900000003")  # +86 dropped
    assert (zhang.name, zhang.role, zhang.birth_year, zhang.household.label) == ("张伟", "tenant", None, "28幢2单元301")


def test_utf8_bom_csv_with_other_header_spellings(db_session, make_community):
    community = make_community()
    report = import_roster(db_session, read_roster(ROSTERS / "bom.csv"), community.id)

    assert report.ok and report.created == 2
    zhou = resident(db_session, "13700000001")
    assert (zhou.name, zhou.birth_year, zhou.household.label) == ("周桂兰", 1938, "5幢1单元101")


def test_xlsx_with_title_row_numeric_cells_and_a_bad_row(db_session, make_community, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["邻里未来社区 住户名册（2026 年 11 月）"])
    sheet.append(["楼栋", "单元", "房号", "姓名", "手机号码(必填)", "出生年份", "身份", "备注"])
    sheet.append([7, 1, 601, "孙福生", 13912345678, 1941, "业主", "独居"])
    sheet.append(["7幢", "1单元", "602室", "孙美华", "13912345679", 1944.0, "家属", None])
    sheet.append([None] * 8)  # an empty row in the middle is skipped, numbering continues
    sheet.append([8, 2, 101, "钱磊", 1391234, 1990, "租户", None])
    path = tmp_path / "名册.xlsx"
    workbook.save(path)

    lines = read_roster(path)
    assert [line.line for line in lines] == [3, 4, 5, 6]  # as Excel numbers them, title row included
    report = import_roster(db_session, lines, make_community().id)
    assert [e.line for e in report.errors] == [6]
    assert "1391234" in report.errors[0].reason
    assert count(db_session, Resident) == 0

    sheet["E6"] = 13912345670
    workbook.save(path)
    report = import_roster(db_session, read_roster(path), db_session.scalar(select(Community.id)))
    assert report.ok and report.created == 3
    sun = resident(db_session, "13912345678")
    assert (sun.name, sun.birth_year, sun.household.label) == ("孙福生", 1941, "7幢1单元601")


def test_reimport_updates_instead_of_duplicating_and_moves_rooms(db_session, make_community, tmp_path):
    community = make_community()
    import_roster(db_session, read_roster(ROSTERS / "basic.csv"), community.id)
    old_room = resident(db_session, "13800000003").household_id

    moved = write_csv(tmp_path, [
        ["1", "1", "101", "王秀英", "13800000001", "1948", "owner", "o_roster_0001"],  # unchanged
        ["1", "1", "101", "李建国", "138-0000-0002", "1946", "family", ""],  # same phone, other spelling
        ["2", "1", "402", "张伟", "13800000003", "1985", "tenant", ""],  # moved house
        ["30", "2", "1201", "陈婷", "13800000004", "1992", "owner", ""],  # name corrected
        ["30", "2", "1202", "赵敏", "13800000005", "", "", ""],  # new; blank role = owner
    ])
    report = import_roster(db_session, read_roster(moved), community.id)

    assert (report.created, report.updated, report.unchanged) == (1, 2, 2)
    assert count(db_session, Resident) == 5
    zhang = resident(db_session, "13800000003")
    assert zhang.household.label == "2幢1单元402" and zhang.household_id != old_room
    assert db_session.get(Household, old_room) is not None  # the old room stays on the map
    assert resident(db_session, "13800000004").name == "陈婷"
    assert resident(db_session, "13800000005").role == "owner"
    assert resident(db_session, "13800000001").oa_openid == "o_roster_0001"  # blank openid keeps the binding


def test_bad_rows_import_nothing_and_every_bad_row_is_named(db_session, make_community):
    community = make_community()
    report = import_roster(db_session, read_roster(ROSTERS / "bad_rows.csv"), community.id)

    assert not report.ok and report.created == 0
    reasons = {error.line: error.reason for error in report.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7]  # row 2 and row 8 are fine
    assert "1380000" in reasons[3] and "手机" in reasons[3]
    assert "缺少姓名" in reasons[4]
    assert "保姆" in reasons[5] and "业主" in reasons[5]
    assert "与第 2 行重复" in reasons[6]
    assert "1850" in reasons[7] and "出生年份" in reasons[7]
    assert str(report.errors[0]).startswith("第 3 行：")
    assert (count(db_session, Resident), count(db_session, Building)) == (0, 0)


def test_several_problems_in_one_row_are_reported_together(db_session, make_community, tmp_path):
    path = write_csv(tmp_path, [["三十幢", "", "1201号房", "", "12345", "19xx", "", ""]])
    report = import_roster(db_session, read_roster(path), make_community().id)

    (error,) = report.errors
    assert error.line == 2
    for part in ("缺少单元", "房号「1201号房」", "缺少姓名", "12345", "19xx"):
        assert part in error.reason


def test_openid_bound_to_another_resident_is_a_bad_row(db_session, make_community, make_resident, tmp_path):
    community = make_community()
    make_resident(community=community, phone="13600000001", openid="o_taken_0001")
    path = write_csv(tmp_path, [
        ["1", "1", "101", "王秀英", "13600000001", "1948", "owner", "o_taken_0001"],  # the holder: fine
        ["1", "1", "102", "李建国", "13600000002", "1946", "owner", "o_taken_0001"],
    ])
    report = import_roster(db_session, read_roster(path), community.id)

    assert [(e.line, "已绑定" in e.reason or "重复" in e.reason) for e in report.errors] == [(3, True)]

    path = write_csv(tmp_path, [["1", "1", "102", "李建国", "13600000002", "1946", "owner", "o_taken_0001"]])
    (error,) = import_roster(db_session, read_roster(path), community.id).errors
    assert "已绑定" in error.reason and "王阿姨" in error.reason


def test_dict_rows_and_progress(db_session, make_community):
    ticks: list[int] = []
    rows = [
        {"building": "1", "unit": "1", "room": f"{100 + i}", "name": f"住户{i}", "phone": f"1370000{i:04d}"}
        for i in range(1, 6)
    ]
    report = import_roster(db_session, rows, make_community().id, progress=ticks.append)
    assert report.created == 5 and sum(ticks) == 5


def test_unknown_community_is_refused(db_session):
    with pytest.raises(NotFound):
        import_roster(db_session, [], 999_999)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("roster.txt", b"a,b", "不认识的文件类型"),
        ("roster.xls", b"\xd0\xcf\x11\xe0", ".xlsx"),
        ("roster.xlsx", b"not a zip file", "xlsx"),
        ("roster.csv", b"", "是空的"),
        ("roster.csv", "楼栋,单元,姓名,出生年份\n1,1,王,1950\n".encode(), "表头缺少必需的列：房号、手机"),
        ("roster.csv", "楼栋,单元,房号,姓名,手机,电话\n".encode(), "都表示手机"),
        ("roster.csv", b"\xff\xfe\x00\xd8", "编码"),
        ("roster.csv", b"x,y,z\n1,2,3\n", "找不到表头"),
    ],
)
def test_unreadable_files_are_clean_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RosterFileError) as caught:
        read_roster(path)
    assert message in caught.value.message


# ---- system tags --------------------------------------------------------------------------

def test_import_keeps_system_tags_current(db_session, make_community, tmp_path):
    community = make_community()
    import_roster(db_session, read_roster(ROSTERS / "chinese_headers_gbk.csv"), community.id)
    wang = resident(db_session, "13800138000")
    assert {"building:30", "unit:30-2", "role:owner"} <= tag_names(wang)
    assert any(name.startswith("age:") for name in tag_names(wang))
    assert not any(n.startswith("age:") for n in tag_names(resident(db_session, "13900000003")))  # no birth year

    path = write_csv(tmp_path, [["3", "1", "101", "王秀英", "13800138000", "1948", "tenant", ""]])
    import_roster(db_session, read_roster(path), community.id)
    db_session.refresh(wang)
    names = tag_names(wang)
    assert {"building:3", "unit:3-1", "role:tenant"} <= names
    assert not names & {"building:30", "unit:30-2", "role:owner"}


# ---- the flask command --------------------------------------------------------------------

def test_cli_imports_and_commits(app, db_session):
    result = app.test_cli_runner().invoke(args=["residents", "import", str(ROSTERS / "basic.csv")])

    assert result.exit_code == 0, result.output
    assert "已导入到「邻里未来社区」" in result.output and "新建 4 人" in result.output
    db_session.expire_all()
    assert count(db_session, Resident) == 4
    assert db_session.scalar(select(Community.name)) == "邻里未来社区"

    again = app.test_cli_runner().invoke(args=["residents", "import", str(ROSTERS / "basic.csv")])
    assert again.exit_code == 0 and "未变 4 人" in again.output
    assert count(db_session, Resident) == 4


def test_cli_uses_the_named_community(app, db_session, make_community):
    make_community("东湖小区")
    db_session.commit()
    args = ["residents", "import", "--community", "西溪花园", str(ROSTERS / "bom.csv")]
    result = app.test_cli_runner().invoke(args=args)

    assert result.exit_code == 0, result.output
    assert "西溪花园" in result.output
    db_session.expire_all()
    zhou = resident(db_session, "13700000001")
    assert db_session.get(Community, zhou.community_id).name == "西溪花园"


def test_cli_with_bad_rows_exits_non_zero_and_writes_nothing(app, db_session):
    result = app.test_cli_runner().invoke(args=["residents", "import", str(ROSTERS / "bad_rows.csv")])

    assert result.exit_code == 1
    for line in (3, 4, 5, 6, 7):
        assert f"第 {line} 行：" in result.output
    assert "未导入任何数据" in result.output
    db_session.expire_all()
    assert (count(db_session, Resident), count(db_session, Community)) == (0, 0)


def test_cli_dry_run_writes_nothing(app, db_session):
    args = ["residents", "import", "--dry-run", str(ROSTERS / "basic.csv")]
    result = app.test_cli_runner().invoke(args=args)

    assert result.exit_code == 0 and "试运行" in result.output and "新建 4 人" in result.output
    db_session.expire_all()
    assert count(db_session, Resident) == 0


def test_cli_unreadable_file_is_a_message_not_a_traceback(app, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("姓名,手机\n王,13800000001\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["residents", "import", str(path)])

    assert result.exit_code == 1
    assert "找不到表头" in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)

    missing = app.test_cli_runner().invoke(args=["residents", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
