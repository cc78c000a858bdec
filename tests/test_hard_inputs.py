"""Items of shared/notes/hard-inputs.md that no other test pinned on a real file: each file here is written as
WPS/Excel/LibreOffice write it (XML patched where openpyxl cannot write it, .xls made by LibreOffice)."""

from __future__ import annotations

import csv
import datetime
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from carestats.ingest import REFUSED, STORED
from carestats.reader import Limits, open_book
from tests.test_ingest import FIXTURES, assert_table2_as_expected, assert_unit_matches, ingest_one, values_of
from tests.workbooks import rewrite_cells, save_as_csv, write_table1, write_table2


def _repack(path: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """Rewrite every part of an .xlsx through ``change`` (name, bytes) → bytes."""
    with zipfile.ZipFile(path) as zin:
        parts = [(i, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in parts:
            zout.writestr(info, change(info.filename, data))
    return path


# ------------------------------------------------------------------ 12. WPS writes <dimension ref="A1:A1"/>
def test_a_dimension_of_one_cell_as_wps_writes_it_is_not_trusted(store, profile, tmp_path):
    def one_cell(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        data, n = re.subn(rb"<dimension ref=\"[^\"]*\"/>", b'<dimension ref="A1:A1"/>', data)
        assert n == 1
        return data

    path = _repack(write_table1(tmp_path / "大兴镇.xlsx"), one_cell)
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert_unit_matches(store, "大兴镇")


# ------------------------------------------------------------------ 9. error values other than #DIV/0!
@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#VALUE!", "#NAME?"])
def test_an_error_value_left_by_a_formula_is_a_located_problem(store, profile, tmp_path, error):
    # as Excel saves a VLOOKUP that found nothing: the formula and its error as the cached value
    path = rewrite_cells(
        write_table1(tmp_path / "大兴镇.xlsx"),
        {"E15": f'<c r="E15" t="e"><f>VLOOKUP(B15,Sheet2!A:B,2,0)</f><v>{error}</v></c>'},
    )
    r = ingest_one(store, profile, path)
    [p] = r.problems
    assert (p.cell, p.code, p.problem, p.raw) == ("E15", "A10", "error-value", error)
    assert values_of(store)[("大兴镇", "A10")].value is None


def test_an_error_value_saved_as_text_in_a_gbk_csv_is_told_as_an_error(store, profile, tmp_path):
    src = save_as_csv(write_table1(tmp_path / "src.xlsx"), tmp_path / "src.csv")
    rows = list(csv.reader(src.open(encoding="utf-8-sig")))
    for row in rows:
        if row[1:2] == ["A10"]:
            row[4] = "#DIV/0!"  # as WPS “另存为 CSV” writes an error cell: the text it shows
    path = tmp_path / "大兴镇.csv"
    with path.open("w", newline="", encoding="gbk") as fh:
        csv.writer(fh).writerows(rows)
    r = ingest_one(store, profile, path)
    [p] = r.problems
    assert (p.code, p.problem, p.raw) == ("A10", "error-value", "#DIV/0!")
    assert "错误值 #DIV/0!" in p.detail


# ------------------------------------------------------------------ 9, 10 and the origin on an .xls
def test_xls_error_cell_date_format_and_addresses_off_origin(store, profile):
    # made by LibreOffice from write_table1 with two rows and a column inserted above/before the table, =1/0 in
    # A10's value cell, A11's value cell formatted yyyy-mm-dd and “2000余” typed for A12
    path = FIXTURES / "off-origin-errors-大兴镇2025年一老一小统计表.xls"
    assert open_book(path).kind == "xls"
    r = ingest_one(store, profile, path)
    assert r.status == STORED
    got = {p.code: (p.cell, p.problem, p.raw) for p in r.problems}
    assert got == {
        "A10": ("F17", "error-value", "#DIV/0!"),  # calamine shows it empty: never “单元格为空”
        "A11": ("F18", "not-a-number", "1900-01-17"),  # a count shown as a date is no figure
        "A12": ("F19", "approximate", "2000余"),
    }
    assert values_of(store)[("大兴镇", "A02")].cell == "F9"  # E7 of the form, a row of 2 and a column on


# ------------------------------------------------------------------ 21. WPS in-cell picture
def test_a_wps_picture_in_a_value_cell_is_not_a_value(store, profile, tmp_path):
    # WPS saves an in-cell picture as a formula whose cached value is the formula's own text
    path = rewrite_cells(
        write_table1(tmp_path / "大兴镇.xlsx"),
        {
            "E15": '<c r="E15" t="str"><f>_xlfn.DISPIMG("ID_5F3A0B1C2D8E",1)</f><v>=DISPIMG("ID_5F3A0B1C2D8E",1)</v></c>'
        },
    )
    r = ingest_one(store, profile, path)
    [p] = r.problems
    assert (p.cell, p.code, p.problem) == ("E15", "A10", "not-a-number")
    assert "图片" in p.detail


# ------------------------------------------------------------------ 22. binary noise in a cached value
def test_floating_noise_in_a_money_cell_is_stored_as_typed(store, profile, tmp_path):
    path = write_table1(tmp_path / "大兴镇.xlsx")
    ws = load_workbook(path).active
    cell = next(f"E{c.row}" for c in ws["B"] if c.value == "A07")  # 指标代码 in B, the figure in E
    rewrite_cells(path, {cell: f'<c r="{cell}"><v>274.65999999999997</v></c>'})
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert values_of(store)[("大兴镇", "A07")].value == Decimal("274.66")


# ------------------------------------------------------------------ 16. Strict OOXML (Excel “Strict Open XML”)
def test_strict_open_xml_is_read(store, profile, tmp_path):
    def strict(name: str, data: bytes) -> bytes:
        if not name.endswith((".xml", ".rels")):
            return data
        data = data.replace(
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        ).replace(
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        )
        return data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)

    path = _repack(write_table1(tmp_path / "大兴镇.xlsx"), strict)
    assert b"purl.oclc.org" in zipfile.ZipFile(path).read("xl/workbook.xml")
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert_unit_matches(store, "大兴镇")


# ------------------------------------------------------------------ 14. routed by content, not by name
def test_an_xlsx_named_xls_and_an_xls_named_et_are_read(store, profile, tmp_path):
    xlsx = write_table1(tmp_path / "src.xlsx")
    r = ingest_one(store, profile, Path(shutil.copy(xlsx, tmp_path / "大兴镇.xls")))
    assert (r.status, r.problems) == (STORED, [])
    et = Path(
        shutil.copy(FIXTURES / "old-name-平河乡2025年一老一小统计表.xls", tmp_path / "平河乡2025年统计表.et")
    )
    r = ingest_one(store, profile, et)
    assert (r.status, r.filer, r.problems) == (STORED, "平河镇", [])


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"<html><body><table><tr><td>569</td></tr></table></body></html>", "网页"),
        (
            b'MIME-Version: 1.0\r\nX-Document-Type: Workbook\r\nContent-Type: multipart/related; boundary="----=_Next"\r\n',
            "单个文件网页",
        ),
        (
            b'<?xml version="1.0"?>\r\n<?mso-application progid="Excel.Sheet"?>\r\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
            "XML 电子表格 2003",
        ),
    ],
)
def test_a_web_page_or_xml_spreadsheet_named_xls_is_refused_saying_what_it_is(
    store, profile, tmp_path, head, words
):
    path = tmp_path / "大兴镇.xls"
    path.write_bytes(head)
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "not-a-spreadsheet")
    assert words in r.message and "另存为”.xlsx" in r.message
    assert store.counts() == (0, 0)


def test_a_csv_named_xls_is_refused_saying_how_to_read_it(store, profile, tmp_path):
    src = save_as_csv(write_table1(tmp_path / "src.xlsx"), tmp_path / "src.csv")
    r = ingest_one(store, profile, Path(shutil.copy(src, tmp_path / "大兴镇.xls")))
    assert (r.status, r.code) == (REFUSED, "wrong-extension")
    assert "内容是纯文本" in r.message and "改为 .csv" in r.message


# ------------------------------------------------------------------ 15. an encrypted .xls
def _with_filepass(src: Path, path: Path) -> Path:
    """``src`` (an .xls) as Excel saves it encrypted (RC4, as with its default password VelvetSweatshop): a
    FILEPASS record right after the workbook's BOF. The records it replaces are padded to their size, so the
    compound file stays whole."""
    data = bytearray(src.read_bytes())
    at = data.find(b"\x09\x08\x10\x00\x00\x06\x05\x00") + 20  # after the BIFF8 globals' BOF
    span = 0
    while span < 64:  # whole records, enough room for FILEPASS and a filler record
        span += 4 + int.from_bytes(data[at + span + 2 : at + span + 4], "little")
    body = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(48)
    filler = span - (4 + len(body)) - 4
    data[at : at + span] = (
        b"\x2f\x00"
        + len(body).to_bytes(2, "little")
        + body
        + b"\x5c\x00"
        + filler.to_bytes(2, "little")
        + b" " * filler
    )
    path.write_bytes(bytes(data))
    return path


def test_an_encrypted_xls_is_refused_as_encrypted_not_damaged(store, profile, tmp_path):
    path = _with_filepass(FIXTURES / "old-name-平河乡2025年一老一小统计表.xls", tmp_path / "平河乡.xls")
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "encrypted")
    assert "已加密" in r.message and "取消密码" in r.message and "修改权限密码" in r.message
    assert store.counts() == (0, 0)


# ------------------------------------------------------------------ 11. a value cell merged over two rows
def test_a_value_merged_over_two_indicator_rows_is_never_copied_and_the_covered_row_says_why(
    store, profile, tmp_path
):
    def merge_a05_a06(ws):
        row = next(c.row for c in ws["B"] if c.value == "A05")
        ws.merge_cells(start_row=row, start_column=5, end_row=row + 1, end_column=5)

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=merge_a05_a06))
    [p] = r.problems
    assert (p.cell, p.code, p.problem) == ("E11", "A06", "blank")
    assert "与 E10 合并" in p.detail and "取消合并" in p.detail
    got = values_of(store)
    assert got[("大兴镇", "A06")].value is None  # never E10's figure a second time
    assert got[("大兴镇", "A05")].cell == "E10"


# ------------------------------------------------------------------ 19. two tables side by side
def test_a_table_copied_beside_itself_is_refused_naming_both_value_columns(store, profile, tmp_path):
    def copy_right(ws):
        rows = list(ws.iter_rows(max_col=6, values_only=True))
        for i, row in enumerate(rows, 1):
            for j, v in enumerate(row):
                ws.cell(i, 8 + j).value = v

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=copy_right))
    assert r.status == REFUSED
    assert "E列“2025年”" in r.message and "L列“2025年”" in r.message
    assert store.counts() == (0, 0)


# ------------------------------------------------------------------ 10. the fill date as a date, a serial, text
@pytest.mark.parametrize("written", [datetime.date(2026, 1, 7), 46029, "2026.1.7", "2026年1月"])
def test_a_fill_date_in_any_form_is_neither_the_year_nor_a_figure(store, profile, tmp_path, written):
    def fill_date(ws):
        cell = next(c for row in ws.iter_rows() for c in row if str(c.value).startswith("填报日期"))
        cell.value = "填报日期:"
        ws.cell(cell.row, cell.column + 1).value = written
        if isinstance(written, datetime.date):
            ws.cell(cell.row, cell.column + 1).number_format = "yyyy-mm-dd"

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=fill_date))
    assert (r.status, r.year, r.problems) == (STORED, 2025, [])
    assert_unit_matches(store, "大兴镇")


# ------------------------------------------------------------------ 2. a three-tier merged header
def _three_tiers(path: Path) -> Path:
    """表二 with “老年人健康服务” merged over its four indicator columns above the two tiers it has."""
    wb = load_workbook(path)
    ws = wb.active
    for rng in list(ws.merged_cells.ranges):
        ws.unmerge_cells(str(rng))
    ws.insert_rows(4)
    ws["A4"], ws["B4"], ws["C4"], ws["G4"] = "序号", "乡镇", "老年人健康服务", "备注"
    ws["A5"] = ws["B5"] = ws["G5"] = None
    for rng in ("A4:A6", "B4:B6", "C4:F4", "C5:D5", "E5:E6", "F5:F6", "G4:G6"):
        ws.merge_cells(rng)
    wb.save(path)
    return path


def test_a_three_tier_merged_header_is_read(store, profile, tmp_path):
    path = _three_tiers(write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx"))
    r = ingest_one(store, profile, path)
    assert (r.status, r.table, r.problems) == (STORED, "表二", [])
    assert_table2_as_expected(store, profile, "C7")


def test_xls_three_tier_merged_header_is_read(store, profile):
    # made by LibreOffice from the .xlsx of test_a_three_tier_merged_header_is_read
    r = ingest_one(store, profile, FIXTURES / "three-tier-header-县卫健局2025年老年人健康管理情况表.xls")
    assert (r.status, r.table, r.problems) == (STORED, "表二", [])
    assert_table2_as_expected(store, profile, "C7")


# ------------------------------------------------------------------ 20. one label under two parents
def test_columns_that_name_one_indicator_under_two_parents_are_refused_with_their_paths(
    store, profile, tmp_path
):
    path = write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    for rng in list(ws.merged_cells.ranges):
        ws.unmerge_cells(str(rng))
    ws.insert_cols(4)  # 签约人数 split into 人数 and 签约率 under one parent
    ws["C4"], ws["E4"] = "60周岁以上家庭医生签约人数", "65周岁以上老年人健康管理人数"
    ws["C5"], ws["D5"], ws["E5"] = "人数(人)", "签约率(%)", "人数(人)"
    for rng in ("A4:A5", "B4:B5", "C4:D4", "F4:F5", "G4:G5", "H4:H5"):
        ws.merge_cells(rng)
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED
    assert (
        "D4 列标题“60周岁以上家庭医生签约人数/签约率(%)”和 C4 列标题“60周岁以上家庭医生签约人数/人数(人)”"
        in r.message
    )
    assert store.counts() == (0, 0)


# ------------------------------------------------------------------ 13. a stray cell far away on an .xls
def test_xls_with_a_stray_cell_at_iv65536_reads_in_little_memory(store, profile):
    # made by LibreOffice from write_table1 with “x” typed at IV65536, the last cell of an .xls sheet:
    # calamine builds a dense grid of 16.7 million cells as it opens such a file (550 MB, 1.2 GB in all)
    path = FIXTURES / "stray-cell-IV65536-大兴镇2025年一老一小统计表.xls"
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from carestats.reader import open_book\n"
        "book = open_book(Path(sys.argv[1]))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert int(child.stdout) < 200, child.stdout  # megabytes
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert_unit_matches(store, "大兴镇")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xls")))
def test_an_xls_read_sparsely_gives_the_cells_calamine_gives(name):
    dense, sparse = open_book(FIXTURES / name), open_book(FIXTURES / name, Limits(max_cells=1))

    def cells(book):
        return [
            (
                s.name,
                s.visible,
                s.very_hidden,
                sorted(s.merged),
                {
                    (s.row_numbers[i], j): v
                    for i, row in enumerate(s.rows)
                    for j, v in enumerate(row)
                    if not (isinstance(v, str) and not v.strip())
                },
            )
            for s in book.sheets
        ]

    assert cells(sparse) == cells(dense)


# ------------------------------------------------------------------ 5. the footer's phone number
def test_the_footers_phone_number_is_never_kept(store, profile, tmp_path):
    # write_table1's footer: 单位负责人/审核人/填报人/联系电话:0873-4254774 on one line
    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx"))
    assert (r.status, r.values, r.problems) == (STORED, 29, [])
    store.close()
    import sqlite3

    with sqlite3.connect(tmp_path / "test.db") as db:
        dump = "\n".join(db.iterdump())
    assert "4254774" not in dump and "卢某某" not in dump


# ------------------------------------------------------------------ 6, 7, 9 in each text encoding
@pytest.mark.parametrize(("encoding", "separator"), [("utf-8-sig", ","), ("gbk", ","), ("utf-16", "\t")])
def test_text_figures_placeholders_and_errors_in_csv_and_unicode_text(
    store, profile, tmp_path, encoding, separator
):
    # as WPS/Excel save a return typed with full-width digits, separators, units in the cell, a dash, an
    # approximate figure and an error cell: the text shown, in CSV (UTF-8, GBK) and “Unicode 文本” (UTF-16, tab)
    src = save_as_csv(write_table1(tmp_path / "src.xlsx"), tmp_path / "src.csv")
    rows = list(csv.reader(src.open(encoding="utf-8-sig")))
    typed = {"A01": "５６９", "A07": "369,104.00", "A02": "69人", "A03": "—", "A04": "2000余", "A05": "#N/A"}
    for row in rows:
        if row[1:2] and row[1] in typed:
            row[4] = typed[row[1]]
    path = tmp_path / ("大兴镇.txt" if encoding == "utf-16" else "大兴镇.csv")
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=separator, lineterminator="\r\n").writerows(rows)
    r = ingest_one(store, profile, path)
    assert r.status == STORED
    assert {p.code: p.problem for p in r.problems} == {
        "A03": "placeholder",
        "A04": "approximate",
        "A05": "error-value",
    }
    got = values_of(store)
    assert (got[("大兴镇", "A01")].value, got[("大兴镇", "A01")].raw) == (569, "５６９")
    assert got[("大兴镇", "A07")].value == Decimal("369104.00") and got[("大兴镇", "A02")].value == 69
    assert {got[("大兴镇", c)].value for c in ("A03", "A04", "A05")} == {None}
    assert got[("大兴镇", "A04")].cell == "E9"
