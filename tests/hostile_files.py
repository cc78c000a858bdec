"""Hostile and broken input files, made on the spot (tests/test_hostile_extra.py; the registries at the end list
them all for a measuring run).

Each maker writes one file at ``path`` and returns it. Nothing here is committed as a binary fixture, so every
file can be looked at by reading the code that makes it.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook, load_workbook

from tests.workbooks import write_table1

YEAR = 2024  # hostile files that must read correctly use a year the example store does not hold


def _valid(path: Path, year: int = YEAR, unit: str = "大兴镇", **kw) -> Path:
    return write_table1(path, unit, year, values=_values(unit), **kw)


def _values(unit: str) -> dict[str, object]:
    from tests.workbooks import expected_2025

    return {k: v for k, v in expected_2025()["units"][unit].items() if not k.startswith("H")}


def _rezip(src: Path, dst: Path, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> Path:
    """Copy an .xlsx member by member, swapping or adding members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


# ---------------------------------------------------------------- 1
def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def random_bytes(path: Path) -> Path:
    path.write_bytes(random.Random(5).randbytes(64 * 1024))
    return path


def truncated_xlsx(path: Path) -> Path:
    whole = _valid(path.with_name("whole-" + path.name))
    data = whole.read_bytes()
    whole.unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


# ---------------------------------------------------------------- 2
def word_as_xlsx(path: Path) -> Path:
    from docx import Document

    doc = Document()
    doc.add_paragraph("关于报送2025年度一老一小统计表的说明")
    buf = io.BytesIO()
    doc.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def pdf_as_xls(path: Path) -> Path:
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    return path


# ---------------------------------------------------------------- 3
def encrypted_xlsx(path: Path) -> Path:
    import msoffcrypto.format.ooxml as ooxml

    plain = _valid(path.with_name("plain-" + path.name))
    with plain.open("rb") as fh, path.open("wb") as out:
        ooxml.OOXMLFile(fh).encrypt("123456", out)
    plain.unlink()
    return path


# ---------------------------------------------------------------- 4
def blank_workbook(path: Path) -> Path:
    Workbook().save(path)
    return path


def meeting_notes(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "会议纪要"
    for line in (
        ["大兴镇党政联席会议纪要"],
        ["时间:2026年1月5日", None, "地点:镇政府三楼会议室"],
        ["议题", "内容"],
        ["一", "研究部署一老一小关爱服务工作"],
        ["二", "安排年终统计报送"],
        ["参会人员:王某某、陈某某"],
    ):
        ws.append(line)
    wb.save(path)
    return path


# ---------------------------------------------------------------- 5, 6
def formula_no_cache(path: Path) -> Path:
    """openpyxl writes formulas without a cached value, as generators that do not calculate do."""
    vals = _values("大兴镇")
    vals["A02"] = "=30+39"
    return write_table1(path, "大兴镇", YEAR, values=vals)


def stray_far_cell(path: Path) -> Path:
    def edit(ws):
        ws["XFD1048576"] = " "

    return _valid(path, edit=edit)


# ---------------------------------------------------------------- 7
def zip_bomb(path: Path, inflated_mb: int = 1100) -> Path:
    """A workbook whose sheet XML inflates to ``inflated_mb`` MB (whitespace in sheetData) from a small file."""
    base = _valid(path.with_name("base-" + path.name))
    chunk = b" " * (1 << 20)
    with (
        zipfile.ZipFile(base) as zin,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout,
    ):
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info.filename, zin.read(info.filename))
                continue
            xml = zin.read(info.filename)
            head, tail = xml.split(b"<sheetData>", 1)
            with zout.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(head + b"<sheetData>")
                for _ in range(inflated_mb):
                    fh.write(chunk)
                fh.write(tail)
    base.unlink()
    return path


def zip_bomb_lying(path: Path, inflated_mb: int = 1100) -> Path:
    """The sheet inflates to ``inflated_mb`` MB but the zip headers declare 1000 bytes: the directory check
    sees nothing, so only a reader that stops at the declared size survives it."""
    import struct

    base = _valid(path.with_name("base-" + path.name))
    member = "xl/worksheets/sheet1.xml"
    with (
        zipfile.ZipFile(base) as zin,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename != member:
                zout.writestr(info.filename, data)
                continue
            with zout.open(member, "w") as fh:
                for _ in range(inflated_mb):
                    fh.write(b" " * (1 << 20))  # whitespace before the root element: well-formed XML
                fh.write(data)
    base.unlink()
    raw = bytearray(path.read_bytes())
    name = member.encode()
    at = raw.find(name)
    while at >= 0:
        for sig, size_at, fixed in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
            if raw[at - fixed : at - fixed + 4] == sig:
                struct.pack_into("<I", raw, at - fixed + size_at, 1000)
        at = raw.find(name, at + 1)
    path.write_bytes(bytes(raw))
    return path


# ---------------------------------------------------------------- 8
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
)


def laughs_in_shared_strings(path: Path) -> Path:
    """A sharedStrings.xml part (with its relationship) whose one string is a billion laughs."""
    base = _valid(path.with_name("base-" + path.name))
    with zipfile.ZipFile(base) as z:
        ct = z.read("[Content_Types].xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
    ct = ct.replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    rels = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    sst = LAUGHS + (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>&lol9;</t></si></sst>"
    )
    _rezip(
        base,
        path,
        {"[Content_Types].xml": ct, "xl/_rels/workbook.xml.rels": rels},
        {"xl/sharedStrings.xml": sst},
    )
    base.unlink()
    return path


def laughs_in_sheet(path: Path) -> Path:
    base = _valid(path.with_name("base-" + path.name))
    with zipfile.ZipFile(base) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    xml = xml.split(b"?>", 1)[-1] if xml.startswith(b"<?xml") else xml
    xml = xml.replace(b"<v>", b"<v>&lol9;", 1)
    _rezip(base, path, {"xl/worksheets/sheet1.xml": LAUGHS + xml})
    base.unlink()
    return path


def laughs_after_padding(path: Path) -> Path:
    """The DOCTYPE behind 8 KB of comment in the prolog, past where a reader might only peek."""
    base = _valid(path.with_name("base-" + path.name))
    with zipfile.ZipFile(base) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    xml = xml.split(b"?>", 1)[-1] if xml.startswith(b"<?xml") else xml
    xml = xml.replace(b"<v>", b"<v>&lol9;", 1)
    padded = b'<?xml version="1.0"?>\n<!--' + b" " * 8192 + b"-->\n" + LAUGHS.split(b"?>", 1)[1] + xml
    _rezip(base, path, {"xl/worksheets/sheet1.xml": padded})
    base.unlink()
    return path


# ---------------------------------------------------------------- 9
VBA_MARKER = b'Attribute VB_Name = "Module1"\r\nSub Auto_Open()\r\n  Shell "calc.exe"\r\nEnd Sub\r\n'


def xlsm_with_macro(path: Path) -> Path:
    """An .xlsm: macro-enabled content type and a vbaProject.bin part (never run by carestats)."""
    base = _valid(path.with_name("base-" + path.stem + ".xlsx"))
    with zipfile.ZipFile(base) as z:
        ct = z.read("[Content_Types].xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
    ct = ct.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ).replace(
        b"</Types>",
        b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    rels = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
        b' Target="vbaProject.bin"/></Relationships>',
    )
    _rezip(
        base,
        path,
        {"[Content_Types].xml": ct, "xl/_rels/workbook.xml.rels": rels},
        {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + VBA_MARKER},
    )
    base.unlink()
    return path


# ---------------------------------------------------------------- 10
def csv_return(path: Path, unit: str, encoding: str, year: int = YEAR) -> Path:
    """A return saved “as CSV” from WPS: the same rows as the workbook, in the given encoding."""
    book = _valid(path.with_suffix(".tmp.xlsx"), year, unit)
    ws = load_workbook(book).active
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in ws.iter_rows(values_only=True):
        writer.writerow(["" if v is None else v for v in row])
    book.unlink()
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


# ---------------------------------------------------------------- registry for the bench
REFUSED_MAKERS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "1 空文件": ("空文件.xlsx", empty_file),
    "1 随机字节": ("随机字节.xlsx", random_bytes),
    "1 截断的 xlsx": ("截断.xlsx", truncated_xlsx),
    "2 Word 改名": ("Word文档.xlsx", word_as_xlsx),
    "2 PDF 改名": ("扫描件.xls", pdf_as_xls),
    "3 加密工作簿": ("加密.xlsx", encrypted_xlsx),
    "4 空工作簿": ("空白.xlsx", blank_workbook),
    "4 会议纪要": ("会议纪要.xlsx", meeting_notes),
    "5 公式无缓存值": ("公式.xlsx", formula_no_cache),
    "7 压缩炸弹 1.1 GB": ("炸弹.xlsx", zip_bomb),
    "7 压缩炸弹,头部谎报大小": ("谎报炸弹.xlsx", zip_bomb_lying),
    "8 实体膨胀 sharedStrings": ("实体1.xlsx", laughs_in_shared_strings),
    "8 实体膨胀 sheet": ("实体2.xlsx", laughs_in_sheet),
    "8 实体声明藏在 8 KB 注释后": ("实体3.xlsx", laughs_after_padding),
}
READ_MAKERS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "6 XFD1048576 的空格": ("远处单元格.xlsx", stray_far_cell),
    "9 带宏 .xlsm": ("带宏.xlsm", xlsm_with_macro),
    "10 GBK 编码 CSV": ("大兴镇 2025 报表.csv", lambda p: csv_return(p, "大兴镇", "gbk")),
}
