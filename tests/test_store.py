"""store: schema version and migrations, refusal of foreign files, history kept on replace."""

from __future__ import annotations

import ntpath
import sqlite3
import threading
from decimal import Decimal

import pytest

from carestats.errors import StoreError
from carestats.store import SCHEMA_VERSION, NewValue, Store, _read_only_uri


def test_new_store_has_the_current_schema_version(tmp_path):
    with Store.open(tmp_path / "a.db") as s:
        assert s.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_empty_sqlite_file_is_migrated_up(tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()  # version 0: nothing yet
    with Store.open(path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.counts() == (0, 0)


def _locked_new_store(path, seconds: float | None):
    """Another connection writing to a store not yet in WAL mode (what a second carestats starting at the
    same instant looks like); it lets go after ``seconds``."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE scratch (x)")
    if seconds is not None:
        threading.Timer(seconds, lambda: other.execute("COMMIT")).start()
    return other


def test_opening_a_store_waits_while_another_one_is_creating_it(tmp_path):
    # SQLite refuses journal_mode=WAL at once, without waiting, while such a lock is held
    path = tmp_path / "race.db"
    _locked_new_store(path, 0.3)
    with Store.open(path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_locked_past_the_timeout_is_busy_not_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("CARESTATS_BUSY_TIMEOUT_MS", "200")
    path = tmp_path / "held.db"
    other = _locked_new_store(path, None)
    with pytest.raises(StoreError, match="正被另一个程序使用") as info:
        Store.open(path)
    assert "损坏" not in info.value.message
    other.execute("COMMIT")


def test_a_store_from_a_newer_carestats_is_refused(tmp_path):
    path = tmp_path / "new.db"
    with Store.open(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="更新版本"):
        Store.open(path)


def test_another_programs_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "台账.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE 台账 (x)")
    conn.execute("INSERT INTO 台账 VALUES (1)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="不是 carestats 数据库") as exc:
        Store.open(path)
    assert "其中有表 台账" in exc.value.message and "没有改动它" in exc.value.message
    assert (
        path.read_bytes() == before and not (tmp_path / "台账.db-wal").exists()
    )  # no tables added, not made WAL
    conn = sqlite3.connect(path)  # one that says it is a carestats store (user_version) but lacks its tables
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(StoreError, match="不是 carestats 数据库"):
        Store.open(path, create=False)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库" * 200, encoding="utf-8")
    with pytest.raises(StoreError, match="不是 carestats 数据库") as exc:
        Store.open(path)
    assert "file is not a database" not in exc.value.message  # SQLite's English is not passed on


def test_a_store_that_cannot_be_written_says_so(tmp_path):
    path = tmp_path / "a.db"
    with Store.open(path) as s:
        _add(s, "a.xlsx", "1", "大兴镇", "表一", [_v("大兴镇", "A01", "569")])
    conn = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None
    )  # as a read-only file opens
    ro = Store(conn, path)
    with pytest.raises(StoreError) as exc:
        _add(ro, "b.xlsx", "2", "牛孔镇", "表一", [_v("牛孔镇", "A01", "345")])
    assert "不能写入(文件或所在文件夹是只读的)。b.xlsx 及之后的文件没有写入" in exc.value.message
    conn.close()
    with Store.open(path) as s:
        assert s.counts() == (1, 1)


def test_figures_on_a_missing_store_do_not_create_it(tmp_path):
    with pytest.raises(StoreError, match="找不到数据库文件"):
        Store.open(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def _v(unit, code, value):
    return NewValue(unit, code, "value", value, value, None, None, "统计表", "E6")


def _add(store, name, sha, filer, table, values):
    return store.add_submission(
        file_name=name,
        file_path=name,
        sha256=sha,
        filer=filer,
        table=table,
        year=2025,
        sheet="统计表",
        values=values,
    )


def test_a_failed_write_rolls_back_whole(tmp_path):
    with Store.open(tmp_path / "a.db") as s:
        _add(s, "a.xlsx", "1", "大兴镇", "表一", [_v("大兴镇", "A01", "569")])
        bad = [
            _v("牛孔镇", "A01", "345"),
            NewValue("牛孔镇", "A02", "nonsense-role", "1", "1", None, None, "s", "E7"),
        ]
        with pytest.raises(sqlite3.IntegrityError):
            _add(s, "b.xlsx", "2", "牛孔镇", "表一", bad)
        assert s.counts() == (1, 1)
        assert [v.unit for v in s.active_values(2025)] == ["大兴镇"]


def test_many_values_land_whole_and_in_order(tmp_path):
    from carestats.store import ROWS_PER_INSERT

    n = 2 * ROWS_PER_INSERT + 7  # several multi-row INSERTs and a remainder
    values = [
        NewValue(f"单位{i:03d}", "H01", "value", str(i), str(i), None, None, "统计表", f"C{i + 5}")
        for i in range(n)
    ]
    with Store.open(tmp_path / "a.db") as s:
        _add(s, "b.xlsx", "2", "县卫生健康局", "表二", values)
        got = s.active_values(2025)
    assert [(v.unit, v.value, v.cell) for v in got] == [(v.unit, Decimal(v.value), v.cell) for v in values]


def test_no_value_problem_or_detail_is_null_whether_sent_as_none_or_empty(tmp_path):
    values = [
        NewValue("大兴镇", "A01", "value", "569", "569", None, None, "统计表", "E6"),
        NewValue("大兴镇", "A02", "value", "", "2000余", "approximate", "估计数", "统计表", "E7"),
        NewValue("大兴镇", "A03", "value", "12", "12", "", "", "统计表", "E8"),
        NewValue("大兴镇", "A04", "value", None, "", "blank", "", "统计表", "E9"),
    ]
    with Store.open(tmp_path / "a.db") as s:
        _add(s, "a.xlsx", "1", "大兴镇", "表一", values)
        rows = s.conn.execute("SELECT code, value, raw, problem, detail FROM vals ORDER BY id").fetchall()
        got = {v.code: (v.value, v.problem, v.detail) for v in s.active_values(2025)}
    assert rows == [
        ("A01", "569", "569", None, None),
        ("A02", None, "2000余", "approximate", "估计数"),
        ("A03", "12", "12", None, None),
        ("A04", None, "", "blank", None),
    ]
    assert got["A02"] == (None, "approximate", "估计数") and got["A03"] == (Decimal(12), None, None)


def _total(code, value):
    return NewValue("合计", code, "total", value, value, None, None, "统计表", "C45")


def test_clashes_are_per_unit_and_indicator_and_totals_per_table(tmp_path):
    from carestats.store import Conflict

    with Store.open(tmp_path / "a.db") as s:
        _add(s, "a.xlsx", "1", "县卫生健康局", "表二", [_v("大兴镇", "H01", "10"), _total("H01", "10")])
        # the same unit with other indicators, and the same 合计 code in another table: no clash
        _add(s, "b.xlsx", "2", "大兴镇", "表一", [_v("大兴镇", "A01", "569")])
        _add(s, "c.xlsx", "3", "县民政局", "表三", [_total("H01", "7")])
        with pytest.raises(Conflict) as value_clash:
            _add(
                s,
                "d.xlsx",
                "4",
                "县卫生健康局",
                "表二",
                [_v("大兴镇", "H01", "11"), _v("牛孔镇", "H01", "3")],
            )
        assert [(u, c, sub.file_name) for u, c, sub in value_clash.value.clashes] == [
            ("大兴镇", "H01", "a.xlsx")
        ]
        with pytest.raises(Conflict) as total_clash:
            _add(s, "e.xlsx", "5", "县卫生健康局", "表二", [_v("戈奎乡", "H01", "2"), _total("H01", "2")])
        assert [(u, c, sub.file_name) for u, c, sub in total_clash.value.clashes] == [
            ("合计", "H01", "a.xlsx")
        ]
        assert s.counts() == (3, 4)


def test_a_clash_is_found_among_thousands_of_units(tmp_path):
    # the units are looked up a few hundred at a time (SQLite bounds the parameters of a statement)
    from carestats.store import UNITS_PER_QUERY, Conflict

    many = [_v(f"单位{i:05d}", "H01", str(i)) for i in range(2 * UNITS_PER_QUERY + 200)]
    with Store.open(tmp_path / "a.db") as s:
        _add(s, "a.xlsx", "1", "县卫生健康局", "表二", many)
        late = many[-1]
        with pytest.raises(Conflict) as clash:
            _add(
                s,
                "b.xlsx",
                "2",
                "县卫生健康局",
                "表二",
                [_v("新单位", "H01", "1"), _v(late.unit, "H01", "9")],
            )
        assert [(u, c) for u, c, _sub in clash.value.clashes] == [(late.unit, "H01")]


def test_a_store_another_carestats_creates_meanwhile_is_not_taken_for_a_foreign_file(tmp_path):
    # two carestats starting at once on a new store: the other one commits carestats' tables between the
    # version and the table list being read; read apart, that looked like “version 0 with tables”, another
    # program's file. The other one's commit is made at that very moment, from the trace of the statement.
    from carestats.store import MIGRATIONS, _refuse_foreign

    path = tmp_path / "new.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")  # as the first carestats has just made it
    other = sqlite3.connect(path, isolation_level=None)

    def create_meanwhile(sql: str) -> None:
        if "sqlite_master" in sql:
            conn.set_trace_callback(None)
            other.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    conn.set_trace_callback(create_meanwhile)
    _refuse_foreign(conn, path)  # the store as it was when first read: new and empty, not foreign
    conn.close()
    other.close()
    with Store.open(path) as s:
        assert s.schema_version() == SCHEMA_VERSION and s.counts() == (0, 0)


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        (r"C:\data\x.db", "file:///C:/data/x.db"),
        (r"C:\data\..\数据\x.db", "file:///C:/%E6%95%B0%E6%8D%AE/x.db"),
        (r"\\server\share\x.db", "file:////server/share/x.db"),
        (r"C:\data\100% #1 x.db", "file:///C:/data/100%25%20%231%20x.db"),
        # long paths (“\\?\” as Windows hands them over, a mapped folder past 260 characters): SQLite
        # reads no “?” device prefix, so it is dropped, and “\\?\UNC\” is a share
        (r"\\?\C:\data\x.db", "file:///C:/data/x.db"),
        (r"\\?\c:\长路径\x.db", "file:///c:/%E9%95%BF%E8%B7%AF%E5%BE%84/x.db"),
        (r"\\?\UNC\server\share\x.db", "file:////server/share/x.db"),
        (r"\\?\unc\server\share\x.db", "file:////server/share/x.db"),
    ],
)
def test_read_only_uri_of_windows_paths(path, uri):
    assert _read_only_uri(path, immutable=False, paths=ntpath) == uri + "?mode=ro"
    assert _read_only_uri(path, immutable=True, paths=ntpath) == uri + "?mode=ro&immutable=1"


def test_read_only_uri_of_posix_paths():
    assert _read_only_uri("/srv/数据/a?b#c%.db", immutable=False) == (
        "file:///srv/%E6%95%B0%E6%8D%AE/a%3Fb%23c%25.db?mode=ro"
    )
    # POSIX has no long-path prefix: a folder named “?” stays one
    assert _read_only_uri("//?/C:/x.db", immutable=False) == "file:////%3F/C:/x.db?mode=ro"
