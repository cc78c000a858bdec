"""Corrections over time on the county's real 2025 returns, through the CLI as a clerk runs it: a township's
corrected return replaces its first one, the old file turning up again never undoes the correction, and a
replacement never takes away the figures of units it does not hold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from openpyxl import load_workbook

from tests.clirun import invoke
from tests.workbooks import EXAMPLES, TOWNSHIPS, _num, expected_2025, write_wide_table1

DAXING = "大兴镇2025年一老一小统计表.xlsx"
CORRECTED = "大兴镇2025年一老一小统计表(更正).xlsx"
HEALTH = "县卫健局2025年老年人健康管理情况表.xlsx"


def returns_copy(tmp_path: Path) -> Path:
    """The thirteen real returns, copied into a folder of their own as the clerk keeps them."""
    folder = tmp_path / "2025"
    shutil.copytree(EXAMPLES, folder)
    return folder


def edited(src: Path, target: Path, cells: dict[str, object], *, delete_row: int | None = None) -> Path:
    """A copy of a real return with some cells changed (and a row deleted), as the township corrects it in WPS."""
    wb = load_workbook(src)
    ws = wb.worksheets[-1]  # the return sheet (半坡乡's 填报说明 comes first)
    for ref, value in cells.items():
        ws[ref] = value
    if delete_row is not None:
        ws.delete_rows(delete_row)
    wb.save(target)
    return target


def figures_json(db: Path) -> dict:
    r = invoke("figures", "--db", db, "--year", "2025", "--format", "json")
    return json.loads(r.stdout)


def test_the_original_again_after_its_correction_is_an_old_version_never_reactivated(tmp_path):
    folder = returns_copy(tmp_path)
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    edited(folder / DAXING, folder / CORRECTED, {"E6": 570})  # A01 569 → 570, beside the original
    r = invoke("ingest", "--db", db, "--replace", folder)
    assert r.exit_code == 0, r.output
    assert figures_json(db)["units"]["大兴镇"]["A01"] == 570
    # the clerk runs the same command again next week (or names the original by mistake, with or without
    # --replace): the original is the version its correction replaced, never taken back
    for extra in ((), ("--replace",)):
        for target in (folder, folder / DAXING):
            r = invoke("ingest", "--db", db, *extra, target)
            assert r.exit_code == 0, r.output
            assert "汇入 0" in r.stdout and "拒收 0" in r.stdout
            assert f"{DAXING}:是已被替换的旧版本" in r.stdout
            assert f"现在有效的是 {CORRECTED}" in r.stdout
            assert "--replace(原文件保留在历史中)" not in r.output  # no advice that would undo the correction
            data = figures_json(db)
            assert data["units"]["大兴镇"]["A01"] == 570
            assert data["totals"]["A01"] == expected_2025()["totals"]["A01"] + 1
    history = json.loads(invoke("history", "--db", db, "--unit", "大兴镇", "--format", "json").stdout)
    assert [(s["file"], s["status"]) for s in history["submissions"]] == [
        (DAXING, "superseded"),
        (CORRECTED, "active"),
    ]


def test_a_second_correction_names_the_version_in_force(tmp_path):
    folder = returns_copy(tmp_path)
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    first = edited(folder / DAXING, tmp_path / CORRECTED, {"E6": 570})
    second = edited(folder / DAXING, tmp_path / "大兴镇2025(第二次更正).xlsx", {"E6": 571})
    assert invoke("ingest", "--db", db, "--replace", first).exit_code == 0
    assert invoke("ingest", "--db", db, "--replace", second).exit_code == 0
    r = invoke("ingest", "--db", db, "--replace", first)
    assert r.exit_code == 0, r.output
    assert "现在有效的是 大兴镇2025(第二次更正).xlsx" in r.stdout
    assert figures_json(db)["units"]["大兴镇"]["A01"] == 571


def compiled_store(tmp_path: Path) -> Path:
    """A store holding a county-compiled 表一 (every township a row) and the four departments' returns."""
    units = expected_2025()["units"]
    rows = {u: {c: _num(v) for c, v in units[u].items() if not c.startswith("H")} for u in TOWNSHIPS}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_wide_table1(inbox / "全县表一汇总.xlsx", rows, money_in_wan=False)
    for f in EXAMPLES.glob("县*.xlsx"):
        shutil.copy(f, inbox / f.name)
    db = tmp_path / "c.db"
    r = invoke("ingest", "--db", db, inbox)
    assert r.exit_code == 0, r.output
    return db


def test_a_replacement_never_drops_the_units_it_does_not_hold(tmp_path):
    """A county-compiled 表一 holds every township; one township's corrected return must not take the other
    eight townships' figures out of the county totals."""
    db = compiled_store(tmp_path)
    assert figures_json(db)["totals"] == expected_2025()["totals"]
    correction = edited(EXAMPLES / DAXING, tmp_path / CORRECTED, {"E6": 570})
    r = invoke("ingest", "--db", db, "--replace", correction)
    assert r.exit_code == 1
    assert "拒收" in r.output and "全县表一汇总.xlsx" in r.output
    assert "牛孔镇" in r.output and "三猛乡" in r.output and "没有有效" in r.output
    assert figures_json(db)["totals"] == expected_2025()["totals"]  # nothing changed
    r = invoke("figures", "--db", db, "--year", "2025")
    assert r.exit_code == 0, r.output


def test_the_townships_own_returns_together_replace_a_county_compiled_table1(tmp_path):
    """The townships' own returns arrive after the county office compiled 表一: all nine in one run replace the
    compiled table (together they hold every township); a run with only some of them is refused."""
    units = expected_2025()["units"]
    rows = {u: {c: _num(v) for c, v in units[u].items() if not c.startswith("H")} for u in TOWNSHIPS}
    rows["大兴镇"]["A01"] = 500  # the compiled table's figure, which 大兴镇's own return corrects to 569
    compiled = tmp_path / "全县表一汇总.xlsx"
    write_wide_table1(compiled, rows, money_in_wan=False)
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, compiled).exit_code == 0
    some = tmp_path / "some"
    some.mkdir()
    for name in (DAXING, "三猛乡2025年一老一小统计表.xlsx"):
        shutil.copy(EXAMPLES / name, some / name)
    r = invoke("ingest", "--db", db, "--replace", some)
    assert r.exit_code == 1 and "拒收 2" in r.stdout and "牛孔镇" in r.output
    assert figures_json(db)["units"]["大兴镇"]["A01"] == 500
    r = invoke("ingest", "--db", db, "--replace", EXAMPLES)
    assert r.exit_code == 0, r.output
    assert "汇入 13" in r.stdout
    assert figures_json(db) == expected_2025()
    history = json.loads(invoke("history", "--db", db, "--format", "json").stdout)["submissions"]
    assert history[0]["file"] == "全县表一汇总.xlsx" and history[0]["status"] == "superseded"


def test_a_corrected_table2_without_a_townships_row_is_refused(tmp_path):
    folder = returns_copy(tmp_path)
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    # the health bureau resends 表二 with 三猛乡's row (14) lost and the 合计 row left as it was
    correction = edited(folder / HEALTH, tmp_path / "县卫健局2025(更正).xlsx", {}, delete_row=14)
    r = invoke("ingest", "--db", db, "--replace", correction)
    assert r.exit_code == 1 and "三猛乡" in r.output and HEALTH in r.output
    assert figures_json(db)["units"]["三猛乡"]["H01"] == expected_2025()["units"]["三猛乡"]["H01"]


def test_a_workbook_holding_two_years_is_ingested_once_for_each_year(tmp_path):
    """大兴镇 keeps last year's return on a second sheet of this year's workbook; --year picks the sheet. The same
    bytes ingested for 2024 after 2025 are not “未变”: 2024 has nothing from them yet."""
    path = tmp_path / "大兴镇2024-2025年一老一小统计表.xlsx"
    wb = load_workbook(EXAMPLES / DAXING)
    wb["统计表"].title = "2025年"
    last = wb.copy_worksheet(wb["2025年"])
    last.title = "2024年"
    last["A2"] = "绿春县大兴镇2024年“一老一小”关爱服务情况统计表"
    last["E4"] = "2024年"
    last["E6"] = 560
    wb.save(path)
    db = tmp_path / "c.db"
    r = invoke("ingest", "--db", db, "--year", "2025", path)
    assert r.exit_code == 0 and "汇入 1" in r.stdout, r.output
    r = invoke("ingest", "--db", db, "--year", "2024", path)
    assert r.exit_code == 0, r.output
    assert "汇入 1" in r.stdout and "未重复汇入" not in r.stdout
    r = invoke("figures", "--db", db, "--year", "2024", "--format", "json")
    assert json.loads(r.stdout)["units"]["大兴镇"]["A01"] == 560
    r = invoke("ingest", "--db", db, "--year", "2024", path)  # and again: now it is
    assert r.exit_code == 0 and "未变 1" in r.stdout and "未重复汇入" in r.stdout


def test_a_correction_that_drops_an_indicator_row_is_said_by_figures(tmp_path):
    """大兴镇's corrected return lost its A13 row: the county A13 is then only the other townships' sum, and
    figures says so (exit 1) instead of printing it as the county's figure."""
    folder = returns_copy(tmp_path)
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    correction = edited(folder / DAXING, tmp_path / CORRECTED, {}, delete_row=18)  # row 18: A13
    assert invoke("ingest", "--db", db, "--replace", correction).exit_code == 0
    r = invoke("figures", "--db", db, "--year", "2025", "--format", "json")
    assert r.exit_code == 1, r.output
    truth = expected_2025()
    assert json.loads(r.stdout)["totals"]["A13"] == truth["totals"]["A13"] - truth["units"]["大兴镇"]["A13"]
    assert "全县数不完整" in r.stderr
    assert "A13 发放防范非法集资宣传资料:不含 大兴镇" in r.stderr
    assert "A01" not in r.stderr  # only the indicator that is short


def test_a_total_row_that_disagrees_with_its_rows_is_said_by_figures(tmp_path):
    """The county figure is the sum of the rows (README); a 合计 row typed otherwise is named with its cell."""
    folder = returns_copy(tmp_path)
    edited(folder / HEALTH, folder / HEALTH, {"C15": 15148, "E15": 97.66})  # H01 合计 +1; H03 合计 wrong
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    r = invoke("figures", "--db", db, "--year", "2025", "--format", "json")
    assert r.exit_code == 1, r.output
    totals = json.loads(r.stdout)["totals"]
    assert (totals["H01"], totals["H03"]) == (15147, "97.78")  # the rows' sum, H03 from the summed counts
    assert f"{HEALTH} Sheet1!C15" in r.stderr and "合计行 H01" in r.stderr and "15148" in r.stderr
    assert "各行之和为 15147" in r.stderr
    assert f"{HEALTH} Sheet1!E15" in r.stderr and "97.66" in r.stderr and "97.78" in r.stderr
    assert "D15" not in r.stderr and "F15" not in r.stderr  # the right 合计 cells are not named


def test_units_another_table_brings_do_not_let_a_replacement_drop_units(tmp_path):
    """Files retried at the end of a run cover only the units they bring for their own table: 表二's
    correction (without 三猛乡's row) does not bring the seven other townships' 表一 figures that a
    county-compiled 表一 holds, nor does 三猛乡's own 表一 bring its 表二 row."""
    db = compiled_store(tmp_path)
    before = figures_json(db)
    assert before["totals"] == expected_2025()["totals"]
    run = tmp_path / "run"
    run.mkdir()
    for name in (DAXING, "三猛乡2025年一老一小统计表.xlsx"):
        shutil.copy(EXAMPLES / name, run / name)
    edited(EXAMPLES / HEALTH, run / "县卫健局2025(更正).xlsx", {}, delete_row=14)  # 三猛乡's row lost
    r = invoke("ingest", "--db", db, "--replace", run)
    assert r.exit_code == 1, r.output
    assert "汇入 0" in r.stdout and "拒收 3" in r.stdout, r.output
    assert figures_json(db) == before  # no township lost a figure


def test_files_that_replace_a_table_together_land_all_or_none(tmp_path):
    """Files that only together hold every unit of the table they replace are one transaction: when one of them
    is refused, the others are not stored either. Stored one by one, 大兴镇's file and the first of 三猛乡's two
    replaced the compiled table, the second (its A05 kept) was refused, and 三猛乡's A05 left the store."""
    units = expected_2025()["units"]
    codes = ("A01", "A05")
    both = {u: {c: units[u][c] for c in codes} for u in ("大兴镇", "三猛乡")}
    compiled = write_wide_table1(tmp_path / "全县表一汇总.xlsx", both, money_in_wan=False)
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, compiled).exit_code == 0
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_wide_table1(inbox / "1-汇总表.xlsx", {"大兴镇": both["大兴镇"]}, money_in_wan=False)
    write_wide_table1(inbox / "2-汇总表.xlsx", {"三猛乡": {"A01": 600}}, money_in_wan=False)
    write_wide_table1(inbox / "3-汇总表.xlsx", {"三猛乡": {"A01": 600, "A05": 77}}, money_in_wan=False)
    r = invoke("ingest", "--db", db, "--replace", inbox)
    assert r.exit_code == 1
    assert "拒收 3" in r.stdout and "这一组文件都没有汇入" in r.output
    after = figures_json(db)["units"]
    assert (
        after["三猛乡"]["A05"] == units["三猛乡"]["A05"] and after["三猛乡"]["A01"] == units["三猛乡"]["A01"]
    )
    history = json.loads(invoke("history", "--db", db, "--format", "json").stdout)["submissions"]
    assert [(h["file"], h["status"]) for h in history] == [("全县表一汇总.xlsx", "active")]
