"""The profile is data a county clerk edits in Excel or Notepad: every mistake in it is one Chinese message
naming the file, the line and the key, and nothing in it is silently ignored."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carestats.errors import ProfileError
from carestats.profile import Profile
from tests.workbooks import PROFILE_DIR


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
