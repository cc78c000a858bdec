"""A hand-edited letter checked figure by figure against the 2025 example returns (a real store).

Both ways of tying a figure to its indicator are covered: aligned with what the spec's template renders,
and by the words around the figure alone.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from carestats.docx_letter import write_docx
from carestats.figures import compute_figures
from carestats.ingest import ingest_paths
from carestats.letter import load_spec, render_letter
from carestats.letter_check import (
    ALIGNED,
    OK,
    UNTIED,
    UNVERIFIABLE,
    WORDS,
    WRONG,
    Tie,
    cell_ranges,
    check_letter,
    judge,
    letter_findings,
)
from carestats.letter_read import figures_in
from carestats.letter_text import to_text
from carestats.profile import Profile, init_profile
from carestats.store import Store
from tests.letter_data import (
    SEED,
    SPEC_2025,
    county_totals,
    made_up_values,
    seed_text,
    spec_for_year,
    write_year_returns,
)
from tests.workbooks import EXAMPLES

# The template's indicator for each of the seed's 62 figures, in order (templates/reply-letter.j2).
SEED_CODES = (
    "D01 D02 D03 B01 B02 B03 B04 D04 B05 B06 D05 D06 D07 A05 C04 A02 A03 A04 C02 C03 C05 C06 C07 C08 C09 "
    "A06 A07 A08 A09 A10 A11 A12 H01 H02 H03 H04 A13 F01 F02 F03 F04 F05 F06 F07 F08 F09 F10 F11 F12 F13 "
    "F14 F15 F16 F17 F18 F19 F20 F21 F22 F23 F24 F25"
).split()

# A count, a 万元 amount and the rate, changed as a clerk might retype them.
CHANGES = {"5580人": "5680人", "168.872万元": "186.872万元", "97.78%": "97.87%"}
EXPECTED = {"5680人": "5580人", "186.872万元": "168.872万元", "97.87%": "97.78%"}


def write(tmp_path: Path, text: str, name: str = "答复函.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def changed_seed() -> str:
    text = seed_text()
    for old, new in CHANGES.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    return text


def wrong(result) -> dict[str, str]:
    return {c.figure.text: c.expected for c in result.checks if c.status == WRONG}


# ---------------------------------------------------------------------------------------------- the seed
def test_the_published_seed_is_verified_figure_by_figure(example_store, profile):
    result = check_letter(SEED, example_store, profile)
    assert result.spec == SPEC_2025.resolve() or result.spec.name == "2025-57.toml"
    assert result.year == 2025
    assert [c.status for c in result.checks] == [OK] * 62
    assert [c.tie.code for c in result.checks] == SEED_CODES
    assert {c.tie.how for c in result.checks} == {ALIGNED}
    assert result.unmatched == []
    assert "文号 绿民函〔2025〕83号" in result.notes[0]


def test_the_seed_by_words_alone_ties_every_figure_as_the_template_does(example_store, profile):
    result = check_letter(SEED, example_store, profile, 2025, find_spec=False)
    assert result.spec is None
    assert [c.tie.code if c.tie else None for c in result.checks] == SEED_CODES
    assert [c.status for c in result.checks] == [OK] * 62
    # all the county's: “向州民政局申请…补助资金12万元” names a 民政局, but D07 has one reporter only
    assert {c.tie.scope for c in result.checks} == {"全县"}
    # every figure by its words, none by which value agrees: “事实无人抚养儿童有126人” is C06 (no 新增),
    # “新增4名孤儿、9名事实无人抚养儿童” is C08 (新增 said once for the list)
    assert {c.tie.how for c in result.checks} == {WORDS}


@pytest.mark.parametrize(
    "old, new, code, expected",
    [
        ("事实无人抚养儿童有126人", "事实无人抚养儿童有9人", "C06", "126人"),  # 9 is C08's value
        ("新增4名孤儿、9名事实无人抚养儿童", "新增4名孤儿、126名事实无人抚养儿童", "C08", "9名"),  # C06's
        ("事实无人抚养儿童有126人", "事实无人抚养儿童有127人", "C06", "126人"),  # neither's
    ],
)
def test_a_wrong_figure_equal_to_another_indicator_s_value_is_wrong(
    example_store, profile, tmp_path, old, new, code, expected
):
    text = seed_text()
    assert text.count(old) == 1
    result = check_letter(
        write(tmp_path, text.replace(old, new)), example_store, profile, 2025, find_spec=False
    )
    [bad] = [c for c in result.checks if c.status != OK]
    assert (bad.status, bad.tie.code, bad.tie.how, bad.expected) == (WRONG, code, WORDS, expected)


@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
def test_three_changed_figures_are_exactly_three_errors(example_store, profile, tmp_path, find_spec):
    result = check_letter(write(tmp_path, changed_seed()), example_store, profile, 2025, find_spec=find_spec)
    assert wrong(result) == EXPECTED
    assert len(result.checks) == 62 and len(result.by_status(OK)) == 59
    a05 = next(c for c in result.checks if c.status == WRONG)
    assert a05.message.startswith(
        "信中‘5680人’与数据不符,应为‘5580人’(A05 纳入最低生活保障的老年人数,"
        "来源 9 份报表之和(工作表“统计表”):三猛乡 E10、半坡乡 E10、大兴镇 E10、"
    )
    assert a05.message.endswith("牛孔镇 D10、骑马坝乡 E11)。")
    rate = next(c for c in result.checks if c.figure.text == "97.87%")
    assert "按 H02 14810 ÷ H01 15147 × 100 重新计算为 97.7751" in rate.message
    assert "县卫健局2025年老年人健康管理情况表.xlsx Sheet1!D6:D14、C6:C14" in rate.message
    assert rate.to_json()["letter_text"] == "97.87%" and rate.to_json()["expected"] == "97.78%"


def test_full_width_punctuation_and_digits(example_store, profile, tmp_path):
    text = changed_seed().translate(str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）"}))
    text = text.replace("5680人", "５６８０人")
    result = check_letter(write(tmp_path, text), example_store, profile)
    assert wrong(result) == {"５６８０人": "5580人", "186.872万元": "168.872万元", "97.87%": "97.78%"}


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u3000"], ids=["space", "nbsp", "ideographic"])
@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
def test_a_space_between_number_and_unit_is_still_a_figure(
    example_store, profile, tmp_path, space, find_spec
):
    text = changed_seed().replace("5680人", f"5680{space}人").replace("186.872万元", f"186.872{space}万元")
    text = text.replace("4073人", f"4073{space}人")  # right, with a space
    result = check_letter(write(tmp_path, text), example_store, profile, 2025, find_spec=find_spec)
    assert len(result.checks) == 62
    assert wrong(result) == {
        f"5680{space}人": "5580人",
        f"186.872{space}万元": "168.872万元",
        "97.87%": "97.78%",
    }
    [right] = [c for c in result.checks if c.figure.text == f"4073{space}人"]
    assert (right.tie.code, right.status) == ("C04", OK)
    bad = next(c for c in result.checks if c.status == WRONG)
    assert bad.message.startswith(f"信中‘5680{space}人’与数据不符,应为‘5580人’(A05 ")


GROUPED = {
    "5580人": "5{sep}680人",
    "15147人": "15{sep}147人",
    "12800元": "12{sep}800元",
    "60000余名": "60{sep}000余名",
}


@pytest.mark.parametrize("suffix", [".txt", ".docx"])
@pytest.mark.parametrize("sep", ["\u2009", "\u202f", " ", "\u00a0", "\u3000"])
@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
def test_thousands_grouped_by_a_thin_space_are_one_figure(
    example_store, profile, tmp_path, suffix, sep, find_spec
):
    """“5 680人” with a thin space is 5680 (wrong, as written), not “680人”; three right figures so grouped
    keep their place and agree."""
    grouped = {old: new.format(sep=sep) for old, new in GROUPED.items()}
    if suffix == ".txt":
        text = seed_text()
        for old, new in grouped.items():
            assert text.count(old) == 1
            text = text.replace(old, new)
        path = write(tmp_path, text)
    else:
        path = _rendered_docx(example_store, profile, tmp_path / "答复函.docx")
        doc = Document(str(path))
        runs = [r for p in doc.paragraphs for r in p.runs for old in grouped if old in r.text]
        assert len(runs) == len(grouped)
        for run in runs:
            for old, new in grouped.items():
                run.text = run.text.replace(old, new)
        doc.save(str(path))
    result = check_letter(path, example_store, profile, 2025, find_spec=find_spec)
    assert len(result.checks) == 62 and result.unmatched == []
    assert wrong(result) == {f"5{sep}680人": "5580人"}
    bad = result.wrong[0]
    assert (bad.tie.code, bad.figure.number) == ("A05", 5680)
    assert bad.message.startswith(f"信中‘5{sep}680人’与数据不符,应为‘5580人’(A05 ")
    right = {c.figure.text: c for c in result.checks if c.status == OK}
    assert right[f"15{sep}147人"].tie.code == "H01" and right[f"12{sep}800元"].tie.code == "A12"
    assert right[f"60{sep}000余名"].tie.code == "F20"


def test_an_ordinal_with_spaces_is_not_a_figure():
    assert figures_in("第 3 次会议,第3次") == []
    assert [f.text for f in figures_in("约 1.2 万人次、15 余 万元")] == ["约 1.2 万人次", "15 余 万元"]


def _rendered_docx(store: Store, profile: Profile, path: Path) -> Path:
    letter = render_letter(load_spec(SPEC_2025), compute_figures(store, profile, 2025), profile)
    write_docx(letter, path)
    return path


@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
def test_a_rendered_docx_edited_in_three_places(example_store, profile, tmp_path, find_spec):
    path = _rendered_docx(example_store, profile, tmp_path / "答复函.docx")
    clean = check_letter(path, example_store, profile, 2025, find_spec=find_spec)
    assert [c.status for c in clean.checks] == [OK] * 62
    doc = Document(str(path))
    edits = 0
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            for old, new in CHANGES.items():
                if old in run.text:
                    run.text = run.text.replace(old, new)
                    edits += 1
    assert edits == 3
    doc.save(str(path))
    result = check_letter(path, example_store, profile, 2025, find_spec=find_spec)
    assert wrong(result) == EXPECTED
    assert [c.place for c in result.checks if c.status == WRONG][0].startswith("第 ")


@pytest.mark.parametrize("suffix", [".txt", ".docx"])
def test_the_rendered_letter_by_words_alone_ties_every_figure_as_the_template_does(
    example_store, profile, tmp_path, suffix
):
    # what `carestats report` writes, checked with no spec (its 文号 changed, or copied elsewhere)
    path = tmp_path / f"答复函{suffix}"
    if suffix == ".docx":
        _rendered_docx(example_store, profile, path)
    else:
        letter = render_letter(load_spec(SPEC_2025), compute_figures(example_store, profile, 2025), profile)
        path.write_text(to_text(letter), encoding="utf-8")
    result = check_letter(path, example_store, profile, 2025, find_spec=False)
    assert [c.tie.code if c.tie else None for c in result.checks] == SEED_CODES
    assert {(c.status, c.tie.how) for c in result.checks} == {(OK, WORDS)}


# ----------------------------------------------------------------------------------------------- aligned
def test_a_reworded_sentence_still_aligns_and_added_figures_are_tied_by_words(
    example_store, profile, tmp_path
):
    text = seed_text().replace(
        "目前纳入最低生活保障的老年人有5580人", "截至目前，全县纳入低保的老年人共5680人"
    )
    text = text.replace("发放宣传资料2000余份,", "发放宣传资料2100余份,全县共有留守老人2871人,建成3个示范点,")
    result = check_letter(write(tmp_path, text), example_store, profile)
    checks = {c.figure.text: c for c in result.checks}
    assert checks["5680人"].tie.code == "A05" and checks["5680人"].tie.how == ALIGNED
    assert wrong(result) == {"5680人": "5580人", "2100余份": "2000余份"}
    assert "(“2100余份”表示不少于 2100份、不到 2200份)" in checks["2100余份"].message
    assert "数据为 2046份" in checks["2100余份"].message
    assert (checks["2871人"].status, checks["2871人"].tie.code, checks["2871人"].tie.how) == (
        OK,
        "A01",
        WORDS,
    )
    assert checks["3个"].status == UNTIED
    assert checks["3个"].message.startswith("信中‘3个’没有对应到指标,未核对(")


def test_a_deleted_sentence_is_listed_as_not_in_the_letter(example_store, profile, tmp_path):
    text = seed_text().replace("建设养老床位480张。", "")
    result = check_letter(write(tmp_path, text), example_store, profile)
    assert result.unmatched == ["480张(B04 养老床位)"]
    assert [c.status for c in result.checks] == [OK] * 61


@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
def test_a_deleted_clause_does_not_shift_the_next_figure_onto_its_indicator(
    example_store, profile, tmp_path, find_spec
):
    # the template's “…老年人有5580人、纳入最低生活保障的儿童有4073人;” without its second clause: 5580人
    # sits where the template has 4073人, but its words say A05 — never “5580人 应为 4073人”
    text = seed_text()
    assert text.count("、纳入最低生活保障的儿童有4073人") == 1
    text = text.replace("、纳入最低生活保障的儿童有4073人", "")
    result = check_letter(write(tmp_path, text), example_store, profile, 2025, find_spec=find_spec)
    assert [c.status for c in result.checks] == [OK] * 61
    assert [c.tie.code for c in result.checks] == [code for code in SEED_CODES if code != "C04"]
    if find_spec:
        assert result.unmatched == ["4073人(C04 纳入最低生活保障的儿童数)"]
    # … and a wrong figure there is told its own indicator's value
    result = check_letter(
        write(tmp_path, text.replace("老年人有5580人", "老年人有5680人")), example_store, profile, 2025
    )
    assert wrong(result) == {"5680人": "5580人"}


def test_a_moved_paragraph_is_checked_by_its_words(example_store, profile, tmp_path):
    lines = seed_text().split("\n")
    [two] = [n for n, line in enumerate(lines) if line.startswith("(二)完善阵地搭平台")]
    [three] = [n for n, line in enumerate(lines) if line.startswith("(三)兜底保障强基础")]
    lines.insert(two, lines.pop(three))  # (三) before (二)
    text = "\n".join(lines).replace("老年人有5580人", "老年人有5680人")
    result = check_letter(write(tmp_path, text), example_store, profile, 2025)
    assert wrong(result) == {"5680人": "5580人"}
    assert len(result.checks) == 62 and len(result.by_status(OK)) == 61
    assert result.unmatched == []
    assert {c.tie.scope for c in result.checks} == {"全县"}


def test_a_unit_s_figure_is_aligned_with_its_scope(example_store, tmp_path):
    folder = init_profile(tmp_path / "我县配置")
    (folder / "templates" / "reply-letter.j2").write_text(
        "@文号 {{ spec.doc_number }}\n\n# 答复\n\n全县低保老年人{{ fig.A05 | 人 }}，其中大兴镇{{ units.大兴镇.A05 | 人 }}。\n",
        encoding="utf-8",
    )
    prof = Profile.load(folder)
    letter = write(tmp_path, "绿民函〔2025〕83号\n答复\n全县低保老年人5580人,其中大兴镇1153人。\n")
    result = check_letter(letter, example_store, prof, spec=SPEC_2025)
    [bad] = [c for c in result.checks if c.status == WRONG]
    assert (bad.tie.code, bad.tie.scope, bad.expected) == ("A05", "大兴镇", "1135人")
    assert (
        "(A05 纳入最低生活保障的老年人数,大兴镇,来源 大兴镇2025年一老一小统计表.xlsx 统计表!E10)"
        in bad.message
    )


TOWNSHIP_CLAUSE = "纳入救助保障范围。"


@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
@pytest.mark.parametrize(
    "clause, status, expected",
    [
        ("其中大兴镇纳入最低生活保障的老年人有1135人", OK, None),
        ("其中大兴乡纳入最低生活保障的老年人有1135人", OK, None),  # another spelling of 大兴镇
        ("其中大兴镇纳入最低生活保障的老年人有999人", WRONG, "1135人"),
    ],
)
def test_a_township_s_figure_added_by_the_clerk_is_checked_against_that_township(
    example_store, profile, tmp_path, find_spec, clause, status, expected
):
    text = seed_text()
    assert text.count(TOWNSHIP_CLAUSE) == 1
    text = text.replace(TOWNSHIP_CLAUSE, f"纳入救助保障范围,{clause}。")
    result = check_letter(write(tmp_path, text), example_store, profile, 2025, find_spec=find_spec)
    [c] = [c for c in result.checks if c.figure.text in clause]
    assert (c.status, c.tie.code, c.tie.scope, c.tie.how, c.expected) == (
        status,
        "A05",
        "大兴镇",
        WORDS,
        expected,
    )
    assert [x.status for x in result.checks if x is not c] == [OK] * 62
    if status == WRONG:
        assert c.message == (
            "信中‘999人’与数据不符,应为‘1135人’(A05 纳入最低生活保障的老年人数,大兴镇,"
            "来源 大兴镇2025年一老一小统计表.xlsx 统计表!E10)。"
        )


def test_a_unit_named_in_a_clause_scopes_the_figure_only_when_it_reports_it(example_store, profile, tmp_path):
    text = "县民政局统计,纳入最低生活保障的老年人有5580人。县民政局纳入最低生活保障的老年人有5580人。"
    text += "大兴镇、牛孔镇纳入最低生活保障的老年人有2000人。大兴镇和牛孔镇纳入最低生活保障的老年人有2000人。"
    result = check_letter(write(tmp_path, text), example_store, profile, 2025)
    # 县民政局 does not report A05: the county's; 、 ends the clause: 牛孔镇's; both in one clause: not checked
    assert [(c.status, c.tie.scope) for c in result.checks] == [
        (OK, "全县"),
        (OK, "全县"),
        (WRONG, "牛孔镇"),
        (UNVERIFIABLE, "大兴镇、牛孔镇"),
    ]
    assert "句中写了 2 个单位" in result.checks[3].message


@pytest.mark.parametrize(
    "sentence, text, scope",
    [
        # 表二 is 县卫健局's, with a row per township: 州卫健局 is the prefecture's bureau, not 县卫健局
        ("据州卫健局统计65周岁以上健康管理人数14810人", "14810人", "全县"),
        ("据县卫健局统计65周岁以上健康管理人数14810人", "14810人", "县卫生健康局"),
        # 大兴村 is a village, not 大兴镇; the county's figure
        ("全县含大兴村在内纳入最低生活保障的老年人有5580人", "5580人", "全县"),
        ("全县含平河社区在内纳入最低生活保障的老年人有5580人", "5580人", "全县"),
        # a township's bare name, or its name after the county's, is still the township
        ("其中大兴纳入最低生活保障的老年人有1135人", "1135人", "大兴镇"),
        ("其中绿春县大兴镇纳入最低生活保障的老年人有1135人", "1135人", "大兴镇"),
        ("其中大兴区域内纳入最低生活保障的老年人有1135人", "1135人", "大兴镇"),
    ],
)
def test_a_unit_s_name_scopes_a_figure_only_as_a_whole_name(
    example_store, profile, tmp_path, sentence, text, scope
):
    result = check_letter(write(tmp_path, sentence + "。"), example_store, profile, 2025)
    [c] = [c for c in result.checks if c.figure.text == text]
    assert c.tie.scope == scope
    assert c.status == (UNVERIFIABLE if scope == "县卫生健康局" else OK)  # 表二's values are the townships'


def test_nested_township_names_in_a_profile_copy(example_store, tmp_path):
    """Units whose names nest (平河 in 东平河乡, 大兴 in 新大兴乡): a spelling counts as a whole name only."""
    folder = init_profile(tmp_path / "我县配置")
    units = folder / "units.csv"
    units.write_text(
        units.read_text(encoding="utf-8") + "新大兴乡,乡镇,表一,\n东平河乡,乡镇,表一,东平河\n",
        encoding="utf-8",
    )
    prof = Profile.load(folder)
    assert prof.units_mentioned("新大兴乡和东平河的报告", prose=True) == ["新大兴乡", "东平河乡"]
    # “新大兴” is part of 新大兴乡's name, not 大兴镇's: no unit (the catalogue lacks that spelling)
    assert prof.units_mentioned("其中新大兴纳入", prose=True) == []
    assert prof.units_mentioned("其中大兴纳入", prose=True) == ["大兴镇"]
    letter = "其中新大兴纳入最低生活保障的老年人有1135人。其中东平河纳入最低生活保障的老年人有621人。"
    result = check_letter(write(tmp_path, letter), example_store, prof, 2025)
    assert [c.tie.scope for c in result.checks] == ["全县", "东平河乡"]
    # the copy expects two townships more than the store holds: the county's 5580 is a partial sum
    first = result.checks[0]
    assert first.status == UNVERIFIABLE and first.expected is None
    assert (
        "全县数不完整:缺 新大兴乡(未报送表一)、东平河乡(未报送表一),已报送单位之和为 5580人" in first.message
    )
    assert result.checks[1].status == UNVERIFIABLE and "东平河乡没有报送这个指标" in result.checks[1].message


def test_data_lacking_a_template_figure_falls_back_to_words(tmp_path, profile):
    with Store.open(tmp_path / "part.db") as store:
        townships = [p for p in sorted(EXAMPLES.iterdir()) if "卫健" not in p.name]
        assert all(r.ok for r in ingest_paths(store, profile, townships))
        result = check_letter(SEED, store, profile)
        assert "改为按文字对应指标" in result.notes[-1]
        checks = {c.figure.text: c for c in result.checks}
        assert checks["5580人"].status == OK and checks["5580人"].tie.how == WORDS
        assert checks["97.78%"].status == UNVERIFIABLE
        assert "H03 健康管理率" in checks["97.78%"].message and "无法核对" in checks["97.78%"].message
        assert not result.wrong


def _store_without(path: Path, profile: Profile, *left_out: str) -> Store:
    """A store of the 2025 example returns but those whose file names contain one of ``left_out``."""
    store = Store.open(path)
    returns = [p for p in sorted(EXAMPLES.iterdir()) if not any(x in p.name for x in left_out)]
    assert len(returns) == 13 - len(left_out)
    assert all(r.ok for r in ingest_paths(store, profile, returns))
    return store


@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
@pytest.mark.parametrize("township_figure", ["right", "wrong"])
def test_county_figures_lacking_a_township_s_return_are_not_judged_from_the_partial_sum(
    tmp_path, profile, find_spec, township_figure
):
    # 大兴镇's 表一 has not come in: every 表一 county figure is 大兴镇 short, so the letter's 5580人 is no
    # more wrong than right; an “应为 4445人” would have the clerk print a partial sum in a signed letter
    with _store_without(tmp_path / "part.db", profile, "大兴镇") as store:
        niukong = compute_figures(store, profile, 2025).units["牛孔镇"]["A05"]
        written = niukong if township_figure == "right" else niukong + 7
        clause = f"其中牛孔镇纳入最低生活保障的老年人有{written}人"
        text = seed_text().replace(TOWNSHIP_CLAUSE, f"纳入救助保障范围,{clause}。")
        result = check_letter(write(tmp_path, text), store, profile, 2025, find_spec=find_spec)
    [township] = [c for c in result.checks if c.figure.text == f"{written}人"]
    others = [c for c in result.checks if c is not township]
    # a township that did report is checked against its own figure as ever
    assert (township.tie.code, township.tie.scope) == ("A05", "牛孔镇")
    if township_figure == "right":
        assert township.status == OK
    else:
        assert (township.status, township.expected) == (WRONG, f"{niukong}人")
    table1 = [c for c in others if "表一" in profile.indicators[c.tie.code].tables]
    assert len(table1) == 26
    for c in table1:
        assert c.status == UNVERIFIABLE and c.expected is None
        assert "全县数不完整:缺 大兴镇(未报送表一)" in c.message and "应为" not in c.message
    [a05] = [c for c in table1 if c.figure.text == "5580人"]
    assert a05.message == (
        "信中‘5580人’对应指标 A05 纳入最低生活保障的老年人数,但全县数不完整:缺 大兴镇(未报送表一),"
        "已报送单位之和为 4445人,无法核对。请催报,补齐后重新汇入再核对。"
    )
    # 表二 (县卫健局's, 大兴镇's row in it), 表三, 表四, 表五 are whole: checked as ever
    assert {c.status for c in others if c not in table1} == {OK}
    found = letter_findings(result)
    assert {f.rule for f in found} == ({"L04"} if township_figure == "right" else {"L01", "L04"})
    assert [f.letter_text for f in found if f.rule == "L01"] == (
        [] if township_figure == "right" else [f"{written}人"]
    )


def test_county_figures_lacking_a_department_s_return_name_it(tmp_path, profile):
    # 县妇联's 表四 has not come in: its eleven figures cannot be checked (there is no county figure at all,
    # and saying “没有任何报表报送这个指标” would hide whose return it is); the rest are checked
    with _store_without(tmp_path / "part.db", profile, "县妇联") as store:
        result = check_letter(SEED, store, profile)
    # the template prints F01 and cannot be rendered: the note says whose return is missing, as the
    # figures' messages do, not that nobody reports the indicator
    [fallback] = [n for n in result.notes if "改为按文字对应指标" in n]
    assert "缺 县妇联(未报送表四)" in fallback and "没有任何报表报送" not in fallback
    assert not result.template_used
    bad = [c for c in result.checks if c.status != OK]
    assert [c.tie.code for c in bad] == [f"F{n:02}" for n in range(1, 12)]
    for c in bad:
        assert c.status == UNVERIFIABLE
        assert "全县数不完整:缺 县妇联(未报送表四),无法核对" in c.message
    assert not result.wrong


def test_a_county_figure_lacking_a_row_of_a_return_sent_names_the_unit(tmp_path, profile):
    # 大兴镇's return came without its A05 row (a correction that lost it): A05's county figure is 大兴镇
    # short, the rest of 表一 is whole
    folder = tmp_path / "2025"
    shutil.copytree(EXAMPLES, folder)
    daxing = folder / "大兴镇2025年一老一小统计表.xlsx"
    wb = load_workbook(daxing)
    assert wb["统计表"]["B10"].value == "A05"
    wb["统计表"].delete_rows(10)
    wb.save(daxing)
    with Store.open(tmp_path / "c.db") as store:
        assert all(r.ok for r in ingest_paths(store, profile, [folder]))
        result = check_letter(SEED, store, profile)
    [bad] = [c for c in result.checks if c.status != OK]
    assert (bad.figure.text, bad.status, bad.tie.code) == ("5580人", UNVERIFIABLE, "A05")
    assert "全县数不完整:缺 大兴镇(已报送的表中没有这一项),已报送单位之和为 4445人" in bad.message


# ------------------------------------------------------------------------------------------------- words
def test_by_words_the_issue_s_sentence(example_store, profile, tmp_path):
    result = check_letter(write(tmp_path, "纳入最低生活保障的老年人有5680人"), example_store, profile, 2025)
    [c] = result.checks
    assert (c.tie.code, c.tie.how, c.status, c.expected) == ("A05", WORDS, WRONG, "5580人")


@pytest.mark.parametrize(
    "sentence, code",
    [
        ("全县留守老人中纳入最低生活保障的有399人", "A02"),
        ("全县留守老人中纳入最低生活保障的有399人、纳入残疾人两项补贴的有138人", "A03"),
        ("留守儿童中纳入最低生活保障的有395人、纳入残疾人两项补贴的有27人", "C03"),
        ("建成1个县级未成年人救护保护中心", "D04"),
        ("全县建成中心敬老院1所", "D03"),
        ("乡镇敬老院4所", "B01"),
        ("向863名经济困难老年人发放服务补贴", "A08"),
        ("发放高龄津贴168.872万元", "A07"),
        ("健康管理率97.78%", "H03"),
        ("低保老年人数5580人", "A05"),
    ],
)
def test_by_words_names_and_other_spellings(example_store, profile, tmp_path, sentence, code):
    result = check_letter(write(tmp_path, sentence), example_store, profile, 2025)
    assert result.checks[-1].tie.code == code
    assert result.checks[-1].status == OK


def test_words_that_cannot_tell_two_indicators_apart_tie_nothing(example_store, profile, tmp_path):
    # “纳入残疾人两项补贴” is said of 留守老人 (A03, 138) and of 留守儿童 (C03, 27); 100 agrees with neither,
    # so it is wrong whichever is meant: an error naming both and what each would read
    result = check_letter(write(tmp_path, "纳入残疾人两项补贴的有100人"), example_store, profile, 2025)
    [c] = result.checks
    assert c.status == WRONG and c.tie is None and c.candidates == ("A03", "C03")
    assert c.message.startswith(
        "信中‘100人’与数据不符:按文字可能是 A03 留守老人中纳入残疾人两项补贴人数(应为‘138人’)"
        " 或 C03 留守儿童中纳入残疾人两项补贴人数(应为‘27人’),与其中任何一个都不符"
    )
    [finding] = letter_findings(result)
    assert (finding.rule, finding.severity, finding.codes) == ("L01", "error", ("A03", "C03"))
    assert {cell.code for cell in finding.cells} == {"A03", "C03"}
    assert c.to_json()["expected_by_candidate"] == {"A03": "138人", "C03": "27人"}
    # an approximate figure the same: L02
    result = check_letter(write(tmp_path, "纳入残疾人两项补贴的有200余人"), example_store, profile, 2025)
    assert [f.rule for f in letter_findings(result)] == ["L02"]
    # … nor when one of them agrees: a figure equal to one candidate's value may be the other's, wrong
    result = check_letter(write(tmp_path, "纳入残疾人两项补贴的有27人"), example_store, profile, 2025)
    [c] = result.checks
    assert c.status == UNTIED and c.tie is None and c.candidates == ("A03", "C03")


def test_the_unit_word_must_fit_the_indicator(example_store, profile, tmp_path):
    result = check_letter(write(tmp_path, "纳入最低生活保障的老年人有5580元"), example_store, profile, 2025)
    assert result.checks[0].status == UNTIED


# ------------------------------------------------------------------------------------------ comparing
def tie(profile: Profile, code: str, value: str, exact: str | None = None) -> Tie:
    return Tie(
        profile.indicators[code], "全县", Decimal(value), (), WORDS, exact=Decimal(exact) if exact else None
    )


def verdict(profile: Profile, written: str, code: str, value: str, exact: str | None = None):
    [w] = figures_in(written)
    status, expected, _why = judge(w, tie(profile, code, value, exact))
    return status, expected


@pytest.mark.parametrize(
    "written, code, values_ok, values_wrong",
    [
        ("2000余份", "A13", ["2000", "2046", "2999"], ["1999", "3000"]),
        ("1600余人次", "F01", ["1600", "1627", "1699"], ["1599", "1700"]),
        ("46余所", "F19", ["46"], ["45", "47"]),
        ("15余万元", "F11", ["150000", "152600.00", "159999.99"], ["149999.99", "160000"]),
        ("约2000份", "A13", ["1500", "2046", "2499"], ["1499", "2500"]),
        ("50份以上", "A13", ["50", "51"], ["49"]),
        ("近2000份", "A13", ["1000", "1990", "2000"], ["999", "2001"]),
        ("5580人", "A05", ["5580"], ["5581"]),
        ("168.872万元", "A07", ["1688720.00"], ["1688720.01", "1688700"]),
        ("12800元", "A12", ["12800.00"], ["12800.50"]),
        ("约1.2万人次", "F15", ["11500", "12345", "12499"], ["11499", "12500"]),
    ],
)
def test_approximate_and_exact_figures(profile, written, code, values_ok, values_wrong):
    for v in values_ok:
        assert verdict(profile, written, code, v)[0] == OK, (written, v)
    for v in values_wrong:
        assert verdict(profile, written, code, v)[0] == WRONG, (written, v)


@pytest.mark.parametrize(
    "written, code, value, expected",
    [
        ("2100余份", "A13", "2046", "2000余份"),  # the issue's example
        ("2000余份", "A13", "3046", "3000余份"),
        ("2000余份", "A13", "46", "46份"),
        ("15余万元", "F11", "252600.00", "25余万元"),
        ("约2000份", "A13", "2746", "约3000份"),
        ("186.872万元", "A07", "1688720.00", "168.872万元"),
        ("1688720元", "A07", "1688720.50", "1688720.5元"),
        ("5680名", "A05", "5580", "5580名"),  # the letter's unit word is kept
        ("2次", "A05", "5580", "5580人"),  # a wrong unit word: the catalogue's
        ("5\u2009680人", "A05", "5580", "5580人"),  # thousands grouped by a thin space
        ("2\u2009100余份", "A13", "2046", "2000余份"),
        ("约1\u2009900万元", "A07", "18400000", "约1800万元"),
    ],
)
def test_expected_text_keeps_the_letter_s_way_of_writing(profile, written, code, value, expected):
    assert verdict(profile, written, code, value) == (WRONG, expected)


@pytest.mark.parametrize(
    "written, status, expected",
    [
        ("97.78%", OK, None),
        ("97.8%", OK, None),  # the recomputed ratio to the letter's precision
        ("98%", OK, None),
        ("97.77%", WRONG, "97.78%"),
        ("97.87%", WRONG, "97.78%"),
        ("97.7%", WRONG, "97.8%"),
    ],
)
def test_rates_against_the_recomputed_ratio(profile, written, status, expected):
    exact = str(Decimal(14810) / Decimal(15147) * 100)
    assert verdict(profile, written, "H03", "97.78", exact) == (status, expected)


def test_two_markers_on_one_figure_cannot_be_verified(profile):
    assert verdict(profile, "约1200余人次", "F01", "1627")[0] == UNVERIFIABLE


def test_cell_ranges():
    assert cell_ranges(["D6", "D7", "D8", "C6", "E10", "E12", "AA3", "AA4"]) == [
        "D6:D8",
        "C6",
        "E10",
        "E12",
        "AA3:AA4",
    ]


# ------------------------------------------------------------------------------- another year's data
OTHER_YEAR = 2031


@pytest.fixture(scope="module")
def other_year_store(tmp_path_factory):
    """A store holding only a made-up year in which every figure differs from 2025 (tests.letter_data)."""
    profile = Profile.load()
    folder = tmp_path_factory.mktemp("y2031")
    write_year_returns(folder / "returns", OTHER_YEAR, made_up_values())
    store = Store.open(folder / "2031.db")
    assert all(r.ok for r in ingest_paths(store, profile, [folder / "returns"]))
    yield store
    store.close()


@pytest.mark.parametrize("find_spec", [True, False], ids=["aligned", "words"])
def test_the_2025_letter_against_other_data_is_wrong_everywhere(other_year_store, profile, find_spec):
    """Ties are made by place or by words, not by values: every figure of the seed is wrong for 2031."""
    result = check_letter(SEED, other_year_store, profile, OTHER_YEAR, find_spec=find_spec)
    totals = county_totals(made_up_values())
    tied = [c for c in result.checks if c.tie is not None]
    assert all(c.status == WRONG for c in tied)
    assert [c.tie.code for c in tied] == SEED_CODES
    a05 = next(c for c in tied if c.tie.code == "A05")
    assert a05.expected == f"{totals['A05']}人"


def test_the_2031_letter_checks_clean_against_2031_by_words(other_year_store, profile, tmp_path):
    spec = load_spec(spec_for_year(tmp_path, OTHER_YEAR))
    letter = render_letter(spec, compute_figures(other_year_store, profile, OTHER_YEAR), profile)
    path = write(tmp_path, to_text(letter), "2031.txt")
    result = check_letter(path, other_year_store, profile, OTHER_YEAR, find_spec=False)
    assert [c.status for c in result.checks] == [OK] * 62
    assert [c.tie.code for c in result.checks] == SEED_CODES


def test_an_approximate_money_figure_says_what_it_covers(profile):
    [w] = figures_in("共计捐赠25余万元")
    status, expected, why = judge(w, tie(profile, "F11", "152600.00"))
    assert (status, expected, why) == (WRONG, "15余万元", "“25余万元”表示不少于 25万元、不到 26万元")
