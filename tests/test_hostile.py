"""Hostile and broken inputs (issue 5): each refused with one Chinese line, in bounded memory, the store intact.

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
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from carestats.store import Store
from tests import hostile_files as h
from tests.workbooks import EXAMPLES, PROFILE_DIR, expected_2025, write_table1

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


def popen(*args: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "carestats", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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


def expected(unit: str) -> dict[str, Decimal]:
    return {k: Decimal(str(v)) for k, v in expected_2025()["units"][unit].items() if not k.startswith("H")}


@pytest.fixture
def db(example_db: Path, tmp_path: Path) -> Path:
    """A real store already holding the 13 example returns of 2025."""
    path = tmp_path / "2025.db"
    shutil.copy(example_db, path)
    return path


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return h.zip_bomb(tmp_path_factory.mktemp("bomb") / "炸弹.xlsx")


def refused_line(stderr: str, name: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("拒收")]
    assert len(lines) == 1, stderr
    assert name in lines[0], stderr
    return lines[0]


# ---------------------------------------------------------------- cases 1–4, 7, 8: refused
REFUSED = [
    ("空文件.xlsx", h.empty_file, "empty-file", ["空的", "0 字节", "请"]),
    ("随机字节.xlsx", h.random_bytes, "unknown-format", ["无法识别", "请"]),
    ("截断.xlsx", h.truncated_xlsx, "corrupt", ["损坏", "重新发送"]),
    ("Word文档.xlsx", h.word_as_xlsx, "not-a-spreadsheet", ["Word 文档", "请索取"]),
    ("扫描件.xls", h.pdf_as_xls, "not-a-spreadsheet", ["PDF", "请索取"]),
    ("加密.xlsx", h.encrypted_xlsx, "encrypted", ["加密", "不加密"]),
    ("空白.xlsx", h.blank_workbook, "no-return", ["没有找到可识别的报表", "请确认"]),
    ("会议纪要.xlsx", h.meeting_notes, "no-return", ["没有找到可识别的报表", "请确认"]),
    ("实体1.xlsx", h.laughs_in_shared_strings, "xml-entities", ["sharedStrings.xml", "实体", "已拒绝"]),
    ("实体2.xlsx", h.laughs_in_sheet, "xml-entities", ["sheet1.xml", "实体", "已拒绝"]),
    ("实体3.xlsx", h.laughs_after_padding, "xml-entities", ["sheet1.xml", "实体", "已拒绝"]),
]


@pytest.mark.parametrize("name,make,code,words", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_one_chinese_line_store_unchanged(db, tmp_path, name, make, code, words):
    path = make(tmp_path / name)
    before = snapshot(db)
    p = carestats("ingest", "--db", db, path)
    assert p.returncode == 1, p.stderr
    line = refused_line(p.stderr, name)
    for w in words:
        assert w in line
    assert "Traceback" not in p.stdout + p.stderr
    assert snapshot(db) == before
    # the library says the same, with a stable code
    from carestats.ingest import prepare_file
    from carestats.profile import Profile

    assert prepare_file(path, Profile.load()).code == code
    # --debug shows the traceback behind the refusal, the store still unchanged
    d = carestats("ingest", "--db", db, "--debug", path)
    assert d.returncode == 1 and name in d.stderr
    if code != "no-return":  # “no return found” is a decision, not an exception
        assert "Traceback" in d.stderr
    assert snapshot(db) == before and integrity(db) == "ok"


def test_refused_in_a_folder_too_and_good_files_still_land(db, tmp_path):
    folder = tmp_path / "收件箱"
    folder.mkdir()
    h.blank_workbook(folder / "空白.xlsx")
    h.meeting_notes(folder / "会议纪要.xlsx")
    h.empty_file(folder / "空文件.xlsx")
    h.stray_far_cell(folder / "大兴镇2024年一老一小统计表.xlsx")
    before = snapshot(db)
    p = carestats("ingest", "--db", db, folder)
    assert p.returncode == 1, p.stderr
    refused = [ln for ln in p.stderr.splitlines() if ln.startswith("拒收")]
    assert len(refused) == 3 and all("请" in ln for ln in refused)
    assert "Traceback" not in p.stderr
    after = snapshot(db)
    assert after[0][: len(before[0])] == before[0] and after[1][: len(before[1])] == before[1]
    assert len(after[0]) == len(before[0]) + 1  # only the good return was added
    assert values(db, h.YEAR, "大兴镇") == expected("大兴镇")


def test_zip_bomb_refused_from_declared_sizes(db, bomb):
    before = snapshot(db)
    p = carestats("ingest", "--db", db, bomb)
    assert p.returncode == 1, p.stderr
    line = refused_line(p.stderr, bomb.name)
    assert "压缩炸弹" in line and "MB" in line and "Traceback" not in p.stderr
    assert snapshot(db) == before


def test_zip_bomb_lying_about_its_size_refused_in_bounded_memory(db, tmp_path):
    path = h.zip_bomb_lying(tmp_path / "谎报炸弹.xlsx")
    before = snapshot(db)
    p = carestats("ingest", "--db", db, path)
    assert p.returncode == 1, p.stderr
    line = refused_line(p.stderr, path.name)
    assert "损坏" in line and "请" in line and "Traceback" not in p.stderr
    assert snapshot(db) == before


def test_size_limit_comes_from_the_profile(db, tmp_path):
    """[limits] max_uncompressed_mb is data: a profile with a lower limit refuses an ordinary return."""
    prof = tmp_path / "profile"
    shutil.copytree(PROFILE_DIR, prof)
    toml = prof / "profile.toml"
    text = toml.read_text(encoding="utf-8")
    assert "max_uncompressed_mb = 500" in text
    toml.write_text(text.replace("max_uncompressed_mb = 500", "max_uncompressed_mb = 0"), encoding="utf-8")
    path = h.stray_far_cell(tmp_path / "大兴镇2024年一老一小统计表.xlsx")
    before = snapshot(db)
    p = carestats("ingest", "--db", db, "--profile", prof, path)
    assert p.returncode == 1
    line = refused_line(p.stderr, path.name)
    assert "max_uncompressed_mb" in line and "上限 0 MB" in line
    assert snapshot(db) == before
    assert carestats("ingest", "--db", db, path).returncode == 0  # the bundled profile reads it


# ---------------------------------------------------------------- case 5: formula without a cached value
def test_formula_without_cached_value_named_never_zero(db, tmp_path):
    path = h.formula_no_cache(tmp_path / "公式.xlsx")
    before = snapshot(db)
    p = carestats("ingest", "--db", db, path)
    assert p.returncode == 1, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if "公式" in ln and "E7" in ln]
    assert len(lines) == 1, p.stderr
    assert "公式.xlsx 统计表!E7" in lines[0] and "=30+39" in lines[0] and "WPS 或 Excel" in lines[0]
    assert "Traceback" not in p.stderr
    got = values(db, h.YEAR, "大兴镇")
    assert got["A02"] is None  # not 0, not blank: no value, with the problem stored beside it
    assert {k: v for k, v in got.items() if k != "A02"} == {
        k: v for k, v in expected("大兴镇").items() if k != "A02"
    }
    after = snapshot(db)
    assert after[0][: len(before[0])] == before[0] and after[1][: len(before[1])] == before[1]
    f = carestats("figures", "--db", db, "--year", h.YEAR, "--format", "csv")
    assert f.returncode == 1 and "A02" in f.stderr  # no county total from a missing value
    row = next(r for r in csv.reader(io.StringIO(f.stdout)) if r and r[0] == "A02")
    assert row[3] == "" and "0" not in row[3]


# ---------------------------------------------------------------- cases 6, 9: read correctly
def test_stray_cell_at_xfd1048576_read_correctly_in_bounded_memory(db, tmp_path):
    path = h.stray_far_cell(tmp_path / "大兴镇2024年一老一小统计表.xlsx")
    p = carestats("ingest", "--db", db, path)
    assert p.returncode == 0, p.stderr
    assert values(db, h.YEAR, "大兴镇") == expected("大兴镇")
    with Store.open(db) as s:
        cells = {v.code: v.cell for v in s.active_values(h.YEAR)}
    assert cells["A02"] == "E7"  # addresses as WPS shows them, the far cell changing nothing


def test_xlsm_values_read_macros_never_run(db, tmp_path):
    path = h.xlsm_with_macro(tmp_path / "大兴镇2024年一老一小统计表.xlsm")
    p = carestats("ingest", "--db", db, path)
    assert p.returncode == 0, p.stderr
    assert "已汇入" in p.stdout
    assert values(db, h.YEAR, "大兴镇") == expected("大兴镇")


# ---------------------------------------------------------------- case 10: CSV, names, other files in a folder
def test_csv_encodings_chinese_names_and_non_spreadsheets_skipped(db, tmp_path):
    folder = tmp_path / "2024 年 报表 收件箱"
    folder.mkdir()
    h.csv_return(folder / "大兴镇 2024 一老一小 (GBK).csv", "大兴镇", "gbk")
    h.csv_return(folder / "牛孔镇 2024 统计表 BOM.csv", "牛孔镇", "utf-8-sig")
    h.csv_return(folder / "平河镇_2024 一老一小.csv", "平河镇", "utf-8")
    h.word_as_xlsx(folder / "报送说明.docx")
    h.pdf_as_xls(folder / "盖章扫描件.pdf")
    (folder / "备注.txt").write_text("请查收", encoding="utf-8")
    before = snapshot(db)
    p = carestats("ingest", "--db", db, folder)
    assert p.returncode == 0, p.stderr
    skipped = sorted(ln for ln in p.stderr.splitlines() if ln.startswith("跳过"))
    assert len(skipped) == 3 and all("不是电子表格,已跳过" in ln for ln in skipped)
    assert "跳过非表格文件 3 个" in p.stdout and "汇入 3" in p.stdout
    for unit in ("大兴镇", "牛孔镇", "平河镇"):
        assert values(db, h.YEAR, unit) == expected(unit), unit
    after = snapshot(db)
    assert after[1][: len(before[1])] == before[1]


# ---------------------------------------------------------------- case 11: SIGKILL mid-batch
def test_sigkill_mid_batch_leaves_whole_files_and_next_ingest_carries_on(tmp_path):
    folder = tmp_path / "批量"
    folder.mkdir()
    years = list(range(1951, 2031))
    for y in years:
        write_table1(folder / f"大兴镇{y}年一老一小统计表.xlsx", "大兴镇", y, values=h._values("大兴镇"))
    db = tmp_path / "kill.db"
    proc = popen("ingest", "--db", db, folder)
    seen = 0
    deadline = time.monotonic() + HANG_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as conn:
                    seen = conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
            except sqlite3.OperationalError:
                seen = 0  # schema not created yet
            if seen >= 3:
                break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=HANG_TIMEOUT)
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    assert integrity(db) == "ok"
    with sqlite3.connect(db) as conn:
        per_file = conn.execute(
            "SELECT s.file_name, COUNT(v.id) FROM submissions s LEFT JOIN vals v ON v.submission_id = s.id"
            " GROUP BY s.id"
        ).fetchall()
    assert 3 <= len(per_file) < len(years)
    full = {n for _f, n in per_file}
    assert len(full) == 1 and full.pop() >= 29  # every file that is in is fully in
    p = carestats("ingest", "--db", db, folder)
    assert p.returncode == 0, p.stderr
    assert f"汇入 {len(years) - len(per_file)}" in p.stdout and f"未变 {len(per_file)}" in p.stdout
    for y in (years[0], years[-1]):
        assert values(db, y, "大兴镇") == expected("大兴镇")
    assert len(snapshot(db)[0]) == len(years) and integrity(db) == "ok"


# ---------------------------------------------------------------- case 12: two ingests at once
def test_two_ingests_at_once_both_finish(tmp_path):
    db = tmp_path / "together.db"
    towns = tmp_path / "乡镇"
    depts = tmp_path / "部门"
    towns.mkdir()
    depts.mkdir()
    for f in EXAMPLES.iterdir():
        shutil.copy(f, (depts if f.name.startswith("县") else towns) / f.name)
    procs = [
        popen("ingest", "--db", db, towns),
        popen("ingest", "--db", db, depts),
        popen("ingest", "--db", db, EXAMPLES),
    ]
    outs = [p.communicate(timeout=HANG_TIMEOUT) for p in procs]
    for p, (out, err_) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err_
        assert "Traceback" not in out + err_
    assert integrity(db) == "ok"
    subs, _vals = snapshot(db)
    assert len(subs) == 13  # the third ingest found every file already in (未变) or stored it once
    f = carestats("figures", "--db", db, "--year", 2025, "--format", "json")
    import json

    assert json.loads(f.stdout) == expected_2025()


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


# ---------------------------------------------------------------- case 13: no formula from input in outputs
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
