"""Check results as data: typed ``Finding`` objects, rendered once for people (rich) and once as JSON.

The same objects are printed, written as JSON, annotated into workbooks and asserted in tests, so that
what a clerk reads and what a program reads can never disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from carestats.expr import round_half_up

ERROR, WARNING = "error", "warning"
FAIL, CANNOT = "fail", "cannot-evaluate"
TOTAL_UNIT = "合计"
COUNTY_LABEL = "全县(表间)"
SEVERITY_TEXT = {ERROR: "错误", WARNING: "提示"}
OUTCOME_TEXT = {FAIL: "不通过", CANNOT: "无法审核"}


@dataclass(frozen=True)
class CellRef:
    """One cell a rule read: where it is and what it held (the exact decimal text, or None if unreadable)."""

    code: str
    file: str
    sheet: str
    cell: str
    value: str | None
    path: str = ""  # the file as ingested, for --annotate; not part of the JSON

    @property
    def where(self) -> str:
        return f"{self.file} {self.sheet}!{self.cell}"

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "value": self.value,
        }


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning
    outcome: str  # fail | cannot-evaluate
    rule: str  # rule id, e.g. R01a
    label: str  # the rule's Chinese label
    unit: str | None  # a unit, "合计" for a declared-total row, None for a county-level rule
    codes: tuple[str, ...]
    file: str | None  # the cell most likely wrong …
    sheet: str | None
    cell: str | None
    cells: tuple[CellRef, ...]  # … and every cell the rule read
    message: str  # Chinese: the numbers, and what would fix it
    path: str | None = None  # the ingested file behind ``file``, for --annotate

    @property
    def where(self) -> str:
        if self.file and self.sheet and self.cell:
            return f"{self.file} {self.sheet}!{self.cell}"
        return self.file or ""

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "outcome": self.outcome,
            "rule": self.rule,
            "unit": self.unit,
            "codes": list(self.codes),
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "cells": [c.to_json() for c in self.cells],
            "message": self.message,
        }


@dataclass(frozen=True)
class Note:
    """A rule that did not run (no previous year) or ran on nothing (no unit reports its indicators, no 合计
    row, a condition that never held), or only partly: said with the rule's id, never a silent pass. A note is
    neither an error nor a warning and never changes the exit code."""

    rule: str | None
    message: str

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict:
        return {"rule": self.rule, "message": self.message}


@dataclass
class CheckResult:
    """What ``run_check`` returns: findings, plus how often each rule passed (so a test can tell a rule that
    passed from one that never ran) and notes about rules that did not apply (no previous year …)."""

    year: int
    findings: list[Finding] = field(default_factory=list)
    passes: Counter[str] = field(default_factory=Counter)
    notes: list[Note] = field(default_factory=list)
    unit_order: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def for_rule(self, rule_id: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule_id]

    def to_json(self) -> dict:
        return {
            "year": self.year,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_json() for f in self.findings],
            "notes": [n.to_json() for n in self.notes],
        }

    def groups(self) -> list[tuple[str | None, list[Finding]]]:
        """Findings grouped by unit: units in profile order, then 合计 rows, then county-level findings."""
        order = {name: i for i, name in enumerate(self.unit_order)}
        keyed: dict[str | None, list[Finding]] = {}
        for f in self.findings:
            keyed.setdefault(f.unit, []).append(f)

        def rank(unit: str | None) -> tuple[int, int, str]:
            if unit is None:
                return (3, 0, "")
            if unit == TOTAL_UNIT:
                return (2, 0, "")
            return (0, order[unit], "") if unit in order else (1, 0, unit)

        return [(u, keyed[u]) for u in sorted(keyed, key=rank)]


def unit_label(unit: str | None) -> str:
    return COUNTY_LABEL if unit is None else unit


def render_table(result: CheckResult, console: Console) -> None:
    """The human report: one table per unit, a summary line per unit, and the overall count."""
    if not result.findings:
        console.print(f"{result.year} 年审核通过:0 条错误,0 条提示。")
        for note in result.notes:
            console.print(f"说明:{note}")
        return
    for unit, findings in result.groups():
        table = Table(title=unit_label(unit), title_justify="left", show_lines=True, expand=True)
        # fold, never truncate: a clerk must be able to read every word of a message and every address
        table.add_column("类别", overflow="fold", min_width=4)
        table.add_column("规则", overflow="fold", ratio=2)
        table.add_column("指标", overflow="fold", ratio=1)
        table.add_column("位置", overflow="fold", ratio=3)
        table.add_column("说明", overflow="fold", ratio=6)
        for f in findings:
            kind = SEVERITY_TEXT[f.severity] + ("\n(无法审核)" if f.outcome == CANNOT else "")
            style = "red" if f.severity == ERROR else "yellow"
            table.add_row(
                Text(kind, style=style),
                f"{f.rule} {f.label}",
                " ".join(f.codes),
                f.where or "—",
                f.message,
            )
        console.print(table)
        n_err = sum(1 for f in findings if f.severity == ERROR)
        n_warn = len(findings) - n_err
        console.print(f"{unit_label(unit)}:错误 {n_err} 条,提示 {n_warn} 条。\n")
    for note in result.notes:
        console.print(f"说明:{note}")
    console.print(
        f"{result.year} 年审核结果:共 {len(result.errors)} 条错误,{len(result.warnings)} 条提示。"
        + ("请按说明改正错误后重新报送、重新汇入(carestats ingest --replace)。" if result.errors else "")
    )


def fmt_number(value: Decimal, places: int | None = None) -> str:
    """Decimal text for a message: never exponent notation; ``places`` rounds half-up for derived values."""
    if places is not None:
        value = round_half_up(value, places)
    return format(value, "f")
