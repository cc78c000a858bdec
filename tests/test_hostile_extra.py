"""More hostile inputs beyond tests/test_hostile.py: a bomb lying about its size, a DOCTYPE behind padding, a
locked store, formula-looking file/sheet names in report --audit, and proof that the memory cap has teeth.

Every ingest here runs ``python -m carestats`` in a subprocess under an address-space cap (RLIMIT_AS) and a
generous hang timeout: a reader that inflates a bomb or builds a dense grid to XFD1048576 dies instead of
passing. No timing is asserted; bench/hostile_bench.py measures seconds and megabytes.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from carestats.store import Store
from tests import hostile_files as h
from tests.workbooks import EXAMPLES, PROFILE_DIR, write_table1

MEMORY_CAP = 2 * 1024**3  # far above a sane ingest (~150 MB), far below a dense grid or an inflated bomb
HANG_TIMEOUT = 180
ROOT = Path(__file__).resolve().parents[1]


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def carestats(*args: object, timeout: float = HANG_TIMEOUT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "carestats", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap,
        cwd=ROOT,
        env=env,
    )


def snapshot(db: Path) -> tuple[list, list]:
    """Everything stored: submissions and values, row by row."""
    with sqlite3.connect(db) as conn:
        subs = conn.execute("SELECT * FROM submissions ORDER BY id").fetchall()
        vals = conn.execute("SELECT * FROM vals ORDER BY id").fetchall()
    return subs, vals


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def values(db: Path, year: int, unit: str) -> dict[str, Decimal | None]:
    with Store.open(db) as s:
        return {v.code: v.value for v in s.active_values(year) if v.unit == unit and v.role == "value"}


@pytest.fixture
def db(example_db: Path, tmp_path: Path) -> Path:
    """A real store already holding the 13 example returns of 2025."""
    path = tmp_path / "2025.db"
    shutil.copy(example_db, path)
    return path


def refused_line(stderr: str, name: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("拒收")]
    assert len(lines) == 1, stderr
    assert name in lines[0], stderr
    return lines[0]


def test_doctype_behind_padding_refused(db, tmp_path):
    path = h.laughs_after_padding(tmp_path / "实体3.xlsx")
    before = snapshot(db)
    p = carestats("ingest", "--db", db, path)
    assert p.returncode == 1, p.stderr
    line = refused_line(p.stderr, path.name)
    assert "实体" in line and "已拒绝" in line and "Traceback" not in p.stderr
    assert snapshot(db) == before


def test_zip_bomb_lying_about_its_size_refused_in_bounded_memory(db, tmp_path):
    path = h.zip_bomb_lying(tmp_path / "谎报炸弹.xlsx")
    before = snapshot(db)
    p = carestats("ingest", "--db", db, path)
    assert p.returncode == 1, p.stderr
    line = refused_line(p.stderr, path.name)
    assert "损坏" in line and "请" in line and "Traceback" not in p.stderr
    assert snapshot(db) == before


def test_ingest_waiting_too_long_for_another_says_so(db, tmp_path):
    """Another writer holds the store past the busy timeout: a Chinese line, nothing half-written."""
    path = h.stray_far_cell(tmp_path / "大兴镇2024年一老一小统计表.xlsx")
    before = snapshot(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "CARESTATS_BUSY_TIMEOUT_MS": "300"}
        p = subprocess.run(
            [sys.executable, "-m", "carestats", "ingest", "--db", str(db), str(path)],
            capture_output=True,
            text=True,
            timeout=HANG_TIMEOUT,
            preexec_fn=_cap,
            cwd=ROOT,
            env=env,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert p.returncode == 2, p.stderr
    assert "正被另一个 carestats 程序写入" in p.stderr and path.name in p.stderr and "重新运行" in p.stderr
    assert "Traceback" not in p.stderr
    assert snapshot(db) == before and integrity(db) == "ok"
    assert carestats("ingest", "--db", db, path).returncode == 0  # once free, it carries on


EVIL = ['=HYPERLINK("http://x","点我")', "+1+1", "-2-3+cmd", "@SUM(1)"]


def _formula_like(text: str) -> bool:
    if not text or text[0] not in "=+-@\t\r":
        return False
    try:
        Decimal(text)
        return False
    except Exception:
        return True


def assert_no_formula_xlsx(path: Path) -> int:
    wb = load_workbook(path)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{path.name} {ws.title}!{c.coordinate}: {c.value}"
                if isinstance(c.value, str) and _formula_like(c.value):
                    # a string cell is never evaluated (figures also prefix ', findings set quotePrefix)
                    assert c.data_type == "s", f"{path.name} {ws.title}!{c.coordinate}: {c.value}"
                if isinstance(c.value, str):
                    seen += _formula_like(c.value.removeprefix("'")) or any(e[1:] in c.value for e in EVIL)
    return seen


def assert_no_formula_csv(text: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for field in row:
            assert not _formula_like(field), field


def test_text_from_returns_never_a_formula_in_outputs(tmp_path):
    db = tmp_path / "evil.db"
    inbox = tmp_path / "收件"
    inbox.mkdir()
    for f in EXAMPLES.iterdir():
        if not f.name.startswith("大兴镇"):
            shutil.copy(f, inbox / f.name)

    def edit(ws):
        for i, text in enumerate(EVIL):  # text cells beside the values, as a clerk might type them
            cell = ws.cell(row=7 + i, column=6, value=text)
            cell.data_type = "s"

    # 大兴镇 2025 with formula-looking text in 备注, its file and sheet names starting with = and @
    write_table1(inbox / "=大兴镇2025年一老一小统计表.xlsx", "大兴镇", 2025, sheet_name="@统计表", edit=edit)
    # and 2024 with formula-looking text in value cells: problems whose raw text lands in check outputs
    vals = h._values("大兴镇")
    evil_vals = dict(zip(("A02", "A03", "A04", "A05"), EVIL, strict=True))
    path = write_table1(
        inbox / "+大兴镇2024年一老一小统计表.xlsx", "大兴镇", 2024, values={**vals, **evil_vals}
    )
    wb = load_workbook(path)
    for row in wb.active.iter_rows():
        for c in row:
            if c.value in EVIL:
                c.data_type = "s"
    wb.save(path)

    p = carestats("ingest", "--db", db, inbox)
    assert "Traceback" not in p.stderr and p.returncode == 1, p.stderr
    with Store.open(db) as s:
        raws = {v.raw for v in s.active_values(2024)}
    assert set(EVIL) <= raws  # the hostile text really reached the store

    out = tmp_path / "out"
    out.mkdir()
    for year in (2025, 2024):
        r = carestats("figures", "--db", db, "--year", year, "-o", out / f"f{year}.csv")
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr
        assert_no_formula_csv((out / f"f{year}.csv").read_text(encoding="utf-8-sig"))
        r = carestats("figures", "--db", db, "--year", year, "-o", out / f"f{year}.xlsx")
        assert_no_formula_xlsx(out / f"f{year}.xlsx")
    r = carestats("check", "--db", db, "--year", 2024, "--annotate", out / "批注")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    annotated = list((out / "批注").rglob("*.xlsx"))
    assert annotated
    assert sum(assert_no_formula_xlsx(f) for f in annotated) > 0  # the evil text is there, as text
    r = carestats(
        "report",
        ROOT / "data/examples/letters/2025-57.toml",
        "--db",
        db,
        "-o",
        out / "l.txt",
        "--audit",
        out / "a.xlsx",
    )
    assert "Traceback" not in r.stderr, r.stderr
    assert (out / "a.xlsx").exists(), r.stderr
    assert assert_no_formula_xlsx(out / "a.xlsx") > 0  # file and sheet names starting with = and @, as text


def test_the_memory_cap_has_teeth(tmp_path):
    """Without the sparse reader (max_cells raised past the stray cell), calamine dies under the cap: the
    bounded tests above would fail if a reader built a dense grid."""
    prof = tmp_path / "profile"
    shutil.copytree(PROFILE_DIR, prof)
    toml = prof / "profile.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("max_cells = 2000000", "max_cells = 100000000000000"),
        encoding="utf-8",
    )
    path = h.stray_far_cell(tmp_path / "大兴镇2024年一老一小统计表.xlsx")
    p = carestats("ingest", "--db", tmp_path / "x.db", "--profile", prof, path)
    assert p.returncode not in (0, 1)
