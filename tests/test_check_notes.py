"""A rule with nothing to run on is said, never passed in silence: `carestats check` on the county's real 2025
returns (copied and edited as a clerk would), in table and JSON output, exit codes as documented."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from openpyxl import load_workbook

from tests.clirun import invoke
from tests.test_rules import RULE, profile_with_rules
from tests.workbooks import EXAMPLES

HEALTH = "县卫健局2025年老年人健康管理情况表.xlsx"
DAXING = "大兴镇2025年一老一小统计表.xlsx"


def store_of(tmp_path: Path, *, leave_out: tuple[str, ...] = ()) -> Path:
    folder = tmp_path / "2025"
    shutil.copytree(EXAMPLES, folder)
    for name in leave_out:
        (folder / name).unlink()
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    return db


def notes(db: Path, *extra: object) -> tuple[int, dict[str, str], str]:
    r = invoke("check", "--db", db, "--format", "json", *extra)
    data = json.loads(r.stdout)
    return r.exit_code, {n["rule"]: n["message"] for n in data["notes"]}, r.stderr


def test_the_example_returns_have_one_note_only_for_last_year(tmp_path):
    code, found, _ = notes(store_of(tmp_path))
    assert code == 0 and list(found) == ["R11"] and "没有 2024 年的数据" in found["R11"]


def test_rules_of_a_table_nobody_sent_are_noted_with_why(tmp_path):
    """Without 表二 the rate, rate-type and 合计 rules have no cell to read: R10a says 表二 is missing (an
    error, exit 1), and each of those rules is a note naming what it had nothing of."""
    db = store_of(tmp_path, leave_out=(HEALTH,))
    code, found, stderr = notes(db)
    assert code == 1
    assert {"R03a", "R03b", "R03c", "R04"} <= set(found)
    assert (
        "H03" in found["R03a"]
        and "合计" in found["R03b"]
        and "比率" in found["R03c"]
        and "合计" in found["R04"]
    )
    assert all(
        f"规则 {rid}" in found[rid] and "未审核" in found[rid] for rid in ("R03a", "R03b", "R03c", "R04")
    )
    assert "R01a" not in found and "R10a" not in found  # rules that ran are not noted
    r = invoke("check", "--db", db)
    assert r.exit_code == 1
    assert "说明:规则 R03a" in r.stdout and "说明:规则 R04" in r.stdout


def test_a_note_alone_leaves_the_exit_code_0(tmp_path):
    """A profile rule for departments on a township indicator runs on nothing: a note, not an error."""
    profile_with_rules(tmp_path, RULE + 'units = "部门"\nexpr = "A02 <= A01"\n')
    code, found, _ = notes(store_of(tmp_path), "--profile", tmp_path / "profile")
    assert code == 0
    assert "没有部门报送" in found["X01"] and "A02" in found["X01"]


def test_a_rule_whose_condition_never_holds_is_noted(tmp_path):
    prof_dir = tmp_path / "profile"
    profile_with_rules(tmp_path, RULE + 'expr = "A07 / A06 <= 2000"\nwhen = "A06 > 100000"\n')
    code, found, _ = notes(store_of(tmp_path), "--profile", prof_dir)
    assert code == 0 and "A06 > 100000" in found["X01"] and "不适用" in found["X01"]


def test_last_year_held_only_for_some_units_is_noted_and_an_unreadable_last_year_cell_said(tmp_path):
    db = store_of(tmp_path)
    last = tmp_path / "2024"
    last.mkdir()
    wb = load_workbook(EXAMPLES / DAXING)
    ws = wb["统计表"]
    ws["A2"] = "绿春县大兴镇2024年“一老一小”关爱服务情况统计表"
    ws["E4"] = "2024年"
    ws["E6"] = "约560"  # A01 last year: an estimate, unreadable
    wb.save(last / "大兴镇2024年一老一小统计表.xlsx")
    assert invoke("ingest", "--db", db, last).exit_code == 1  # the unreadable cell is reported at ingest
    r = invoke("check", "--db", db, "--year", "2025", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    (note,) = [n for n in data["notes"] if n["rule"] == "R11"]
    assert "牛孔镇" in note["message"] and "县妇联" in note["message"] and "大兴镇" not in note["message"]
    assert "没有 2024 年的数据" in note["message"]
    (cannot,) = [f for f in data["findings"] if f["rule"] == "R11"]
    assert (cannot["outcome"], cannot["unit"], cannot["cell"]) == ("cannot-evaluate", "大兴镇", "E6")
    assert "约560" in cannot["message"] and "2024" in cannot["message"]


def test_a_county_rule_without_its_figure_blames_no_townships_file(tmp_path):
    """县妇联 has not sent 表四: R09 (F03 = C01 + C10, county-wide) cannot be checked. That is no township's
    mistake: the finding names no township's file, and --annotate sends none of them a marked copy."""
    db = store_of(tmp_path, leave_out=("县妇联2025年留守儿童和困境儿童关爱帮扶情况表.xlsx",))
    r = invoke("check", "--db", db, "--format", "json", "--annotate", tmp_path / "审核意见")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    (r09,) = [f for f in data["findings"] if f["rule"] == "R09"]
    assert r09["outcome"] == "cannot-evaluate" and "F03" in r09["message"]
    assert (r09["file"], r09["sheet"], r09["cell"]) == (None, None, None)
    assert [p.name for p in (tmp_path / "审核意见").iterdir()] == ["审核结果汇总.xlsx"]


def test_a_county_rule_is_not_failed_on_a_county_figure_short_of_a_township(tmp_path):
    """大兴镇 has not sent 表一 yet: ΣC01 + ΣC10 lacks its children, so 县妇联's right F03 cannot be judged. R09
    is cannot-evaluate naming 大兴镇, never an error marked red in 县妇联's return."""
    db = store_of(tmp_path, leave_out=(DAXING,))
    r = invoke("check", "--db", db, "--format", "json", "--annotate", tmp_path / "审核意见")
    assert r.exit_code == 1  # R10a: 大兴镇 has not sent 表一
    data = json.loads(r.stdout)
    (r09,) = [f for f in data["findings"] if f["rule"] == "R09"]
    assert (r09["severity"], r09["outcome"], r09["file"], r09["cell"]) == (
        "warning",
        "cannot-evaluate",
        None,
        None,
    )
    assert "大兴镇" in r09["message"] and "C01" in r09["message"] and "未报送表一" in r09["message"]
    assert "县妇联2025年留守儿童和困境儿童关爱帮扶情况表_审核意见.xlsx" not in [
        p.name for p in (tmp_path / "审核意见").iterdir()
    ]


def test_a_county_rule_is_not_failed_when_a_return_lacks_the_row(tmp_path):
    folder = tmp_path / "2025"
    shutil.copytree(EXAMPLES, folder)
    wb = load_workbook(folder / DAXING)
    wb["统计表"].delete_rows(36)  # C10 困境儿童数
    wb.save(folder / DAXING)
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    data = json.loads(invoke("check", "--db", db, "--format", "json").stdout)
    (r09,) = [f for f in data["findings"] if f["rule"] == "R09"]
    assert r09["outcome"] == "cannot-evaluate" and "C10" in r09["message"] and "大兴镇" in r09["message"]
    assert [f["rule"] for f in data["findings"] if f["severity"] == "error"] == ["R10b"]
