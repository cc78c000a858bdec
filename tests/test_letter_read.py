"""Reading a hand-edited letter and finding its figures: formats, encodings, punctuation, narrative numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from carestats.errors import UsageError
from carestats.letter_read import LetterReadError, figures_in, find_figures, precision, read_letter
from tests.letter_data import SEED, seed_letter_lines
from tests.letter_data import figures_in as seed_regex_figures


def texts(text: str) -> list[str]:
    return [f.text for f in figures_in(text)]


@pytest.mark.parametrize(
    "text, figures",
    [
        ("目前纳入最低生活保障的老年人有5580人、纳入最低生活保障的儿童有4073人", ["5580人", "4073人"]),
        (
            "发放高龄津贴168.872万元，向863名经济困难老年人发放服务补贴34.04万元。",
            ["168.872万元", "863名", "34.04万元"],
        ),
        ("管理率97.78%；送上慰问物资12800元", ["97.78%", "12800元"]),
        ("发放宣传资料2000余份，共计捐赠15余万元", ["2000余份", "15余万元"]),
        ("活动2次46余所学校60000余名学生", ["2次", "46余所", "60000余名"]),
        ("探访300人次，爱心义诊16场次", ["300人次", "16场次"]),
        (
            "约1900万元、约1.2万人次、50户以上、2000多人、近2000人",
            ["约1900万元", "约1.2万人次", "50户以上", "2000多人", "近2000人"],
        ),
        # full-width digits and percent sign, as some clerks type them
        ("管理率９７.７８％，共５５８０人", ["９７.７８％", "５５８０人"]),
        # thousands separators are read; a comma between two figures is not one
        ("共25,405人；召开会议2次,深入调研3次", ["25,405人", "2次", "3次"]),
    ],
)
def test_figures_with_their_unit_words(text, figures):
    assert texts(text) == figures


@pytest.mark.parametrize(
    "text",
    [
        "2024年以来，先后召开",
        "《绿春县留守老人关爱服务质量提升三年行动实施方案（2024—2026年）》",
        "组织开展暑假“六个一”关爱服务，整合三支队伍",
        "60周岁以上家庭医生签约人数",
        "65周岁以上健康管理人数",
        "第57号提案，绿民函〔2025〕83号，2025年12月26日",
        "索引号lcxmzj/2026-00004，联系电话：0873-0000000",
        "召开第3次会议",
        "滇公网安备 53253102532533号",
    ],
)
def test_narrative_numbers_are_not_figures(text):
    assert texts(text) == []


SEPARATORS = {
    "thin": "\u2009",
    "narrow-nbsp": "\u202f",
    "space": " ",
    "nbsp": "\u00a0",
    "ideographic": "\u3000",
}


@pytest.mark.parametrize("sep", list(SEPARATORS.values()), ids=list(SEPARATORS))
def test_thousands_grouped_by_a_space_of_any_kind(sep):
    text = f"共5{sep}680人、12{sep}345{sep}678人,发放168{sep}872.5元,约1{sep}200余人次,5{sep}680 人"
    found = figures_in(text)
    assert [f.text for f in found] == [
        f"5{sep}680人",
        f"12{sep}345{sep}678人",
        f"168{sep}872.5元",
        f"约1{sep}200余人次",
        f"5{sep}680 人",
    ]
    assert [f.number for f in found] == [5680, 12345678, Decimal("168872.5"), 1200, 5680]
    assert [f.digits for f in found] == ["5680", "12345678", "168872.5", "1200", "5680"]
    assert found[3].step == 100  # the written precision: 1 200余 covers 1200–1299


@pytest.mark.parametrize(
    "text, figures",
    [
        ("2024 680人", ["680人"]),  # a year, then a figure: the lead has four digits
        ("2024年 680人", ["680人"]),
        ("1 2 3人", ["3人"]),  # a list: groups of one digit
        ("1 2 680人", ["680人"]),  # a lead after another number and a space
        ("5 68人、5 6800人", ["68人", "6800人"]),  # groups of two or four digits
        ("12,345 678人", ["678人"]),  # commas and spaces in one number
        ("0 680人", ["680人"]),  # a thousands lead never starts with 0
        ("5  680人、5\t680人", ["680人", "680人"]),  # two spaces, a tab: columns, not a grouping
        ("0.5 680人", ["680人"]),
    ],
)
def test_numbers_a_space_does_not_join(text, figures):
    assert texts(text) == figures


def test_value_scale_qualifier_and_precision():
    [wan, approx, rate, pct] = figures_in("168.872万元、15余万元、97.78%、约1.2万人")
    assert (wan.number, wan.scale, wan.value, wan.unit) == (Decimal("168.872"), 4, Decimal("1688720"), "元")
    assert (approx.qualifier, approx.kind, approx.value, approx.step) == ("余", "floor", Decimal("150000"), 1)
    assert (rate.unit, rate.kind, rate.step) == ("%", "exact", Decimal("0.01"))
    assert (pct.qualifier, pct.kind, pct.scale, pct.step) == ("约", "round", 4, Decimal("0.1"))


@pytest.mark.parametrize(
    "digits, step", [("2000", 1000), ("1600", 100), ("46", 1), ("60000", 10000), ("1.5", "0.1"), ("0", 1)]
)
def test_precision_is_the_last_significant_digit(digits, step):
    assert precision(digits) == Decimal(str(step))


def test_the_text_is_kept_as_written():
    [f] = figures_in("共５５８０人。")
    assert f.text == "５５８０人" and f.number == 5580 and (f.start, f.end) == (1, 6)


def test_the_published_seed_has_every_figure_the_letter_prints():
    letter = read_letter(SEED)
    found = [f.text for f in find_figures(letter)]
    assert found == seed_regex_figures("\n".join(seed_letter_lines()))
    assert len(found) == 62


# --------------------------------------------------------------------------------------------- formats
def test_text_in_utf8_gbk_and_utf16(tmp_path):
    line = "目前纳入最低生活保障的老年人有5580人。"
    for encoding in ("utf-8", "utf-8-sig", "gbk", "utf-16"):
        path = tmp_path / f"{encoding}.txt"
        path.write_text("标题\r\n" + line, encoding=encoding)
        letter = read_letter(path)
        assert [p.text for p in letter.paragraphs] == ["标题", line], encoding
        assert letter.paragraphs[1].place == "第 2 行"


def test_markdown_marks_are_dropped(tmp_path):
    path = tmp_path / "信.md"
    path.write_text(
        "# 标题\n\n- 发布日期：2025年12月26日\n\n**（一）统筹协调抓落实。**召开会议2次\n\n"
        '<p align="right">2025年12月26日</p>\n',
        encoding="utf-8",
    )
    texts_ = [p.text for p in read_letter(path).paragraphs if p.text]
    assert texts_ == [
        "标题",
        "发布日期：2025年12月26日",
        "（一）统筹协调抓落实。召开会议2次",
        "2025年12月26日",
    ]


def _run(text: str, tag: str = "w:t"):
    r = OxmlElement("w:r")
    t = OxmlElement(tag)
    t.text = text
    t.set(qn("xml:space"), "preserve")
    r.append(t)
    return r


def test_docx_reads_tables_and_tracked_changes(tmp_path):
    doc = Document()
    doc.add_paragraph("（一）统筹协调抓落实。")
    p = doc.add_paragraph("纳入最低生活保障的老年人有")
    deleted = OxmlElement("w:del")
    deleted.append(_run("5680", "w:delText"))
    inserted = OxmlElement("w:ins")
    inserted.append(_run("55"))
    p._p.append(deleted)
    p._p.append(inserted)
    p.add_run("80")  # a figure split over runs, as WPS leaves it after an edit
    p.add_run("人。")
    doc.add_paragraph("")
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "养老床位"
    table.cell(0, 1).text = "480张"
    path = tmp_path / "信.docx"
    doc.save(path)
    letter = read_letter(path)
    assert [p.text for p in letter.paragraphs] == [
        "（一）统筹协调抓落实。",
        "纳入最低生活保障的老年人有5580人。",
        "养老床位",
        "480张",
    ]
    assert [p.place for p in letter.paragraphs] == ["第 1 段", "第 2 段", "第 3 段", "第 4 段"]


@pytest.mark.parametrize(
    "name, content, error, words",
    [
        ("信.doc", b"\xd0\xcf\x11\xe0", LetterReadError, "另存为"),
        ("信.docx", b"not a zip", LetterReadError, "不是有效的 Word 文档"),
        ("信.txt", b"   \n\n", LetterReadError, "没有文字"),
        ("信.pdf", b"%PDF-1.4", LetterReadError, ".docx"),
        ("信.xlsx", b"PK", UsageError, "不支持的答复函格式"),
    ],
)
def test_refused_letters_say_what_to_do(tmp_path, name, content, error, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as exc:
        read_letter(path)
    assert words in exc.value.message


def test_a_missing_letter_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="找不到答复函文件"):
        read_letter(tmp_path / "没有.docx")
