"""`carestats report`: a letter spec + the checked store → the reply letter (.docx/.txt/.md/.html) and its audit.

The letter is refused while ``check`` finds errors for the data year (``--force`` makes a draft marked
草稿（未通过审核）). The audit lists every figure the letter prints with the cells that sum to it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from carestats.errors import CarestatsError, UsageError, check_writable, writing
from carestats.figures import compute_figures, json_value, print_wide_table, safe_cell_text, set_number_format
from carestats.letter import Letter, LetterSpec, PrintedFigure, render_letter
from carestats.profile import Profile
from carestats.store import Store
from carestats.text import display_width


class ReportRefused(CarestatsError):
    """check found errors for the year: the bureau does not sign figures that failed review (exit 1)."""


def check_errors(store: Store, profile: Profile, year: int) -> int:
    """How many error findings ``carestats check`` has for ``year`` (warnings do not stop a letter)."""
    from carestats.check import run_check

    errors = run_check(store, profile, year).errors
    return errors if isinstance(errors, int) else len(errors)


def prepare_letter(
    store: Store, profile: Profile, spec: LetterSpec, year: int | None = None, *, force: bool = False
) -> Letter:
    """Check the year, refuse on errors unless ``force``, then render the letter from the store's figures."""
    year = spec.year if year is None else year
    store.require_year(year)
    errors = check_errors(store, profile, year)
    if errors and not force:
        raise ReportRefused(
            f"{year} 年的报表审核有 {errors} 个错误,不能生成答复函。请先运行 carestats check --year {year} "
            "查看并改正;确需先出一份草稿,可加 --force,答复函将标明“草稿（未通过审核）”。"
        )
    figures = compute_figures(store, profile, year)
    return render_letter(spec, figures, profile, year, draft=errors > 0)


# ----------------------------------------------------------------------------------------------- output
def _write_text(fn: Callable[[Letter], str], *, windows: bool = False) -> Callable[[Letter, Path], None]:
    """``windows``: a .txt is opened in Notepad or WPS on the clerk's Windows: UTF-8 with its BOM (without it
    WPS may take the file for GBK) and CRLF line ends (older Notepad shows LF-only text as one line)."""

    def write(letter: Letter, path: Path) -> None:
        if windows:
            path.write_text(fn(letter), encoding="utf-8-sig", newline="\r\n")
        else:
            path.write_text(fn(letter), encoding="utf-8", newline="\n")

    return write


def _writers() -> dict[str, Callable[[Letter, Path], None]]:
    from carestats.docx_letter import write_docx
    from carestats.letter_text import WRITERS

    table: dict[str, Callable[[Letter, Path], None]] = {".docx": write_docx}
    table.update({suffix: _write_text(fn, windows=suffix == ".txt") for suffix, fn in WRITERS.items()})
    return table


LETTER_FORMATS = (".docx", ".txt", ".md", ".html")
AUDIT_FORMATS = (".json", ".xlsx")


def check_formats(output: Path | None, audit: Path | None) -> None:
    """Refuse an unknown suffix before any work is done (exit 2)."""
    if output is not None and output.suffix.lower() not in _writers():
        raise UsageError(
            f"不支持的答复函格式“{output.suffix or output.name}”。-o 的扩展名可为 {'、'.join(LETTER_FORMATS)}"
        )
    if audit is not None and audit.suffix.lower() not in AUDIT_FORMATS:
        raise UsageError(
            f"不支持的核对表格式“{audit.suffix or audit.name}”。--audit 的扩展名可为 {'、'.join(AUDIT_FORMATS)}"
        )
    for path in (output, audit):  # both are checked before the letter is written: nothing half done
        if path is not None:
            check_writable(path)


def write_letter(letter: Letter, path: Path) -> Path | None:
    """Write the letter in the format its suffix names (.docx, .txt, .md, .html). A file already there may be
    the letter as the clerk has edited it in WPS: it is kept under a new name, returned, never overwritten."""
    check_formats(path, None)
    writer = _writers()[path.suffix.lower()]
    kept = None
    with writing(path):
        if path.exists():
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            kept = path.with_name(f"{path.stem}(原文件{stamp}){path.suffix}")
            n = 1
            while kept.exists():  # twice in one second: never over an earlier copy
                n += 1
                kept = path.with_name(f"{path.stem}(原文件{stamp}-{n}){path.suffix}")
            path.rename(kept)
        writer(letter, path)
    return kept


# ------------------------------------------------------------------------------------------------ audit
def audit_data(letter: Letter, profile: Profile) -> dict[str, Any]:
    """Every printed figure: indicator, value, the text as printed, and each source cell."""

    def value(code: str, v: Any) -> Any:
        return json_value(profile, code, v) if v is not None else None

    def figure(p: PrintedFigure) -> dict[str, Any]:
        return {
            "指标代码": p.code,
            "指标名称": p.name,
            "范围": p.scope,
            "数值": value(p.code, p.value),
            "计量单位": p.unit,
            "答复函写法": p.text,
            "来源": [
                {
                    "文件": s.file,
                    "工作表": s.sheet,
                    "单元格": s.cell,
                    "单位": s.unit,
                    "指标代码": s.code,
                    "原始内容": s.raw,
                    "数值": value(s.code, s.value),
                }
                for s in p.sources
            ],
        }

    return {
        "年度": letter.year,
        "答复函说明": str(letter.spec.path),
        "文号": letter.spec.doc_number,
        "草稿": letter.draft,
        "数字": [figure(p) for p in letter.printed],
    }


AUDIT_COLUMNS = (
    "序号",
    "指标代码",
    "指标名称",
    "范围",
    "数值",
    "计量单位",
    "答复函写法",
    "来源文件",
    "工作表",
    "单元格",
    "填报单位",
    "来源指标",
    "原始内容",
    "来源数值",
)


def audit_rows(letter: Letter) -> list[tuple[Any, ...]]:
    """One row per source cell (a figure without sources keeps one row), figure columns repeated."""
    rows: list[tuple[Any, ...]] = []
    for n, p in enumerate(letter.printed, start=1):
        head = (n, p.code, p.name, p.scope, p.value, p.unit, p.text)
        if not p.sources:
            rows.append(head + (None,) * 7)
        for s in p.sources:
            rows.append(head + (s.file, s.sheet, s.cell, s.unit, s.code, s.raw, s.value))
    return rows


def write_audit(letter: Letter, profile: Profile, path: Path) -> None:
    """The audit as .json or .xlsx (by suffix)."""
    check_formats(None, path)
    with writing(path):
        if path.suffix.lower() == ".json":
            path.write_text(
                json.dumps(audit_data(letter, profile), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        else:
            _audit_xlsx(letter, profile, path)


def _audit_xlsx(letter: Letter, profile: Profile, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = f"{letter.year}年答复函数字核对"
    ws.append(list(AUDIT_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in audit_rows(letter):
        ws.append([safe_cell_text(v) if isinstance(v, str) else v for v in row])  # Decimal is written exactly
        # 数值 and 来源数值 with their indicator's decimals (1688720.00 元, not 1688720), as figures' 汇总.xlsx
        for value, code in (("数值", "指标代码"), ("来源数值", "来源指标")):
            ind = profile.indicators.get(row[AUDIT_COLUMNS.index(code)])
            if ind is not None:
                set_number_format(ws.cell(ws.max_row, AUDIT_COLUMNS.index(value) + 1), ind)
    # as wide as the widest heading or value, so that no name or file is cut off by the next column
    for column in ws.iter_cols():
        widest = max(display_width("" if c.value is None else str(c.value)) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(6, widest + 2), 60)
    ws.freeze_panes = "A2"
    print_wide_table(ws, ws.title)
    wb.save(path)
