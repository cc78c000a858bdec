"""A whole county's returns as real workbooks, with exactly the mistakes a test asks for.

``write_county`` writes the thirteen returns (nine 表一, 表二, 表三, 表四, 表五) from the 2025 expected figures
with the shared builders in ``tests/workbooks.py``; ``overrides`` change single values (``DROP`` removes a
row). ``checked`` ingests them into a real SQLite store and runs ``run_check``.

Cell addresses in the written 表一: A01…A13 are E6…E18, B01…B06 E20…E25, C01…C10 E27…E36. In 表二 each
township is a row from 6 (大兴镇) to 14 (三猛乡), the 合计 row is 15; H01…H04 are columns C…F. In 表三/四/五
the first indicator is on row 5.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from carestats.check import run_check
from carestats.expr import round_half_up
from carestats.findings import CheckResult
from carestats.ingest import FileResult, ingest_paths
from carestats.profile import Profile
from carestats.store import Store
from tests.workbooks import TOWNSHIPS, _num, expected_2025, write_table1, write_table2

DROP = object()  # an override that removes the indicator's row
DEPARTMENTS = {"县民政局": "表三", "县妇联": "表四", "县教育局": "表五"}
T2 = "县卫健局{year}年老年人健康管理情况表.xlsx"


def file_name(unit: str, year: int = 2025) -> str:
    if unit == "县卫生健康局":
        return T2.format(year=year)
    return f"{unit}{year}年一老一小统计表.xlsx"


def base_values() -> dict[str, dict[str, Any]]:
    units = expected_2025()["units"]
    return {u: {c: _num(v) for c, v in vals.items()} for u, vals in units.items()}


def table2_total(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A correct 合计 row: counts summed, H03 recomputed from the sums and rounded half-up."""
    h01 = sum(Decimal(str(r["H01"])) for r in rows.values())
    h02 = sum(Decimal(str(r["H02"])) for r in rows.values())
    h04 = sum(Decimal(str(r["H04"])) for r in rows.values())
    h03 = round_half_up(h02 * 100 / h01, 2)
    return {"H01": int(h01), "H02": int(h02), "H03": float(h03), "H04": int(h04)}


def write_county(
    root: Path,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    year: int = 2025,
    skip: Iterable[str] = (),
    total: dict[str, Any] | None = None,
    table1_kw: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write the county's returns into ``root``. ``overrides``: unit → code → value (or DROP).

    Township H01…H04 overrides go into 表二; its 合计 row is recomputed from the rows unless ``total``
    overrides some of its cells. ``skip`` leaves a unit's file out; ``table1_kw`` passes builder switches.
    """
    root.mkdir(parents=True, exist_ok=True)
    values = base_values()
    for unit, changes in (overrides or {}).items():
        for code, value in changes.items():
            if value is DROP:
                values[unit].pop(code, None)
            else:
                values[unit][code] = value
    skip = set(skip)
    for unit in TOWNSHIPS:
        if unit in skip:
            continue
        vals = {c: v for c, v in values[unit].items() if not c.startswith("H")}
        write_table1(root / file_name(unit, year), unit, year, vals, **(table1_kw or {}).get(unit, {}))
    prof = Profile.load()
    for unit, tid in DEPARTMENTS.items():
        if unit in skip:
            continue
        write_table1(
            root / file_name(unit, year),
            unit,
            year,
            values[unit],
            table=tid,
            title=f"绿春县{year}年{unit}{prof.tables[tid].name}",
            filer=unit,
        )
    if "县卫生健康局" not in skip:
        rows = {
            u: {c: values[u][c] for c in ("H01", "H02", "H03", "H04") if c in values[u]}
            for u in TOWNSHIPS
            if values[u].get("H01") is not None
        }
        tot = table2_total(rows)
        tot.update(total or {})
        write_table2(root / file_name("县卫生健康局", year), rows, tot, year)
    return root


def ingest(db: Path, *paths: Path) -> list[FileResult]:
    with Store.open(db) as store:
        return ingest_paths(store, Profile.load(), list(paths))


def checked(
    tmp_path: Path,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    previous: dict[str, dict[str, Any]] | None = None,
    allow_problems: bool = False,
    **kw: Any,
) -> CheckResult:
    """Write the county (and optionally last year's 表一 for the units in ``previous``), ingest, check."""
    db = tmp_path / "check.db"
    root = write_county(tmp_path / "returns", overrides, **kw)
    results = ingest(db, root)
    if not allow_problems:
        assert all(r.ok for r in results), [(r.message, [p.message for p in r.problems]) for r in results]
    if previous is not None:
        last = tmp_path / "returns-last-year"
        last.mkdir()
        values = base_values()
        for unit, changes in previous.items():
            vals = {c: v for c, v in values[unit].items() if not c.startswith("H")}
            vals.update(changes)
            write_table1(last / file_name(unit, 2024), unit, 2024, vals)
        assert all(r.ok for r in ingest(db, last))
    with Store.open(db) as store:
        return run_check(store, Profile.load(), 2025)


def summary(result: CheckResult) -> list[tuple[str, str | None, str, str | None]]:
    """(rule, unit, outcome, cell) of every finding: what most tests compare against."""
    return [(f.rule, f.unit, f.outcome, f.cell) for f in result.findings]
