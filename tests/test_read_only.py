"""A store on read-only media (a read-only file, a read-only folder, both): the commands that only read work
and give a writable copy's results; ingest, an old schema and unmerged WAL content are told in Chinese.

Real files and a real SQLite store, made read-only with chmod, and the CLI run in a subprocess that the kernel
holds to those modes. Root ignores file modes, so as root the child first gives up the capabilities that let
it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: it stays uid 0 and can still run the interpreter
under /root), or, where that is not allowed, becomes nobody (uid 65534).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from carestats.ingest import ingest_paths
from carestats.store import Store
from tests.clirun import invoke
from tests.letter_data import SPEC_2025
from tests.workbooks import EXAMPLES, expected_2025, write_table1

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes make the media read-only")

PR_CAPBSET_DROP = 24
DAC_CAPABILITIES = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
NOBODY = 65534


def _as_a_clerk() -> Callable[[], None] | None:
    """The child's preexec_fn: none for an ordinary user (chmod binds it already)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for cap in DAC_CAPABILITIES:
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                os.setuid(NOBODY)
                return

    return drop


def run_cli(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carestats", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        preexec_fn=_as_a_clerk(),
    )


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """chmod a-w on files and folders, given back at the end so that pytest can remove them."""
    made: list[Path] = []

    def make(path: Path) -> None:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        made.append(path)

    yield make
    for path in reversed(made):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _check_the_kernel_refuses(db: Path, *, file: bool, folder: bool) -> None:
    """The premise: the child really cannot write the file (or make one in its folder). Where file modes bind
    no one (a file system mounted without permissions), the test says so instead of passing for nothing."""
    probe = "import sys\n"
    for what, target, mode in ((file, db, "r+b"), (folder, db.parent / "probe", "wb")):
        if what:
            probe += (
                f"try:\n    open({str(target)!r}, {mode!r}).close()\n    sys.exit({str(target)!r})\n"
                "except PermissionError:\n    pass\n"
            )
    p = subprocess.run(
        [sys.executable, "-c", probe], preexec_fn=_as_a_clerk(), capture_output=True, text=True
    )
    if p.returncode != 0:
        pytest.skip(f"file modes do not stop writing here: {p.stderr}")


MEDIA = {  # how the store is read-only: the file, its folder, or both (a CD)
    "file": (True, False),
    "folder": (False, True),
    "both": (True, True),
}


def _media(tmp_path: Path, source: Path, kind: str, read_only: Callable[[Path], None]) -> Path:
    folder = tmp_path / f"光盘 {kind} #1?%20"  # what a URI would misread: space, # ? %, Chinese
    folder.mkdir()
    db = folder / "carestats.db"
    shutil.copy(source, db)
    file_ro, folder_ro = MEDIA[kind]
    if file_ro:
        read_only(db)
    if folder_ro:
        read_only(folder)
    _check_the_kernel_refuses(db, file=file_ro, folder=folder_ro)
    return db


def _state(folder: Path) -> dict[str, str]:
    """Every file in the folder and its content's hash: what “nothing was changed” is checked against."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _writable(*args: object) -> str:
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.mark.parametrize("kind", list(MEDIA))
def test_read_commands_give_a_writable_copys_results(kind, example_db, tmp_path, read_only):
    writable = tmp_path / "可写.db"
    shutil.copy(example_db, writable)
    db = _media(tmp_path, example_db, kind, read_only)
    db_bytes = db.read_bytes()
    commands = (
        ["figures", "--format", "json"],
        ["history", "--format", "json"],
        ["check", "--format", "json"],
    )
    for args in commands:
        p = run_cli(*args, "--db", db, cwd=tmp_path)
        assert p.returncode == 0, (kind, args, p.stderr)
        assert "损坏" not in p.stderr and "Traceback" not in p.stderr
        assert p.stdout == _writable(*args, "--db", writable), (kind, args)
    assert json.loads(p.stdout)["errors"] == 0
    assert db.read_bytes() == db_bytes
    if MEDIA[kind][1]:  # nothing could be written beside it: no -wal, no -shm
        assert sorted(x.name for x in db.parent.iterdir()) == ["carestats.db"]


def test_report_and_form_read_a_store_on_a_cd(example_db, tmp_path, read_only):
    # a read-only file in a read-only folder: SQLite cannot make the -shm a WAL store needs, so it is opened
    # immutable; the letter and the 上年数 of next year's forms are those of a writable copy
    writable = tmp_path / "可写.db"
    shutil.copy(example_db, writable)
    db = _media(tmp_path, example_db, "both", read_only)
    before = _state(db.parent)
    p = run_cli("report", SPEC_2025, "--db", db, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == _writable("report", SPEC_2025, "--db", writable)
    assert "1688720" in p.stdout or "168.872" in p.stdout
    p = run_cli(
        "form", "--year", "2026", "--unit", "大兴镇", "-o", tmp_path / "只读", "--db", db, cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    _writable("form", "--year", "2026", "--unit", "大兴镇", "-o", tmp_path / "可写", "--db", writable)
    (got,) = (tmp_path / "只读").glob("*.xlsx")
    (want,) = (tmp_path / "可写").glob("*.xlsx")

    def cells(path: Path) -> list:
        return [[c.value for c in row] for ws in load_workbook(path) for row in ws.iter_rows()]

    assert cells(got) == cells(want)
    assert 569 in [v for row in cells(got) for v in row]  # 大兴镇's 2025 A01 as 上年数
    assert _state(db.parent) == before


@pytest.mark.parametrize("kind", list(MEDIA))
def test_ingest_into_a_read_only_store_says_it_cannot_be_written(kind, example_db, tmp_path, read_only):
    values = {k: v for k, v in expected_2025()["units"]["大兴镇"].items() if not k.startswith("H")}
    values["A01"] = 570
    correction = write_table1(tmp_path / "大兴镇2025年一老一小统计表(修改).xlsx", values=values)
    db = _media(tmp_path, example_db, kind, read_only)
    before = _state(db.parent)
    p = run_cli("ingest", "--replace", "--db", db, correction, cwd=tmp_path)
    assert p.returncode == 2, (kind, p.stdout, p.stderr)
    assert f"数据库 {db} 不能写入(文件或所在文件夹是只读的" in p.stderr and "没有改动它" in p.stderr
    assert "损坏" not in p.stderr and "Traceback" not in p.stderr
    assert _state(db.parent) == before


def test_a_new_store_cannot_be_made_in_a_read_only_folder(tmp_path, read_only):
    folder = tmp_path / "光盘"
    folder.mkdir()
    read_only(folder)
    _check_the_kernel_refuses(folder / "x", file=False, folder=True)
    p = run_cli("ingest", "--db", folder / "新.db", EXAMPLES, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert f"无法建立数据库文件 {folder / '新.db'}:所在文件夹 {folder} 不能写入" in p.stderr
    assert "损坏" not in p.stderr and list(folder.iterdir()) == []


# A carestats one schema version ahead: the store written today is then an old store that needs a migration.
NEWER_CARESTATS = (
    "import sys\n"
    "import carestats.store as store\n"
    "store.MIGRATIONS.append('ALTER TABLE submissions ADD COLUMN note TEXT')\n"
    "store.SCHEMA_VERSION = len(store.MIGRATIONS)\n"
    "from carestats.cli import main\n"
    "sys.argv[0] = 'carestats'\n"
    "main()\n"
)


def test_an_old_store_on_read_only_media_is_not_migrated_and_says_to_copy_it(example_db, tmp_path, read_only):
    writable = tmp_path / "可写.db"
    shutil.copy(example_db, writable)
    db = _media(tmp_path, example_db, "both", read_only)
    args = ("figures", "--format", "json", "--db")
    p = subprocess.run(
        [sys.executable, "-c", NEWER_CARESTATS, *args, str(db)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        preexec_fn=_as_a_clerk(),
    )
    assert p.returncode == 2, p.stderr
    assert f"数据库 {db} 是旧版本 carestats 的数据库(版本 1),要先升级为版本 2 才能使用" in p.stderr
    assert "请把它复制到可以写入的文件夹" in p.stderr and "损坏" not in p.stderr
    conn = sqlite3.connect(f"file:{quote(str(db))}?mode=ro&immutable=1", uri=True)
    assert conn.execute("PRAGMA user_version").fetchone() == (1,)  # not migrated
    conn.close()
    # the same carestats upgrades the writable copy and reads it
    p = subprocess.run(
        [sys.executable, "-c", NEWER_CARESTATS, *args, str(writable)], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == expected_2025()


def test_an_empty_read_only_store_has_no_data_yet(tmp_path, read_only):
    folder = tmp_path / "光盘"
    folder.mkdir()
    (folder / "carestats.db").write_bytes(b"")  # SQLite's empty database: carestats' tables never made
    read_only(folder / "carestats.db")
    read_only(folder)
    _check_the_kernel_refuses(folder / "carestats.db", file=True, folder=True)
    p = run_cli("figures", "--db", folder / "carestats.db", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert "中还没有数据。请先运行 carestats ingest 汇入报表" in p.stderr and "损坏" not in p.stderr


def test_damaged_and_foreign_files_on_read_only_media_are_told_as_before(tmp_path, read_only):
    folder = tmp_path / "光盘"
    folder.mkdir()
    (folder / "notes.db").write_text("这不是数据库" * 200, encoding="utf-8")
    conn = sqlite3.connect(folder / "台账.db")
    conn.execute("CREATE TABLE 台账 (x)")
    conn.commit()
    conn.close()
    for name in ("notes.db", "台账.db"):
        read_only(folder / name)
    read_only(folder)
    _check_the_kernel_refuses(folder / "notes.db", file=True, folder=True)
    for name, words in (
        ("notes.db", "不是 carestats 数据库或已损坏。请用 --db 指定正确的数据库文件"),
        ("台账.db", "不是 carestats 数据库(是别的程序的 SQLite 数据库,其中有表 台账),没有改动它"),
    ):
        for args in (["figures"], ["check"], ["ingest", EXAMPLES]):
            p = run_cli(*args, "--db", folder / name, cwd=tmp_path)
            assert p.returncode == 2, (name, args, p.stderr)
            assert f"{folder / name} {words}" in p.stderr, (name, args, p.stderr)
            assert "只读" not in p.stderr


def _store_with_unmerged_wal(tmp_path: Path, profile) -> tuple[Path, Path]:
    """A store whose last ingest is still only in its -wal file (as a copy taken while carestats ran, or a
    crash, leaves it): (the copy of the .db with its -wal and -shm, the live store, checkpointed since)."""
    live = tmp_path / "live" / "carestats.db"
    live.parent.mkdir()
    values = {k: v for k, v in expected_2025()["units"]["大兴镇"].items() if not k.startswith("H")}
    values["A01"] = 570
    correction = write_table1(tmp_path / "大兴镇2025年一老一小统计表(修改).xlsx", values=values)
    copy = tmp_path / "copy"
    copy.mkdir()
    with Store.open(live) as s:
        assert all(r.ok for r in ingest_paths(s, profile, [EXAMPLES]))
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        s.conn.execute("PRAGMA wal_autocheckpoint = 0")
        assert all(r.ok for r in ingest_paths(s, profile, [correction], replace=True))
        for suffix in ("", "-wal", "-shm"):
            shutil.copy(f"{live}{suffix}", copy / f"carestats.db{suffix}")
    assert (copy / "carestats.db-wal").stat().st_size > 0
    return copy / "carestats.db", live


def test_unmerged_wal_content_in_a_read_only_folder_is_read_or_refused_never_dropped(
    tmp_path, profile, read_only
):
    db, live = _store_with_unmerged_wal(tmp_path, profile)
    want = _writable("figures", "--format", "json", "--db", live)
    assert json.loads(want)["units"]["大兴镇"]["A01"] == 570
    read_only(db.parent)
    _check_the_kernel_refuses(db, file=False, folder=True)
    # with its -shm beside it, SQLite reads the -wal read-only: the correction is there
    p = run_cli("figures", "--format", "json", "--db", db, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == want
    # without it, immutable would read the database without the correction: refused instead
    db.parent.chmod(0o755)
    (db.parent / "carestats.db-shm").unlink()
    read_only(db.parent)
    before = _state(db.parent)
    p = run_cli("figures", "--format", "json", "--db", db, cwd=tmp_path)
    assert p.returncode == 2, p.stdout
    assert (
        f"数据库 {db} 所在的文件夹不能写入,而旁边的 carestats.db-wal 中还有没有并入数据库的数据" in p.stderr
    )
    assert "一起复制到可以写入的文件夹" in p.stderr and p.stdout == ""
    assert _state(db.parent) == before
