"""The spreadsheets carestats writes, as a clerk opens and prints them in WPS or Excel: every figure shown
whole (no ######), the header kept in view, and a printout one page wide with the header on every page."""

from __future__ import annotations

import shutil
import unicodedata
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tests.clirun import invoke
from tests.workbooks import EXAMPLES

SPEC_2025 = Path(__file__).resolve().parents[1] / "data" / "examples" / "letters" / "2025-57.toml"
DEFAULT_WIDTH = 8.43  # Excel's column width when none is set


def shown(value: object, number_format: str) -> str:
    """The text a cell shows for the number formats carestats writes."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if number_format.startswith("0.") or number_format.startswith("#,##0."):
            places = len(number_format.split(".")[1])
            sep = "," if number_format.startswith("#") else ""
            return f"{Decimal(value):{sep}.{places}f}"
        if number_format in ("0", "#,##0"):
            return f"{Decimal(value):{',' if number_format == '#,##0' else ''}.0f}"
    return "" if value is None else str(value)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def assert_columns_fit(ws: Worksheet) -> None:
    """Every column is wide enough for its widest value, so no number turns into ######."""
    for col in range(1, ws.max_column + 1):
        letter = get_column_letter(col)
        dim = ws.column_dimensions.get(letter)
        width = dim.width if dim is not None and dim.width else DEFAULT_WIDTH
        widest = max(display_width(shown(c.value, c.number_format)) for c in ws[letter])
        assert width >= widest + 1, (ws.title, letter, width, widest)


def assert_prints_one_page_wide(ws: Worksheet, *, title_rows: str) -> None:
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert (ws.print_title_rows or "").replace("$", "") == title_rows


def test_figures_xlsx_shows_every_figure_and_prints_one_page_wide(tmp_path: Path) -> None:
    db = tmp_path / "2025.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    r = invoke("figures", "--db", db, "-o", tmp_path / "汇总.xlsx")
    assert r.exit_code == 0, r.output
    ws = load_workbook(tmp_path / "汇总.xlsx").active
    assert_columns_fit(ws)
    assert ws.freeze_panes == "D2"  # heading row and 指标代码/名称/计量单位 stay in view
    assert_prints_one_page_wide(ws, title_rows="1:1")


def test_audit_xlsx_shows_whole_names_and_prints_one_page_wide(tmp_path: Path) -> None:
    db = tmp_path / "2025.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    r = invoke("report", "--db", db, SPEC_2025, "-o", tmp_path / "a.txt", "--audit", tmp_path / "核对表.xlsx")
    assert r.exit_code == 0, r.output
    ws = load_workbook(tmp_path / "核对表.xlsx").active
    assert_columns_fit(ws)
    assert ws.freeze_panes == "A2"
    assert_prints_one_page_wide(ws, title_rows="1:1")


def test_annotated_listing_numbers_sit_beside_their_finding_and_headings_fit(tmp_path: Path) -> None:
    returns = tmp_path / "returns"
    shutil.copytree(EXAMPLES, returns)
    path = returns / "大兴镇2025年一老一小统计表.xlsx"
    wb = load_workbook(path)
    wb["统计表"]["E6"] = 50  # A01 below A02 (69): an error whose message wraps onto two lines
    wb.save(path)
    db = tmp_path / "bad.db"
    invoke("ingest", "--db", db, returns)
    r = invoke("check", "--db", db, "--year", 2025, "--annotate", tmp_path / "审核意见")
    assert r.exit_code == 1, r.output
    ws = load_workbook(tmp_path / "审核意见" / "大兴镇2025年一老一小统计表_审核意见.xlsx").worksheets[0]
    for row in ws.iter_rows(min_row=3):
        assert all(c.alignment.vertical == "top" for c in row), [c.coordinate for c in row]
    for c in ws[2]:
        width = ws.column_dimensions[c.column_letter].width
        assert width >= display_width(c.value) + 2, (c.value, width)


def test_figures_xlsx_headings_stand_over_their_figures(tmp_path: Path) -> None:
    """Figures are right-aligned; a left-aligned 大兴镇 heading reads as the column left of it."""
    db = tmp_path / "2025.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    assert invoke("figures", "--db", db, "-o", tmp_path / "汇总.xlsx").exit_code == 0
    ws = load_workbook(tmp_path / "汇总.xlsx").active
    assert all(c.font.bold for c in ws[1])
    assert all(c.alignment.horizontal == "right" for c in ws[1][3:]), [c.value for c in ws[1][3:]]


def test_audit_xlsx_shows_money_with_two_decimals_and_counts_as_integers(tmp_path: Path) -> None:
    db = tmp_path / "2025.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    r = invoke("report", "--db", db, SPEC_2025, "-o", tmp_path / "a.txt", "--audit", tmp_path / "核对表.xlsx")
    assert r.exit_code == 0, r.output
    ws = load_workbook(tmp_path / "核对表.xlsx").active
    header = [c.value for c in ws[1]]
    value, source = header.index("数值"), header.index("来源数值")
    rows = {row[1].value: row for row in ws.iter_rows(min_row=2)}
    a07, a05, h03 = rows["A07"], rows["A05"], rows["H03"]  # money, count, rate
    assert shown(a07[value].value, a07[value].number_format) == "1688720.00"
    assert a07[source].number_format == "0.00"
    assert (a05[value].number_format, a05[source].number_format) == ("0", "0")
    assert shown(h03[value].value, h03[value].number_format) == "97.78"


def test_printed_figures_and_audit_pages_say_what_they_are_and_are_numbered(tmp_path: Path) -> None:
    """Row 1 holds the headings, so the page header names the sheet on paper; the footer numbers the pages."""
    db = tmp_path / "2025.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    assert invoke("figures", "--db", db, "-o", tmp_path / "汇总.xlsx").exit_code == 0
    r = invoke("report", "--db", db, SPEC_2025, "-o", tmp_path / "a.txt", "--audit", tmp_path / "核对表.xlsx")
    assert r.exit_code == 0, r.output
    figures = load_workbook(tmp_path / "汇总.xlsx").active
    audit = load_workbook(tmp_path / "核对表.xlsx").active
    assert "绿春县" in figures.oddHeader.center.text and "2025年" in figures.oddHeader.center.text
    assert "2025年答复函数字核对" in audit.oddHeader.center.text
    for ws in (figures, audit):
        assert ws.oddFooter.center.text == "第 &P 页,共 &N 页"
