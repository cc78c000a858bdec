"""`carestats check` on real files: exit codes, the table and JSON output, and the annotated copies."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from carestats.annotate import RED, SHEET_TITLE, SUMMARY_NAME, YELLOW, put_text
from carestats.check import run_check
from carestats.profile import Profile
from carestats.store import Store
from tests.clirun import invoke
from tests.county import file_name, ingest, write_county
from tests.test_rules import RULE, profile_with_rules
from tests.workbooks import EXAMPLES

DX = "大兴镇"


def county_db(tmp_path: Path, overrides=None, **kw) -> Path:
    db = tmp_path / "c.db"
    ingest(db, write_county(tmp_path / "returns", overrides, **kw))
    return db


def test_examples_are_clean(tmp_path):
    db = tmp_path / "e.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    r = invoke("check", "--db", db, "--year", "2025")
    assert r.exit_code == 0, r.output
    assert "2025 年审核通过:0 条错误,0 条提示。" in r.stdout
    r = invoke("check", "--db", db, "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert (data["errors"], data["warnings"], data["findings"]) == (0, 0, [])
    assert [n["rule"] for n in data["notes"]] == ["R11"]  # no 2024 in the store: said with the rule's id


def test_errors_exit_1_and_json_equals_the_library(tmp_path):
    db = county_db(tmp_path, {DX: {"A02": 574, "A07": 3691040}})
    r = invoke("check", "--db", db, "--year", "2025", "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    with Store.open(db) as store:
        assert data == run_check(store, Profile.load(), 2025).to_json()
    assert (data["errors"], data["warnings"]) == (1, 1)
    assert [(f["rule"], f["cell"]) for f in data["findings"]] == [("R01a", "E7"), ("R07", "E12")]


def test_table_output_grouped_by_unit_with_summary_lines(tmp_path):
    db = county_db(tmp_path, {DX: {"A02": 574}, "三猛乡": {"A07": 3691040}}, total={"H04": 17})
    r = invoke("check", "--db", db)
    assert r.exit_code == 1
    out = r.stdout
    assert "大兴镇:错误 1 条,提示 0 条。" in out
    assert "三猛乡:错误 0 条,提示 1 条。" in out
    assert "合计:错误 1 条,提示 0 条。" in out
    assert "2025 年审核结果:共 2 条错误,1 条提示。" in out
    assert out.index("大兴镇:") < out.index("三猛乡:") < out.index("合计:")
    assert "R01a" in out and "统计表!E7" in out and "Traceback" not in r.output


def test_warnings_only_exit_0(tmp_path):
    db = county_db(tmp_path, {DX: {"A07": 3691040}})
    r = invoke("check", "--db", db, "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["warnings"] == 1


def test_broken_rules_exit_2_with_file_and_rule(tmp_path):
    db = county_db(tmp_path)
    prof = profile_with_rules(tmp_path, RULE + 'expr = "A02 <= A99"\n')
    r = invoke("check", "--db", db, "--profile", prof.path)
    assert r.exit_code == 2
    assert "rules.toml" in r.output and "X01" in r.output and "未知指标代码 A99" in r.output
    assert "Traceback" not in r.output
    r = invoke("check", "--db", db, "--profile", prof.path, "--debug")
    assert r.exit_code == 2


def test_usage_errors_exit_2(tmp_path):
    db = county_db(tmp_path)
    assert invoke("check", "--db", db, "--format", "xml").exit_code == 2
    r = invoke("check", "--db", db, "--year", "2019")
    assert r.exit_code == 2 and "没有 2019 年的数据" in r.output
    r = invoke("check", "--db", tmp_path / "none.db")
    assert r.exit_code == 2 and "找不到数据库文件" in r.output


# --------------------------------------------------------------------------- --annotate
def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_annotated_copy_has_fills_comments_and_a_findings_sheet(tmp_path):
    db = county_db(tmp_path, {DX: {"A02": 574, "A07": 3691040}}, total={"H04": 17})
    original = tmp_path / "returns" / file_name(DX)
    before = sha(original)
    out_dir = tmp_path / "审核意见"
    r = invoke("check", "--db", db, "--annotate", out_dir)
    assert r.exit_code == 1, r.output
    assert sha(original) == before  # the original is never written

    copy = out_dir / "大兴镇2025年一老一小统计表_审核意见.xlsx"
    wb = load_workbook(copy)
    assert wb.sheetnames == [SHEET_TITLE, "统计表"]
    ws = wb["统计表"]
    assert ws["E7"].fill.fgColor.rgb == RED.fgColor.rgb
    assert ws["E12"].fill.fgColor.rgb == YELLOW.fgColor.rgb
    assert ws["E7"].value == 574 and ws["E6"].value == 569  # the return itself is unchanged
    assert "A02 留守老人中纳入最低生活保障人数 574 大于 A01 留守老人数 569" in ws["E7"].comment.text
    assert "R07" in ws["E12"].comment.text and ws["E6"].comment is None
    listing = wb[SHEET_TITLE]
    rows = [[c.value for c in row] for row in listing.iter_rows(min_row=3)]
    assert [(row[3], row[9]) for row in rows] == [("R01a", "E7"), ("R07", "E12")]
    assert all(c.data_type != "f" for row in listing.iter_rows() for c in row)

    t2 = load_workbook(out_dir / "县卫健局2025年老年人健康管理情况表_审核意见.xlsx")
    assert (
        t2["Sheet1"]["F15"].fill.fgColor.rgb == RED.fgColor.rgb and "R04" in t2["Sheet1"]["F15"].comment.text
    )
    summary = load_workbook(out_dir / SUMMARY_NAME)[SHEET_TITLE]
    assert summary.max_row == 2 + 3
    clean = {p.name for p in out_dir.iterdir()}
    assert clean == {
        "大兴镇2025年一老一小统计表_审核意见.xlsx",
        "县卫健局2025年老年人健康管理情况表_审核意见.xlsx",
        SUMMARY_NAME,
    }
    original_wb = load_workbook(original)
    assert original_wb.sheetnames == ["统计表"] and original_wb["统计表"]["E7"].comment is None


def test_a_corrected_annotated_copy_is_ingested_again(tmp_path):
    db = county_db(tmp_path, {DX: {"A13": "2000余"}})  # its finding names the one code A13
    out_dir = tmp_path / "审核意见"
    assert invoke("check", "--db", db, "--annotate", out_dir).exit_code == 1
    copy = out_dir / "大兴镇2025年一老一小统计表_审核意见.xlsx"
    wb = load_workbook(copy)
    assert [c.value for c in wb[SHEET_TITLE][3]][6] == "A13"  # a 单位 column and a code: it looks like 表二
    wb["统计表"]["E18"] = 2087  # the township corrects the red cell in the copy it was sent
    wb.save(copy)
    r = invoke("ingest", "--db", db, "--replace", copy)
    assert r.exit_code == 0, r.output
    assert "替换了 大兴镇2025年一老一小统计表.xlsx" in r.output
    assert invoke("check", "--db", db, "--year", "2025").exit_code == 0


def test_annotating_a_corrected_copy_again_takes_off_the_earlier_marks(tmp_path):
    db = county_db(tmp_path, {DX: {"A13": "2000余", "A02": 574}})
    assert invoke("check", "--db", db, "--annotate", tmp_path / "round1").exit_code == 1
    copy = tmp_path / "round1" / "大兴镇2025年一老一小统计表_审核意见.xlsx"
    wb = load_workbook(copy)
    assert wb["统计表"]["E18"].comment is not None and wb["统计表"]["E7"].comment is not None
    wb["统计表"]["E18"] = 2087  # corrected; A02 (E7) is not
    wb.save(copy)
    assert invoke("ingest", "--db", db, "--replace", copy).exit_code == 0
    assert invoke("check", "--db", db, "--annotate", tmp_path / "round2").exit_code == 1
    again = tmp_path / "round2" / "大兴镇2025年一老一小统计表_审核意见.xlsx"  # not …_审核意见_审核意见
    wb = load_workbook(again)
    assert wb.sheetnames == [SHEET_TITLE, "统计表"]  # round 1's listing is gone, not kept beside round 2's
    ws = wb["统计表"]
    assert ws["E18"].value == 2087 and ws["E18"].comment is None and ws["E18"].fill.fill_type is None
    assert ws["E7"].fill.fgColor.rgb == RED.fgColor.rgb and "R01a" in ws["E7"].comment.text
    rows = [[c.value for c in row] for row in wb[SHEET_TITLE].iter_rows(min_row=3)]
    assert [(row[3], row[9]) for row in rows] == [("R01a", "E7")]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_annotated_copy_opens_in_libreoffice(tmp_path):
    db = county_db(tmp_path, {DX: {"A02": 574}})
    out_dir = tmp_path / "out"
    assert invoke("check", "--db", db, "--annotate", out_dir).exit_code == 1
    copy = out_dir / "大兴镇2025年一老一小统计表_审核意见.xlsx"
    pdf_dir = tmp_path / "pdf"
    profile_dir = tmp_path / "lo-profile"  # a private LibreOffice profile, so parallel runs do not collide
    proc = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile_dir}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(pdf_dir),
            str(copy),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    pdf = pdf_dir / (copy.stem + ".pdf")
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    # and LibreOffice keeps the comment when it re-saves the workbook
    xlsx_dir = tmp_path / "resaved"
    proc = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile_dir}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(xlsx_dir),
            str(copy),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    resaved = load_workbook(xlsx_dir / copy.name)
    assert "574" in resaved["统计表"]["E7"].comment.text


def test_text_from_returns_is_never_a_formula(tmp_path):
    wb = Workbook()
    ws = wb.active
    for i, text in enumerate(('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "普通文字"), start=1):
        put_text(ws, i, 1, text)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and xml.count('t="inlineStr"') == 5
    back = load_workbook(path).active
    assert back["A1"].value == '=HYPERLINK("http://x")' and back["A1"].data_type == "s"
    assert back["A1"].quotePrefix and not back["A5"].quotePrefix


def test_formula_text_in_a_finding_is_written_as_text(tmp_path):
    """A formula without a cached value is reported with its text; the listing must not evaluate it."""
    db = county_db(tmp_path, {DX: {"A01": "=E7+E8"}})
    out_dir = tmp_path / "out"
    r = invoke("check", "--db", db, "--annotate", out_dir)
    assert r.exit_code == 1
    wb = load_workbook(out_dir / "大兴镇2025年一老一小统计表_审核意见.xlsx")
    listing = wb[SHEET_TITLE]
    messages = [row[10].value for row in listing.iter_rows(min_row=3)]
    assert any("=E7+E8" in m for m in messages)
    assert all(c.data_type != "f" for row in listing.iter_rows() for c in row)
    assert wb["统计表"]["E6"].value == "=E7+E8"  # the return's own cell is left as the township wrote it


def test_annotate_into_a_file_is_a_usage_error(tmp_path):
    db = county_db(tmp_path, {DX: {"A02": 574}})
    target = tmp_path / "x.txt"
    target.write_text("x")
    r = invoke("check", "--db", db, "--annotate", target)
    assert r.exit_code == 2 and "应是文件夹" in r.output


def test_annotate_a_return_that_is_not_xlsx(tmp_path, profile):
    """A CSV return gets a findings-only workbook beside the others."""
    rows = [
        "表三",
        "绿春县2025年县民政局本级“一老一小”工作情况表",
        "填报单位(盖章):县民政局,,,,填报日期:2026年1月10日",
        "序号,指标代码,指标名称,计量单位,2025年,备注",
    ]
    for i, (code, v) in enumerate(
        (
            ("D01", 2),
            ("D02", 3),
            ("D03", 1),
            ("D04", 1),
            ("D05", 4278000),
            ("D06", 360000),
            ("D07", 120000.125),
            ("B04", 150),
        ),
        start=1,
    ):
        rows.append(f"{i},{code},{profile.indicators[code].name},{profile.indicators[code].unit},{v},")
    csv_path = tmp_path / "县民政局.csv"
    csv_path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    db = tmp_path / "c.db"
    ingest(db, csv_path)
    out_dir = tmp_path / "out"
    r = invoke("check", "--db", db, "--annotate", out_dir)
    assert r.exit_code == 1
    wb = load_workbook(out_dir / "县民政局_审核意见.xlsx")
    assert wb.sheetnames == [SHEET_TITLE]
    assert any(row[3].value == "R06b" for row in wb[SHEET_TITLE].iter_rows(min_row=3))
