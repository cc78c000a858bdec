"""``check --annotate DIR``: a copy of each return with findings, to send back to the unit that filed it.

Offending cells are filled red (errors) or yellow (warnings) and carry an Excel comment with the message;
a first sheet lists the return's findings. The original file is never opened for writing. Text that came
from a return (a raw cell such as “=SUM(E6:E8)”) is written as an explicit string with a quote prefix, so
that no spreadsheet ever evaluates it as a formula.
"""

from __future__ import annotations

import math
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from carestats.errors import UsageError, writing
from carestats.findings import CANNOT, ERROR, OUTCOME_TEXT, SEVERITY_TEXT, CheckResult, Finding, unit_label

RED = PatternFill(fill_type="solid", fgColor="FFFF9999")
YELLOW = PatternFill(fill_type="solid", fgColor="FFFFEB84")
SHEET_TITLE = "审核意见"
SUMMARY_NAME = "审核结果汇总.xlsx"
SUFFIX = "_审核意见"
OPENPYXL_SUFFIXES = (".xlsx", ".xlsm")
_FORMULA_START = ("=", "+", "-", "@")
_HEADERS = ("序号", "类别", "结果", "规则", "规则名称", "单位", "指标", "文件", "工作表", "单元格", "说明")
_WIDTHS = (6, 6, 8, 6, 22, 8, 10, 24, 8, 8, 70)


@dataclass
class AnnotateResult:
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # Chinese notes: a return that could not be copied


def annotate_returns(result: CheckResult, directory: Path) -> AnnotateResult:
    """Write one annotated copy per return that has findings, plus a summary workbook of all findings."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--annotate 应是文件夹,{directory} 是一个文件")
    directory.mkdir(parents=True, exist_ok=True)
    out = AnnotateResult()
    by_path: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f.path:
            by_path.setdefault(f.path, []).append(f)
    for path, findings in by_path.items():
        src = Path(path)
        if not src.is_file():
            out.skipped.append(f"找不到原文件 {path}(可能已移动),未生成其批注副本;审核意见见 {SUMMARY_NAME}")
            continue
        target = _target(directory, src)
        if target.resolve() == src.resolve():
            raise UsageError(f"批注副本会覆盖原文件 {src};请用 --annotate 指定另一个文件夹")
        wb = _load(src)
        if wb is None:
            target = target.with_suffix(".xlsx")
            wb = _findings_only(
                findings, f"原文件 {src.name} 不是 openpyxl 能改写的 .xlsx,无法在原表上加批注"
            )
            out.skipped.append(f"{src.name} 无法在原表上加批注,只生成了审核意见清单 {target.name}")
        else:
            _annotate(wb, src, findings)
        _save(wb, target)
        out.written.append(target)
    summary = directory / SUMMARY_NAME
    heading = f"{result.year} 年审核结果:共 {len(result.errors)} 条错误,{len(result.warnings)} 条提示"
    _save(_findings_only(result.findings, heading), summary)
    out.written.append(summary)
    return out


def _target(directory: Path, src: Path) -> Path:
    stem = src.stem.removesuffix(SUFFIX)  # a corrected annotated copy, checked again: not …_审核意见_审核意见
    return directory / f"{stem}{SUFFIX}{src.suffix.lower()}"


def _load(src: Path) -> Workbook | None:
    """The return as an editable workbook, or None when openpyxl cannot rewrite it (.xls, .csv, damaged)."""
    if src.suffix.lower() not in OPENPYXL_SUFFIXES:
        return None
    try:
        return openpyxl.load_workbook(src, keep_vba=src.suffix.lower() == ".xlsm")
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
        return None


def _save(wb: Workbook, target: Path) -> None:
    with writing(target):
        wb.save(target)


def _clear_earlier_marks(wb: Workbook) -> None:
    """Take off what an earlier ``--annotate`` put on this workbook (a corrected copy sent back and checked
    again): its listing sheet, and the red/yellow fill and comment of every cell it marked. Otherwise a
    figure already corrected stays red with the old message, and the unit is told to fix it again."""
    for ws in list(wb.worksheets):
        if ws.title.startswith(SHEET_TITLE) and tuple(c.value for c in ws[2][: len(_HEADERS)]) == _HEADERS:
            wb.remove(ws)
    ours = {RED.fgColor.rgb, YELLOW.fgColor.rgb}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.comment is not None and c.comment.author == "carestats":
                    c.comment = None
                    if c.fill.fill_type == "solid" and c.fill.fgColor.rgb in ours:
                        c.fill = PatternFill(fill_type=None)


def _annotate(wb: Workbook, src: Path, findings: list[Finding]) -> None:
    _clear_earlier_marks(wb)
    notes: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            notes.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, cell), items in notes.items():
        c = wb[sheet][cell]
        if type(c).__name__ == "MergedCell":
            continue  # only a merge's anchor can hold a comment; the listing sheet still names the cell
        c.fill = RED if any(f.severity == ERROR for f in items) else YELLOW
        text = "\n".join(f"[{_kind(f)}] {f.rule} {f.label}:{f.message}" for f in items)
        comment = Comment(text, "carestats")
        comment.width = 420
        comment.height = min(60 + 40 * len(items) + len(text) // 2, 600)
        c.comment = comment
    title = SHEET_TITLE if SHEET_TITLE not in wb.sheetnames else f"{SHEET_TITLE}(carestats)"
    ws = wb.create_sheet(title, 0)
    n_err = sum(1 for f in findings if f.severity == ERROR)
    _fill_listing(
        ws, findings, f"{src.name}:错误 {n_err} 条,提示 {len(findings) - n_err} 条(红色为错误,黄色为提示)"
    )
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def _findings_only(findings: list[Finding], heading: str) -> Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    _fill_listing(ws, findings, heading)
    return wb


def _kind(f: Finding) -> str:
    return SEVERITY_TEXT[f.severity] + ("·无法审核" if f.outcome == CANNOT else "")


def _fill_listing(ws: Worksheet, findings: Iterable[Finding], heading: str) -> None:
    put_text(ws, 1, 1, heading).font = Font(bold=True, size=12)
    for j, h in enumerate(_HEADERS, start=1):
        put_text(ws, 2, j, h).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(j)].width = _WIDTHS[j - 1]
    for i, f in enumerate(findings, start=1):
        row = i + 2
        # top, like the wrapped texts beside it: at the bottom the number reads as the next finding's
        ws.cell(row=row, column=1, value=i).alignment = Alignment(vertical="top")
        cells = (
            SEVERITY_TEXT[f.severity],
            OUTCOME_TEXT[f.outcome],
            f.rule,
            f.label,
            unit_label(f.unit),
            "、".join(f.codes),
            f.file or "",
            f.sheet or "",
            f.cell or "",
            f.message,
        )
        for j, text in enumerate(cells, start=2):
            c = put_text(ws, row, j, text)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if j == 2:
                c.fill = RED if f.severity == ERROR else YELLOW
        # openpyxl cannot auto-fit: size the row for the wrapped message so it prints whole
        lines = max(
            math.ceil(_display_width(text) / (_WIDTHS[j - 1] - 1)) for j, text in enumerate(cells, start=2)
        )
        ws.row_dimensions[row].height = 15 * max(1, lines)
    ws.freeze_panes = "A3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:2"


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def put_text(ws: Worksheet, row: int, col: int, text: str):
    """Write ``text`` as a string cell that no spreadsheet evaluates, even when it starts with = + - @."""
    c = ws.cell(row=row, column=col)
    c.value = text
    c.data_type = "s"  # openpyxl would otherwise store “=…” as a formula
    if text.startswith(_FORMULA_START):
        c.quotePrefix = True
    return c
