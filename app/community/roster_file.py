"""Reading a roster file (CSV in UTF-8, UTF-8 with BOM, UTF-16 or GBK; XLSX) into numbered rows.

Row numbers are the ones the property manager sees in Excel: the header is row 1
(or whichever row it sits on, when a title row comes first).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from app.core.errors import BadRequest

FIELDS = ("building", "unit", "room", "name", "phone", "birth_year", "role", "openid")
REQUIRED = ("building", "unit", "room", "name", "phone")
FIELD_LABELS = {
    "building": "楼栋", "unit": "单元", "room": "房号", "name": "姓名", "phone": "手机",
    "birth_year": "出生年份", "role": "身份", "openid": "openid",
}
# Header spellings seen in property managers' exports, after _header_key().
HEADER_ALIASES = {
    "building": ("building", "楼栋", "幢", "栋", "楼", "楼号", "楼栋号", "幢号", "栋号"),
    "unit": ("unit", "单元", "单元号"),
    "room": ("room", "房号", "室", "房间", "房间号", "室号", "门牌号"),
    "name": ("name", "姓名", "住户姓名", "居民姓名", "业主姓名"),
    "phone": ("phone", "手机", "电话", "手机号", "手机号码", "联系电话", "电话号码", "mobile"),
    "birth_year": ("birth_year", "birthyear", "出生年份", "出生年", "出生年月"),
    "role": ("role", "身份", "角色", "住户身份", "住户类型"),
    "openid": ("openid", "oa_openid", "公众号openid"),
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
HEADER_SEARCH_ROWS = 10  # a title row or two may sit above the header


class RosterFileError(BadRequest):
    """The roster file cannot be read at all (as opposed to bad rows inside it)."""

    code, message = "roster_unreadable", "名册文件无法读取"


@dataclass(frozen=True)
class RosterLine:
    """One data row of a roster: its row number in the file and its cells by field name."""

    line: int
    values: dict[str, str]

    @property
    def blank(self) -> bool:
        """True for a row with nothing in it (Excel leaves those at the end)."""
        return not any(v.strip() for v in self.values.values())


def read_roster(path: str | Path) -> list[RosterLine]:
    """Read a .csv or .xlsx roster into numbered rows; raises RosterFileError when unreadable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise RosterFileError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后再导入")
    if suffix not in (".csv", ".xlsx"):
        raise RosterFileError(f"不认识的文件类型「{path.suffix or '无扩展名'}」，请使用 .csv 或 .xlsx")
    try:
        table = _read_csv(path.read_bytes()) if suffix == ".csv" else _read_xlsx(path)
    except OSError as exc:
        raise RosterFileError(f"无法打开文件「{path.name}」：{exc.strerror or exc}") from exc
    return _to_lines(table, path.name)


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GBK as Excel on Windows saves it."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates: tuple[tuple[bytes, str], ...] = ((data[3:], "utf-8"),)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ((data, "utf-16"),)
    else:  # gb18030 is a superset of GBK and GB2312
        candidates = ((data, "utf-8"), (data, "gb18030"))
    for raw, encoding in candidates:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterFileError("文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV，或 .xlsx")


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook  # noqa: PLC0415 - only the xlsx path needs it
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise RosterFileError(f"「{path.name}」不是有效的 .xlsx 文件") from exc
    except Exception as exc:  # zipfile.BadZipFile and friends from a damaged file
        raise RosterFileError(f"「{path.name}」已损坏或不是 .xlsx 文件") from exc
    try:
        if not workbook.worksheets:
            raise RosterFileError(f"「{path.name}」里没有工作表")
        sheet = workbook.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """A cell as the text the manager sees: 30.0 becomes "30", a date becomes 1950-03-02."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _header_key(cell: str) -> str:
    """A header cell reduced to its core: no spaces, no (必填) notes or *, half-width, lower case."""
    text = unicodedata.normalize("NFKC", cell).strip().lower()
    text = re.sub(r"[（(【\[].*?[)）】\]]", "", text)
    return re.sub(r"[\s*＊:：]", "", text)


def _find_header(table: list[list[str]], filename: str) -> tuple[int, dict[str, int]]:
    """The header's index in the table and the column of each known field."""
    for index, row in enumerate(table[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for col, cell in enumerate(row):
            field_name = _ALIAS_TO_FIELD.get(_header_key(cell))
            if field_name is None:
                continue
            if field_name in columns:
                first = row[columns[field_name]].strip()
                raise RosterFileError(
                    f"表头里「{first}」和「{cell.strip()}」都表示{FIELD_LABELS[field_name]}，请只保留一列"
                )
            columns[field_name] = col
        if sum(f in columns for f in REQUIRED) >= 3:  # this is the header, even if incomplete
            missing = [FIELD_LABELS[f] for f in REQUIRED if f not in columns]
            if missing:
                raise RosterFileError(
                    f"表头缺少必需的列：{'、'.join(missing)}（第 {index + 1} 行是表头）",
                    details={"missing": missing},
                )
            return index, columns
    if not any(any(cell.strip() for cell in row) for row in table):
        raise RosterFileError(f"「{filename}」是空的")
    raise RosterFileError(
        "找不到表头：第一行应为 楼栋、单元、房号、姓名、手机（可选 出生年份、身份、openid）"
    )


def _to_lines(table: list[list[str]], filename: str) -> list[RosterLine]:
    header_index, columns = _find_header(table, filename)
    lines = []
    for index in range(header_index + 1, len(table)):
        row = table[index]
        values = {f: (row[col] if col < len(row) else "") for f, col in columns.items()}
        lines.append(RosterLine(line=index + 1, values=values))
    while lines and lines[-1].blank:
        lines.pop()
    return lines
