"""`carestats check --letter` end to end: real returns ingested, the seed letter as published, a .docx
rendered by `carestats report` and edited with python-docx, exit codes, the table and the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document

from tests.clirun import invoke
from tests.letter_data import SEED, SPEC_2025, seed_text
from tests.test_letter_check import CHANGES, EXPECTED, SEED_CODES, changed_seed
from tests.workbooks import EXAMPLES


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("letter-cli") / "2025.db"
    r = invoke("ingest", "--db", path, EXAMPLES)
    assert r.exit_code == 0, r.output
    return path


def as_json(*args) -> tuple[int, dict]:
    r = invoke("check", "--format", "json", *args)
    return r.exit_code, json.loads(r.stdout)


def letter_findings(data: dict) -> list[dict]:
    return [f for f in data["findings"] if "letter_text" in f]


def test_the_seed_as_published_passes(db):
    r = invoke("check", "--db", db, "--letter", SEED)
    assert r.exit_code == 0, r.output
    assert "共 62 个数字,与数据相符 62 个,不符 0 个,未对应到指标 0 个(按模板对照)。" in r.stdout
    code, data = as_json("--db", db, "--letter", SEED)
    assert code == 0
    assert (data["errors"], data["warnings"], data["findings"]) == (0, 0, [])
    figures = data["letter"]["figures"]
    assert [f["code"] for f in figures] == SEED_CODES
    assert {(f["status"], f["how"]) for f in figures} == {("ok", "aligned")}
    assert data["letter"]["spec"].endswith("2025-57.toml") and data["letter"]["year"] == 2025


def test_a_template_that_cannot_be_rendered_is_not_said_to_be_followed(tmp_path):
    # 县妇联's 表四 has not come in: the spec's template cannot be rendered (it prints F01), so the
    # figures are tied by words and the summary says so, and the note names the missing return
    folder = tmp_path / "2025"
    folder.mkdir()
    for p in EXAMPLES.iterdir():
        if "县妇联" not in p.name:
            (folder / p.name).write_bytes(p.read_bytes())
    path = tmp_path / "part.db"
    assert invoke("ingest", "--db", path, folder).exit_code == 0
    r = invoke("check", "--db", path, "--letter", SEED)
    assert "(按文字对应指标)。" in r.stdout and "按模板对照)。" not in r.stdout
    assert "缺 县妇联(未报送表四)" in r.stdout and "没有任何报表报送" not in r.stdout
    r = invoke("check", "--db", path, "--letter", SEED, "--spec", SPEC_2025)
    assert "(按文字对应指标)。" in r.stdout


def test_three_changed_figures_are_three_errors_in_the_same_list(db, tmp_path):
    letter = tmp_path / "答复函.txt"
    letter.write_text(changed_seed(), encoding="utf-8")
    code, data = as_json("--db", db, "--letter", letter, "--spec", SPEC_2025)
    assert code == 1
    assert data["errors"] == 3 and data["warnings"] == 0
    found = letter_findings(data)
    assert {f["letter_text"]: f["expected"] for f in found} == EXPECTED
    first = found[0]
    assert (first["severity"], first["rule"], first["codes"], first["file"], first["cell"]) == (
        "error",
        "L01",
        ["A05"],
        "答复函.txt",
        "第 18 行",
    )
    assert first["message"].startswith(
        "信中‘5680人’与数据不符,应为‘5580人’(A05 纳入最低生活保障的老年人数,来源 "
    )
    assert len(first["cells"]) == 9 and {c["code"] for c in first["cells"]} == {"A05"}
    r = invoke("check", "--db", db, "--letter", letter)
    assert r.exit_code == 1
    assert "L01" in r.stdout and "应为‘5580人’" in r.stdout and "不符 3 个" in r.stdout


def test_a_docx_from_report_edited_with_python_docx(db, tmp_path):
    path = tmp_path / "答复函.docx"
    r = invoke("report", SPEC_2025, "--db", db, "-o", path)
    assert r.exit_code == 0, r.output
    assert as_json("--db", db, "--letter", path)[0] == 0
    doc = Document(str(path))
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            for old, new in CHANGES.items():
                run.text = run.text.replace(old, new)
    doc.save(str(path))
    code, data = as_json("--db", db, "--letter", path, "--spec", SPEC_2025)
    assert code == 1 and data["errors"] == 3
    assert {f["letter_text"]: f["expected"] for f in letter_findings(data)} == EXPECTED
    assert all(f["cell"].endswith("段") and f["how"] == "aligned" for f in letter_findings(data))


def test_without_a_spec_figures_are_tied_by_words(db, tmp_path):
    letter = tmp_path / "摘录.md"
    letter.write_text(
        "## 答复摘录\n\n目前纳入最低生活保障的老年人有5680人，发放高龄津贴168.872万元，"
        "建成3个示范点，管理率97.78%。\n",
        encoding="utf-8",
    )
    code, data = as_json("--db", db, "--letter", letter)
    assert code == 1
    found = letter_findings(data)
    assert [(f["rule"], f["severity"], f["letter_text"], f["expected"], f["how"]) for f in found] == [
        ("L01", "error", "5680人", "5580人", "words"),
        ("L03", "warning", "3个", None, None),
    ]
    assert data["letter"]["spec"] is None
    assert [f["status"] for f in data["letter"]["figures"]] == ["wrong", "ok", "untied", "ok"]


def test_a_letter_without_its_spec_in_a_store_of_two_years_asks_for_the_year(tmp_path):
    from tests.workbooks import write_table1

    db = tmp_path / "two.db"
    assert invoke("ingest", "--db", db, EXAMPLES).exit_code == 0
    assert (
        invoke(
            "ingest", "--db", db, "--year", "2026", write_table1(tmp_path / "大兴镇2026.xlsx", year=2026)
        ).exit_code
        == 0
    )
    letter = tmp_path / "摘录.md"
    letter.write_text("## 答复摘录\n\n目前纳入最低生活保障的老年人有5580人。\n", encoding="utf-8")
    r = invoke("check", "--db", db, "--letter", letter)
    assert r.exit_code == 2, r.output
    assert "数据库中有 2025、2026 年的数据" in r.output and "请用 --year 指定年度" in r.output
    r = invoke("check", "--db", db, "--letter", letter, "--year", "2025", "--format", "json")
    assert [f["status"] for f in json.loads(r.stdout)["letter"]["figures"]] == ["ok"]


def test_only_warnings_exit_0(db, tmp_path):
    letter = tmp_path / "答复函.txt"
    letter.write_text(
        seed_text().replace("发放宣传资料2000余份,", "发放宣传资料2000余份,建成3个示范点,"), "utf-8"
    )
    r = invoke("check", "--db", db, "--letter", letter)
    assert r.exit_code == 0, r.output
    assert "L03" in r.stdout and "未对应到指标 1 个" in r.stdout


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--spec", SPEC_2025], 2, "--spec 要与 --letter 一起用"),
        (["--letter", "没有这个文件.docx"], 2, "找不到答复函文件"),
        (["--letter", "__DOC__"], 1, "另存为"),
    ],
)
def test_refusals(db, tmp_path, args, code, words):
    doc = tmp_path / "旧格式.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0")
    r = invoke("check", "--db", db, *[doc if a == "__DOC__" else a for a in args])
    assert r.exit_code == code, r.output
    assert words in r.output
    assert "Traceback" not in r.output
