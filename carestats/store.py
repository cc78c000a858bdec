"""The SQLite store: submissions with their history, and every value with the cell it came from.

One file is one transaction (``BEGIN IMMEDIATE``): it lands whole or not at all, and two ingests on the same
store take turns (WAL, busy timeout) instead of corrupting it. Replaced submissions are kept, marked
``superseded``. The schema version lives in ``PRAGMA user_version``; ``MIGRATIONS`` brings older files up.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple, NoReturn
from urllib.parse import quote

from carestats.errors import StoreError, UsageError, os_reason
from carestats.text import squash

ENV_DB = "CARESTATS_DB"
DEFAULT_DB = "carestats.db"
BUSY_TIMEOUT_MS = 60_000
ENV_BUSY = "CARESTATS_BUSY_TIMEOUT_MS"

MIGRATIONS: list[str] = [
    # 1: submissions and values
    """
    CREATE TABLE submissions (
        id           INTEGER PRIMARY KEY,
        file_name    TEXT NOT NULL,
        file_path    TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        filer        TEXT NOT NULL,
        table_id     TEXT NOT NULL,
        year         INTEGER NOT NULL,
        sheet        TEXT NOT NULL,
        ingested_at  TEXT NOT NULL,
        status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded')),
        superseded_by INTEGER REFERENCES submissions(id),
        superseded_at TEXT
    );
    CREATE INDEX submissions_sha ON submissions(sha256);
    CREATE INDEX submissions_year ON submissions(year, status);
    CREATE TABLE vals (
        id            INTEGER PRIMARY KEY,
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        unit          TEXT NOT NULL,
        code          TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('value', 'total')),
        value         TEXT,
        raw           TEXT NOT NULL,
        problem       TEXT,
        detail        TEXT,
        sheet         TEXT NOT NULL,
        cell          TEXT NOT NULL
    );
    CREATE INDEX vals_submission ON vals(submission_id);
    CREATE INDEX vals_unit_code ON vals(unit, code);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Submission:
    id: int
    file_name: str
    file_path: str
    sha256: str
    filer: str
    table: str
    year: int
    sheet: str
    ingested_at: str
    status: str
    superseded_by: int | None


@dataclass(frozen=True)
class HistoryEntry:
    """One submission as ``carestats history`` lists it: which file, when, and whether (by which file, when)
    it was replaced; superseded submissions stay in the store for exactly this."""

    id: int
    file_name: str
    file_path: str
    filer: str
    table: str
    year: int
    ingested_at: str  # local time, ISO 8601 to the second
    status: str  # 'active' | 'superseded'
    superseded_by: int | None  # the submission that replaced it …
    superseded_by_file: str | None  # … its file's name
    superseded_at: str | None
    values: int  # values stored from the file (unreadable cells included)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "file": self.file_name,
            "path": self.file_path,
            "filer": self.filer,
            "table": self.table,
            "year": self.year,
            "ingested_at": self.ingested_at,
            "status": self.status,
            "superseded_by": self.superseded_by,
            "superseded_by_file": self.superseded_by_file,
            "superseded_at": self.superseded_at,
            "values": self.values,
        }


class StoredValue(NamedTuple):
    """A value as check, figures and the letter read it: an immutable tuple, light enough for the hundreds of
    thousands a province's year holds."""

    submission_id: int
    file: str
    path: str
    filer: str
    table: str
    year: int
    unit: str
    code: str
    value: Decimal | None
    raw: str
    sheet: str
    cell: str
    role: str
    problem: str | None
    detail: str | None

    @property
    def where(self) -> str:
        """“大兴镇2025年一老一小统计表.xlsx 统计表!E7”: how a clerk finds the cell."""
        return f"{self.file} {self.sheet}!{self.cell}"


class NewValue(NamedTuple):
    """One value to store: a plain tuple, so that worker processes send it cheaply and SQLite binds it as is.
    ``value``, ``problem`` and ``detail`` are None or "" when there is none (both are stored as NULL)."""

    unit: str
    code: str
    role: str
    value: str | None
    raw: str
    problem: str | None
    detail: str | None
    sheet: str
    cell: str


class AlreadyStored(Exception):
    """The same file (same sha256) is already an active submission: nothing to do."""

    def __init__(self, submission: Submission):
        super().__init__("already stored")
        self.submission = submission


class OldVersion(Exception):
    """The same file (same sha256) was stored once and has since been replaced: taking it again would undo its
    correction, so it is never stored again (``current`` is the submission in force now)."""

    def __init__(self, submission: Submission, current: Submission, superseded_at: str):
        super().__init__("old version")
        self.submission = submission
        self.current = current
        self.superseded_at = superseded_at


class WouldDrop(Exception):
    """A replacement that does not hold every unit of a submission it would supersede: the other units'
    figures would leave the store's active values (a county-compiled 表一 replaced by one township's return)."""

    def __init__(self, submission: Submission, units: list[str]):
        super().__init__("would drop units")
        self.submission = submission
        self.units = units


class Conflict(Exception):
    """A new file would add a second active value for a unit, indicator and year."""

    def __init__(self, clashes: list[tuple[str, str, Submission]]):
        super().__init__("conflict")
        self.clashes = clashes


def busy_timeout_ms() -> int:
    """How long a writer waits for another one (CARESTATS_BUSY_TIMEOUT_MS, default 60 s)."""
    try:
        return max(0, int(os.environ.get(ENV_BUSY, BUSY_TIMEOUT_MS)))
    except ValueError:
        return BUSY_TIMEOUT_MS


def _journal_wal(conn: sqlite3.Connection, busy_ms: int) -> None:
    """Switch to WAL, waiting as long as any write would. SQLite answers “locked” at once, without its busy
    wait, while another connection holds a lock on a store that is not yet in WAL mode: two carestats
    started together on a new store would otherwise see one of them fail."""
    deadline = time.monotonic() + busy_ms / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _refuse_foreign(conn: sqlite3.Connection, path: Path) -> None:
    """Another program's SQLite file (tables but not carestats' schema): never add carestats' tables to it,
    nor call it a newer carestats' store.

    Both are read in one read transaction: between two separate reads, another carestats creating the same
    new store could commit its tables (version 0, then carestats' tables: “another program's file”)."""
    conn.execute("BEGIN")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    if (version == 0 and tables) or (version > 0 and not {"submissions", "vals"} <= tables):
        shown = "、".join(sorted(tables)[:5]) + (" 等" if len(tables) > 5 else "")
        raise StoreError(
            f"{path} 不是 carestats 数据库(是别的程序的 SQLite 数据库"
            + (f",其中有表 {shown}" if tables else "")
            + "),没有改动它。请用 --db 指定 carestats 的数据库,或一个新的文件名"
        )


def _file_writable(path: Path) -> bool:
    """Whether the file itself can be opened for writing (it is not changed). SQLite would open a read-only
    file read-only without a word and fail at the first write; a write-protected USB stick or CD refuses
    the same way (EACCES/EROFS; on Windows the read-only attribute or the medium)."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        return exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS)
    os.close(fd)
    return True


def _is_read_only(exc: sqlite3.OperationalError) -> bool:
    """SQLite could not write (SQLITE_READONLY_*: the file or, for WAL's -shm, the folder) or could not
    open a file it needs (SQLITE_CANTOPEN: a -shm or -wal in a folder that cannot be written)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly" in str(exc)


def _read_only_uri(path: str | Path, *, immutable: bool, paths: Any = os.path) -> str:
    r"""``file:///…?mode=ro`` for ``path``: absolute, with / separators, every character that a URI would
    read otherwise (% ? # space, Chinese) percent-encoded; a Windows drive (C:/…) or share (//server/…)
    keeps its form after ``file://``. A long path's ``\\?\`` prefix is dropped (``\\?\UNC\`` is a
    share): SQLite would read it as a folder named “?”. ``paths`` is ``ntpath`` in tests of Windows paths.
    """
    text = paths.abspath(path).replace("\\", "/")  # abspath, not resolve: a mapped drive stays Z:
    if paths.sep == "\\":  # on POSIX “//?/” is a folder named “?”
        text = _LONG_PREFIX.sub(lambda m: "//" if m.group(1) else "", text, count=1)
    if not text.startswith("/"):
        text = "/" + text  # C:/… → /C:/…
    return f"file://{quote(text, safe='/:')}?mode=ro" + ("&immutable=1" if immutable else "")


# Windows' “\\?\” (and “\\.\”) prefix of a long path to a drive or, with UNC\, to a share; / separators
_LONG_PREFIX = re.compile(r"^//[?.]/(?:(UNC/)|(?=[A-Za-z]:/))", re.IGNORECASE)


def _connect_read_only(path: Path, busy_ms: int, *, immutable: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        _read_only_uri(path, immutable=immutable), uri=True, timeout=busy_ms / 1000, isolation_level=None
    )
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return conn


def _cannot_write(path: Path) -> StoreError:
    return StoreError(
        f"数据库 {path} 不能写入(文件或所在文件夹是只读的,如光盘、写保护的U盘、只能读取的共享文件夹),"
        "没有改动它。请把它复制到可以写入的文件夹,再用 --db 指定复制后的文件;或检查文件属性和权限"
    )


def when(stamp: str | None) -> str:
    """“2025-03-02T09:15:07” as a clerk writes it (and as WPS/Excel read it): “2025-03-02 09:15:07”."""
    return stamp.replace("T", " ") if stamp else ""


def default_db_path() -> Path:
    return Path(os.environ.get(ENV_DB) or DEFAULT_DB)


class Store:
    def __init__(
        self, conn: sqlite3.Connection, path: Path, busy_ms: int = BUSY_TIMEOUT_MS, *, read_only: bool = False
    ):
        self.conn = conn
        self.path = path
        self.busy_ms = busy_ms
        self.read_only = read_only  # opened with mode=ro (``Store.open(read_only_ok=True)``)

    @classmethod
    def open(
        cls, path: str | Path | None = None, *, create: bool = True, read_only_ok: bool = False
    ) -> Store:
        """Open (or create) the store at ``path`` for writing.

        ``read_only_ok`` is for the commands that only read (check, figures, report, form): a store that cannot
        be written (a read-only file or folder: a CD, a write-protected USB stick, a shared folder the clerk
        may only read) is then opened read-only instead of refused, and gives the same results. Without it,
        such a store is a StoreError saying it cannot be written, never that it is damaged.
        """
        path = Path(path) if path is not None else default_db_path()
        if not create and not path.exists():
            raise StoreError(
                f"找不到数据库文件 {path}。请先运行 carestats ingest 汇入报表,或用 --db 指定数据库"
            )
        if path.exists() and path.is_dir():
            raise StoreError(f"{path} 是一个文件夹,不是数据库文件。请用 --db 指定数据库文件")
        if path.parent and not path.parent.exists():
            raise StoreError(f"数据库所在的文件夹 {path.parent} 不存在")
        busy_ms = busy_timeout_ms()
        existed = path.exists()
        try:
            if existed and not _file_writable(path):
                if read_only_ok:
                    return cls._open_read_only(path, busy_ms)
                cls._refuse_read_only(path, busy_ms)
            try:
                return cls._open_writable(path, busy_ms)
            except sqlite3.OperationalError as exc:
                # the file could be opened for writing, but SQLite cannot write beside it: WAL needs its
                # -wal and -shm files in the folder (or the file went read-only since)
                if not _is_read_only(exc):
                    raise
                if not existed:
                    raise StoreError(
                        f"无法建立数据库文件 {path}:所在文件夹 {path.parent} 不能写入(只读或没有写入权限)。"
                        "请用 --db 指定可以写入的文件夹中的数据库文件"
                    ) from exc
                if read_only_ok:
                    return cls._open_read_only(path, busy_ms)
                cls._refuse_read_only(path, busy_ms)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise StoreError(
                    f"{path} 不是 carestats 数据库或已损坏。请用 --db 指定正确的数据库文件"
                ) from exc
            raise StoreError(
                f"数据库 {path} 正被另一个程序使用,等待 {busy_ms // 1000} 秒后仍未释放。"
                "请等对方完成(或关闭打开该文件的程序)后重新运行"
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} 不是 carestats 数据库或已损坏。请用 --db 指定正确的数据库文件") from exc

    @classmethod
    def _open_writable(cls, path: Path, busy_ms: int) -> Store:
        conn = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
            _refuse_foreign(conn, path)  # before WAL: another program's file is left exactly as it was
            _journal_wal(conn, busy_ms)
            conn.execute("PRAGMA synchronous = NORMAL")
            # A checkpoint (WAL → database, with fsyncs) every ~40 MB instead of every 4 MB: a batch of a
            # thousand returns then checkpoints once instead of ten times; closing checkpoints the rest.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            # No foreign_keys enforcement: it costs 40 % of every value insert, and the store's only writer
            # references the submission it has just inserted in the same transaction (a test checks the
            # references with PRAGMA foreign_key_check after real ingests).
            store = cls(conn, path, busy_ms)
            store._migrate()
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def _refuse_read_only(cls, path: Path, busy_ms: int) -> NoReturn:
        """For ingest: a store that cannot be written is said so, once it is known to be a store (a damaged
        or another program's file on read-only media is told as such, as on a writable disk). The file is
        looked at ``immutable``, which makes no -shm or -wal beside it: nothing at all is changed."""
        conn = _connect_read_only(path, busy_ms, immutable=True)
        try:
            _refuse_foreign(conn, path)
        finally:
            conn.close()
        raise _cannot_write(path)

    @classmethod
    def _open_read_only(cls, path: Path, busy_ms: int) -> Store:
        """The store opened with ``mode=ro``: nothing is written to it (no WAL switch, no pragma that writes,
        no migration). Reading a WAL store needs its -shm file; in a folder that cannot be written, where
        SQLite cannot make one, the file is opened ``immutable`` (no locks, no -shm), which is only right
        when no -wal file beside it holds changes not yet in the database."""
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise StoreError(
                f"无法读取数据库文件 {path}:{os_reason(exc)}。请检查文件权限,或用 --db 指定另一个数据库文件"
            ) from exc
        conn = _connect_read_only(path, busy_ms, immutable=False)
        try:
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                if not _is_read_only(exc):
                    raise
                conn.close()
                wal = path.with_name(path.name + "-wal")
                if wal.exists() and wal.stat().st_size > 0:
                    raise StoreError(
                        f"数据库 {path} 所在的文件夹不能写入,而旁边的 {wal.name} 中还有没有并入数据库的数据,"
                        f"无法读取,没有改动它。请把 {path.name} 和 {wal.name} 一起复制到可以写入的文件夹,"
                        "再用 --db 指定复制后的数据库文件"
                    ) from exc
                conn = _connect_read_only(path, busy_ms, immutable=True)
            _refuse_foreign(conn, path)
            store = cls(conn, path, busy_ms, read_only=True)
            store._migrate()
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"数据库 {self.path} 由更新版本的 carestats 创建(版本 {version}),请升级 carestats 后再使用"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            if version == 0:  # an empty SQLite file: carestats' tables were never made
                raise UsageError(
                    f"数据库 {self.path} 中还没有数据。请先运行 carestats ingest 汇入报表,或用 --db 指定数据库"
                )
            raise StoreError(
                f"数据库 {self.path} 是旧版本 carestats 的数据库(版本 {version}),要先升级为版本 "
                f"{SCHEMA_VERSION} 才能使用,但它不能写入(文件或所在文件夹是只读的),没有改动它。"
                "请把它复制到可以写入的文件夹,再用 --db 指定复制后的文件(第一次使用时自动升级)"
            )
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # ------------------------------------------------------------------ writes
    def add_submission(
        self,
        *,
        file_name: str,
        file_path: str,
        sha256: str,
        filer: str,
        table: str,
        year: int,
        sheet: str,
        values: Iterable[NewValue],
        replace: bool = False,
        keep: frozenset[int] | set[int] = frozenset(),
        cover: Mapping[tuple[int, str], frozenset[str]] | None = None,
    ) -> tuple[int, list[Submission]]:
        """Store one file's values in one transaction. Returns (new id, submissions it superseded).

        Raises ``AlreadyStored`` when the same bytes are already active, ``OldVersion`` when they were stored for
        the year and replaced since (even with ``replace``: an original found again beside its correction must
        not undo it), ``Conflict`` when another active submission already holds a value for the same unit,
        indicator and year, unless ``replace``: then those submissions are marked superseded (kept in the
        history), or ``WouldDrop`` when one of them holds units the new file does not. The submissions in
        ``keep`` (those stored earlier in the same run) are never replaced: of two files for the same unit in
        one batch, the later one is not taken to be the correction. ``cover`` holds, by (year, table), units that
        other files of the same run bring: a submission holding only those of its own year and table and the new
        file's units may be superseded (the townships' own returns, together, replacing a county-compiled 表一).
        A file of another table brings none of its figures (表二's rows are not the townships' 表一).
        """
        values = list(values)
        # inside ``together`` (files that must land together) the file is a savepoint of that transaction
        nested = self.conn.in_transaction
        if nested:
            self.conn.execute("SAVEPOINT one_file")
        else:
            self._begin(file_name)
        try:
            # inside the write lock: a concurrent ingest may just have stored it
            same = self.find_active_sha(sha256, year)
            if same is not None:
                raise AlreadyStored(same)
            self._refuse_old_version(sha256, year)
            clashes = self._clashes(year, "value", values, table)
            if any(v[2] == "total" for v in values):
                clashes += self._clashes(year, "total", values, table)
            superseded: list[Submission] = []
            if clashes and (not replace or any(sub.id in keep for _u, _c, sub in clashes)):
                raise Conflict(clashes)
            self._refuse_dropping({s.id: s for _u, _c, s in clashes}.values(), values, cover or {})
            now = dt.datetime.now().isoformat(timespec="seconds")
            cur = self.conn.execute(
                "INSERT INTO submissions (file_name, file_path, sha256, filer, table_id, year, sheet, ingested_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (file_name, file_path, sha256, filer, table, year, sheet, now),
            )
            new_id = cur.lastrowid
            for sub_id in sorted({s.id for _u, _c, s in clashes}):
                self.conn.execute(
                    "UPDATE submissions SET status = 'superseded', superseded_by = ?, superseded_at = ? WHERE id = ?",
                    (new_id, now, sub_id),
                )
                superseded.append(next(s for _u, _c, s in clashes if s.id == sub_id))
            # multi-row INSERT … VALUES (?1, …),(?1, …): a third faster than executemany, and the rows' fields
            # are bound as they come (?1 is the new submission's id in every row)
            for k in range(0, len(values), ROWS_PER_INSERT):
                chunk = values[k : k + ROWS_PER_INSERT]
                params = [new_id]
                params.extend(chain.from_iterable(chunk))
                self.conn.execute(_insert_values_sql(len(chunk)), params)
            self.conn.execute("RELEASE one_file" if nested else "COMMIT")
        except BaseException as exc:
            if nested:
                self.conn.execute("ROLLBACK TO one_file")
                self.conn.execute("RELEASE one_file")
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
                raise self._read_only(file_name) from exc
            raise
        return int(new_id), superseded

    def _begin(self, file_name: str) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # still locked after the busy timeout
            if "readonly" in str(exc):
                raise self._read_only(file_name) from exc
            raise StoreError(
                f"数据库 {self.path} 正被另一个 carestats 程序写入,等待 {self.busy_ms // 1000} 秒后仍未释放。"
                f"{file_name} 及之后的文件没有写入,之前的文件已完整保存;请等对方完成后重新运行"
            ) from exc

    @contextmanager
    def together(self, file_name: str) -> Iterator[None]:
        """One transaction for several files that must land together or not at all (the townships' own returns
        replacing, together, a county-compiled table: one of them stored alone would drop the others' units).
        Each ``add_submission`` inside is a savepoint; the caller raises to roll all of them back."""
        self._begin(file_name)
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _read_only(self, file_name: str) -> StoreError:
        return StoreError(
            f"数据库 {self.path} 不能写入(文件或所在文件夹是只读的)。{file_name} 及之后的文件没有写入,"
            "之前的文件已完整保存;请检查文件属性和权限,或用 --db 指定另一个数据库文件"
        )

    def _refuse_old_version(self, sha256: str, year: int) -> None:
        """``OldVersion`` when these bytes were stored and later replaced (the folder ingested again with the
        original beside its correction): the chain of replacements is followed to the one in force."""
        row = self.conn.execute(
            f"SELECT {_SUB_COLS}, s.superseded_at FROM submissions s"
            " WHERE s.sha256 = ? AND s.year = ? AND s.status = 'superseded' ORDER BY s.id DESC LIMIT 1",
            (sha256, year),
        ).fetchone()
        if row is None:
            return
        old = _submission(row[:-1])
        current = old
        for _ in range(10_000):  # a chain of corrections ends at the active one; never loop on a bad store
            if current.status == "active" or current.superseded_by is None:
                break
            nxt = self.conn.execute(
                f"SELECT {_SUB_COLS} FROM submissions s WHERE s.id = ?", (current.superseded_by,)
            ).fetchone()
            if nxt is None:
                break
            current = _submission(nxt)
        raise OldVersion(old, current, row[-1])

    def _refuse_dropping(
        self,
        superseded: Iterable[Submission],
        values: list[NewValue],
        cover: Mapping[tuple[int, str], frozenset[str]],
    ) -> None:
        """``WouldDrop`` when a submission to be superseded holds figures of units that neither the new file nor
        (``cover``) another file of the same run holds for that submission's year and table."""
        mine = {v[0] for v in values if v[2] == "value"}
        for sub in superseded:
            units = mine | cover.get((sub.year, sub.table), frozenset())
            held = [
                r[0]
                for r in self.conn.execute(
                    "SELECT unit FROM vals WHERE submission_id = ? AND role = 'value' GROUP BY unit ORDER BY MIN(id)",
                    (sub.id,),
                )
            ]
            lost = [u for u in held if u not in units]
            if lost:
                raise WouldDrop(sub, lost)

    def _clashes(
        self, year: int, role: str, values: list[NewValue], table: str
    ) -> list[tuple[str, str, Submission]]:
        """Active values of ``role`` for ``year`` that the new ``values`` of that role would hold a second time.

        A value's key is (unit, code); a declared total's is (unit, code, table), since each table has its own 合计.
        """
        units = sorted({v[0] for v in values if v[2] == role})
        if not units:
            return []
        rows = []
        # a few hundred units a statement: a county's table lists dozens of units, a province's thousands
        for k in range(0, len(units), UNITS_PER_QUERY):
            part = units[k : k + UNITS_PER_QUERY]
            rows += self.conn.execute(_clash_sql(len(part)), (*part, year, role)).fetchall()
        if not rows:
            return []  # the usual case: nothing else holds these units' figures
        if role == "value":
            keys = {(v[0], v[1]) for v in values if v[2] == role}
            return [(r[0], r[1], _submission(r[2:])) for r in rows if (r[0], r[1]) in keys]
        keys3 = {(v[0], v[1], table) for v in values if v[2] == role}
        return [(r[0], r[1], _submission(r[2:])) for r in rows if (r[0], r[1], r[7]) in keys3]

    # ------------------------------------------------------------------ reads
    def find_active_sha(self, sha256: str, year: int | None = None) -> Submission | None:
        """The active submission of these bytes (for ``year``: a workbook holding this year's and last year's
        sheets is ingested once for each ``--year``)."""
        row = self.conn.execute(
            f"SELECT {_SUB_COLS} FROM submissions s WHERE s.sha256 = ?1 AND s.status = 'active'"
            " AND (?2 IS NULL OR s.year = ?2) LIMIT 1",
            (sha256, year),
        ).fetchone()
        return _submission(row) if row else None

    def submissions(self, year: int | None = None, include_superseded: bool = True) -> list[Submission]:
        sql = f"SELECT {_SUB_COLS} FROM submissions s WHERE 1=1"
        args: list[object] = []
        if year is not None:
            sql += " AND s.year = ?"
            args.append(year)
        if not include_superseded:
            sql += " AND s.status = 'active'"
        return [_submission(r) for r in self.conn.execute(sql + " ORDER BY s.id", args)]

    def history(self, year: int | None = None, filer: str | None = None) -> list[HistoryEntry]:
        """Every submission, superseded ones too, oldest first (in the order stored), with the file that
        replaced it and how many values it holds; of one year and one 报送单位 (``filer_named``) when asked.
        A store with nothing, or nothing of ``year``, is refused as by ``require_year``."""
        self.require_year(year)
        rows = self.conn.execute(
            "SELECT s.id, s.file_name, s.file_path, s.filer, s.table_id, s.year, s.ingested_at, s.status,"
            " s.superseded_by, r.file_name, s.superseded_at,"
            " (SELECT COUNT(*) FROM vals v WHERE v.submission_id = s.id)"
            " FROM submissions s LEFT JOIN submissions r ON r.id = s.superseded_by"
            " WHERE (?1 IS NULL OR s.year = ?1) AND (?2 IS NULL OR s.filer = ?2) ORDER BY s.id",
            (year, filer),
        )
        return [HistoryEntry(*row) for row in rows]

    def filer_named(self, text: str) -> str:
        """The 报送单位 the store knows by ``text`` (full-width letters and spaces forgiven). One it has never had
        is a UsageError naming those it has: a typo must not look like a unit that never filed."""
        known = [
            r[0] for r in self.conn.execute("SELECT filer FROM submissions GROUP BY filer ORDER BY MIN(id)")
        ]
        for name in known:
            if squash(name) == squash(text):
                return name
        raise UsageError(
            f"数据库 {self.path} 中没有“{text}”报送的报表。已有的报送单位:{'、'.join(known) or '无'}。"
            "请用 --unit 写其中一个(全称)"
        )

    def years(self) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT year FROM submissions WHERE status = 'active' ORDER BY year"
            )
        ]

    def require_year(self, year: int | None = None) -> int:
        """The year to work on: ``year``, or the latest the store holds. A year it holds nothing for is refused
        (exit 2, as a wrong --db or --year is), naming the years it does hold: check, figures and report say
        the same."""
        years = self.years()
        if not years:
            raise UsageError(
                f"数据库 {self.path} 中还没有数据。请先运行 carestats ingest 汇入报表,或用 --db 指定数据库"
            )
        if year is None:
            return years[-1]
        if year not in years:
            raise UsageError(
                f"数据库 {self.path} 中没有 {year} 年的数据(已有 {'、'.join(map(str, years))} 年)。"
                f"请用 --year 指定已有的年度,或先运行 carestats ingest 汇入 {year} 年的报表"
            )
        return year

    def active_values(self, year: int) -> list[StoredValue]:
        """Every active value of ``year``, in the order stored.

        A province's year is hundreds of thousands of values: rows are read as a stream, a file's texts (name,
        path, filer, table) are read once per file, and texts and figures that repeat across values (units,
        codes, sheets, “0”) are kept once.
        """
        subs = {
            r[0]: r[1:]
            for r in self.conn.execute(
                "SELECT id, file_name, file_path, filer, table_id, year FROM submissions"
                " WHERE year = ? AND status = 'active'",
                (year,),
            )
        }
        if not subs:
            return []
        same: dict[str, str] = {}
        once = same.setdefault  # once(text, text): the first copy of an equal text
        figures: dict[str, Decimal] = {}
        out: list[StoredValue] = []
        rows = self.conn.execute(
            "SELECT v.submission_id, v.unit, v.code, v.value, v.raw, v.sheet, v.cell, v.role, v.problem, v.detail"
            " FROM vals v JOIN submissions s ON s.id = v.submission_id"
            " WHERE s.year = ? AND s.status = 'active' ORDER BY v.id",
            (year,),
        )
        for sid, unit, code, text, raw, sheet, cell, role, problem, detail in rows:
            file, path, filer, table, yr = subs[sid]
            if text is None:
                value = None
            else:
                value = figures.get(text)
                if value is None:
                    value = figures[text] = Decimal(text)
            out.append(
                StoredValue(
                    sid,
                    file,
                    path,
                    filer,
                    table,
                    yr,
                    once(unit, unit),
                    once(code, code),
                    value,
                    once(raw, raw),
                    once(sheet, sheet),
                    cell,
                    once(role, role),
                    problem,
                    detail,
                )
            )
        return out

    def counts(self) -> tuple[int, int]:
        """(submissions, values): used by tests to prove that a refused file changed nothing."""
        s = self.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        v = self.conn.execute("SELECT COUNT(*) FROM vals").fetchone()[0]
        return s, v


ROWS_PER_INSERT = 50  # 451 parameters a statement, far below any SQLite's limit
UNITS_PER_QUERY = 500


@lru_cache(maxsize=64)
def _insert_values_sql(rows: int) -> str:
    # ?1 in every row; each plain ? takes the next number, so the parameters are the id, then the rows' fields.
    # An empty value, problem or detail is stored as NULL: ingest sends "" rather than None, because Python's
    # sqlite3 looks for an adapter for every None it binds (two exceptions raised and dropped each time: an
    # eighth of the cost of storing a return).
    return (
        "INSERT INTO vals (submission_id, unit, code, role, value, raw, problem, detail, sheet, cell) VALUES "
        + ",".join(["(?1, ?, ?, ?, NULLIF(?, ''), ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?)"] * rows)
    )


@lru_cache(maxsize=256)
def _clash_sql(units: int) -> str:
    return (
        f"SELECT DISTINCT v.unit, v.code, {_SUB_COLS} FROM vals v JOIN submissions s ON s.id = v.submission_id"
        f" WHERE v.unit IN ({','.join('?' * units)}) AND s.year = ? AND s.status = 'active' AND v.role = ?"
    )


_SUB_COLS = (
    "s.id, s.file_name, s.file_path, s.sha256, s.filer, s.table_id, s.year, s.sheet, s.ingested_at,"
    " s.status, s.superseded_by"
)


def _submission(row: tuple) -> Submission:
    return Submission(*row)
