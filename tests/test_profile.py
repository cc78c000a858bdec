"""The profile is data a county clerk edits in Excel or Notepad: every mistake in it is one Chinese message
naming the file, the line and the key, and nothing in it is silently ignored."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carestats.errors import ProfileError
from carestats.forms import plan_forms
from carestats.ingest import FileResult, prepare_file
from carestats.profile import Profile
from carestats.store import Store
from carestats.text import name_key, split_unit
from tests.workbooks import EXAMPLES, PROFILE_DIR, write_table1


def profile_copy(tmp_path: Path) -> Path:
    target = tmp_path / "配置"
    shutil.copytree(PROFILE_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(root: Path) -> str:
    with pytest.raises(ProfileError) as info:
        Profile.load(root)
    return info.value.message


def carestats(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carestats", *map(str, args)], capture_output=True, text=True, encoding="utf-8"
    )


def test_the_bundled_profile_loads():
    prof = Profile.load(PROFILE_DIR)
    assert prof.year == 2025 and list(prof.tables) == ["表一", "表二", "表三", "表四", "表五"]
    assert set(prof.rates) == {"H03"} and prof.limits["max_file_mb"] == 100


# ---------------------------------------------------------------------------- profile.toml
def test_a_misspelt_section_of_profile_toml_stops_every_command(tmp_path):
    """``[[rate]]`` for ``[[rates]]`` was ignored: H03 was summed across townships (98.38% for 5.71%)."""
    root = profile_copy(tmp_path)
    edit(root / "profile.toml", "[[rates]]", "[[rate]]")
    message = refused(root)
    assert "profile.toml 第 52 行" in message and "“rate”(是不是 rates?)" in message
    p = carestats("figures", "--db", tmp_path / "none.db", "--profile", root)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip() == f"错误:{message}"


@pytest.mark.parametrize(
    ("old", "new", "where", "key"),
    [
        ('about = "乡镇"', 'about = "乡镇"\nabuot = "乡镇"', "第 32 行:[[tables]] 表二 ", "abuot"),
        ('first = "B01"', 'frist = "B01"', "[[tables]] 表一 的 sections 第 2 项", "frist"),
        ("scale = 100", "scale = 100\nscal = 10", "第 57 行:[[rates]] H03 ", "scal"),
        ("max_cells = 2000000", "max_cell = 2000000", "第 62 行:[limits] ", "max_cell"),
        ("year = 2025", "year = 2025\nyaer = 2026", "第 11 行:", "yaer"),
    ],
)
def test_an_unknown_key_anywhere_in_profile_toml_is_refused(tmp_path, old, new, where, key):
    root = profile_copy(tmp_path)
    edit(root / "profile.toml", old, new)
    message = refused(root)
    assert where in message and f"不认识的项目 “{key}”" in message and "可用的项目" in message, message


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "year = 2025",
            'year = "2025年"',
            "第 10 行:year 应为整数,只写数字(如 year = 2025),现在写的是 “2025年”",
        ),
        ("max_file_mb = 100", 'max_file_mb = "100MB"', "第 60 行:[limits] 的 max_file_mb 应为整数"),
        ("max_cells = 2000000", "max_cells = -1", "max_cells 应为不小于 0 的整数"),
        (
            "max_cells = 2000000",
            "max_cells = 2e6",
            "max_cells 应为整数,只写数字(如 max_cells = 2000000),现在写的是 2000000.0",
        ),
        ("scale = 100", "scale = 0", "第 56 行:[[rates]] H03 的 scale 应为正整数"),
        ("scale = 100", "scale = true", "scale 应为正整数,只写数字(如 scale = 100),现在写的是 true"),
        ('county = "绿春县"', 'county = ""', "第 8 行:county 应为非空文字"),
        ('name = "老年人健康管理情况表"\n', "", "第 27 行:[[tables]] 表二 缺少 name"),
        ('numerator = "H02"', "numerator = 2", "[[rates]] H03 的 numerator 应为非空文字"),
        ('about = "乡镇"', 'about = "各乡镇"', '第 31 行:[[tables]] 表二 的 about “各乡镇”无效,应为 "filer"'),
    ],
)
def test_a_wrong_value_in_profile_toml_names_the_key_and_the_line(tmp_path, old, new, says):
    root = profile_copy(tmp_path)
    edit(root / "profile.toml", old, new)
    message = refused(root)
    assert "profile.toml" in message and says in message, message
    assert "invalid literal" not in message


def test_a_table_or_a_rate_written_twice_is_refused_naming_both(tmp_path):
    root = profile_copy(tmp_path)
    toml = root / "profile.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text + '\n[[tables]]\nid = "表一"\nname = "临时表"\nfiler = "县民政局"\n', encoding="utf-8"
    )
    assert "第 64 行:表号 表一 写了两次(第 16 行和本行)" in refused(root)
    toml.write_text(
        text + '\n[[rates]]\ncode = "H03"\nnumerator = "H04"\ndenominator = "H01"\n', encoding="utf-8"
    )
    assert "第 64 行:比率 H03 写了两次(第 52 行和本行)" in refused(root)


RATE = '[[rates]]\ncode = "H03"\nnumerator = "H02"\ndenominator = "H01"\nscale = 100\n'


def test_a_rate_indicator_needs_its_numerator_and_denominator(tmp_path):
    """Without a [[rates]] entry a rate would be summed across units in the county figures."""
    root = profile_copy(tmp_path)
    edit(root / "profile.toml", RATE, "")
    message = refused(root)
    assert (
        "indicators.csv 第 33 行:指标 H03 的类型是 rate(比率),但 profile.toml 中没有它的 [[rates]]" in message
    )
    p = carestats("figures", "--db", tmp_path / "none.db", "--profile", root)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "H03" in p.stderr


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            'code = "H03"',
            'code = "H01"',
            "第 52 行:[[rates]] 中的 H01 在 indicators.csv 中的类型是 count,不是 rate",
        ),
        ('numerator = "H02"', 'numerator = "H03"', "第 54 行:比率 H03 的 numerator H03 本身是比率,不能相加"),
        ('denominator = "H01"', 'denominator = "H1"', "第 55 行:比率 H03 的 denominator 是未知指标代码 H1"),
    ],
)
def test_a_rate_must_be_a_rate_of_summable_indicators(tmp_path, old, new, says):
    root = profile_copy(tmp_path)
    edit(root / "profile.toml", old, new)
    if (
        new == 'code = "H01"'
    ):  # H03 is still a rate: give it a [[rates]] of its own, so that H01 is the mistake
        edit(root / "profile.toml", "[limits]", RATE.replace("scale = 100\n", "\n") + "[limits]")
    message = refused(root)
    assert says in message, message


# ---------------------------------------------------------------------------- units.csv and indicators.csv
@pytest.mark.parametrize(
    ("file", "old", "new", "says"),
    [
        (
            "units.csv",
            "大兴镇,乡镇,表一,大兴|大兴乡",
            "大兴镇,乡镇,表一,大兴,大兴乡",
            "units.csv 第 2 行:比第一行多出 1 个字段(“大兴乡”),不知道属于哪一列。报送表、其他写法中有几个值时用 | 分隔",
        ),
        (
            "indicators.csv",
            "A07,表一,发放高龄津贴金额,元,money,2,,高龄津贴发放金额|高龄津贴",
            "A07,表一,发放高龄津贴金额,元,money,2,,高龄津贴发放金额,高龄津贴",
            "indicators.csv 第 8 行:比第一行多出 1 个字段(“高龄津贴”)",
        ),
        (
            "units.csv",
            "其他写法\n",
            "其他写法,备注\n",
            "units.csv 第 1 行:有不认识的列 备注。可用的列:单位名称,类别",
        ),
    ],
)
def test_a_field_that_belongs_to_no_column_is_refused(tmp_path, file, old, new, says):
    """A comma typed where | was meant made a field the reader dropped: 大兴乡 was no longer 大兴镇's name."""
    root = profile_copy(tmp_path)
    edit(root / file, old, new)
    message = refused(root)
    assert says in message, message


def test_an_empty_column_excel_adds_is_not_a_mistake(tmp_path):
    root = profile_copy(tmp_path)
    path = root / "units.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("".join(line + ",\n" for line in lines), encoding="utf-8")
    assert Profile.load(root).units == Profile.load(PROFILE_DIR).units


def test_csv_messages_give_the_line_of_the_file_after_blank_lines(tmp_path):
    root = profile_copy(tmp_path)
    path = root / "indicators.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3:3] = ["", ",,,,,,,"]  # A05 moves from line 6 to line 8
    lines += ["", "A05,表一,重复的指标,人,count,0,,"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert f"indicators.csv 第 {len(lines)} 行:指标代码 A05 与第 8 行重复" in refused(root)
    path = root / "units.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n牛孔镇,乡镇,表一,\n", encoding="utf-8")
    edit(root / "indicators.csv", "\nA05,表一,重复的指标,人,count,0,,", "")
    assert "units.csv 第 17 行:单位名称 牛孔镇 与第 3 行重复" in refused(root)


def test_csv_files_saved_by_excel_on_chinese_windows_are_read_as_gbk(tmp_path):
    root = profile_copy(tmp_path)
    for name in ("units.csv", "indicators.csv"):
        path = root / name
        path.write_bytes(path.read_text(encoding="utf-8").replace("\n", "\r\n").encode("gbk"))
    prof, bundled = Profile.load(root), Profile.load(PROFILE_DIR)
    assert prof.units == bundled.units and prof.indicators == bundled.indicators
    p = carestats("ingest", "--db", tmp_path / "c.db", "--profile", root, EXAMPLES)
    assert p.returncode == 0 and "汇入 13" in p.stdout, p.stderr


def test_a_csv_file_in_no_encoding_it_can_tell_is_refused_not_guessed(tmp_path):
    root = profile_copy(tmp_path)
    path = root / "units.csv"
    text = path.read_text(encoding="utf-8")
    # a line added in a UTF-8 editor, which GB18030 alone would read as 鏂板钩,涔￠晣,琛ㄤ竴,鏂板钩
    path.write_bytes(text.encode("gbk") + "新平,乡镇,表一,新平\n".encode())
    assert "units.csv 第 15 行是 UTF-8 编码,其他行是 GBK 编码" in refused(root)
    path.write_bytes(text.encode("big5", errors="replace"))
    assert "units.csv 不是 UTF-8 编码;按 GBK 编码读出的第一行是" in refused(root)
    path.write_bytes(text.encode("utf-16"))
    assert "units.csv 的编码无法识别(不是 UTF-8,也不是 GBK)" in refused(root)


def test_a_unit_of_a_kind_the_code_does_not_know_is_refused(tmp_path):
    """A township written 乡 instead of 乡镇 was skipped by every rule scoped to townships."""
    root = profile_copy(tmp_path)
    edit(root / "units.csv", "半坡乡,乡镇,", "半坡乡,乡,")
    assert "units.csv 第 8 行:类别“乡”无效,应为“乡镇”(乡、镇、街道都写乡镇)或“部门”" in refused(root)


def test_a_township_that_does_not_file_the_townships_table_is_refused(tmp_path):
    """An empty 报送表 dropped the township from the completeness check."""
    root = profile_copy(tmp_path)
    edit(root / "units.csv", "半坡乡,乡镇,表一,", "半坡乡,乡镇,,")
    message = refused(root)
    assert (
        "units.csv 第 8 行:乡镇 半坡乡 的报送表是空的,没有表一。profile.toml 中表一由每个乡镇各报一份"
        in message
    )
    p = carestats("check", "--db", tmp_path / "none.db", "--profile", root)
    assert p.returncode == 2 and p.stderr.strip() == f"错误:{message}"


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            'filer = "县卫生健康局"',
            'filer = "县卫健局"',
            "第 30 行:[[tables]] 表二 的 filer “县卫健局”不是 units.csv 中的单位。请写单位名称 县卫生健康局",
        ),
        (
            'filer = "县妇联"',
            'filer = "县老龄办"',
            '的 filer “县老龄办”不是 units.csv 中的单位。应为 "乡镇"(每个乡镇各报一份)或 units.csv 中部门的名称(县民政局、县卫生健康局、县妇联、县教育局)',
        ),
        (
            'filer = "县妇联"',
            'filer = "县教育局"',
            "第 42 行:[[tables]] 表四 由 县教育局 填报(filer),但 units.csv 中 县教育局 的报送表只有“表五”,没有表四",
        ),
    ],
)
def test_a_table_filed_by_a_unit_must_name_a_unit_that_files_it(tmp_path, old, new, says):
    """A return that names no unit is stored under its table's filer: a filer that does not file the table
    put it under the wrong unit."""
    root = profile_copy(tmp_path)
    edit(root / "profile.toml", old, new)
    message = refused(root)
    assert says in message, message


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "大兴|大兴乡",
            "大兴|大兴乡|牛孔镇",
            "第 3 行:牛孔镇 的名称“牛孔镇”与第 2 行 大兴镇 的其他写法“牛孔镇”相同",
        ),
        ("牛孔|牛孔乡", "牛孔|大兴", "第 3 行:牛孔镇 的其他写法“大兴”与第 2 行 大兴镇 的其他写法“大兴”相同"),
        (
            "|妇联",
            "|妇联|大 兴 镇",
            "第 13 行:县妇联 的其他写法“大 兴 镇”与第 2 行 大兴镇 的名称“大兴镇”相同",
        ),
    ],
)
def test_one_spelling_for_two_units_is_refused_naming_both_lines(tmp_path, old, new, says):
    """One of the two units silently won: a township's figures were stored under another township."""
    root = profile_copy(tmp_path)
    edit(root / "units.csv", old, new)
    message = refused(root)
    assert "units.csv" in message and says in message and "汇入时无法确定是哪个单位" in message, message


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("向州民政局申请补助资金", []),  # the prefecture's bureau
        ("州妇联、全国妇联、区民政局、市卫健局", []),
        ("乡镇妇联和村妇联", []),  # the townships' and villages' federations
        ("县民政局、绿春县妇联", ["县妇联", "县民政局"]),  # longest spelling first
        ("红河州绿春县民政局", ["县民政局"]),  # our county's, after its prefecture
        ("大兴村、平河社区、大兴县、平河村委会", []),  # a village, a community, another county
        ("大兴镇村两级干部", ["大兴镇"]),  # the township's full name before 村
        ("大兴区域内", ["大兴镇"]),
        ("大黑山镇妇联", ["大黑山镇"]),
        ("大黑山、三猛乡、大兴镇", ["大兴镇", "大黑山镇", "三猛乡"]),
    ],
)
def test_in_running_text_a_unit_counts_only_by_its_whole_name(profile, text, units):
    assert profile.units_mentioned(text, prose=True) == units


def test_titles_and_file_names_still_name_a_unit_by_any_spelling(profile):
    """A return's title names its own unit: 大兴村… in a title is still read as before (prose=False)."""
    assert profile.units_mentioned("州民政局转发大兴村统计表") == ["县民政局", "大兴镇"]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (  # another indicator's name
            "高龄老人数|80周岁以上高龄老人数",
            "高龄老人数|80周岁以上高龄老人数|纳入最低生活保障的老年人数",
            "第 7 行:A06 在册高龄老人数 的其他写法“纳入最低生活保障的老年人数”与第 6 行"
            " A05 纳入最低生活保障的老年人数 的指标名称“纳入最低生活保障的老年人数”相同",
        ),
        (  # another indicator's 其他写法, as the reader compares a label: no numbering, unit, spaces
            "低保儿童数|纳入低保儿童数",
            "低保儿童数|纳入低保儿童数|1. 低保老年人数（人）",
            "第 24 行:C04 纳入最低生活保障的儿童数 的其他写法“1. 低保老年人数（人）”与第 6 行"
            " A05 纳入最低生活保障的老年人数 的其他写法“低保老年人数”相同",
        ),
        (  # a name written twice
            "B01,表一,乡镇敬老院,",
            "B01,表一,中心敬老院,",
            "第 37 行:D03 中心敬老院 的指标名称“中心敬老院”与第 15 行 B01 中心敬老院 的指标名称“中心敬老院”相同",
        ),
        (  # two “其中” rows of one parent: the row they are part of cannot tell them apart
            "其中:纳入残疾人两项补贴|留守老人享受",
            "其中:纳入最低生活保障|留守老人享受",
            "第 4 行:A03 留守老人中纳入残疾人两项补贴人数 的其他写法“其中:纳入最低生活保障”与第 3 行"
            " A02 留守老人中纳入最低生活保障人数 的其他写法“其中:纳入最低生活保障”相同",
        ),
    ],
)
def test_one_spelling_for_two_indicators_is_refused_naming_both_lines(tmp_path, old, new, says):
    """A row labelled with it would be read as either indicator; 其中:纳入最低生活保障 under 留守老人数 (A02) and
    under 留守儿童数 (C02) stay allowed: the row they are part of tells them apart."""
    root = profile_copy(tmp_path)
    edit(root / "indicators.csv", old, new)
    message = refused(root)
    assert "indicators.csv" in message and says in message, message
    assert "无法确定是哪个指标" in message
    p = carestats("figures", "--db", tmp_path / "none.db", "--profile", root)
    assert p.returncode == 2 and "Traceback" not in p.stderr and says in p.stderr


# ---------------------------------------------------------------------------- form.toml
def test_an_unpaired_brace_in_a_form_pattern_is_a_profile_error_naming_the_key(tmp_path):
    """It was 内部错误:ValueError (exit 3) when the form was written."""
    root = profile_copy(tmp_path)
    edit(root / "form.toml", 'filer = "填报单位(盖章):{unit}"', 'filer = "填报单位(盖章):{unit"')
    Store.open(tmp_path / "c.db").close()
    p = carestats(
        "form",
        "--unit",
        "大兴镇",
        "--year",
        2026,
        "-o",
        tmp_path / "out",
        "--db",
        tmp_path / "c.db",
        "--profile",
        root,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr and "内部错误" not in p.stderr, p.stderr
    assert "form.toml 第 14 行:[text] 的 filer “填报单位(盖章):{unit”有误:花括号 { } 没有配对" in p.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "[text]",
            "[txt]",
            "第 12 行:有不认识的项目 “txt”(是不是 text?)。可用的项目:title、titles、text、notes",
        ),
        ("how_to_fill = [", "how_to_fil = [", "[notes] 中有不认识的项目 “how_to_fil”(是不是 how_to_fill?)"),
        (
            'title = "{county}{year}年{name}"',
            'title = "{县名}{year}年{name}"',
            "第 6 行:title “{县名}{year}年{name}”有误:没有占位 {县名}",
        ),
        (
            "{county}{unit}{year}年",
            "{county}{unit}{year}}年",
            "第 10 行:[titles] 的 表一 “{county}{unit}{year}}年",
        ),
        ('"表一" = ', '"表六" = ', "第 10 行:[titles] 中有未知表号“表六”"),
        ('date = "', "date = 2026 # ", "第 16 行:[text] 的 date 应为文字"),
    ],
)
def test_a_mistake_in_form_toml_names_its_line_and_key(tmp_path, old, new, says):
    root = profile_copy(tmp_path)
    edit(root / "form.toml", old, new)
    with pytest.raises(ProfileError) as info:
        plan_forms(Profile.load(root), 2026, unit="大兴镇")
    assert "form.toml" in info.value.message and says in info.value.message, info.value.message


def _reading(path: Path, profile: Profile) -> tuple[str, str, list[tuple[str, str]]]:
    """How ``prepare_file`` reads a return: (read or refused, refusal code, cell problems or values read)."""
    got = prepare_file(path, profile, 2025)
    if isinstance(got, FileResult):
        return got.status, got.code, [(p.cell, p.problem) for p in got.problems]
    return "read", "", [tuple(v) for v in got.values]


def test_another_profile_s_unit_words_do_not_change_how_a_profile_reads(tmp_path):
    # a county whose catalogue counts beds in 床: while it is loaded “…(床)” is a label with its unit; the
    # bundled profile (beds in 张) loaded after it reads “养老服务床位(床)” as it does alone, an unknown label
    # (its file refused), not as B04 (养老服务床位 is one of B04's spellings)
    label = "养老服务床位(床)"
    path = write_table1(
        tmp_path / "牛孔镇2025年一老一小统计表.xlsx", "牛孔镇", codes=False, names={"B04": label}
    )
    alone = _reading(path, Profile.load())
    assert split_unit(label) == (label, None) and alone[:2] == ("refused", "layout")

    beds = tmp_path / "beds"
    shutil.copytree(PROFILE_DIR, beds)
    with (beds / "indicators.csv").open("a", encoding="utf-8") as fh:
        fh.write("Z01,表三,护理型床位,床,count,0,,\n")
    other = Profile.load(beds)
    assert split_unit(label) == ("养老服务床位", "床")
    read = _reading(path, other)  # 床 is its unit word: the row is B04's
    assert read[0] == "read" and [v[:2] for v in read[2] if v[1] == "B04"] == [("牛孔镇", "B04")]

    bundled = Profile.load()
    assert split_unit(label) == (label, None) and name_key(label) != "养老服务床位"
    assert _reading(path, bundled) == alone
    # each profile reads with its own words whichever was loaded last
    assert _reading(path, other) == read
    assert _reading(path, bundled) == alone
