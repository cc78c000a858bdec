"""carestats history: every submission the store keeps, a replaced one with the file that replaced it."""

from __future__ import annotations

import json
from pathlib import Path

from carestats.history import to_json, write_csv
from carestats.store import HistoryEntry, Store
from tests.clirun import invoke
from tests.workbooks import EXAMPLES, expected_2025, write_table1

DAXING = "大兴镇2025年一老一小统计表.xlsx"
CORRECTION = "大兴镇2025年一老一小统计表(修改).xlsx"


def _replaced_store(tmp_path: Path) -> Path:
    """The 13 example returns, then 大兴镇's corrected return ingested with --replace."""
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    values = {k: v for k, v in expected_2025()["units"]["大兴镇"].items() if not k.startswith("H")}
    values["A01"] = 570
    correction = write_table1(tmp_path / CORRECTION, values=values)
    r = invoke("ingest", "--db", db, "--replace", correction)
    assert r.exit_code == 0 and f"替换了 {DAXING}" in r.output, r.output
    return db


def test_history_lists_every_submission_oldest_first_with_the_replacement(tmp_path):
    db = _replaced_store(tmp_path)
    r = invoke("history", "--db", db, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["year"] is None and data["unit"] is None
    subs = data["submissions"]
    assert len(subs) == 14
    assert sorted(s["file"] for s in subs[:13]) == sorted(p.name for p in EXAMPLES.glob("*.xlsx"))
    assert [s["id"] for s in subs] == sorted(s["id"] for s in subs)  # oldest first
    old = next(s for s in subs if s["file"] == DAXING)
    new = subs[-1]
    assert new["file"] == CORRECTION and new["status"] == "active" and new["superseded_by"] is None
    assert old["status"] == "superseded"
    assert (old["superseded_by"], old["superseded_by_file"]) == (new["id"], CORRECTION)
    assert old["superseded_at"] == new["ingested_at"]
    assert (old["filer"], old["table"], old["year"], old["values"]) == ("大兴镇", "表一", 2025, 29)
    assert new["values"] == 29 and new["path"] == str(tmp_path / CORRECTION)
    assert [s for s in subs if s["status"] == "superseded"] == [old]
    # each submission's values are the rows stored for it, and the JSON is the library's result
    with Store.open(db) as s:
        counts = dict(s.conn.execute("SELECT submission_id, COUNT(*) FROM vals GROUP BY submission_id"))
        assert {x["id"]: x["values"] for x in subs} == counts
        assert data == to_json(s.history(), None, None)


def test_history_of_one_unit_and_year_as_a_table_and_csv(tmp_path):
    db = _replaced_store(tmp_path)
    r = invoke("history", "--db", db, "--unit", "大兴镇", "--year", "2025")
    assert r.exit_code == 0, r.output
    # long file names fold inside their cells: the table's rows are checked by their short cells here, and
    # its text (the same rows) through the CSV below
    for words in ("报送历史(大兴镇) 2025年", "被替换为", "替换时间", "大兴镇2025"):
        assert words in r.stdout, (words, r.stdout)
    assert r.stdout.count("已被替换") == 2 and r.stdout.count("有效") == 2  # a row each, and the summary
    assert "牛孔镇" not in r.stdout
    assert "共 2 份报表:有效 1,已被替换 1。" in r.stdout
    out = tmp_path / "历史.csv"
    r = invoke("history", "--db", db, "--unit", "大兴镇", "-o", out)
    assert r.exit_code == 0 and f"已写入 {out}" in r.output, r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # WPS and Excel open UTF-8 with its BOM
    lines = raw.decode("utf-8-sig").split("\r\n")
    # 数值个数, not 数值: a column of 29s under 数值 reads as a figure
    assert lines[0] == "序号,文件,报送单位,表,年度,汇入时间,状态,被替换为,替换时间,数值个数,文件位置"
    first, second = (line.split(",") for line in lines[1:3])
    assert first[1:5] == [DAXING, "大兴镇", "表一", "2025"] and first[6:8] == ["已被替换", CORRECTION]
    assert first[8] == second[5] and "T" not in first[8] and first[9] == "29"  # replaced when the second came
    assert second[6:10] == ["有效", "", "", "29"] and lines[3:] == [""]
    # a unit typed with full-width letters or a stray space is the same unit; JSON names it as stored
    r = invoke("history", "--db", db, "--unit", " 大兴镇 ", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["unit"] == "大兴镇"


def test_history_refuses_as_the_other_commands_do(tmp_path):
    db = tmp_path / "c.db"
    Store.open(db).close()
    r = invoke("history", "--db", db)
    assert r.exit_code == 2 and "中还没有数据。请先运行 carestats ingest 汇入报表" in r.output
    r = invoke("history", "--db", tmp_path / "无此.db")
    assert r.exit_code == 2 and "找不到数据库文件" in r.output and not (tmp_path / "无此.db").exists()
    assert invoke("ingest", "--db", db, EXAMPLES / DAXING).exit_code == 0
    cases = [
        (["--year", "2024"], "没有 2024 年的数据(已有 2025 年)。请用 --year 指定已有的年度"),
        (["--unit", "大兴"], "中没有“大兴”报送的报表。已有的报送单位:大兴镇。请用 --unit 写其中一个"),
        (
            ["--format", "xlsx", "-o", tmp_path / "h.xlsx"],
            "不支持的格式“xlsx”。--format 可选 table、json、csv",
        ),
        (["-o", tmp_path / "h.txt"], "不支持的格式“txt”"),
        (["--format", "table", "-o", tmp_path / "h.csv"], "请用 --format json 或 csv"),
        (["--format", "csv", "-o", tmp_path / "h.json"], "与文件 h.json 的扩展名不一致"),
        (["-o", tmp_path / "无此文件夹" / "h.csv"], "无法写入"),
        (["--year", "abc"], "--year 的值无效(应为整数)"),
    ]
    for args, words in cases:
        r = invoke("history", "--db", db, *args)
        assert r.exit_code == 2, (args, r.output)
        assert words in r.output and "Traceback" not in r.output, (args, r.output)
    assert not [n for n in ("h.xlsx", "h.txt", "h.csv", "h.json") if (tmp_path / n).exists()]


def test_a_unit_without_a_return_that_year_is_said_not_left_blank(tmp_path):
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, EXAMPLES / DAXING).exit_code == 0
    niukong = write_table1(tmp_path / "牛孔镇2024年一老一小统计表.xlsx", unit="牛孔镇", year=2024)
    assert invoke("ingest", "--db", db, niukong).exit_code == 0
    r = invoke("history", "--db", db, "--unit", "牛孔镇", "--year", "2025", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["submissions"] == []
    assert "数据库中没有 牛孔镇 2025 年报送的报表。不写 --year 可列出该单位各年度的报表" in r.stderr
    r = invoke("history", "--db", db, "--unit", "牛孔镇")
    assert r.exit_code == 0 and "2024" in r.stdout and "共 1 份报表" in r.stdout


def test_history_csv_never_writes_a_formula():
    name = "=HYPERLINK(1).xlsx"  # a file name a spreadsheet would run
    entry = HistoryEntry(
        1, name, f"/x/{name}", "大兴镇", "表一", 2025, "2025-03-02T09:15:07", "active", None, None, None, 29
    )
    text = write_csv([entry])
    assert "'=HYPERLINK(1).xlsx" in text and ",=HYPERLINK" not in text
    assert "2025-03-02 09:15:07" in text
