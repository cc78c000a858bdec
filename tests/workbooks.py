"""Real return workbooks for tests, written with openpyxl in the layouts townships and departments use.

Each builder writes the county's form as issued (title row, 填报单位 row, header, section rows, footer) and
takes keyword switches for one quirk at a time, so that a test names exactly what it exercises.
"""

from __future__ import annotations

import csv
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

# ../shared beside the checkout, as in CI (CARESTATS_SHARED points elsewhere)
SHARED = Path(os.environ.get("CARESTATS_SHARED") or Path(__file__).resolve().parents[2] / "shared")
EXPECTED_2025 = SHARED / "returns" / "2025-expected.json"
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples" / "2025"
PROFILE_DIR = Path(__file__).resolve().parents[1] / "data" / "profile"

SECTIONS = {"A01": "一、老年人关爱服务", "B01": "二、阵地建设", "C01": "三、儿童关爱保护"}
TOWNSHIPS = ["大兴镇", "牛孔镇", "大黑山镇", "平河镇", "戈奎乡", "大水沟乡", "半坡乡", "骑马坝乡", "三猛乡"]


def expected_2025() -> dict:
    return json.loads(EXPECTED_2025.read_text(encoding="utf-8"))


def catalogue() -> list[dict[str, str]]:
    with (PROFILE_DIR / "indicators.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def table_codes(table: str) -> list[dict[str, str]]:
    return [r for r in catalogue() if table in r["表号"].split("|")]


def write_table1(
    path: Path,
    unit: str = "大兴镇",
    year: int = 2025,
    values: dict[str, Any] | None = None,
    *,
    table: str = "表一",
    title: str | None = None,
    filer: str | None = None,
    codes: bool = True,
    names: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    subtitle: str | None = None,
    instructions_first: bool = False,
    blank_rows_after: tuple[str, ...] = (),
    value_header: str | None = None,
    extra_rows: list[tuple[str, str, str, Any]] | None = None,
    sections: bool = True,
    sheet_name: str = "统计表",
    edit: Callable[[Worksheet], None] | None = None,
) -> Path:
    """A one-indicator-a-row return (表一 by default; 表三/四/五 with ``table=``).

    ``values`` default to the unit's 2025 figures from the expected file. ``names`` replaces the printed
    name of a code, ``units`` its 计量单位 cell; ``codes=False`` deletes the 指标代码 column.
    """
    if values is None:
        values = {k: _num(v) for k, v in expected_2025()["units"][unit].items() if not k.startswith("H")}
    names = names or {}
    units = units or {}
    wb = Workbook()
    ws = wb.active
    if instructions_first:
        ws.title = "填报说明"
        ws["A1"] = "填报说明"
        ws["A2"] = "1. 本表由各单位于次年1月15日前报送县民政局。"
        ws = wb.create_sheet(sheet_name)
    else:
        ws.title = sheet_name
    width = 6 if codes else 5
    ws.append([table])
    ws.append([title if title is not None else f"绿春县{unit}{year}年“一老一小”关爱服务情况统计表"])
    if subtitle:
        ws.append([subtitle])
    filer_row = [f"填报单位(盖章):{filer if filer is not None else unit + '人民政府'}"] + [None] * (width - 3)
    ws.append(filer_row + ["填报日期:2026年1月7日"])
    header = ["序号", "指标代码", "指标名称", "计量单位", value_header or f"{year}年", "备注"]
    if not codes:
        header.remove("指标代码")
    ws.append(header)
    n = 0
    for row in table_codes(table):
        code = row["指标代码"]
        if code not in values:
            continue
        if sections and table == "表一" and code in SECTIONS:
            ws.append([SECTIONS[code]])
        n += 1
        cells = [n, code, names.get(code, row["指标名称"]), units.get(code, row["计量单位"]), values[code]]
        if not codes:
            cells.pop(1)
        ws.append(cells)
        if code in blank_rows_after:
            ws.append([])
    for extra in extra_rows or []:
        n += 1
        cells = [n, *extra]
        if not codes:
            cells.pop(1)
        ws.append(cells)
    ws.append([])
    ws.append(["单位负责人:王某某    审核人:陈某某    填报人:卢某某    联系电话:0873-4254774"])
    if edit:
        edit(ws)
    wb.save(path)
    return path


def headings_in_name_column(figure: Any = None) -> Callable[[Worksheet], None]:
    """Move the section headings from the 序号 column into the 指标名称 column (B without a code column), as a
    township does that retypes the form, numbered “二.” rather than “二、” once; ``figure`` is typed beside it."""
    moved = {
        "一、老年人关爱服务": "一、老年人关爱服务",
        "二、阵地建设": "二.阵地建设",
        "三、儿童关爱保护": "三、儿童关爱保护",
    }

    def edit(ws) -> None:
        for (cell,) in ws.iter_rows(min_col=1, max_col=1):
            if cell.value in moved:
                ws.cell(row=cell.row, column=2).value = moved[cell.value]
                if figure is not None and cell.value == "二、阵地建设":
                    ws.cell(row=cell.row, column=4).value = figure
                cell.value = None

    return edit


def year_columns(
    left: str, right: str = "2025年", last_year: dict[str, Any] | None = None
) -> Callable[[Worksheet], None]:
    """Put a column headed ``left`` before the value column and head the value column ``right``, as a township
    does that keeps last year's figures beside this year's; ``last_year`` fills the new column by code."""

    def edit(ws) -> None:
        ws.insert_cols(5)
        for row in ws.iter_rows():
            if row[5].value == "2025年":
                row[4].value, row[5].value = left, right
            elif last_year and row[1].value in last_year:
                row[4].value = last_year[row[1].value]

    return edit


def table_copied_below(first: int, last: int, notes: int = 0) -> Callable[[Worksheet], None]:
    """Below the footer: ``notes`` lines of notes, then a copy of rows ``first``..``last`` (a second table)."""

    def edit(ws) -> None:
        copied = [[c.value for c in row] for row in ws.iter_rows(min_row=first, max_row=last)]
        for k in range(notes):
            ws.append([f"注{k + 1}:本表数据截至2025年12月31日。"])
        ws.append([])
        for row in copied:
            ws.append(row)

    return edit


def write_table2(
    path: Path,
    rows: dict[str, dict[str, Any]] | None = None,
    total: dict[str, Any] | None = None,
    year: int = 2025,
    *,
    unit_label: str = "乡镇",
    filer: str = "县卫生健康局",
    names: dict[str, str] | None = None,
) -> Path:
    """表二 as the health bureau files it: one row a township, a two-tier merged header, a 合计 row."""
    if rows is None:
        units = expected_2025()["units"]
        rows = {u: {c: units[u][c] for c in ("H01", "H02", "H03", "H04")} for u in TOWNSHIPS}
    if total is None:
        total = {c: expected_2025()["totals"][c] for c in ("H01", "H02", "H03", "H04")}
    names = names or {}
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["表二"])
    ws.append([f"绿春县{year}年老年人健康管理情况表"])
    ws.append([f"填报单位:{filer}"] if filer else [])
    ws.append(
        [
            "序号",
            unit_label,
            "家庭医生签约服务",
            None,
            names.get("H03", "健康管理率(%)"),
            names.get("H04", "爱心义诊(场次)"),
            "备注",
        ]
    )
    ws.append(
        [
            None,
            None,
            names.get("H01", "60周岁以上家庭医生签约人数(人)"),
            names.get("H02", "65周岁以上老年人健康管理人数(人)"),
        ]
    )
    for rng in ("A4:A5", "B4:B5", "C4:D4", "E4:E5", "F4:F5", "G4:G5"):
        ws.merge_cells(rng)
    for i, (unit, vals) in enumerate(rows.items(), start=1):
        ws.append([i, unit, vals.get("H01"), vals.get("H02"), _num(vals.get("H03")), vals.get("H04")])
    if total:
        ws.append(["合计", None, total["H01"], total["H02"], _num(total["H03"]), total["H04"]])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=2)
    ws.append([])
    ws.append(["填报人:某某    联系电话:0873-4221234"])
    wb.save(path)
    return path


def write_wide_table1(
    path: Path,
    rows: dict[str, dict[str, Any]],
    year: int = 2025,
    *,
    money_in_wan: bool = True,
    filer: str = "县民政局",
    total: dict[str, Any] | None = None,
) -> Path:
    """A county-compiled 表一: one township a row, indicators across, money in 万元 in the header."""
    cat = {r["指标代码"]: r for r in catalogue()}  # any table's, for a return that mixes them up
    codes = list(next(iter(rows.values())))
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([f"绿春县{year}年各乡镇“一老一小”关爱服务情况汇总表"])
    ws.append([f"填报单位:{filer}"])
    header = ["序号", "乡镇"]
    for c in codes:
        unit = "万元" if money_in_wan and cat[c]["计量单位"] == "元" else cat[c]["计量单位"]
        header.append(f"{cat[c]['指标名称']}({unit})")
    ws.append(header)
    for i, (unit, vals) in enumerate(rows.items(), start=1):
        ws.append([i, unit, *[vals[c] for c in codes]])
    if total:
        ws.append(["合计", None, *[total[c] for c in codes]])
    wb.save(path)
    return path


def save_as_csv(xlsx: Path, path: Path, encoding: str = "utf-8-sig") -> Path:
    """The first sheet as WPS/Excel “另存为 CSV” writes it: a merged range's text in its first cell only, the
    other cells of the range empty, numbers as shown."""
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    with path.open("w", newline="", encoding=encoding) as fh:
        out = csv.writer(fh)
        for row in ws.iter_rows(values_only=True):
            out.writerow(["" if v is None else v for v in row])
    return path


def rewrite_cells(path: Path, cells: dict[str, str], member: str = "xl/worksheets/sheet1.xml") -> Path:
    """Replace cell elements in an openpyxl-written workbook with XML as another writer saves it (Excel's
    ``<c r="D15" s="1"/>`` for a styled empty cell, ``t="str"`` and ``<v/>`` for a formula computed to empty
    text), which openpyxl cannot write. Each cell must exist in the sheet."""
    data = {}
    with zipfile.ZipFile(path) as zin:
        items = zin.infolist()
        data = {i.filename: zin.read(i.filename) for i in items}
    xml = data[member].decode("utf-8")
    for ref, element in cells.items():
        xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', lambda _m, e=element: e, xml, count=1)
        assert n == 1, f"no cell {ref} in {member}"
    data[member] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in items:
            zout.writestr(item, data[item.filename])
    return path


def _num(v: Any) -> Any:
    """Expected-file text such as "369104.00" as the number a clerk would type."""
    if isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return v
        return int(f) if f.is_integer() else f
    return v
