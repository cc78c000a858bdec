"""Files → sheets of cells with the addresses WPS and Excel show.

The fast path is python-calamine. Before calamine sees an .xlsx/.xlsm, the zip directory and the sheet XML
are inspected cheaply, because calamine neither bounds decompressed size nor a sheet's extent (a stray
cell at XFD1048576 makes it allocate a dense grid and abort the process): such sheets are read sparsely
here instead. Files are routed by their content, not their name.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from carestats.errors import CarestatsError, os_reason
from carestats.package import Package, ZipfilePackage, open_package

_WILDCARD = re.compile(r"[*?]")
LOCK_FILE_PREFIXES = ("~$", ".~lock.")  # what Excel/WPS and LibreOffice leave beside an open workbook
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".csv", ".ods", ".et"}

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
# A cell beyond column Z or a row beyond 9999: only then is the exact extent worth computing.
_FAR_REF = re.compile(rb'r="(?:[A-Z]{2,}[0-9]|[A-Z]*[0-9]{5})')  # a literal prefix: fast
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]{1,7})\"")


class ReadError(CarestatsError):
    """A file that cannot be read as a return at all; the message names the file and what to do."""

    def __init__(self, path: Path | str, cause: str, advice: str, code: str = "unreadable-file"):
        name = Path(path).name
        super().__init__(f"{name}:{cause}。{advice}")
        self.path = str(path)
        self.code = code
        self.cause = cause
        self.advice = advice


@dataclass
class Limits:
    """Safety limits; a profile can raise them (profile.toml [limits])."""

    max_file_mb: int = 100
    max_uncompressed_mb: int = 500
    max_cells: int = 2_000_000


@dataclass
class Sheet:
    """One worksheet: ragged rows of Python values and the absolute position of each row."""

    name: str
    rows: list[list[Any]]
    row_numbers: list[int]  # 0-based absolute row of rows[i]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # absolute r0, c0, r1, c1
    visible: bool = True
    xml: bytes | None = field(default=None, repr=False)  # an .xlsx sheet's XML, scanned only when asked
    very_hidden: bool = False  # state="veryHidden": WPS/Excel's 取消隐藏 list does not show it
    _uncached: tuple[dict[str, str], dict[str, str], dict[str, str]] | None = field(default=None, repr=False)
    package: tuple[Path, Any] | None = field(
        default=None, repr=False
    )  # (file, .xlsx package): styles on demand
    _percent: frozenset[str] | None = field(default=None, repr=False)
    xls: XlsFormats | None = field(default=None, repr=False)  # an .xls sheet's formats, read on demand

    @property
    def percent_cells(self) -> frozenset[str]:
        """A1 of the cells formatted as a percentage (0.00%): calamine gives 0.9858 for a cell showing 98.58%.
        Read from the styles and the sheet XML on demand: only a rate's value cell asks."""
        if self._percent is None:
            if self.xls is not None:
                self._percent = self.xls.sheet(self.name)[1]
            else:
                self._percent = (
                    _percent_cells(self.xml, *self.package) if self.xml and self.package else frozenset()
                )
        return self._percent

    @property
    def formula_cells(self) -> dict[str, str]:
        """A1 → formula text, for formulas saved without a computed value (calamine shows them empty)."""
        return self._scan()[0]

    @property
    def error_cells(self) -> dict[str, str]:
        """A1 → #DIV/0! … (calamine shows error cells empty)."""
        return self._scan()[1]

    @property
    def empty_text_formulas(self) -> dict[str, str]:
        """A1 → formula text, for formulas whose saved result is empty text (=IF(B5="","",B5)): saving the file
        again gives the same blank, unlike a formula saved without a result."""
        return self._scan()[2]

    def _scan(self) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        # on demand: only an empty value cell asks, so a fully filled return never pays for the scan
        if self._uncached is None:
            if self.xls is not None:  # an .xls always saves formula results; its error cells come from xlrd
                self._uncached = ({}, self.xls.sheet(self.name)[2], {})
            else:
                self._uncached = _scan_uncached(self.xml) if self.xml else ({}, {}, {})
        return self._uncached

    @property
    def hidden_columns(self) -> frozenset[int]:
        """0-based columns the sheet hides (an .xlsx's ``<col min max hidden="1">``, an .xls's COLINFO);
        calamine reads them like any other."""
        if self.xls is not None:
            return self.xls.sheet(self.name)[0]
        # <cols> comes before <sheetData>: only that head of the XML is searched
        if not self.xml or self.xml.find(b"hidden", 0, self.xml.find(b"sheetData")) < 0:
            return frozenset()
        out: set[int] = set()
        for m in _COL_TAG.finditer(self.xml):
            attrs = dict(_ATTR.findall(m.group(1)))
            if attrs.get(b"hidden") in (b"1", b"true"):
                lo, hi = int(attrs.get(b"min", b"1")), int(attrs.get(b"max", b"1"))
                out.update(range(max(lo, 1) - 1, min(hi, 16384)))
        return frozenset(out)

    def get(self, i: int, j: int) -> Any:
        row = self.rows[i]
        return row[j] if j < len(row) else ""

    def addr(self, i: int, j: int) -> str:
        return f"{col_letter(j)}{self.row_numbers[i] + 1}"


@dataclass
class Book:
    path: Path
    kind: str  # xlsx | xls | csv | ods
    sheets: list[Sheet]
    sha256: str = ""  # of the bytes that were read: what the store compares to tell a file already ingested


@lru_cache(maxsize=4096)
def col_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


# --------------------------------------------------------------------------- routing
def sniff(path: Path, head: bytes) -> str:
    """What the file really is, from its first bytes: xlsx, xls, ods, csv, or a reason it is not a return."""
    if not head:
        raise ReadError(path, "文件是空的(0 字节)", "请向报送单位索取完整的文件后重新汇入", "empty-file")
    if head.startswith(_ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(_CFB_MAGIC):
        return "cfb"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its BOM: Excel's “Unicode 文本”
        return "text"
    if head.startswith(b"%PDF"):
        raise ReadError(
            path, "这是 PDF 文件,不是电子表格", "请索取 Excel/WPS 表格原件(.xlsx)", "not-a-spreadsheet"
        )
    lowered = head[:512].lstrip().lower()
    if lowered.startswith(b"mime-version:") or b"\nx-document-type: workbook" in lowered:
        raise ReadError(  # Excel/WPS “单个文件网页” saved under a spreadsheet's name, as some systems export
            path,
            "这是“单个文件网页”(.mht)格式,不是电子表格",
            "请用 WPS/Excel 打开后“另存为”.xlsx 再汇入",
            "not-a-spreadsheet",
        )
    if lowered.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head.lower():
        raise ReadError(  # “XML 电子表格 2003”: a spreadsheet, but not one carestats reads
            path,
            "这是“XML 电子表格 2003”格式,carestats 不能读取",
            "请用 WPS/Excel 打开后“另存为”.xlsx 再汇入",
            "not-a-spreadsheet",
        )
    if lowered.startswith((b"<html", b"<!doctype html", b"<?xml", b"<table")):
        raise ReadError(
            path,
            "这是网页或 XML 文件,不是电子表格",
            "请用 WPS/Excel 打开后“另存为”.xlsx 再汇入",
            "not-a-spreadsheet",
        )
    if b"\x00" in head[:4096]:
        raise ReadError(
            path,
            "文件内容无法识别(不是 Excel、WPS 表格或 CSV)",
            "请确认文件没有损坏,或请报送单位重新发送",
            "unknown-format",
        )
    return "text"


def open_book(path: Path, limits: Limits | None = None) -> Book:
    """Read every sheet of a workbook or CSV. Raises ReadError with a Chinese message for anything unreadable."""
    limits = limits or Limits()
    path = path if isinstance(path, Path) else Path(path)  # re-wrapping a Path parses it again
    if path.name.startswith(LOCK_FILE_PREFIXES):
        raise ReadError(
            path,
            "这是 Excel/WPS 或 LibreOffice 打开工作簿时留下的临时锁定文件,不是报表",
            "请汇入同名但不带“~$”(或“.~lock.”)的那个文件",
            "lock-file",
        )
    try:
        size = path.stat().st_size
        if size > limits.max_file_mb * 1024 * 1024:
            raise ReadError(
                path,
                f"文件过大({size // (1024 * 1024)} MB,上限 {limits.max_file_mb} MB)",
                "请确认是否为报表原件;确需汇入时可在配置 profile.toml 的 [limits] 中调大 max_file_mb",
                "too-large",
            )
        data = path.read_bytes()  # once: the pre-scan, the hash and the CSV reader share these bytes
    except OSError as exc:
        raise ReadError(
            path, f"无法打开文件({os_reason(exc)})", "请检查文件是否存在、是否被其他程序占用"
        ) from exc
    kind = sniff(path, data[:8192])
    if kind == "zip":
        book = _read_zip(path, limits, data)
    elif kind == "cfb":
        book = _read_cfb(path, data, limits)
    elif path.suffix.lower().strip() not in (".csv", ".txt"):  # .txt: Excel's “Unicode 文本”, tab-separated
        raise ReadError(
            path,
            "文件扩展名是表格,但内容是纯文本",
            "请用 WPS/Excel 打开后“另存为”.xlsx;若确是 CSV,请把扩展名改为 .csv",
            "wrong-extension",
        )
    else:
        book = _read_csv(path, data)
    book.sha256 = hashlib.sha256(data).hexdigest()
    return book


# --------------------------------------------------------------------------- CSV
def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GBK/GB18030 as WPS on Chinese Windows writes it; UTF-16 only
    with its BOM (Excel's “Unicode 文本”)."""
    encodings = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")
    for enc in encodings:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ReadError(
        path,
        "CSV 文件的编码无法识别(不是 UTF-8 或 GBK)",
        "请用 WPS/Excel 另存为 .xlsx 后再汇入",
        "bad-encoding",
    )


def _delimited(separator: str) -> type[csv.Dialect]:
    class Dialect(csv.excel):
        delimiter = separator

    return Dialect


def _read_csv(path: Path, data: bytes) -> Book:
    text = decode_text(path, data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:  # title lines above the table confuse the sniffer: the separator used most wins
        head = text[:4096]
        best = max(",\t;", key=head.count)
        dialect = csv.excel if best == "," or head.count(best) == 0 else _delimited(best)
    rows = [list(r) for r in csv.reader(io.StringIO(text), dialect)]
    sheet = Sheet(name=path.stem, rows=rows, row_numbers=list(range(len(rows))))
    return Book(path=path, kind="csv", sheets=[sheet])


# --------------------------------------------------------------------------- CFB (.xls, encrypted OOXML)
def _read_cfb(path: Path, data: bytes, limits: Limits) -> Book:
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        raise ReadError(
            path, "文件设置了打开密码(已加密)", "请报送单位取消密码后重新发送一份不加密的文件", "encrypted"
        )
    if "WordDocument".encode("utf-16-le") in data:
        raise ReadError(path, "这是 Word 文档,不是电子表格", "请索取 Excel/WPS 表格原件", "not-a-spreadsheet")
    if "PowerPoint Document".encode("utf-16-le") in data:
        raise ReadError(
            path, "这是 PowerPoint 文档,不是电子表格", "请索取 Excel/WPS 表格原件", "not-a-spreadsheet"
        )
    formats = XlsFormats(path, data)
    # a stray cell far away (IV65536) makes calamine build a dense grid of 16 million cells as it opens the
    # file (550 MB, 1.2 GB in all): such a workbook is read from xlrd's sparse cells instead. xlrd parses the
    # workbook for its formats anyway.
    if any(cells > limits.max_cells for cells in formats.extents().values()):
        book = Book(path=path, kind="xls", sheets=formats.sparse_sheets())
    else:
        book = _read_calamine(path, "xls", None, data=data)
    for sheet in book.sheets:
        sheet.xls = formats
    return book


class XlsFormats:
    """Hidden columns, percent-formatted and error cells of an .xls, which calamine does not expose (it shows
    an error cell empty): read with xlrd
    (pure Python, so only when a sheet asks, once per workbook). A workbook whose formats cannot be read is
    refused rather than read without knowing which columns are hidden."""

    def __init__(self, path: Path, data: bytes):
        self.path, self.data = path, data
        self._book: Any = None
        self._sheets: dict[str, tuple[frozenset[int], frozenset[str], dict[str, str]]] = {}

    def sheet(self, name: str) -> tuple[frozenset[int], frozenset[str], dict[str, str]]:
        """(0-based hidden columns, A1 of number cells shown as a percentage, A1 → #DIV/0! … of error cells)
        of one sheet."""
        if name not in self._sheets:
            self._sheets[name] = self._guarded(lambda: self._read(name))
        return self._sheets[name]

    def _open(self) -> Any:
        import xlrd  # only for .xls

        if self._book is None:
            self._book = xlrd.open_workbook(
                file_contents=self.data, formatting_info=True, on_demand=True, ragged_rows=True
            )  # ragged: a row is only as long as its last cell, a far-away cell pads no other row
        return self._book

    def _guarded(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except ReadError:
            raise
        except Exception as exc:  # xlrd raises its own error types on a workbook it cannot parse
            if "encrypt" in str(exc).lower():  # xlrd: “Workbook is encrypted”
                raise _calamine_error(self.path, exc, "xls") from exc
            raise ReadError(
                self.path,
                "无法读取这个 .xls 文件的格式信息(哪些列是隐藏的、哪些单元格是百分比格式)",
                "请用 WPS/Excel 打开后“另存为”.xlsx 再汇入",
                "xls-formats",
            ) from exc

    def extents(self) -> dict[str, int]:
        """Sheet name → rows × columns up to its last cell, as a dense grid of it would hold."""

        def read() -> dict[str, int]:
            book = self._open()
            return {n: book.sheet_by_name(n).nrows * book.sheet_by_name(n).ncols for n in book.sheet_names()}

        return self._guarded(read)

    def sparse_sheets(self) -> list[Sheet]:
        """Every worksheet, only the rows that hold something, as calamine gives their cells (an error cell
        empty, a date as a datetime): far-away rows cost nothing."""
        return self._guarded(lambda: [self._sparse(name) for name in self._open().sheet_names()])

    def _sparse(self, name: str) -> Sheet:
        import xlrd

        book = self._open()
        sh = book.sheet_by_name(name)
        rows: list[list[Any]] = []
        numbers: list[int] = []
        count = 0
        for r in range(sh.nrows):
            row: list[Any] = []
            for c in range(sh.row_len(r)):
                kind, value = sh.cell_type(r, c), sh.cell_value(r, c)
                if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    value = ""
                elif kind == xlrd.XL_CELL_DATE:
                    value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
                    if not (value.hour or value.minute or value.second or value.microsecond):
                        value = value.date()  # as calamine gives a date without a time of day
                elif kind == xlrd.XL_CELL_BOOLEAN:
                    value = bool(value)
                row.append(value)
            while row and (row[-1] == "" or (isinstance(row[-1], str) and not row[-1].strip())):
                row.pop()
            if row:
                rows.append(row)
                numbers.append(r)
                count += len(row)
        if count > 200_000:
            raise ReadError(self.path, f"工作表“{name}”的数据量过大", "请确认是否为报表原件", "too-large")
        merged = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sh.merged_cells]
        sheet = Sheet(name=name, rows=rows, row_numbers=numbers, merged=merged)
        sheet.visible, sheet.very_hidden = sh.visibility == 0, sh.visibility == 2
        return sheet

    def _read(self, name: str) -> tuple[frozenset[int], frozenset[str], dict[str, str]]:
        import xlrd  # only for .xls, and only when asked

        book = self._open()
        sh = book.sheet_by_name(name)
        hidden = frozenset(c for c, info in sh.colinfo_map.items() if info.hidden)
        percent_xf = set()
        for i, xf in enumerate(book.xf_list):
            fmt = book.format_map.get(xf.format_key)
            if fmt is not None and _shows_percent(fmt.format_str):
                percent_xf.add(i)
        percent: set[str] = set()
        errors: dict[str, str] = {}
        for r in range(sh.nrows):
            for c in range(sh.row_len(r)):
                kind = sh.cell_type(r, c)
                if kind == xlrd.XL_CELL_NUMBER and sh.cell_xf_index(r, c) in percent_xf:
                    percent.add(f"{col_letter(c)}{r + 1}")
                elif kind == xlrd.XL_CELL_ERROR:
                    code = sh.cell_value(r, c)
                    errors[f"{col_letter(c)}{r + 1}"] = xlrd.error_text_from_code.get(code, f"#错误({code})")
        return hidden, frozenset(percent), errors


# --------------------------------------------------------------------------- zip (.xlsx, .xlsm, .ods)
@dataclass
class _ZipSheet:
    name: str
    member: str
    visible: bool
    xml: bytes
    max_row: int
    max_col: int


def _read_zip(path: Path, limits: Limits, data: bytes) -> Book:
    try:
        zf = open_package(data)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, struct.error) as exc:
        raise ReadError(
            path, "文件已损坏(压缩包不完整)", "请报送单位重新发送,或用 WPS/Excel 打开后另存一份", "corrupt"
        ) from exc
    names = set(zf.namelist())
    _check_zip_sizes(path, zf, limits)
    if "xl/workbook.xml" not in names and not any(n.endswith("/workbook.xml") for n in names):
        if "word/document.xml" in names:
            raise ReadError(
                path, "这是 Word 文档,不是电子表格", "请索取 Excel/WPS 表格原件", "not-a-spreadsheet"
            )
        if "ppt/presentation.xml" in names:
            raise ReadError(
                path,
                "这是 PowerPoint 文档,不是电子表格",
                "请索取 Excel/WPS 表格原件",
                "not-a-spreadsheet",
            )
        if "content.xml" in names and "mimetype" in names:
            return _read_calamine(path, "ods", None, data=data)
        raise ReadError(
            path, "压缩包里没有工作簿", "请确认这是 Excel/WPS 表格文件(.xlsx)", "not-a-spreadsheet"
        )
    sheets = _zip_sheets(path, zf, names)
    big = {s.name for s in sheets if (s.max_row + 1) * (s.max_col + 1) > limits.max_cells}
    return _read_calamine(path, "xlsx", sheets, sparse=big, package=zf, data=data)


def _check_zip_sizes(path: Path, zf: Package | ZipfilePackage, limits: Limits) -> None:
    total = 0
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > 1000 and info.file_size > 10 * 1024 * 1024:
            raise ReadError(
                path,
                f"文件内部的 {info.filename} 解压后达 {info.file_size // (1024 * 1024)} MB,压缩比 {ratio:.0f} 倍,疑为“压缩炸弹”",
                "已拒绝读取;请报送单位重新导出正常的表格",
                "zip-bomb",
            )
    if total > limits.max_uncompressed_mb * 1024 * 1024:
        raise ReadError(
            path,
            f"文件解压后共 {total // (1024 * 1024)} MB,超过上限 {limits.max_uncompressed_mb} MB",
            "已拒绝读取;确属正常报表时可在配置 profile.toml 的 [limits] 中调大 max_uncompressed_mb",
            "zip-bomb",
        )


def _read_member(path: Path, zf: Package | ZipfilePackage, member: str) -> bytes:
    try:
        data = zf.read(member)
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, RuntimeError, zlib.error, struct.error) as exc:
        if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
            raise ReadError(
                path, "文件设置了密码(已加密)", "请报送单位取消密码后重新发送", "encrypted"
            ) from exc
        raise ReadError(
            path,
            f"文件已损坏(无法读取其中的 {member})",
            "请报送单位重新发送,或用 WPS/Excel 打开后另存一份",
            "corrupt",
        ) from exc
    if _declares_doctype(data):
        raise ReadError(
            path,
            f"文件内部的 {member} 含有 XML 实体声明(DOCTYPE/ENTITY),可能是恶意构造的文件",
            "已拒绝读取;请报送单位用 WPS/Excel 重新保存后发送",
            "xml-entities",
        )
    return data


def _declares_doctype(xml: bytes) -> bool:
    """Whether the prolog (what comes before the root element, however long its comments) holds a DOCTYPE:
    the only place XML allows one, and so entity declarations. The rest of the part is never scanned."""
    pos = 0
    while True:
        lt = xml.find(b"<", pos)
        if lt < 0:
            return False
        if xml.startswith(b"<?", lt):
            end, skip = xml.find(b"?>", lt + 2), 2
        elif xml.startswith(b"<!--", lt):
            end, skip = xml.find(b"-->", lt + 4), 3
        else:
            return xml.startswith(b"<!", lt)  # <!DOCTYPE (any case of spelling) or the root element
        if end < 0:
            return False  # an unterminated prolog: no root element either, the reader refuses it
        pos = end + skip


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_COL_TAG = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")


def _zip_sheets(path: Path, zf: Package | ZipfilePackage, names: set[str]) -> list[_ZipSheet]:
    """Sheet names, visibility, XML and true extent, read straight from the package (no DOM)."""
    if "xl/sharedStrings.xml" in names:  # read only to refuse entity declarations before calamine sees them
        _read_member(path, zf, "xl/sharedStrings.xml")
    out: list[_ZipSheet] = []
    for name, member, visible in _workbook_sheets(path, zf, names):
        if member not in names:
            continue  # chartsheets and broken references: calamine decides
        xml = _read_member(path, zf, member)
        if _FAR_REF.search(xml) is None:
            max_row, max_col = 9998, 25  # every reference within Z9999: small enough for any grid
        else:
            rows = _ROW_REF.findall(xml)
            cells = _CELL_REF.findall(xml)
            max_row = max((int(r) for r in {*rows, *(c[1] for c in cells)}), default=1) - 1
            letters = {c[0] for c in cells}
            max_col = col_index(max(letters, key=lambda c: (len(c), c)).decode()) if letters else 0
        out.append(_ZipSheet(name, member, visible, xml, max_row, max_col))
    return out


# (workbook.xml, workbook.xml.rels) fingerprints → their sheets: the returns of one template carry the same
# two parts byte for byte, so a batch parses them once (and refuses a bad one every time, as nothing is kept).
_WORKBOOK_SHEETS: dict[tuple, list[tuple[str, str, bool]]] = {}
_WORKBOOK_SHEETS_MAX = 256


def _workbook_sheets(
    path: Path, zf: Package | ZipfilePackage, names: set[str]
) -> list[tuple[str, str, bool]]:
    """(sheet name, member, visible) in the workbook's order, from workbook.xml and its relationships."""
    rels_name = "xl/_rels/workbook.xml.rels"
    key: tuple | None = None
    if isinstance(zf, Package) and "xl/workbook.xml" in names:
        try:
            key = (
                zf.fingerprint("xl/workbook.xml"),
                zf.fingerprint(rels_name) if rels_name in names else b"",
            )
        except zipfile.BadZipFile:
            key = None  # damaged: _read_member below says so
        if key is not None and None in key:
            key = None  # a part zipfile inflates: not cached
        if key is not None and key in _WORKBOOK_SHEETS:
            return _WORKBOOK_SHEETS[key]
    wb = _read_member(path, zf, "xl/workbook.xml")
    rels = _read_member(path, zf, rels_name) if rels_name in names else b""
    targets: dict[str, str] = {}
    for m in _REL.finditer(rels):
        attrs = dict(_ATTR.findall(m.group(1)))
        rid, target = attrs.get(b"Id"), attrs.get(b"Target")
        if rid and target:
            t = target.decode("utf-8")
            targets[rid.decode()] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    sheets: list[tuple[str, str, bool]] = []
    for m in _SHEET_TAG.finditer(wb):
        attrs = {k.split(b":")[-1]: v for k, v in _ATTR.findall(m.group(1))}
        name = _xml_unescape(attrs.get(b"name", b"").decode("utf-8"))
        member = targets.get(attrs.get(b"id", b"").decode(), "")
        sheets.append((name, member, attrs.get(b"state", b"visible") == b"visible"))
    if key is not None:
        if len(_WORKBOOK_SHEETS) >= _WORKBOOK_SHEETS_MAX:
            _WORKBOOK_SHEETS.clear()
        _WORKBOOK_SHEETS[key] = sheets
    return sheets


_CELL_TAG = re.compile(rb"<(?:\w+:)?c\b([^>]*)>")
_NUMFMT_TAG = re.compile(rb"<(?:\w+:)?numFmt\b([^>]*)>")
_XF_TAG = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_PERCENT_BUILTIN = {b"9", b"10"}  # 0% and 0.00%


def _percent_cells(xml: bytes, path: Path, package: Any) -> frozenset[str]:
    """Cells whose style's number format shows a percentage (a % outside quotes: Excel multiplies by 100)."""
    if "xl/styles.xml" not in package.namelist():
        return frozenset()
    styles = _read_member(path, package, "xl/styles.xml")
    percent_fmts = set(_PERCENT_BUILTIN)
    for m in _NUMFMT_TAG.finditer(styles):
        attrs = dict(_ATTR.findall(m.group(1)))
        code = _xml_unescape(attrs.get(b"formatCode", b"").decode("utf-8", "replace"))
        if _shows_percent(code):
            percent_fmts.add(attrs.get(b"numFmtId", b""))
    start, end = styles.find(b"<cellXfs"), styles.find(b"</cellXfs>")
    if start < 0 or end < 0:
        return frozenset()
    percent_styles = {
        str(i).encode()
        for i, m in enumerate(_XF_TAG.finditer(styles, start, end))
        if dict(_ATTR.findall(m.group(1))).get(b"numFmtId") in percent_fmts
    }
    if not percent_styles:
        return frozenset()
    out = set()
    for m in _CELL_TAG.finditer(xml):
        attrs = dict(_ATTR.findall(m.group(1)))
        if attrs.get(b"s") in percent_styles and b"r" in attrs:
            out.add(attrs[b"r"].decode())
    return frozenset(out)


def _shows_percent(code: str) -> bool:
    """A % in a number format, not in quotes nor after a backslash: Excel shows the value times 100 (a quoted
    or escaped % is only shown)."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", code)


def _xml_unescape(s: str) -> str:
    return (
        s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


# --------------------------------------------------------------------------- calamine
_HAND_OVER_BYTES = 4 * 1024 * 1024


def _read_calamine(
    path: Path,
    kind: str,
    zsheets: list[_ZipSheet] | None,
    *,
    data: bytes,
    sparse: set[str] | None = None,
    package: Package | ZipfilePackage | None = None,
) -> Book:
    from python_calamine import CalamineWorkbook  # fast Rust reader; imported here to keep start-up light

    sparse = sparse or set()
    by_name = {s.name: s for s in zsheets or []}
    try:
        # A return of a few kilobytes is handed over from the bytes already read (half the cost of calamine
        # opening the file again); calamine copies them, so a big file is left to calamine's own reader.
        if len(data) <= _HAND_OVER_BYTES:
            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        else:
            wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types; the message decides
        raise _calamine_error(path, exc, kind, data) from exc
    sheets: list[Sheet] = []
    try:
        metas = wb.sheets_metadata
        for meta in metas:
            name = meta.name
            state = str(meta.visible)
            visible = "Visible" in state and "Hidden" not in state
            z = by_name.get(name)
            if z is not None and name in sparse:
                assert package is not None  # sparse sheets are only found in a zip package
                sheet = _sparse_sheet(path, z, shared_strings(path, package))
            else:
                if str(meta.typ).endswith("ChartSheet"):
                    continue
                cs = wb.get_sheet_by_name(name)
                rows = cs.to_python(skip_empty_area=False)
                merged = []
                try:
                    merged = [(a[0], a[1], b[0], b[1]) for a, b in (cs.merged_cell_ranges or [])]
                except Exception:  # .xls/.ods: calamine does not expose merges for every format
                    merged = []
                sheet = Sheet(name=name, rows=rows, row_numbers=list(range(len(rows))), merged=merged)
            sheet.visible = visible
            sheet.very_hidden = "VeryHidden" in state
            if z is not None:
                sheet.xml = z.xml
                sheet.package = (path, package)
            sheets.append(sheet)
    except ReadError:
        raise
    except Exception as exc:
        raise _calamine_error(path, exc, kind) from exc
    finally:
        try:
            wb.close()
        except Exception:
            pass
    return Book(path=path, kind=kind, sheets=sheets)


def shared_strings(path: Path, zf: Package | ZipfilePackage) -> list[str]:
    """Shared strings of an .xlsx, for the sparse reader (only used on oversized sheets)."""
    import xml.etree.ElementTree as ET

    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    data = _read_member(path, zf, "xl/sharedStrings.xml")
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    out = []
    for si in ET.fromstring(data).iter(f"{ns}si"):
        out.append("".join(t.text or "" for t in si.iter(f"{ns}t")))
    return out


def _sparse_sheet(path: Path, z: _ZipSheet, strings: list[str]) -> Sheet:
    """Read only the cells that exist: rows stay ragged and far-away rows cost nothing."""
    import xml.etree.ElementTree as ET

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    cells: dict[int, dict[int, Any]] = {}
    for _event, el in ET.iterparse(io.BytesIO(z.xml), events=("end",)):
        if el.tag != f"{ns}c":
            continue
        ref = el.get("r", "")
        m = re.match(r"([A-Z]+)(\d+)$", ref)
        if not m:
            el.clear()
            continue
        r, c = int(m.group(2)) - 1, col_index(m.group(1))
        t = el.get("t", "n")
        v = el.find(f"{ns}v")
        value: Any = ""
        if t == "s" and v is not None and v.text is not None:
            value = strings[int(v.text)] if int(v.text) < len(strings) else ""
        elif t == "inlineStr":
            value = "".join(x.text or "" for x in el.iter(f"{ns}t"))
        elif t in ("str",) and v is not None:
            value = v.text or ""
        elif t == "b" and v is not None:
            value = v.text == "1"
        elif t == "e":
            value = ""
        elif v is not None and v.text:
            value = float(v.text)
        if value != "" and not (isinstance(value, str) and not value.strip()):
            cells.setdefault(r, {})[c] = value
        el.clear()
    if sum(len(v) for v in cells.values()) > 200_000:
        raise ReadError(path, f"工作表“{z.name}”的数据量过大", "请确认是否为报表原件", "too-large")
    row_numbers = sorted(cells)
    rows = []
    for r in row_numbers:
        rc = cells[r]
        width = max(rc) + 1
        rows.append([rc.get(c, "") for c in range(width)])
    merged = []
    for m in re.finditer(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', z.xml):
        merged.append(
            (
                int(m.group(2)) - 1,
                col_index(m.group(1).decode()),
                int(m.group(4)) - 1,
                col_index(m.group(3).decode()),
            )
        )
    return Sheet(name=z.name, rows=rows, row_numbers=row_numbers, merged=merged)


# a cell element with content; an empty self-closing <c r="D15" s="2"/> is never one (else its match would run on
# into the next cell's formula and name the wrong cell)
_UNCACHED = re.compile(
    rb'<(?:\w+:)?c\b([^>]*?)\br="([A-Z]{1,3}[0-9]{1,7})"([^>]*)(?<!/)>(.*?)</(?:\w+:)?c>', re.S
)
_F = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
# <v>28</v>, <v></v> (LibreOffice, openpyxl) or <v/> (Excel: an empty text result); group 1 is None for <v/>
_V = re.compile(rb"<(?:\w+:)?v(?:\s*/>|>(.*?)</(?:\w+:)?v>)", re.S)


def _may_hold_formulas(xml: bytes) -> bool:
    """Whether some ``<f`` or ``<x:f`` element may start in the XML. Looks for the letter f, rare in a sheet's
    XML, rather than for ``<f``: “<” is on every cell, which makes a plain search for “<f” slow."""
    i = xml.find(b"f")
    while i >= 0:
        if i and xml[i - 1] in b"<:":
            return True
        i = xml.find(b"f", i + 1)
    return False


def _scan_uncached(xml: bytes) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Cells calamine shows empty that are not: (A1 → formula text for formulas without a cached value,
    A1 → error value, A1 → formula text for formulas whose cached value is empty text).

    A formula cell of type ``t="str"`` with an empty ``<v>`` was computed to "" (Excel writes ``<v/>``,
    LibreOffice ``<v></v>``); an empty or missing ``<v>`` on any other type is no result at all (openpyxl
    and other generators write ``<v></v>`` or nothing)."""
    formulas: dict[str, str] = {}
    errors: dict[str, str] = {}
    empty_text: dict[str, str] = {}
    if not _may_hold_formulas(xml) and b't="e"' not in xml:
        return formulas, errors, empty_text
    for m in _UNCACHED.finditer(xml):
        attrs, ref, body = m.group(1) + m.group(3), m.group(2).decode(), m.group(4)
        v = _V.search(body)
        cached = None if v is None else (v.group(1) or b"")
        if b't="e"' in attrs and cached:
            errors[ref] = cached.decode("utf-8", "replace")
            continue
        f = _F.search(body)
        if f is None or (cached is not None and cached.strip()):
            continue
        text = _xml_unescape((f.group(1) or b"").decode("utf-8", "replace"))
        if cached is not None and b't="str"' in attrs:
            empty_text[ref] = text
        else:
            formulas[ref] = text
    return formulas, errors, empty_text


_BIFF_BOFS = (b"\x09\x08\x10\x00\x00\x06\x05\x00", b"\x09\x08\x08\x00\x00\x05\x05\x00")  # BIFF8, BIFF5


def _xls_encrypted(data: bytes) -> bool:
    """Whether an .xls's workbook globals start with a FILEPASS record (0x002F), which must follow their BOF:
    calamine reading from bytes says only “Cannot detect file format” for such a file."""
    for bof in _BIFF_BOFS:
        at = data.find(bof)
        if at >= 0:
            after = at + 4 + int.from_bytes(bof[2:4], "little")
            return data[after : after + 2] == b"\x2f\x00"
    return False


def _calamine_error(path: Path, exc: Exception, kind: str, data: bytes = b"") -> ReadError:
    """calamine's error as a Chinese refusal: a password (PasswordError, “Workbook is password protected”, or
    an .xls whose workbook is encrypted) is told as such; anything else is a damaged file."""
    text = f"{type(exc).__name__}: {exc}".lower()
    if "password" in text or "encrypt" in text or (kind == "xls" and _xls_encrypted(data)):
        advice = "请报送单位取消密码后重新发送一份不加密的文件"
        if (
            kind == "xls"
        ):  # a password to modify or a protected workbook encrypts an .xls with a default password
            advice += (
                ";若没有设置过打开密码,可能是设置了“修改权限密码”或保护了工作簿(这时 Excel 以默认密码加密):"
                "请取消后重新保存"
            )
        return ReadError(path, "文件设置了密码(已加密)", advice, "encrypted")
    return ReadError(
        path,
        "文件已损坏或格式不受支持,无法读取",
        "请用 WPS/Excel 打开该文件,确认内容无误后“另存为”.xlsx 再汇入",
        "corrupt",
    )


def iter_files(paths: list[Path]) -> Iterator[tuple[Path, bool, str | None]]:
    """Files under the given paths, recursively, sorted as paths sort: (path, named_explicitly, why a folder
    could not be listed or None). A folder that cannot be listed is reported, never passed over in silence:
    the returns in it would be missing from the county's figures.

    ``os.scandir`` and string keys rather than ``rglob`` and ``Path`` comparisons: a province's folder holds
    thousands of returns, and listing them should cost nothing next to reading them.
    """
    fold = os.name == "nt"  # Windows compares paths without case, as Path does there
    for p in paths:
        if _WILDCARD.search(str(p)) and not p.exists():
            # cmd.exe and PowerShell hand “报表\*.xlsx” over as it is: expand it as a Unix shell would
            matches = sorted(Path(m) for m in glob.glob(str(p)))
            if matches:
                yield from iter_files(matches)
                continue
        if p.is_dir():
            found: list[tuple[tuple[str, ...], str, str | None]] = []
            _walk(str(p), (), found, fold)
            found.sort()
            for _key, f, why in found:
                yield Path(f), False, why
        else:
            yield p, True, None


def _walk(
    folder: str, key: tuple[str, ...], out: list[tuple[tuple[str, ...], str, str | None]], fold: bool
) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        out.append((key, folder, os_reason(exc)))
        return
    for e in entries:
        part = (e.name.casefold() if fold else e.name,)
        if e.is_dir(follow_symlinks=False):
            _walk(e.path, key + part, out, fold)
        elif not e.name.startswith(("~$", ".")) and e.is_file():  # lock files and hidden files
            out.append((key + part, e.path, None))
