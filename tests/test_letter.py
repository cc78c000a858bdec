"""The reply letter from the store: the seed's figures exactly, a golden text, another year, template errors."""

from __future__ import annotations

import dataclasses
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from carestats.errors import ProfileError, UsageError
from carestats.figures import compute_figures
from carestats.ingest import ingest_paths
from carestats.letter import (
    DRAFT_MARK,
    FigureNotAvailable,
    load_spec,
    parse_markup,
    render_letter,
)
from carestats.letter_text import title_lines, to_html, to_markdown, to_text
from carestats.numfmt import NumberFormatError
from carestats.profile import Profile, init_profile
from carestats.report import audit_data, audit_rows
from carestats.store import Store
from tests.letter_data import (
    GOLDEN,
    HALF_WIDTH,
    SPEC_2025,
    county_totals,
    figures_in,
    made_up_values,
    seed_letter_lines,
    spec_for_year,
    write_year_returns,
)

OTHER_YEAR = 2031


@pytest.fixture
def letter_2025(example_store, profile):
    spec = load_spec(SPEC_2025)
    return render_letter(spec, compute_figures(example_store, profile, 2025), profile)


@pytest.fixture(scope="module")
def other_year_db(tmp_path_factory, profile) -> Path:
    """A store holding only the made-up year's thirteen returns, ingested from real .xlsx files."""
    folder = tmp_path_factory.mktemp("y2031")
    write_year_returns(folder / "returns", OTHER_YEAR, made_up_values())
    path = folder / "2031.db"
    with Store.open(path) as s:
        results = ingest_paths(s, profile, [folder / "returns"])
        assert [r.status for r in results] == ["stored"] * 13, [r.message for r in results]
    return path


# ------------------------------------------------------------------------------------------------ the seed
def test_every_figure_of_the_seed_is_printed_exactly_and_in_order(letter_2025):
    seed = figures_in("\n".join(seed_letter_lines()))
    assert len(seed) == 62  # a change in the extraction would show here first
    assert figures_in(to_text(letter_2025)) == seed


@pytest.mark.parametrize(
    "text",
    ["5580人", "168.872万元", "97.78%", "2000余份", "15余万元", "427.8万元", "36万元", "12800元", "900余家"],
)
def test_the_issue_s_figures(letter_2025, text):
    assert text in to_text(letter_2025)


def test_golden_text(letter_2025):
    """The whole text, pinned. Regenerate deliberately with CARESTATS_UPDATE_GOLDEN=1."""
    golden = GOLDEN / "reply-letter-2025-57.txt"
    text = to_text(letter_2025)
    if os.environ.get("CARESTATS_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_golden_is_the_seed_with_full_width_punctuation():
    golden = (GOLDEN / "reply-letter-2025-57.txt").read_text(encoding="utf-8").splitlines()
    seed = seed_letter_lines()
    start = golden.index(next(line for line in golden if line.endswith("答复函")))
    letter = golden[start : start + len(seed)]
    assert [line.translate(HALF_WIDTH) for line in letter] == seed
    body = "\n".join(letter)
    for half in ",:;()":
        assert half not in body, half


def test_header_and_signature(letter_2025):
    lines = to_text(letter_2025).splitlines()
    assert lines[:5] == [
        "索引号：lcxmzj/2026-00004",
        "发布机构：绿春县民政局",
        "文号：绿民函〔2025〕83号",
        "发布日期：2025年12月26日",
        "时效性：有效",
    ]
    assert lines[-2:] == ["绿春县民政局", "2025年12月26日"]
    assert "抄送" not in "\n".join(lines) and "联系人" not in "\n".join(lines)  # the seed gives none


def test_audit_sources_sum_to_each_printed_figure(letter_2025, profile):
    printed = {(p.code, p.text): p for p in letter_2025.printed}
    assert len(printed) == 62
    for p in letter_2025.printed:
        assert p.sources, p.code
        if p.code in profile.rates:
            assert {s.code for s in p.sources} == {"H01", "H02"}
        else:
            assert sum(s.value for s in p.sources) == p.value, p.code
    a05 = printed[("A05", "5580人")]
    assert len(a05.sources) == 9 and all(s.cell and s.sheet and s.file for s in a05.sources)
    data = audit_data(letter_2025, profile)
    first = data["数字"][0]
    assert (first["指标代码"], first["答复函写法"], first["数值"]) == ("D01", "2次", 2)
    assert first["来源"][0]["文件"] == "县民政局本级2025年一老一小工作情况表.xlsx"
    assert sum(len(p.sources) for p in letter_2025.printed) == len(audit_rows(letter_2025))


def test_markdown_and_html(letter_2025):
    md = to_markdown(letter_2025)
    assert "# 绿春县民政局关于政协绿春县第十四届委员会第四次会议第57号提案的答复函" in md
    assert "**（一）统筹协调抓落实。**2024年以来" in md
    assert figures_in(md) == figures_in(to_text(letter_2025))
    html = to_html(letter_2025)
    for font in ("仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"):
        assert font in html
    assert "size: A4; margin: 37mm 26mm 35mm 28mm" in html
    assert "绿春县民政局关于政协绿春县第十四届委员会<br>第四次会议第57号提案的答复函" in html


# ------------------------------------------------------------------------------------------ another year
def test_another_year_shows_its_own_figures(other_year_db, profile, tmp_path):
    values = made_up_values()
    with Store.open(other_year_db) as s:
        figures = compute_figures(s, profile, OTHER_YEAR)
    assert not figures.incomplete
    letter = render_letter(load_spec(spec_for_year(tmp_path, OTHER_YEAR)), figures, profile)
    text = to_text(letter)
    seed = figures_in("\n".join(seed_letter_lines()))
    got = figures_in(text)
    assert len(got) == len(seed)
    assert [a for a, b in zip(got, seed, strict=True) if a == b] == []  # every figure differs from 2025
    totals = county_totals(values)
    assert f"纳入最低生活保障的老年人有{totals['A05']}人" in text
    assert f"管理率{totals['H03']}%" in text
    assert f"发放高龄津贴{Decimal(totals['A07']).scaleb(-4).normalize():f}万元" in text
    # years follow the data year; only the plan's own name keeps its years
    assert "2030年以来" in text and "2031年以来新增" in text and "2031年来全县" in text
    rest = text.replace("（2024—2026年）", "")
    for old in ("2024", "2025", "2026"):
        assert old not in rest, old


def test_a_missing_figure_fails_with_the_indicator_s_name(other_year_db, profile, tmp_path):
    path = tmp_path / "no-edu.db"
    with Store.open(path) as s:
        folder = tmp_path / "returns"
        write_year_returns(folder, OTHER_YEAR, made_up_values())
        for p in folder.glob("县教育局*"):
            p.unlink()
        ingest_paths(s, profile, [folder])
        figures = compute_figures(s, profile, OTHER_YEAR)
    with pytest.raises(FigureNotAvailable) as exc:
        render_letter(load_spec(spec_for_year(tmp_path, OTHER_YEAR)), figures, profile)
    assert "F12 党史团史爱国主义教育活动" in exc.value.message
    assert "reply-letter.j2 第" in exc.value.message  # and the template line


# ---------------------------------------------------------------------------------------- templates
def _profile_with_template(tmp_path: Path, body: str) -> Profile:
    folder = init_profile(tmp_path / "我县配置")
    (folder / "templates" / "reply-letter.j2").write_text(body, encoding="utf-8")
    return Profile.load(folder)


def test_profile_template_wins_and_reaches_figures_by_name_and_unit(example_store, tmp_path):
    prof = _profile_with_template(
        tmp_path,
        "# {{ spec.sender }}答复\n\n全县{{ fig.纳入最低生活保障的老年人数 | 人 }}，"
        "大兴镇{{ units.大兴镇.A05 | 人 }}，{{ units['牛孔镇']['低保老年人数'] | 人 }}。\n",
    )
    letter = render_letter(load_spec(SPEC_2025), compute_figures(example_store, prof, 2025), prof)
    assert [b.text for b in letter.blocks] == ["绿春县民政局答复", "全县5580人，大兴镇1135人，621人。"]
    dx = next(p for p in letter.printed if p.scope == "大兴镇")
    assert [(s.unit, s.value) for s in dx.sources] == [("大兴镇", Decimal(1135))]


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ("{{ fig.A07 | 人 }}", ProfileError, ["A07 发放高龄津贴金额", "“人”"]),
        ("{{ fig.Z99 | 人 }}", ProfileError, ["未知指标“Z99”", "第 1 行"]),
        ("正文\n{{ spec.no_such_thing }}", ProfileError, ["没有“no_such_thing”这一项", "第 2 行"]),
        ("{{ fig.A13 | 约数(0, '份') }}", NumberFormatError, ["A13", "有效位数"]),
        ("@印章 绿春县民政局", ProfileError, ["@印章"]),
        ("{% if %}", ProfileError, ["语法错误"]),
        ("{% iff x %}", ProfileError, ["第 1 行有语法错误:未知的标记“iff”。"]),
        ("{{ fig.A05 | 人人 }}", ProfileError, ["没有名为“人人”的过滤器"]),
        ("{% if true %}正文", ProfileError, ["缺少结束标记"]),
        ("正文\n{{ fig.A05 / 0 }}", ProfileError, ["第 2 行无法计算", "不要在模板中做运算"]),
        ("{{ (fig.A05 + '人') }}", ProfileError, ["无法计算:这两个值不能这样运算"]),
    ],
)
def test_template_errors_name_what_and_where(example_store, tmp_path, body, error, words):
    prof = _profile_with_template(tmp_path, body)
    with pytest.raises(error) as exc:
        render_letter(load_spec(SPEC_2025), compute_figures(example_store, prof, 2025), prof)
    for w in words:
        assert w in exc.value.message


def test_draft_mark_comes_first(example_store, profile):
    letter = render_letter(
        load_spec(SPEC_2025), compute_figures(example_store, profile, 2025), profile, draft=True
    )
    assert to_text(letter).splitlines()[0] == DRAFT_MARK == "草稿（未通过审核）"


# --------------------------------------------------------------------------------------------- spec
def test_spec_of_the_seed():
    spec = load_spec(SPEC_2025)
    assert (spec.year, spec.doc_number, spec.result_class) == (2025, "绿民函〔2025〕83号", "A")
    assert spec.member.salutation == "尊敬的施艳梅委员"
    assert spec.proposal.number == "57"
    assert (spec.signer, spec.contact, spec.phone, spec.cc) == (None, None, None, ())


def _spec(tmp_path: Path, edit) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(edit(SPEC_2025.read_text(encoding="utf-8")), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda t: t.replace('result_class = "A"', 'result_class = "D"'), ["result_class", "A、B、C"]),
        (lambda t: t.replace("绿民函〔2025〕83号", "绿民函83号"), ["doc_number", "绿民函〔2025〕83号"]),
        (lambda t: t.replace('index_no = "', 'indx_no = "'), ["indx_no", "拼写"]),
        (lambda t: t.replace('name = "施艳梅"\n', ""), ["member.name", "没有填写"]),
        (lambda t: t.replace("date = 2025-12-26 ", 'date = "26/12/2025" '), ["date", "2025-12-26"]),
        (lambda t: t.replace("year = 2025", "year = 25"), ["year", "四位年份"]),
        (lambda t: t + "\n[[oops", ["格式有误,文件末尾:方括号 [ ] 没有配对"]),
        # a misspelt key inside a section would otherwise be dropped and the letter printed without it
        (
            lambda t: t.replace('salutation = "', 'salutaion = "'),
            ["member.salutaion", "拼写", "[member] 中可用的项目:name、salutation"],
        ),
        (
            lambda t: t.replace('session_short = "', 'sesion_short = "'),
            ["proposal.sesion_short", "[proposal] 中可用的项目:session、session_short、number、title"],
        ),
        # dates TOML cannot read: tomllib's own reason reads as “一行只能写一项”
        *(
            (
                lambda t, d=d: t.replace("\ndate = 2025-12-26 ", f"\ndate = {d} "),
                ["第 18 行的“date”日期写法不对", "2025-12-26", "月和日都写两位"],
            )
            for d in ("2025-12-6", "2025/12/26", "2025.12.26", "2025年12月26日", "2025-12-32")
        ),
    ],
)
def test_spec_errors_name_file_and_key(tmp_path, edit, words):
    with pytest.raises(UsageError) as exc:
        load_spec(_spec(tmp_path, edit))
    assert "spec.toml" in exc.value.message
    for w in words:
        assert w in exc.value.message


def test_a_spec_saved_with_a_byte_order_mark_is_read(tmp_path):
    """Windows Notepad's “UTF-8” writes a BOM first; tomllib alone reads it as a stray character."""
    path = tmp_path / "spec.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SPEC_2025.read_bytes())
    assert load_spec(path) == dataclasses.replace(load_spec(SPEC_2025), path=path)


def test_another_line_s_error_keeps_its_own_reason(tmp_path):
    path = _spec(tmp_path, lambda t: t.replace('validity = "有效"', "validity = 有效"))
    with pytest.raises(UsageError) as exc:
        load_spec(path)
    assert "日期" not in exc.value.message
    assert "第 14 行第 12 列:值的写法不对" in exc.value.message


def test_a_return_given_as_the_spec_is_told_so(tmp_path):
    with pytest.raises(UsageError) as exc:
        load_spec(tmp_path / "大兴镇2025年一老一小统计表.xlsx")
    assert "大兴镇2025年一老一小统计表.xlsx 不是答复函说明文件(应为 .toml 文件" in exc.value.message


def test_spec_normalises_the_doc_number_and_defaults(tmp_path):
    spec = load_spec(
        _spec(
            tmp_path,
            lambda t: t.replace("绿民函〔2025〕83号", "绿民函[2025]第083号").replace(
                'salutation = "尊敬的施艳梅委员"', ""
            ),
        )
    )
    assert spec.doc_number == "绿民函〔2025〕83号"
    assert spec.member.salutation == "施艳梅委员"


# ------------------------------------------------------------------------------------------- markup
def test_markup_blocks_and_run_on_headings():
    blocks = parse_markup(
        "@文号 绿民函〔2025〕83号\n# 标题\n\n## 一、总体情况\n### （一）统筹协调。2024年以来，\n"
        "先后召开会议。\n#### 1.没有句号的小标题\n\n正文第一行\n第二行\n\n正文二\n@落款 绿春县民政局\n"
    )
    assert [(b.kind, b.head, b.text) for b in blocks] == [
        ("doc_number", "", "绿民函〔2025〕83号"),
        ("title", "", "标题"),
        ("h1", "", "一、总体情况"),
        ("h2", "（一）统筹协调。", "2024年以来，先后召开会议。"),
        ("h3", "1.没有句号的小标题", ""),
        ("body", "", "正文第一行第二行"),
        ("body", "", "正文二"),
        ("sender", "", "绿春县民政局"),
    ]


# -------------------------------------------------------------------------------------------- title
@pytest.mark.parametrize(
    ("title", "lines"),
    [
        (
            "绿春县民政局关于政协绿春县第十四届委员会第四次会议第57号提案的答复函",
            ["绿春县民政局关于政协绿春县第十四届委员会", "第四次会议第57号提案的答复函"],
        ),
        ("绿春县民政局关于县人大代表建议的答复", ["绿春县民政局关于县人大代表建议的答复"]),
        (
            "绿春县民政局关于县十八届人大四次会议第1234号建议的答复函",
            ["绿春县民政局关于县十八届人大", "四次会议第1234号建议的答复函"],
        ),
        # a session written without 第: the cut falls before 十四届, not inside it (十 / 四届)
        (
            "绿春县民政局关于政协绿春县十四届四次会议第57号提案的答复函",
            ["绿春县民政局关于政协绿春县", "十四届四次会议第57号提案的答复函"],
        ),
        (
            "绿春县民政局关于2025年政协绿春县十四届四次会议第57号提案的答复函",
            ["绿春县民政局关于2025年政协绿春县", "十四届四次会议第57号提案的答复函"],
        ),
    ],
)
def test_title_lines_are_balanced_and_never_split_a_number(title, lines):
    got = title_lines(title)
    assert got == lines
    assert "".join(got) == title


def test_template_context_and_filters_are_documented():
    """The documented context is the context (datasette's contract test): templates/README.md."""
    from dataclasses import fields

    from carestats.letter import COUNT_UNITS, LetterContext, letter_filters
    from carestats.resources import templates_dir

    doc = (templates_dir() / "README.md").read_text(encoding="utf-8")
    for f in fields(LetterContext):
        assert f"| `{f.name}` |" in doc, f.name
    assert "可用的单位:" + " ".join(COUNT_UNITS) in doc
    for name in set(letter_filters()) - set(COUNT_UNITS):
        assert re.search(r"\\\| " + re.escape(name) + r"[ (]", doc), name
