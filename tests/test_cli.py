"""The CLI on real files: exit codes, Chinese messages without tracebacks, JSON equal to the library's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from carestats import __version__
from carestats.figures import compute_figures
from carestats.profile import Profile
from carestats.store import Store
from tests.clirun import invoke
from tests.letter_data import SPEC_2025
from tests.workbooks import EXAMPLES, expected_2025, write_table1


def test_version_and_python_m():
    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"carestats {__version__}"
    p = subprocess.run([sys.executable, "-m", "carestats", "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == f"carestats {__version__}"


def test_ingest_then_figures_json_equals_expected(tmp_path):
    db = tmp_path / "c.db"
    r = invoke("ingest", "--db", db, EXAMPLES)
    assert r.exit_code == 0, r.output
    assert "汇入 13" in r.stdout
    r = invoke("figures", "--db", db, "--year", "2025", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data == expected_2025()
    with Store.open(db) as s:  # the CLI's JSON is the library's result
        assert data == compute_figures(s, Profile.load(), 2025).to_json()
    r = invoke("ingest", "--db", db, EXAMPLES)
    assert r.exit_code == 0 and "未变 13" in r.stdout


def test_env_db_and_figures_formats(tmp_path, monkeypatch):
    db = tmp_path / "env.db"
    monkeypatch.setenv("CARESTATS_DB", str(db))
    assert invoke("ingest", EXAMPLES).exit_code == 0
    r = invoke("figures", "-o", tmp_path / "f.csv")
    assert r.exit_code == 0, r.output
    raw = (tmp_path / "f.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM so that WPS and Excel open it
    text = raw.decode("utf-8-sig")
    assert "A07,发放高龄津贴金额,元,1688720.00" in text
    r = invoke("figures", "-o", tmp_path / "f.xlsx")
    assert r.exit_code == 0, r.output
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "f.xlsx").active
    assert [c.value for c in ws[1]][:4] == ["指标代码", "指标名称", "计量单位", "全县"]
    r = invoke("figures")
    assert r.exit_code == 0 and "1688720.00" in r.stdout


def test_refused_file_exit_1_with_chinese_message(tmp_path):
    bad = tmp_path / "大兴镇.xlsx"
    bad.write_bytes(b"")
    r = invoke("ingest", "--db", tmp_path / "c.db", bad)
    assert r.exit_code == 1
    assert "大兴镇.xlsx" in r.output and "空的" in r.output
    assert "Traceback" not in r.output


def test_file_names_with_brackets_print_as_they_are(tmp_path):
    # rich markup read “[draft]” and “[b]” as tags and dropped them from the name
    bad = tmp_path / "[draft]大兴镇[b].xlsx"
    bad.write_bytes(b"")
    r = invoke("ingest", "--db", tmp_path / "c.db", bad)
    assert r.exit_code == 1, r.output
    assert "[draft]大兴镇[b].xlsx" in r.output and "空的" in r.output
    values = {k: v for k, v in expected_2025()["units"]["大兴镇"].items() if not k.startswith("H")}
    values["A13"] = "2000余"
    path = write_table1(tmp_path / "[v2]大兴镇.xlsx", values=values)
    r = invoke("ingest", "--db", tmp_path / "c.db", path)
    assert r.exit_code == 1 and "[v2]大兴镇.xlsx 统计表!E18" in r.output
    r = invoke("check", "--db", tmp_path / "c.db", "--year", "2025")
    assert r.exit_code == 1 and "[v2]大兴镇.xlsx" in r.output and "错误" in r.output


def test_a_year_the_store_does_not_hold_is_refused_alike_by_every_command(tmp_path):
    db = tmp_path / "c.db"
    Store.open(db).close()  # a store with nothing in it yet
    spec = Path(__file__).parents[1] / "data" / "examples" / "letters" / "2025-57.toml"
    for args in (["figures"], ["check"], ["report", str(spec)]):
        r = invoke(*args, "--db", db)
        assert r.exit_code == 2, (args, r.output)
        assert "中还没有数据。请先运行 carestats ingest 汇入报表" in r.output, args
    assert invoke("ingest", "--db", db, EXAMPLES / "大兴镇2025年一老一小统计表.xlsx").exit_code == 0
    for args in (["figures"], ["check"], ["report", str(spec)]):
        r = invoke(*args, "--db", db, "--year", "2024")
        assert r.exit_code == 2, (args, r.output)
        assert "没有 2024 年的数据(已有 2025 年)。请用 --year 指定已有的年度" in r.output, args
        assert "Traceback" not in r.output


def test_output_that_cannot_be_written_is_told_in_chinese_with_exit_2(tmp_path):
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, EXAMPLES / "大兴镇2025年一老一小统计表.xlsx").exit_code == 0
    (tmp_path / "d.xlsx").mkdir()
    (tmp_path / "afile").write_text("x")
    spec = Path(__file__).parents[1] / "data" / "examples" / "letters" / "2025-57.toml"
    cases = [
        (["figures", "-o", tmp_path / "无此文件夹" / "汇总.xlsx"], "文件夹“"),
        (["figures", "--format", "csv", "-o", tmp_path / "无此文件夹" / "汇总.csv"], "不存在"),
        (["figures", "-o", tmp_path / "d.xlsx"], "这是一个文件夹"),
        (["figures", "--format", "csv", "-o", tmp_path / "x.xlsx"], "与文件 x.xlsx 的扩展名不一致"),
        (["figures", "--format", "table", "-o", tmp_path / "t.txt"], "表格(table)只显示在屏幕上"),
        (["init", tmp_path / "afile"], "是一个文件,不是文件夹"),
        (
            ["report", spec, "-o", tmp_path / "ok.docx", "--audit", tmp_path / "无此文件夹" / "a.json"],
            "不存在",
        ),
        (["report", spec, "-o", tmp_path / "d.xlsx"], "不支持的答复函格式"),
    ]
    if Path("/dev/full").exists():  # every write fails with ENOSPC: told in Chinese, not the OS's English
        cases.append((["figures", "--format", "json", "-o", "/dev/full"], "磁盘空间不足"))
    for args, words in cases:
        r = invoke(*args, *(["--db", db] if args[0] != "init" else []))
        assert r.exit_code == 2, (args, r.output)
        assert words in r.output and "Traceback" not in r.output and "Error" not in r.output, (args, r.output)
    assert not (tmp_path / "ok.docx").exists()  # the letter is not written when its audit cannot be
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "t.txt").exists()


def test_figures_say_which_returns_are_missing_and_exit_1(tmp_path):
    db = tmp_path / "c.db"
    for name in ("大兴镇2025年一老一小统计表.xlsx", "牛孔镇一老一小关爱服务情况统计表(2025).xlsx"):
        assert invoke("ingest", "--db", db, EXAMPLES / name).exit_code == 0
    r = invoke("figures", "--db", db, "--format", "json")
    assert r.exit_code == 1, r.output
    assert json.loads(r.stdout)["totals"]["A01"] == 569 + 345  # the two townships' sum, as asked
    assert "全县数不完整" in r.stderr and "表一还没有报送的有 大黑山镇、平河镇" in r.stderr
    assert "表二(" in r.stderr and "中没有 大兴镇、牛孔镇、大黑山镇" in r.stderr
    assert "只是已报送单位之和" in r.stderr


def test_a_file_ingested_twice_is_named_once_in_its_line(tmp_path):
    db, path = tmp_path / "c.db", EXAMPLES / "大兴镇2025年一老一小统计表.xlsx"
    assert invoke("ingest", "--db", db, path).exit_code == 0
    r = invoke("ingest", "--db", db, path)
    assert r.exit_code == 0
    assert (
        "大兴镇2025年一老一小统计表.xlsx:与已汇入的 大兴镇2025年一老一小统计表.xlsx 内容完全相同" in r.output
    )
    assert "xlsx:大兴镇2025年一老一小统计表.xlsx:" not in r.output


def test_a_folder_without_returns_is_said_and_exits_1(tmp_path):
    empty = tmp_path / "报表"
    empty.mkdir()
    (empty / "说明.docx").write_bytes(b"x")
    r = invoke("ingest", "--db", tmp_path / "c.db", empty)
    assert r.exit_code == 1
    assert (
        f"在 {empty} 中没有找到报表文件(.xlsx .xlsm .xls .csv)" in r.output and "跳过 说明.docx" in r.output
    )


def test_unreadable_cell_lands_but_exits_1(tmp_path):
    values = {k: v for k, v in expected_2025()["units"]["大兴镇"].items() if not k.startswith("H")}
    values["A13"] = "2000余"
    path = write_table1(tmp_path / "大兴镇.xlsx", values=values)
    r = invoke("ingest", "--db", tmp_path / "c.db", path)
    assert r.exit_code == 1
    assert "统计表!E18" in r.output and "估计数" in r.output
    r = invoke("figures", "--db", tmp_path / "c.db", "--format", "json")
    assert r.exit_code == 1 and "A13" in r.stderr
    assert "A13" not in json.loads(r.stdout)["totals"]


def test_usage_and_profile_errors_exit_2_and_debug_shows_traceback(tmp_path):
    r = invoke("figures", "--db", tmp_path / "none.db")
    assert r.exit_code == 2 and "找不到数据库文件" in r.output and "Traceback" not in r.output
    r = invoke("figures", "--db", tmp_path / "none.db", "--debug")
    assert r.exit_code == 2 and "Traceback" in r.output
    r = invoke("ingest", "--db", tmp_path / "c.db", "--profile", tmp_path / "nope", EXAMPLES)
    assert r.exit_code == 2 and "找不到配置目录" in r.output
    r = invoke("figures", "--db", tmp_path / "c.db", "--format", "pdf")
    assert r.exit_code == 2 and "不支持的格式" in r.output
    r = invoke("ingest", "--no-such-option")
    assert r.exit_code == 2


def test_broken_profile_is_a_clear_error(tmp_path):
    target = tmp_path / "县配置"
    assert invoke("init", target).exit_code == 0
    csv_path = target / "indicators.csv"
    csv_path.write_text(
        csv_path.read_text(encoding="utf-8").replace(",count,", ",counting,", 1), encoding="utf-8"
    )
    r = invoke("ingest", "--db", tmp_path / "c.db", "--profile", target, EXAMPLES)
    assert r.exit_code == 2 and "indicators.csv 第 2 行" in r.output and "counting" in r.output
    csv_path.write_text(
        csv_path.read_text(encoding="utf-8")
        .replace(",counting,", ",count,", 1)
        .replace(",0,A01,", ",0,A1,", 1),
        encoding="utf-8",
    )
    r = invoke("check", "--db", tmp_path / "c.db", "--profile", target)
    assert r.exit_code == 2 and "indicators.csv 第 3 行:指标 A02 的所属指标 A1 不存在" in r.output, r.output


def test_init_writes_an_editable_profile_used_by_profile_option(tmp_path, monkeypatch):
    target = tmp_path / "另一个县"
    r = invoke("init", target)
    assert r.exit_code == 0 and (target / "profile.toml").is_file() and (target / "templates").is_dir()
    assert invoke("init", target).exit_code == 2  # never overwrites
    toml = target / "profile.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('county = "绿春县"', 'county = "元阳县"'), encoding="utf-8"
    )
    monkeypatch.setenv("CARESTATS_PROFILE", str(target))
    assert invoke("ingest", "--db", tmp_path / "c.db", EXAMPLES).exit_code == 0
    r = invoke("figures", "--db", tmp_path / "c.db", "--format", "json")
    assert json.loads(r.stdout)["county"] == "元阳县"


def test_installed_entry_point_runs_from_any_folder(tmp_path):
    exe = Path(sys.executable).with_name("carestats")
    if not exe.exists():  # pragma: no cover - the test venv always has it after pip install
        raise AssertionError("carestats entry point not installed in this environment")
    p = subprocess.run(
        [str(exe), "ingest", "--db", "x.db", str(EXAMPLES)], cwd=tmp_path, capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "x.db").exists()
    # the entry point leaves without tearing Python down: the store must be closed and checkpointed (no WAL
    # left beside it) and everything printed must have reached the pipe
    assert not (tmp_path / "x.db-wal").exists()
    assert "汇入 13" in p.stdout
    p = subprocess.run(
        [str(exe), "figures", "--db", "x.db", "--year", "2025", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == expected_2025()


def test_usage_errors_are_told_in_chinese_with_exit_2():
    cases = [
        (["ingest", "--nope"], "没有选项 --nope"),
        (["ingest"], "缺少参数 PATHS"),
        (["figures", "--year", "abc"], "--year 的值无效(应为整数)"),
        (["check", "--year", "2025年"], "--year 的值无效(应为整数)"),
        (["nosuch"], "没有这个命令"),
        (["ingest", "--year"], "选项 '--year' 后面需要一个值\n请运行“carestats ingest --help”查看用法"),
        (["figures", "--year", "2025", "大兴镇", "表一"], "多余的参数:大兴镇 表一\n"),
    ]
    for args, words in cases:
        p = subprocess.run([sys.executable, "-m", "carestats", *args], capture_output=True, text=True)
        assert p.returncode == 2, (args, p.stderr)
        assert words in p.stderr and "用法错误" in p.stderr and "Traceback" not in p.stderr


def test_help_pages_read_in_chinese():
    english = ("Usage:", "Options:", "Arguments:", "Commands:", "Show this message", "[required]", "env var")
    english += ("<path>", "<int>", "<str>", "<text>")
    for args in (
        [],
        ["--help"],
        ["ingest", "--help"],
        ["report", "-h"],
        ["check", "--help"],
        ["figures", "-h"],
        ["history", "-h"],
    ):
        p = subprocess.run([sys.executable, "-m", "carestats", *args], capture_output=True, text=True)
        assert p.returncode == 0, (args, p.stderr)
        assert p.stdout.startswith("用法: ") and "选项:" in p.stdout, (args, p.stdout)
        assert not [w for w in english if w in p.stdout], (args, p.stdout)
    p = subprocess.run([sys.executable, "-m", "carestats", "ingest", "-h"], capture_output=True, text=True)
    assert "参数:" in p.stdout and "[必填]" in p.stdout and "[环境变量: CARESTATS_DB]" in p.stdout


def _gbk_run(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    """carestats as on Chinese Windows with its output redirected to a file: the streams are GBK."""
    env = dict(os.environ, PYTHONIOENCODING="gbk")
    return subprocess.run(
        [sys.executable, "-m", "carestats", *map(str, args)], capture_output=True, cwd=cwd, env=env
    )


def test_output_redirected_in_gbk_never_fails_on_a_character_gbk_lacks(tmp_path):
    from openpyxl import load_workbook

    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    # the letter has “守住钱袋子・护好幸福家” (U+30FB is not in GBK): a middle dot stands in for it
    p = _gbk_run("report", "--db", db, SPEC_2025, cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode("gbk")
    assert "守住钱袋子·护好幸福家" in p.stdout.decode("gbk")
    # a no-break space pasted into a cell, a file name with “•”: findings and table are printed in full
    returns = tmp_path / "r"
    returns.mkdir()
    wb = load_workbook(EXAMPLES / "大兴镇2025年一老一小统计表.xlsx")
    wb.active["E15"], wb.active["E7"] = "约\u00a072", 600
    wb.save(returns / "大兴镇•2025年一老一小统计表.xlsx")
    p = _gbk_run("ingest", "--db", tmp_path / "nb.db", returns, cwd=tmp_path)
    assert p.returncode == 1 and "内部错误" not in p.stderr.decode("gbk")
    assert "大兴镇·2025年一老一小统计表.xlsx" in p.stdout.decode("gbk")
    p = _gbk_run("check", "--db", tmp_path / "nb.db", "--year", "2025", cwd=tmp_path)
    out = p.stdout.decode("gbk")
    assert p.returncode == 1 and "内部错误" not in p.stderr.decode("gbk")
    assert "R01a" in out and "估计数" in out
    # CSV to a pipe: no BOM (it is for Excel opening a file), whatever the encoding
    p = _gbk_run("figures", "--db", db, "--year", "2025", "--format", "csv", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.decode("gbk").startswith("指标代码,")


def test_an_internal_error_exits_3_not_1_like_findings():
    import typer

    from carestats.cli import INTERNAL_ERROR, run

    def bug() -> int:
        raise KeyError("x")

    try:
        run(False, bug)
    except typer.Exit as exc:
        assert exc.exit_code == INTERNAL_ERROR == 3
    else:
        raise AssertionError("run() must end with an exit code")


def test_figures_xlsx_holds_numbers_shown_with_their_decimals(tmp_path):
    """A clerk opens the .xlsx in WPS: figures are numbers (they sum), shown as the CSV writes them: 98.10 not
    98.1 for a rate, 1688720.00 元 for money, counts as integers."""
    from openpyxl import load_workbook

    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    assert invoke("figures", "--db", db, "-o", tmp_path / "f.xlsx").exit_code == 0
    ws = load_workbook(tmp_path / "f.xlsx").active
    header = [c.value for c in ws[1]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    pinghe = header.index("平河镇")
    h03 = rows["H03"][pinghe]
    assert h03.value == 98.1 and h03.number_format == "0.00"
    a07 = rows["A07"][3]
    assert a07.value == 1688720 and a07.number_format == "0.00"
    a01 = rows["A01"][3]
    assert a01.value == 2871 and a01.number_format == "0"
    assert all(not isinstance(c.value, str) for c in rows["A07"][3:] if c.value is not None)


def test_figures_xlsx_never_rounds_a_figure_away_by_its_format(tmp_path):
    """A count typed 12.5 (check's R06a finding) is not shown as 13 by a “0” format."""
    from openpyxl import load_workbook

    folder = tmp_path / "2025"
    shutil.copytree(EXAMPLES, folder)
    wb = load_workbook(folder / "大兴镇2025年一老一小统计表.xlsx")
    wb["统计表"]["E10"] = 1135.5  # A05
    wb.save(folder / "大兴镇2025年一老一小统计表.xlsx")
    db = tmp_path / "c.db"
    assert invoke("ingest", "--db", db, folder).exit_code == 0
    assert invoke("figures", "--db", db, "-o", tmp_path / "f.xlsx").exit_code == 0
    ws = load_workbook(tmp_path / "f.xlsx").active
    a05 = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "A05")
    assert (a05[3].value, a05[3].number_format) == (5580.5, "General")
    assert (a05[4].value, a05[4].number_format) == (1135.5, "General")
    assert (a05[5].value, a05[5].number_format) == (621, "0")
