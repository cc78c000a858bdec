"""A sheet of cells → the return it holds: table, filer, year and located records.

Two layouts are recognised, wherever the header is: one indicator a row (序号/指标代码/指标名称/计量单位/
2025年/备注, code column optional) and one unit a row (a 乡镇 column, indicators across a merged multi-row
header with units such as “(人)” “(万元)”, a 合计 row). Everything that cannot be decided is an
``LayoutError`` naming the sheet and cell; nothing is matched fuzzily in silence.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from carestats.errors import CarestatsError
from carestats.profile import Indicator, Profile
from carestats.reader import Sheet, col_letter
from carestats.text import measure_units, name_key, nfkc, split_unit, squash, strip_qizhong, unit_alternation
from carestats.values import BLANK, UNIT_MISMATCH, Parsed, parse_value, raw_text, unit_scale

NAME_HEADERS = {"指标名称", "指标", "项目", "项目名称", "名称", "指标项目"}
CODE_HEADERS = {"指标代码", "代码", "指标编码", "编码", "编号"}
UNIT_HEADERS = {"计量单位", "单位"}
UNIT_COL_HEADERS = {
    "乡镇",
    "乡(镇)",
    "乡镇名称",
    "乡镇(街道)",
    "单位",
    "单位名称",
    "地区",
    "乡镇名",
    "乡(镇)名称",
}
SKIP_HEADERS = {"序号", "备注", "说明", "上年数", "上年", "去年", "上年同期", "上年数值", "同比"}
VALUE_HEADERS = {"本年数值", "本年数", "数值", "本期数", "本年", "本年度", "数量", "合计数"}
TOTAL_WORDS = {"合计", "总计", "全县合计", "全县", "合计数"}
# a subtotal of some rows: never the table's 合计, never added in (a one-unit-a-row table refuses it)
SUBTOTAL_WORDS = {"小计", "分计"}
FOOTER_PREFIXES = (
    "填报人",
    "单位负责人",
    "负责人",
    "审核人",
    "联系电话",
    "制表人",
    "填表人",
    "联系人",
    "电话:",
    "手机:",
    "注:",
    "说明:",
    "备注:",
)
META_PREFIXES = (
    "填报单位",
    "报送单位",
    "单位名称",
    "填报日期",
    "报送日期",
    "统计时段",
    "统计时间",
    "统计期间",
    "统计日期",
    "报告期",
    "单位:",
)
# a table-wide unit for its money figures, above the header: “金额单位:万元”, “单位:万元”
_MONEY_UNIT = re.compile(r"(?:金额单位|^单位)[::](万元|元)(?![\u4e00-\u9fff])")
# sheets that are no return: instructions, a cover, and the 审核意见 list `check --annotate` puts first in
# its copy of a return (a township may correct the copy and send it back)
INSTRUCTION_SHEETS = ("填报说明", "填表说明", "说明", "目录", "封面", "审核意见")

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
# “2025年”, “2025年度数”, or the year typed as a number (2025, which calamine gives as 2025.0)
_YEAR_HEADER = re.compile(r"^((?:19|20)\d{2})(?:\.0)?(?:年(度)?(数|数值|实绩)?)?$")
# a section heading (“一、老年人关爱服务”, “三.儿童关爱保护”) typed into the 指标名称 column, as in a copy of
# the form without its 序号 column
_SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]+[、.．]")
_TABLE_NO = re.compile(r"^表([一二三四五六七八九十]+|\d+)$")


class LayoutError(CarestatsError):
    """The sheet does not read as a return: the message says where and what to do."""

    def __init__(self, message: str, code: str = "layout"):
        super().__init__(message)
        self.code = code


class Record(NamedTuple):
    """One located value (a tuple: one is made for every value cell of every return)."""

    unit: str
    code: str
    role: str  # value | total
    parsed: Parsed
    sheet: str
    cell: str

    @property
    def value(self) -> Decimal | None:
        return self.parsed.value


@dataclass
class SheetReturn:
    sheet: str
    table: str
    filer: str
    year: int
    layout: str  # rows | units
    records: list[Record] = field(default_factory=list)
    # (cell, its column's header) of figures beside blank value cells, in other columns (上年数, 备注 …)
    elsewhere: list[tuple[str, str]] = field(default_factory=list)


# ---------------------------------------------------------------------------- helpers
def _text(v: object) -> str:
    """A cell as comparable text: strings squashed (cached), numbers as written, empty for None."""
    t = type(v)
    if t is str:
        return squash(v)  # type: ignore[arg-type]
    if v is None:
        return ""
    if t is float or t is int:
        return str(v)
    return squash(str(v))


def _is_blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _fill_merges(sheet: Sheet) -> dict[tuple[int, int], tuple[int, int]]:
    """(row index, col) of every cell covered by a merge → the (row index, col) of its anchor."""
    pos = {r: i for i, r in enumerate(sheet.row_numbers)}
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for r0, c0, r1, c1 in sheet.merged:
        if r0 not in pos or (r1 - r0 + 1) * (c1 - c0 + 1) > 10_000:
            continue
        anchor = (pos[r0], c0)
        for r in range(r0, r1 + 1):
            if r not in pos:
                continue
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    out[(pos[r], c)] = anchor
    return out


class _Grid:
    """Sheet text with merged ranges filled from their anchors (for labels only, never for numbers).

    A row is normalised once, the first time it is asked for: detection looks at the same rows many times,
    and a return that follows a known template (see ``_follow_plans``) never asks for most of its rows.
    """

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.n = len(sheet.rows)
        self._raw: list[list[str] | None] = [None] * self.n
        self._filled: dict[int, list[str]] = {}  # rows that a merged range writes into
        if sheet.merged:
            filled = self._filled

            def row_of(i: int) -> list[str]:
                row = filled.get(i)
                if row is None:
                    row = filled[i] = list(self.cell_texts(i))
                return row

            for (i, j), (ai, aj) in _fill_merges(sheet).items():
                row = row_of(i)
                if j >= len(row):
                    row.extend([""] * (j + 1 - len(row)))
                anchor = row_of(ai)
                row[j] = anchor[aj] if aj < len(anchor) else ""

    def label(self, i: int, j: int) -> str:
        row = self.texts(i)
        return row[j] if j < len(row) else ""

    def cell_texts(self, i: int) -> list[str]:
        """A row's own cell texts, without merge filling."""
        row = self._raw[i]
        if row is None:
            sq = squash  # hot: every cell of every row read passes here once
            row = self._raw[i] = [
                sq(v) if type(v) is str else ("" if v is None else str(v) if type(v) is float else _text(v))
                for v in self.sheet.rows[i]
            ]
        return row

    def width(self, i: int) -> int:
        return len(self.texts(i))

    def texts(self, i: int) -> list[str]:
        row = self._filled.get(i)
        return self.cell_texts(i) if row is None else row


# ---------------------------------------------------------------------------- entry point
def is_instruction_sheet(sheet: Sheet) -> bool:
    name = squash(sheet.name)
    return any(name.startswith(k) for k in INSTRUCTION_SHEETS)


def has_return_header(sheet: Sheet, profile: Profile) -> bool:
    """Whether the sheet holds a table header a return has (for a hidden sheet, which is never read)."""
    profile.use_unit_words()
    return _find_header(_Grid(sheet), profile) is not None


def read_sheet(sheet: Sheet, profile: Profile, file_name: str, year_opt: int | None) -> SheetReturn | None:
    """The return a sheet holds, or None when the sheet holds no recognisable table header."""
    profile.use_unit_words()  # its labels are read with its catalogue's unit words, whichever was loaded last
    grid = _Grid(sheet)
    found = _find_header(grid, profile)
    if found is None:
        return None
    kind, hrow = found
    meta = _metadata(grid, hrow)
    if kind == "rows":
        return _read_rows_layout(grid, hrow, meta, profile, file_name, year_opt)
    return _read_units_layout(grid, hrow, meta, profile, file_name, year_opt)


def _find_header(grid: _Grid, profile: Profile) -> tuple[str, int] | None:
    for i in range(min(grid.n, 60)):
        kind = _header_kind(grid, i, profile)
        if kind is not None:
            return kind, i
    return None


def _header_kind(grid: _Grid, i: int, profile: Profile) -> str | None:
    """The layout of the table whose header is row ``i`` ("rows" or "units"), or None for any other row."""
    keys = {t for t in grid.texts(i) if t}
    if keys & NAME_HEADERS and (keys & VALUE_HEADERS or any(_YEAR_HEADER.match(t) for t in keys)):
        return "rows"
    if keys & UNIT_COL_HEADERS:
        # a unit-a-row table: some header cell (this row or the tiers below) names an indicator
        for k in range(i, min(i + 4, grid.n)):
            for t in grid.texts(k):
                if t and _match_column(t, profile):
                    return "units"
    return None


def _nothing_below(
    grid: _Grid, end: int, profile: Profile, file_name: str, data_row: Callable[[int], str | None]
) -> None:
    """Refuse a sheet whose rows below the table's end (the first 注/说明 or 填报人 line, where reading stops)
    hold another table, or rows of the return itself (``data_row`` names them): a note typed in the middle of
    a table would otherwise pass the figures below it over in silence."""
    sheet = grid.sheet
    for i in range(end + 1, grid.n):
        if _header_kind(grid, i, profile) is not None:
            shown = " ".join(t for t in grid.texts(i) if t)
            raise LayoutError(
                f"{file_name}:工作表“{sheet.name}”第 {sheet.row_numbers[i] + 1} 行又是一张表的表头"
                f"(“{shown}”)。一个工作表只能填一张报表:请删除下面这张表,或把它另存为单独的文件后分别汇入",
                code="two-tables",
            )
        what = data_row(i)
        if what is not None:
            line = next(filter(None, grid.texts(end)), "")
            line = line if len(line) <= 20 else line[:20] + "…"
            raise LayoutError(
                f"{file_name}:工作表“{sheet.name}”第 {sheet.row_numbers[end] + 1} 行“{line}”被当作表尾,读到这一行为止;"
                f"但下面第 {sheet.row_numbers[i] + 1} 行还有{what},这些数不会汇入。"
                "请把这一行移到表的最后(或删除),再重新汇入",
                code="rows-below-end",
            )


def header_hint(sheet: Sheet, year: int) -> str | None:
    """For a file refused as holding no return: the row with a 指标名称 header but no value column this reader
    knows, and what that column's header should say."""
    grid = _Grid(sheet)
    known = NAME_HEADERS | CODE_HEADERS | UNIT_HEADERS | SKIP_HEADERS
    for i in range(min(grid.n, 60)):
        texts = grid.texts(i)
        if NAME_HEADERS.isdisjoint(texts):
            continue
        others = "、".join(f"{sheet.addr(i, j)}“{t}”" for j, t in enumerate(texts) if t and t not in known)
        where = f"工作表“{sheet.name}”第 {sheet.row_numbers[i] + 1} 行是表头"
        if others:
            return f"{where},其中{others}不是可识别的数值列表头(应写“{year}年”或“本年数值”)"
        return f"{where},但没有数值列(应有一列表头写“{year}年”或“本年数值”)"
    return None


@dataclass
class _Meta:
    title: str = ""
    table_no: str | None = None
    filer_text: str = ""
    title_cell: str = ""
    filer_cell: str = ""
    money_unit: str | None = None  # “金额单位:万元” above the header
    money_unit_cell: str = ""


def _metadata(grid: _Grid, hrow: int) -> _Meta:
    meta = _Meta()
    rows = grid.sheet.rows
    for i in range(hrow):
        for j, raw in enumerate(rows[i]):  # merged ranges add no text of their own
            if type(raw) is not str or not raw.strip():
                continue
            t = squash(raw)
            if "单位" in t and (m := _MONEY_UNIT.search(t)):
                meta.money_unit, meta.money_unit_cell = m.group(1), grid.sheet.addr(i, j)
            if _TABLE_NO.match(t) and meta.table_no is None:
                meta.table_no = t
            elif t.startswith(("填报单位", "报送单位", "单位名称")):
                meta.filer_text = re.sub(r"^(填报单位|报送单位|单位名称)(\(盖章\))?[::]?", "", t)
                meta.filer_cell = grid.sheet.addr(i, j)
                if not meta.filer_text:  # “填报单位:” in one cell, the name in the next one
                    after = [
                        (k, squash(v))
                        for k, v in enumerate(rows[i])
                        if k > j and type(v) is str and v.strip()
                    ]
                    if after:
                        meta.filer_text, meta.filer_cell = after[0][1], grid.sheet.addr(i, after[0][0])
            elif t.startswith(META_PREFIXES) or t.startswith("("):
                continue
            elif len(t) > len(meta.title) and ("表" in t or "统计" in t or "情况" in t):
                meta.title, meta.title_cell = t, grid.sheet.addr(i, j)
    return meta


# ---------------------------------------------------------------------------- identification
def _identify_filer(
    meta: _Meta, profile: Profile, file_name: str, sheet: str, table: str, *, units_from_title: bool
) -> str:
    """The unit a return is from: title, 填报单位 and file name must agree.

    When none of them names a unit, a table that only one unit files (表二 → 县卫生健康局) says who.
    """
    sources: list[tuple[str, list[str]]] = []
    if meta.filer_text:
        named = profile.unit_named(meta.filer_text)
        sources.append(
            (
                f"填报单位({sheet}!{meta.filer_cell}“{meta.filer_text}”)",
                [named] if named else profile.units_mentioned(meta.filer_text),
            )
        )
    if meta.title and units_from_title:
        sources.append((f"标题({sheet}!{meta.title_cell})", profile.units_mentioned(meta.title)))
    sources.append((f"文件名“{file_name}”", profile.units_mentioned(os.path.splitext(file_name)[0])))
    seen: dict[str, str] = {}
    for where, units in sources:
        for u in units:
            seen.setdefault(u, where)
    if len(seen) > 1:
        by_where: dict[str, list[str]] = {}
        for u, where in seen.items():
            by_where.setdefault(where, []).append(u)
        parts = "、".join(f"{where}写的是{'和'.join(units)}" for where, units in by_where.items())
        raise LayoutError(
            f"{file_name}:无法确定填报单位:{parts}。可能是复制了其他单位的表格后没有改名;"
            f"请报送单位改正后重新报送"
        )
    if not seen and profile.tables[table].filer in profile.units:
        return profile.tables[table].filer
    if not seen:
        raise LayoutError(
            f"{file_name}:无法确定填报单位(标题、填报单位行和文件名都没有写明乡镇或部门名称)。"
            f"请在表中填写“填报单位”后重新汇入"
        )
    return next(iter(seen))


def _files_table(profile: Profile, filer: str, table: str, file_name: str) -> None:
    """A unit's own return (one indicator a row) must be of a table the unit files (units.csv 报送表): 县妇联's
    copy of 县教育局's 表五 would otherwise be added to the county total beside the real one."""
    unit = profile.units.get(filer)
    if unit is None or table in unit.tables:
        return
    by = "、".join(u.name for u in profile.units.values() if table in u.tables) or "没有单位"
    own = f"{filer}报送的是{'、'.join(unit.tables)}" if unit.tables else f"{filer}不报送任何表"
    raise LayoutError(
        f"{file_name}:这是{table}({profile.tables[table].name}),按配置 units.csv 由{by}报送,{own},文件未汇入。"
        f"若是{filer}填错了表,请让其改正后重新报送;若今年确由{filer}报送{table},请在 units.csv 的“报送表”中为它加上{table}",
        code="not-its-table",
    )


def _identify_year(
    candidates: list[tuple[int, str]], year_opt: int | None, file_name: str, profile_year: int
) -> int:
    years = {y for y, _ in candidates}
    if len(years) > 1:
        parts = "、".join(f"{where}为{y}年" for y, where in candidates)
        raise LayoutError(f"{file_name}:数据年度不一致:{parts}。请核对后改正")
    if year_opt is not None:
        if years and year_opt not in years:
            y, where = candidates[0]
            raise LayoutError(
                f"{file_name}:{where}写的是{y}年,与 --year {year_opt} 不一致。请核对年度", code="other-year"
            )
        return year_opt
    if not years:
        raise LayoutError(
            f"{file_name}:表中没有写明数据年度(标题或数值列表头应有“{profile_year}年”)。请用 --year 指定年度"
        )
    return years.pop()


def _title_year(meta: _Meta, sheet: str) -> list[tuple[int, str]]:
    m = _YEAR.search(meta.title)
    return [(int(m.group(1)), f"标题({sheet}!{meta.title_cell})")] if m else []


def _table_for(codes: list[str], meta: _Meta, profile: Profile, file_name: str) -> str:
    if meta.table_no and meta.table_no in profile.tables:
        return meta.table_no
    counts: dict[str, int] = {}
    for code in codes:
        tables = profile.indicators[code].tables
        if len(tables) == 1:
            counts[tables[0]] = counts.get(tables[0], 0) + 1
    if not counts:
        for code in codes:
            for t in profile.indicators[code].tables:
                counts[t] = counts.get(t, 0) + 1
    if not counts:
        raise LayoutError(f"{file_name}:无法确定是哪一张表(没有识别出任何指标)")
    return max(counts, key=lambda t: counts[t])


def _suggest(key: str, profile: Profile) -> str:
    close = difflib.get_close_matches(key, profile.all_name_keys(), n=3, cutoff=0.4)
    if not close:
        return "目录中没有相近的指标"
    labels = []
    for k in close:
        code = profile.codes_for_name(k)[0]
        labels.append(f"{code} {profile.indicators[code].name}")
    return "最接近的指标:" + "、".join(dict.fromkeys(labels))


# ---------------------------------------------------------------------------- one indicator a row
def _match_row_name(label: str, parent: str | None, profile: Profile) -> tuple[list[str], str]:
    key = name_key(label)
    is_part, bare = strip_qizhong(key)
    codes = profile.codes_for_name(key)
    if not codes and is_part:
        codes = profile.codes_for_name(bare)
    if is_part and len(codes) > 1 and parent:
        codes = [c for c in codes if profile.indicators[c].parent == parent]
    return codes, key


def _this_years_column(cols: list[tuple[int, int | None]], year: int | None) -> list[tuple[int, int | None]]:
    """Of several value columns, the one headed with the return's year (from --year or the title) when every
    other one is headed with an earlier year: last year's figures beside this year's (“2024年”, “2025年”).
    Anything else is left as it is, and the caller refuses the return."""
    if year is None:
        return cols
    mine = [c for c in cols if c[1] == year] or [c for c in cols if c[1] is None]  # 2025年, else 本年数
    others = [c[1] for c in cols if c not in mine]
    if len(mine) == 1 and all(y is not None and y < year for y in others):
        return mine
    return cols


def _indicator_row(
    grid: _Grid, profile: Profile, code_col: int | None, name_col: int | None
) -> Callable[[int], str | None]:
    """For the rows below a table's end: the indicator a row names by its code or its name, if any."""

    def named(i: int) -> str | None:
        own = grid.cell_texts(i)
        if code_col is not None and code_col < len(own) and own[code_col].upper() in profile.indicators:
            return f"指标 {profile.indicators[own[code_col].upper()].label}"
        if name_col is not None and name_col < len(own) and own[name_col]:
            codes, _key = _match_row_name(own[name_col], None, profile)
            if codes:
                return f"指标 {profile.indicators[codes[0]].label}"
        return None

    return named


def _read_rows_layout(
    grid: _Grid, hrow: int, meta: _Meta, profile: Profile, file_name: str, year_opt: int | None
) -> SheetReturn:
    sheet = grid.sheet
    headers = grid.texts(hrow)
    col = {"code": None, "name": None, "unit": None}
    value_cols: list[tuple[int, int | None]] = []  # (column, year in its header)
    for j, h in enumerate(headers):
        if h in CODE_HEADERS and col["code"] is None:
            col["code"] = j
        elif h in NAME_HEADERS and col["name"] is None:
            col["name"] = j
        elif h in UNIT_HEADERS and col["unit"] is None:
            col["unit"] = j
        elif h in VALUE_HEADERS:
            value_cols.append((j, None))
        elif m := _YEAR_HEADER.match(h):
            value_cols.append((j, int(m.group(1))))
    years = _title_year(meta, sheet.name)
    if len(value_cols) > 1:
        value_cols = _this_years_column(value_cols, year_opt or (years[0][0] if years else None))
    if len(value_cols) != 1:
        where = f"{sheet.name}!{sheet.addr(hrow, 0)} 行"
        if not value_cols:
            raise LayoutError(
                f"{file_name}:{where}表头中找不到数值列(应为“{year_opt or profile.year}年”或“本年数值”)。请按报表格式填写表头"
            )
        names = "、".join(f"{col_letter(j)}列“{headers[j]}”" for j, _ in value_cols)
        raise LayoutError(
            f"{file_name}:{where}表头有多个数值列({names}),无法确定填报数在哪一列。请只保留本年数一列"
        )
    vcol, vyear = value_cols[0]
    if vcol in sheet.hidden_columns:
        raise LayoutError(
            f"{file_name}:工作表“{sheet.name}”的数值列 {col_letter(vcol)} 列(表头“{headers[vcol]}”)是隐藏的,"
            "隐藏列里的数不能当作填报数。请取消隐藏并核对这一列(或删除它,把本年数填在显示的列里)后重新汇入",
            code="hidden-value-column",
        )
    if vyear is not None:
        years.append((vyear, f"数值列表头({sheet.name}!{sheet.addr(hrow, vcol)})"))
    year = _identify_year(years, year_opt, file_name, profile.year)

    # the unit line above the header is part of the key: a plan keeps the scales it read its rows with
    key = (hrow, tuple(headers), grid.n, tuple(sheet.merged), meta.money_unit)
    read = _follow_plans(key, sheet, vcol, profile)
    if read is None:
        cols = (col["code"], col["name"], col["unit"], vcol)
        read = _scan_rows(grid, hrow, cols, key, profile, file_name, meta.money_unit)
    found, end = read
    elsewhere: list[tuple[str, str]] = []
    for f in found:  # tuples of four: cheap on a filled return, where no cell is blank
        if f[2].problem == BLANK:
            found, elsewhere = _figures_elsewhere(
                sheet, found, headers, (col["code"], col["name"], col["unit"]), vcol
            )
            break
    if end < grid.n:
        _nothing_below(grid, end, profile, file_name, _indicator_row(grid, profile, col["code"], col["name"]))
    table = _table_for([c for c, *_ in found], meta, profile, file_name)
    mine = profile.table_codes(table)
    if not mine.issuperset([f[0] for f in found]):
        foreign = [
            f"{sheet.name}!{addr} 指标 {profile.indicators[code].label} 是{'、'.join(profile.indicators[code].tables)}的指标"
            for code, _i, _p, addr in found
            if code not in mine
        ]
        raise LayoutError(
            f"{file_name}:这是{table},但有 {len(foreign)} 行是别的表的指标,文件未汇入:\n  "
            + "\n  ".join(foreign)
            + f"\n请删除这些行(它们应由{table}以外的报表报送)后重新汇入",
            code="foreign-indicator",
        )
    filer = _identify_filer(meta, profile, file_name, sheet.name, table, units_from_title=True)
    _files_table(profile, filer, table, file_name)
    records = [Record(filer, code, "value", parsed, sheet.name, addr) for code, _i, parsed, addr in found]
    return SheetReturn(sheet.name, table, filer, year, "rows", records, elsewhere)


def _merged_into(sheet: Sheet, i: int, j: int) -> str | None:
    """The anchor (top-left cell) of a merged range that covers row ``i``'s cell ``j`` but does not start there:
    calamine shows such a cell empty, while the clerk sees the anchor's figure across both rows."""
    r = sheet.row_numbers[i]
    for r0, c0, r1, c1 in sheet.merged:
        if r0 <= r <= r1 and c0 <= j <= c1 and (r0, c0) != (r, j):
            return f"{col_letter(c0)}{r0 + 1}"
    return None


def _figures_elsewhere(
    sheet: Sheet,
    found: list[tuple[str, int, Parsed, str]],
    headers: list[str],
    label_cols: tuple[int | None, ...],
    vcol: int,
) -> tuple[list[tuple[str, int, Parsed, str]], list[tuple[str, str]]]:
    """A blank value cell whose row has a figure in another column right of the labels (上年数, 备注 …): this
    year's figure typed into the wrong column, which the blank's message names so that the clerk can move it.
    Only asked when a value cell is blank. Returns the rows with those messages, and the cells with a figure."""
    labels = [c for c in label_cols if c is not None]
    first = min(labels, default=-1)
    skip = {vcol, *labels} | sheet.hidden_columns  # a hidden column's figure is not what the clerk sees
    # a column with figures beside filled value cells too is a column of its own (上年数 filled in, or given by
    # carestats form; 备注 with figures): its figure beside a blank is no figure typed in the wrong column
    for _code, i, parsed, _addr in found:
        if parsed.problem != BLANK:
            row = sheet.rows[i]
            skip.update(j for j in range(first + 1, len(row)) if _figure_text(row[j]) is not None)
    vletter = col_letter(vcol)
    out: list[tuple[str, int, Parsed, str]] = []
    cells: list[tuple[str, str]] = []
    for code, i, parsed, addr in found:
        if parsed.problem == BLANK and (anchor := _merged_into(sheet, i, vcol)) is not None:
            parsed = parsed._replace(
                detail=f"单元格与 {anchor} 合并在一起,合并格里的数只算 {anchor} 那一行的;"
                "请取消合并,每一行分别填写准确数(无数据的填 0)"
            )
        elif parsed.problem == BLANK:
            row = sheet.rows[i]
            notes = []
            for j in range(first + 1, len(row)):
                header = headers[j] if j < len(headers) else ""
                if j in skip or header == "序号" or (shown := _figure_text(row[j])) is None:
                    continue
                where = sheet.addr(i, j)
                cells.append((where, header))
                notes.append(f"{where}(“{header}”列)有数字 {shown}" if header else f"{where} 有数字 {shown}")
            if notes:
                parsed = parsed._replace(
                    detail=f"{parsed.detail};同一行的 {'、'.join(notes)},请确认是否填错了列(本年数应填在 {vletter} 列)"
                )
        out.append((code, i, parsed, addr))
    return out, cells


def _figure_text(cell: object) -> str | None:
    """The cell as the clerk typed it when it is a number (5680, “5,680”, “5680人”), else None."""
    t = type(cell)
    if t is int or t is float:
        return raw_text(cell)
    if t is str and (text := cell.strip()):  # type: ignore[union-attr]
        compact = re.sub(r"[\s,]", "", nfkc(text))
        m = _figure_pattern(unit_alternation()).match(compact)
        return text if m else None
    return None


@lru_cache(maxsize=4)
def _figure_pattern(units: str) -> re.Pattern[str]:
    """A number, alone or with a unit word after it (the profile's own too, 24辆): what a figure typed into
    the wrong column looks like."""
    return re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(" + units + r")?$")


def elsewhere_note(cells: list[tuple[str, str]]) -> str:
    """For a return refused as blank: which columns hold figures, by column (“D 列(“上年数”)有 12 个数字”)."""
    by_col: dict[str, tuple[str, int]] = {}
    for cell, header in cells:
        letters = cell.rstrip("0123456789")
        _h, n = by_col.get(letters, (header, 0))
        by_col[letters] = (header, n + 1)
    return "、".join(
        f"{c} 列(“{h}”)有 {n} 个数字" if h else f"{c} 列有 {n} 个数字" for c, (h, n) in by_col.items()
    )


# The rows of a return as one template lays them out, learnt from one return and followed by the next ones
# of the same template: a province distributes one form, so most of a batch repeats the first return's
# labels cell for cell and differs only in its figures, title and 填报单位. Following a plan compares each
# row's cells, all but the value cell, with the template's (and the few conditions on the value cell that
# could change how the row is read); any difference and the return is read row by row as any other. The
# result is the same either way (tests read returns both ways); only the work differs.
_VALUE, _SECTION, _BLANK, _STOP = range(4)
_PLANS: dict[tuple, list[tuple[Profile, list[tuple]]]] = {}
_PLAN_KEYS = 64  # templates remembered by one process
_PLANS_PER_KEY = 8  # variants of a template (e.g. money in 元 or in 万元) under the same header


def _follow_plans(key: tuple, sheet: Sheet, vcol: int, profile: Profile) -> tuple[list, int] | None:
    """The value rows of the sheet read by a remembered plan of its template, and the row where reading
    stopped (its footer, or the end of the sheet); None when no plan fits."""
    plans = _PLANS.get(key)
    if not plans or not _numbered_from_zero(sheet):
        return None
    for known, steps in plans:
        if known is not profile:
            continue
        found = _follow(steps, sheet, vcol)
        if found is not None:
            return found, steps[-1][0] if steps[-1][3] == _STOP else len(sheet.rows)
    return None


def _follow(steps: list[tuple], sheet: Sheet, vcol: int) -> list | None:
    rows = sheet.rows
    found = []
    after = vcol + 1
    for i, left, right, kind, step in steps:
        row = rows[i]
        if row[:vcol] != left or row[after:] != right:
            return None
        value = row[vcol] if vcol < len(row) else ""
        if kind == _VALUE:
            code, ind, unit_text, addr, scaled = step
            # an empty cell may be a formula without its result or an error; a rate may show 0.9858 as 98.58%
            if _is_blank(value) or ind.kind == "rate":
                parsed = _parse_cell(sheet, value, addr, _is_blank(value), ind, unit_text)
            else:
                parsed = parse_value(value, ind, unit_text, scaled=scaled)
            found.append((code, i, parsed, addr))
        elif kind == _SECTION:  # a section row stays one only with nothing in its value cell
            if not _is_blank(value) or step in sheet.formula_cells:
                return None
        elif kind == _BLANK:  # an empty row stays empty: its value cell too
            if _text(value):
                return None
    return found


def _shown(sheet: Sheet, value: object, addr: str) -> str:
    """A value cell as the clerk sees it in a message: its formula when calamine shows it empty."""
    formula = sheet.formula_cells.get(addr) if _is_blank(value) else None
    return f"={formula}" if formula else raw_text(value)


def _remember(key: tuple, profile: Profile, steps: list[tuple]) -> None:
    if key not in _PLANS and len(_PLANS) >= _PLAN_KEYS:
        _PLANS.clear()
    plans = _PLANS.setdefault(key, [])
    plans.insert(0, (profile, steps))
    del plans[_PLANS_PER_KEY:]


def _numbered_from_zero(sheet: Sheet) -> bool:
    """Rows 0…n-1, as calamine gives them (a sparse sheet skips rows): a plan's cell addresses hold."""
    return bool(sheet.rows) and sheet.row_numbers[-1] == len(sheet.rows) - 1


def _plannable(sheet: Sheet, vcol: int) -> bool:
    """Whether a plan can tell every row from the cells it compares: rows numbered from zero, and no merged
    range anchored in the value column (it would show a value in the rows below). A range anchored above
    the header shows its text in the header row too, which the plan's key holds."""
    return _numbered_from_zero(sheet) and all(c0 != vcol for _r0, c0, _r1, _c1 in sheet.merged)


def _scan_rows(
    grid: _Grid,
    hrow: int,
    cols: tuple[int | None, int | None, int | None, int],
    plan_key: tuple,
    profile: Profile,
    file_name: str,
    money_unit: str | None = None,
) -> tuple[list[tuple[str, int, Parsed, str]], int]:
    """Read the rows under the header one by one, and remember them as a plan for the next return. Returns
    the value rows and the row where reading stopped (the footer, or the end of the sheet)."""
    sheet = grid.sheet
    code_col, name_col, unit_col, vcol = cols
    # A plan records every row read with the cells it was read from. A row whose reading could depend on its
    # value cell's text is not recorded (the return is then read row by row every time), nor is a label
    # that is not text: 1 == 1.0 == True compare equal but read differently.
    steps: list[tuple] | None = [] if _plannable(sheet, vcol) else None
    label_cols = [c for c in (code_col, name_col, unit_col) if c is not None]
    after = vcol + 1
    found: list[tuple[str, int, Parsed, str]] = []  # code, row index, parsed, cell
    errors: list[str] = []
    parent: str | None = None
    seen: dict[str, str] = {}
    # hot loop (every row of a return without a plan): plain locals, the value column's letter computed once
    vletter = col_letter(vcol)
    indicators = profile.indicators
    end = grid.n
    for i in range(hrow + 1, grid.n):
        texts = grid.texts(i)
        first = next(filter(None, texts), "")  # the first non-empty text, at C speed
        row = sheet.rows[i]
        if steps is not None:
            if first and not any(texts[:vcol]):
                steps = None  # the first text of the row is in or after the value column
            elif not first or first.startswith(FOOTER_PREFIXES):
                steps.append((i, row[:vcol], row[after:], _STOP if first else _BLANK, None))
        if not first:
            continue
        if first.startswith(FOOTER_PREFIXES):
            end = i
            break
        own = grid.cell_texts(i)
        width = len(own)
        code_txt = own[code_col] if code_col is not None and code_col < width else ""
        name_txt = own[name_col] if name_col is not None and name_col < width else ""
        value_cell = row[vcol] if vcol < len(row) else ""
        addr = f"{vletter}{sheet.row_numbers[i] + 1}"
        blank = _is_blank(value_cell)  # calamine shows uncached formulas and error cells empty
        if not code_txt and not name_txt:
            if blank and addr not in sheet.formula_cells:
                if steps is not None:
                    steps.append((i, row[:vcol], row[after:], _SECTION, addr))
                continue  # a section row (一、老年人关爱服务) or a note: no value to lose
            errors.append(
                f"{sheet.name}!{addr} 有数值“{_shown(sheet, value_cell, addr)}”,但这一行没有指标名称或代码"
            )
            continue
        if code_txt:
            code = code_txt.upper()  # already NFKC without spaces (squash)
            if code not in indicators:
                errors.append(f"{sheet.name}!{sheet.addr(i, code_col)} 指标代码“{code_txt}”不在指标目录中")  # type: ignore[arg-type]
                continue
            if name_txt:  # a name that is another indicator's: which of the two is meant is not guessed
                named, _key = _match_row_name(str(row[name_col]), parent, profile)  # type: ignore[index]
                if named and code not in named:
                    others = "、".join(indicators[c].label for c in named)
                    errors.append(
                        f"{sheet.name}!{sheet.addr(i, code_col)} 指标代码“{code_txt}”是 {indicators[code].label},"  # type: ignore[arg-type]
                        f"但同一行的指标名称“{row[name_col]}”是 {others}"  # type: ignore[index]
                    )
                    continue
        else:
            name_raw = row[name_col] if name_col < len(row) else ""  # type: ignore[operator]
            codes, key = _match_row_name(str(name_raw), parent, profile)
            heading = not codes and _SECTION_HEADING.match(name_txt)
            if heading or (not codes and name_txt in TOTAL_WORDS):
                if blank and addr not in sheet.formula_cells:
                    if steps is not None:
                        steps.append((i, row[:vcol], row[after:], _SECTION, addr))
                    continue  # a section heading, or a 合计 line left empty: no figure to lose
                what = (
                    f"分组标题“{name_raw}”,不是指标"
                    if heading
                    else f"合计行“{name_raw}”;这张表每行一个指标,不填合计"
                )
                errors.append(
                    f"{sheet.name}!{addr} 有数值“{_shown(sheet, value_cell, addr)}”,但这一行是{what}"
                )
                continue
            if len(codes) != 1:
                cell = sheet.addr(i, name_col)  # type: ignore[arg-type]
                if not codes:
                    errors.append(
                        f"{sheet.name}!{cell} 指标名称“{name_raw}”不在指标目录中({_suggest(key, profile)})"
                    )
                else:
                    labels = "、".join(indicators[c].label for c in codes)
                    errors.append(f"{sheet.name}!{cell} 指标名称“{name_raw}”可能是 {labels},无法确定")
                continue
            code = codes[0]
        if code in seen:
            errors.append(f"{sheet.name}!{addr} 指标 {indicators[code].label} 重复出现(另见 {seen[code]})")
            continue
        seen[code] = f"{sheet.name}!{addr}"
        ind = indicators[code]
        if not ind.parent and not name_txt.startswith("其中"):
            parent = code
        unit_text = (own[unit_col] if unit_col < width else "") if unit_col is not None else None
        unit_text, conflict = _row_unit(unit_text, name_txt, money_unit, ind)
        if conflict:
            found.append(
                (code, i, Parsed(None, "" if blank else raw_text(value_cell), UNIT_MISMATCH, conflict), addr)
            )
            steps = None  # a row read as a problem of two cells is not planned
            continue
        found.append((code, i, _parse_cell(sheet, value_cell, addr, blank, ind, unit_text), addr))
        if steps is not None:
            if any(c < len(row) and row[c] is not None and type(row[c]) is not str for c in label_cols):
                steps = None
            else:
                scaled = unit_scale(unit_text, ind)
                steps.append((i, row[:vcol], row[after:], _VALUE, (code, ind, unit_text, addr, scaled)))
    if errors:
        raise LayoutError(
            f"{file_name}:有 {len(errors)} 行无法对应到指标,文件未汇入:\n  "
            + "\n  ".join(errors)
            + "\n请按指标目录改正指标名称(或填写指标代码)后重新汇入"
        )
    if not found:
        raise LayoutError(f"{file_name}:工作表“{sheet.name}”表头下面没有任何指标行")
    if steps is not None:
        _remember(plan_key, profile, steps)
    return found, end


def _row_unit(
    unit_text: str | None, name_txt: str, money_unit: str | None, ind: Indicator
) -> tuple[str | None, str | None]:
    """The row's 计量单位: its own cell, else the unit after its name (发放…金额(万元)), else for money the
    table's unit line (金额单位:万元); and, when two of them disagree, what to tell the clerk (the value is
    then a unit-mismatch problem: which one is meant is never guessed)."""
    for other, where in (
        (split_unit(name_txt)[1] if name_txt else None, "指标名称写的"),
        (money_unit if ind.kind == "money" else None, "表头上方写的金额"),
    ):
        if not other or other == unit_text:
            continue
        if unit_text and unit_scale(unit_text, ind)[0] != unit_scale(other, ind)[0]:
            return (
                unit_text,
                f"{where}计量单位是“{other}”,而这一行的计量单位是“{unit_text}”,两者不一致;请核对",
            )
        unit_text = unit_text or other
    return unit_text, None


def _parse(sheet: Sheet, i: int, j: int, ind: Indicator, unit_text: str | None) -> Parsed:
    cell = sheet.get(i, j)
    return _parse_cell(sheet, cell, sheet.addr(i, j), _is_blank(cell), ind, unit_text)


def _parse_cell(
    sheet: Sheet, cell: object, addr: str, blank: bool, ind: Indicator, unit_text: str | None
) -> Parsed:
    """Parse a value cell; only an empty one is looked up in the sheet's XML, because calamine shows
    formulas saved without a result, formulas computed to empty text and error cells as empty."""
    if ind.kind == "rate" and type(cell) is float and addr in sheet.percent_cells:
        cell = format((Decimal(raw_text(cell)) * 100).normalize(), "f") + "%"  # 0.9858 shown as 98.58%
    if not blank:
        return parse_value(cell, ind, unit_text)
    return parse_value(
        cell,
        ind,
        unit_text,
        formula=sheet.formula_cells.get(addr),
        error=sheet.error_cells.get(addr),
        empty_formula=sheet.empty_text_formulas.get(addr),
    )


# ---------------------------------------------------------------------------- one unit a row
def _match_column(label: str, profile: Profile) -> str | None:
    name, _unit = split_unit(label)
    codes = profile.codes_for_name(name_key(name))
    if len(codes) == 1:
        return codes[0]
    # A header that starts with its code (“H01 60周岁以上…(人)”, as carestats form writes it): the code
    # decides, and the rest of the label, if any, must name the same indicator.
    for code in profile.indicators:
        if name.upper().startswith(code.upper()):
            rest = name[len(code) :]
            if not rest or profile.codes_for_name(name_key(rest)) == [code]:
                return code
    return None


def _header_tier(grid: _Grid, i: int, profile: Profile) -> bool:
    """Whether row ``i`` under a one-unit-a-row header is another tier of it, though no merged range says so
    (a CSV keeps no merges; a copy may have been unmerged): no number, no unit, 合计 or footer in it, and some
    cell naming an indicator by itself (“60周岁以上家庭医生签约人数(人)” under “家庭医生签约服务”). A 计量单位
    row (人 | 人 | %) names none and is left to the rows below."""
    if any(type(v) is int or type(v) is float for v in grid.sheet.rows[i]):
        return False
    texts = [t for t in grid.texts(i) if t]
    if not texts or texts[0].startswith(FOOTER_PREFIXES):
        return False
    if any(t in TOTAL_WORDS or t in SUBTOTAL_WORDS or profile.unit_named(t) for t in texts):
        return False
    return any(_match_column(t, profile) for t in texts)


def _listed(names: list[str], most: int = 6) -> str:
    return "、".join(names[:most]) + (f" 等 {len(names)} 个" if len(names) > most else "")


def _unit_row(grid: _Grid, profile: Profile, unit_col: int) -> Callable[[int], str | None]:
    """For the rows below a table's end: the township or department a row names, if any."""

    def named(i: int) -> str | None:
        label = grid.label(i, unit_col)
        unit = profile.unit_named(label) if label else None
        return f"{unit}的一行" if unit else None

    return named


def _read_units_layout(
    grid: _Grid, hrow: int, meta: _Meta, profile: Profile, file_name: str, year_opt: int | None
) -> SheetReturn:
    sheet = grid.sheet
    # Header tiers: the header row and the rows its merges cover, plus following rows without numbers.
    last = hrow
    for r0, _c0, r1, _c1 in sheet.merged:
        if sheet.row_numbers[hrow] == r0:
            last = max(last, hrow + (r1 - r0))
    last = min(last, grid.n - 1)
    while last + 1 < min(hrow + 3, grid.n) and _header_tier(grid, last + 1, profile):
        last += 1  # a header split over two lines without merges: a CSV saved from the merged form
    width = max(grid.width(i) for i in range(hrow, last + 1))
    unit_col: int | None = None
    columns: dict[int, tuple[str, str | None]] = {}  # col → (code, unit in header)
    paths: dict[int, str] = {}  # col → its header tiers joined, for a message
    errors: list[str] = []
    for j in range(width):
        tiers = [grid.label(i, j) for i in range(hrow, last + 1)]
        tiers = [t for k, t in enumerate(tiers) if t and (k == 0 or t != tiers[k - 1])]
        if not tiers:
            continue
        leaf = tiers[-1]
        if unit_col is None and any(t in UNIT_COL_HEADERS for t in tiers):
            unit_col = j
            continue
        if any(t in SKIP_HEADERS for t in tiers):
            continue
        code = None
        for candidate in (leaf, "/".join(tiers), *reversed(tiers[:-1])):
            code = _match_column(candidate, profile)
            if code:
                break
        if code is None:
            name, _ = split_unit(leaf)
            errors.append(
                f"{sheet.name}!{sheet.addr(hrow, j)} 列标题“{'/'.join(tiers)}”不在指标目录中"
                f"({_suggest(name_key(name), profile)})"
            )
            continue
        if code in {c for c, _ in columns.values()}:
            # the full header paths, as the clerk sees them: duplicates are told apart by their parents
            first = next(k for k, (c, _u) in columns.items() if c == code)
            errors.append(
                f"{sheet.name}!{sheet.addr(hrow, j)} 列标题“{'/'.join(tiers)}”和 {sheet.addr(hrow, first)} "
                f"列标题“{paths[first]}”都对应指标 {profile.indicators[code].label},同一指标只能有一列"
            )
            continue
        paths[j] = "/".join(tiers)
        columns[j] = (code, split_unit(leaf)[1])
    if unit_col is None:
        raise LayoutError(f"{file_name}:找不到“乡镇”列")
    if errors:
        raise LayoutError(
            f"{file_name}:有 {len(errors)} 列无法对应到指标,文件未汇入:\n  "
            + "\n  ".join(errors)
            + "\n请按指标目录改正列标题后重新汇入"
        )
    if not columns:
        raise LayoutError(f"{file_name}:工作表“{sheet.name}”没有可识别的指标列")
    if hidden := sorted(set(columns) & sheet.hidden_columns):
        names = "、".join(f"{col_letter(j)} 列({profile.indicators[columns[j][0]].label})" for j in hidden)
        raise LayoutError(
            f"{file_name}:工作表“{sheet.name}”的指标列 {names} 是隐藏的,隐藏列里的数不能当作填报数。"
            "请取消隐藏并核对这些列(或删除它们)后重新汇入",
            code="hidden-value-column",
        )
    year = _identify_year(_title_year(meta, sheet.name), year_opt, file_name, profile.year)
    table = _table_for([c for c, _ in columns.values()], meta, profile, file_name)
    mine = profile.table_codes(table)
    if foreign := [j for j, (code, _u) in columns.items() if code not in mine]:
        where = [
            f"{sheet.name}!{sheet.addr(hrow, j)} 指标 {profile.indicators[columns[j][0]].label}"
            f" 是{'、'.join(profile.indicators[columns[j][0]].tables)}的指标"
            for j in foreign
        ]
        raise LayoutError(
            f"{file_name}:这是{table},但有 {len(foreign)} 列是别的表的指标,文件未汇入:\n  "
            + "\n  ".join(where)
            + f"\n请删除这些列(它们应由{table}以外的报表报送)后重新汇入",
            code="foreign-indicator",
        )
    filer = _identify_filer(meta, profile, file_name, sheet.name, table, units_from_title=False)
    rows_of = profile.row_units(table)

    records: list[Record] = []
    rows_seen: dict[str, str] = {}
    end = grid.n  # the footer row, where reading stops
    for i in range(last + 1, grid.n):
        texts = grid.texts(i)
        nonblank = [t for t in texts if t]
        if not nonblank:
            continue
        if nonblank[0].startswith(FOOTER_PREFIXES):
            end = i
            break
        label = grid.label(i, unit_col)
        lead = [grid.label(i, j) for j in range(0, unit_col + 1)]
        # only a row without a township can be a 计量单位 row: township rows are not looked at twice
        units_row = (
            {j: u for j in columns if (u := grid.label(i, j))} if label in ("", "单位", "计量单位") else {}
        )
        if units_row and all(u in measure_units() for u in units_row.values()):
            # a 计量单位 row under the header (人 | 人 | % | 场次): each column's unit, where its header has none
            for j, u in units_row.items():
                code, hint = columns[j]
                if hint is None:
                    columns[j] = (code, u)
                elif (
                    unit_scale(hint, profile.indicators[code])[0]
                    != unit_scale(u, profile.indicators[code])[0]
                ):
                    errors.append(f"{sheet.name}!{sheet.addr(i, j)} 计量单位“{u}”与列标题中的“{hint}”不一致")
            continue
        if sub := next((t for t in lead if t in SUBTOTAL_WORDS), None):
            errors.append(
                f"{sheet.name}!{sheet.addr(i, lead.index(sub))} 是“{sub}”行:本表每行一个乡镇(或单位),"
                "只在最后一行填合计,小计行请删除"
            )
            continue
        is_total = any(t in TOTAL_WORDS for t in lead)
        if is_total:
            unit = "合计"
        else:
            unit = profile.unit_named(label) if label else None
            if unit is None:
                has_value = any(not _is_blank(sheet.get(i, j)) for j in columns)
                if not label and not has_value:
                    continue
                errors.append(f"{sheet.name}!{sheet.addr(i, unit_col)} “{label}”不是配置中的乡镇或单位名称")
                continue
            if unit not in rows_of:
                about_townships = profile.tables[table].about == "乡镇"
                fix = (
                    f"{table}每行是一个乡镇,请删除这一行"
                    if about_townships
                    else f"若确应列入,请在 units.csv 的“报送表”中为{unit}加上{table};否则请删除这一行"
                )
                # the department that files a township table is in units.csv's 表二, but never one of its rows
                why = "不是乡镇" if about_townships else f"按配置 units.csv 它不在{table}中"
                errors.append(
                    f"{sheet.name}!{sheet.addr(i, unit_col)} “{label}”是{unit},{why}"
                    f"({table}的行是{_listed([u for u in profile.units if u in rows_of])}),"
                    f"它的数会加进全县{table}的合计。{fix}"
                )
                continue
        if unit in rows_seen:
            errors.append(
                f"{sheet.name}!{sheet.addr(i, unit_col)} {unit} 重复出现(另见第 {rows_seen[unit]} 行)"
            )
            continue
        rows_seen[unit] = str(sheet.row_numbers[i] + 1)
        for j, (code, unit_hint) in columns.items():
            parsed = _parse(sheet, i, j, profile.indicators[code], unit_hint)
            records.append(
                Record(unit, code, "total" if is_total else "value", parsed, sheet.name, sheet.addr(i, j))
            )
    if errors:
        raise LayoutError(
            f"{file_name}:有 {len(errors)} 行无法识别,文件未汇入:\n  "
            + "\n  ".join(errors)
            + "\n请按上面的说明改正(乡镇名称写错的请改正,不属于本表的行请删除)后重新汇入"
        )
    if not records:
        raise LayoutError(f"{file_name}:工作表“{sheet.name}”表头下面没有任何数据行")
    if end < grid.n:
        _nothing_below(grid, end, profile, file_name, _unit_row(grid, profile, unit_col))
    return SheetReturn(sheet.name, table, filer, year, "units", records)
