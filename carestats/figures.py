"""County figures from the store: sums over the units that report an indicator, rates recomputed from sums.

A county figure that would include an unreadable cell is not computed (it is listed in ``incomplete`` with
the cell), never summed as if the cell were 0.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from carestats.errors import CarestatsError
from carestats.interval import Interval, decimals_of
from carestats.profile import Indicator, Profile
from carestats.store import Store, StoredValue
from carestats.text import display_width


@dataclass(frozen=True)
class TotalRow:
    """A 合计 cell whose figure is not what its table's rows give: ``expected`` is the rows' sum (a rate: from
    the rows' summed parts, rounded half-up to the indicator's decimals)."""

    cell: StoredValue
    expected: Decimal


@dataclass
class Figures:
    year: int
    county: str
    profile: Profile
    totals: dict[str, Decimal] = field(default_factory=dict)
    units: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    sources: dict[str, list[StoredValue]] = field(default_factory=dict)
    incomplete: dict[str, str] = field(default_factory=dict)
    # (unit, table, as a row of someone else's table) of every expected return with nothing stored: the
    # county figures then sum only the units that have reported
    missing: list[tuple[str, str, bool]] = field(default_factory=list)
    # code → units whose stored return of a table asking for the code has no row for it (a correction that
    # lost a row): the county figure then sums only the units that have it
    gaps: dict[str, list[str]] = field(default_factory=dict)
    # declared 合计 cells that disagree with the sum of their own table's rows (the county figure is the sum)
    total_rows: list[TotalRow] = field(default_factory=list)

    def to_json(self) -> dict:
        """The shape of ``returns/2025-expected.json``: counts as integers, money and rates as exact text."""
        return {
            "year": self.year,
            "county": self.county,
            "totals": {code: json_value(self.profile, code, v) for code, v in self.totals.items()},
            "units": {
                unit: {code: json_value(self.profile, code, v) for code, v in vals.items()}
                for unit, vals in self.units.items()
            },
        }

    def rows(self) -> list[dict[str, str]]:
        """One row per indicator: code, name, unit word, county figure, then one column per unit."""
        out = []
        for code, ind in self.profile.indicators.items():
            if code not in self.totals and code not in self.incomplete:
                continue
            row = {
                "指标代码": code,
                "指标名称": ind.name,
                "计量单位": ind.unit,
                "全县": text_value(self.profile, code, self.totals.get(code)),
            }
            for unit, vals in self.units.items():
                row[unit] = text_value(self.profile, code, vals.get(code))
            out.append(row)
        return out


def json_value(profile: Profile, code: str, value: Decimal) -> int | str:
    ind = profile.indicators[code]
    if ind.kind == "count" and value == value.to_integral_value():
        return int(value)
    return text_value(profile, code, value)


def text_value(profile: Profile, code: str, value: Decimal | None) -> str:
    if value is None:
        return ""
    ind = profile.indicators[code]
    if ind.kind in ("money", "rate"):
        q = Decimal(1).scaleb(-ind.decimals)
        if value == value.quantize(q):
            return format(value.quantize(q), "f")
    return format(value, "f")


def round_rate(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def compute_figures(store: Store, profile: Profile, year: int) -> Figures:
    store.require_year(year)
    stored = store.active_values(year)
    values = [v for v in stored if v.role == "value"]
    if not values:
        raise CarestatsError(
            f"数据库 {store.path} 中没有 {year} 年的数据。请先运行 carestats ingest 汇入报表"
        )
    fig = Figures(year=year, county=profile.county, profile=profile)
    order = {name: i for i, name in enumerate(profile.units)}
    by_code: dict[str, list[StoredValue]] = {}
    for v in values:
        by_code.setdefault(v.code, []).append(v)
    for unit in sorted({v.unit for v in values}, key=lambda u: (order.get(u, len(order)), u)):
        fig.units[unit] = {}
    for v in values:
        if v.value is not None:
            fig.units[v.unit][v.code] = v.value
    fig.missing = profile.missing_returns(stored)
    fig.gaps = profile.missing_indicators(values)
    fig.total_rows = _total_rows(profile, stored)
    for code in profile.indicators:
        if code in profile.rates:
            continue
        cells = by_code.get(code)
        if not cells:
            continue
        fig.sources[code] = cells
        bad = [c for c in cells if c.value is None]
        if bad:
            fig.incomplete[code] = "、".join(f"{c.where}({c.unit}:{c.detail or c.problem})" for c in bad)
            continue
        fig.totals[code] = sum((c.value for c in cells), Decimal(0))
    for code, rate in profile.rates.items():
        if code not in by_code and rate.numerator not in fig.totals:
            continue
        missing = [c for c in (rate.numerator, rate.denominator) if c not in fig.totals]
        if missing:
            why = "、".join(fig.incomplete.get(c, f"{c} 无数据") for c in missing)
            fig.incomplete[code] = f"无法计算({why})"
            continue
        den = fig.totals[rate.denominator]
        if den == 0:
            fig.incomplete[code] = f"{rate.denominator} 合计为 0,无法计算比率"
            continue
        exact = fig.totals[rate.numerator] / den * rate.scale
        fig.totals[code] = round_rate(exact, profile.indicators[code].decimals)
        fig.sources[code] = fig.sources.get(rate.numerator, []) + fig.sources.get(rate.denominator, [])
    return fig


def _total_rows(profile: Profile, stored: list[StoredValue]) -> list[TotalRow]:
    """Declared 合计 cells that disagree with their own table's rows (counts and money: the exact sum; a rate:
    the ratio of the rows' summed parts, as the county figure is made). Unreadable cells are left to check."""
    by_sub: dict[int, list[StoredValue]] = {}
    for v in stored:
        by_sub.setdefault(v.submission_id, []).append(v)
    out: list[TotalRow] = []
    for vals in by_sub.values():
        rows: dict[str, list[Decimal | None]] = {}
        for v in vals:
            if v.role == "value":
                rows.setdefault(v.code, []).append(v.value)
        sums = {c: sum(p, Decimal(0)) for c, p in rows.items() if None not in p}  # type: ignore[arg-type]
        for t in (v for v in vals if v.role == "total" and v.value is not None):
            ind = profile.indicators.get(t.code)
            if ind is None:
                continue
            rate = profile.rates.get(t.code)
            if rate is None:
                if t.code in sums and sums[t.code] != t.value:
                    out.append(TotalRow(t, sums[t.code]))
                continue
            num, den = sums.get(rate.numerator), sums.get(rate.denominator)
            if num is None or den is None or den <= 0:
                continue
            exact = num / den * rate.scale
            if not Interval.rounded(t.value, ind.decimals).overlaps(Interval.point(exact)):
                out.append(TotalRow(t, round_rate(exact, ind.decimals)))
    return out


def safe_cell_text(text: str) -> str:
    """Text for a CSV/XLSX cell that no spreadsheet will run as a formula (= + - @ and control prefixes)."""
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            Decimal(text)
            return text  # a plain negative number is data, not a formula
        except InvalidOperation:
            return "'" + text
    return text


def write_csv(fig: Figures) -> str:
    rows = fig.rows()
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: safe_cell_text(v) for k, v in row.items()})
    return "\ufeff" + buf.getvalue()


def set_number_format(cell: Any, ind: Indicator) -> None:
    """Show a figure with its indicator's decimals (1688720.00 元, 98.10%, 569 人), as the CSV and the returns
    write them; a figure with more decimals than that (12.5 人, a finding of check) keeps General, never
    rounded."""
    places = 0 if ind.kind == "count" else ind.decimals
    if isinstance(cell.value, int | Decimal) and decimals_of(Decimal(cell.value).normalize()) <= places:
        cell.number_format = "0." + "0" * places if places else "0"


def write_xlsx(fig: Figures, path: Path) -> None:
    from openpyxl import Workbook  # only when an .xlsx is asked for
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = f"{fig.year}年汇总"
    rows = fig.rows()
    if rows:
        header = list(rows[0])
        ws.append(header)
        for cell in ws[1]:  # figures are right-aligned: so are their headings, or 大兴镇 reads as 全县's
            cell.font = Font(bold=True)
            if cell.column > 3:
                cell.alignment = Alignment(horizontal="right")
        for row in rows:
            cells = []
            for k in header:
                v = row[k]
                if k not in ("指标代码", "指标名称", "计量单位") and v:
                    cells.append(
                        int(v) if v.lstrip("-").isdigit() else Decimal(v)
                    )  # openpyxl writes Decimal exactly
                else:
                    cells.append(safe_cell_text(v))
            ws.append(cells)
            for cell in ws[ws.max_row][3:]:
                set_number_format(cell, fig.profile.indicators[row["指标代码"]])
        # wide enough for the widest heading or figure (the CSV text is what the cell shows), else ######
        for i, k in enumerate(header, start=1):
            widest = max(display_width(k), *(display_width(row[k] or "") for row in rows))
            ws.column_dimensions[get_column_letter(i)].width = max(8, widest + 2)
        ws.freeze_panes = "D2"  # the heading row and 指标代码/名称/计量单位 stay in view while scrolling
        print_wide_table(ws, f"{fig.profile.title}  {fig.year}年汇总")
    wb.save(path)


def print_wide_table(ws: Any, title: str) -> None:
    """A table with a heading row and many columns printed as a clerk files it: A4 landscape, one page wide,
    the heading row on every page, ``title`` above (row 1 holds the headings) and page numbers below."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.oddHeader.center.text = title.replace("&", "&&")  # & starts a header code
    ws.oddFooter.center.text = "第 &P 页,共 &N 页"
