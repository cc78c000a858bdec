"""rules.toml is data a clerk edits: the bundled file loads, and every kind of mistake in it is refused."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from carestats.errors import ProfileError
from carestats.profile import Profile
from carestats.rules import RULE_KINDS, load_rules
from tests.workbooks import PROFILE_DIR

FORM_RULES = [f"R{n:02d}" for n in range(1, 12)]  # 审核关系 1–11


def test_bundled_rules_cover_every_line_of_the_form_and_every_kind(profile):
    rules = load_rules(profile)
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    for line in FORM_RULES:
        assert any(i.startswith(line) for i in ids), f"审核关系第 {int(line[1:])} 条没有规则"
    assert {r.kind for r in rules} == set(RULE_KINDS)
    assert all(r.label and r.description and r.hint for r in rules)
    by_id = {r.id: r for r in rules}
    assert by_id["R01a"].expr is not None and by_id["R01a"].expr.source == "A02 <= A01"
    assert (by_id["R07"].severity, by_id["R08"].severity, by_id["R11"].severity) == ("warning",) * 3
    assert by_id["R09"].scope == "between" and by_id["R03b"].scope == "total"


def test_rules_file_has_chinese_comments_for_the_clerk():
    text = (PROFILE_DIR / "rules.toml").read_text(encoding="utf-8")
    assert text.startswith("# 审核关系")
    assert "severity     error = 审核不通过" in text
    tomllib.loads(text)


def profile_with_rules(tmp_path: Path, text: str, *, append: bool = True) -> Profile:
    target = tmp_path / "profile"
    shutil.copytree(PROFILE_DIR, target)
    rules = target / "rules.toml"
    rules.write_text((rules.read_text(encoding="utf-8") if append else "") + text, encoding="utf-8")
    return Profile.load(target)


RULE = """
[[rule]]
id = "X01"
label = "测试"
description = "测试规则"
severity = "error"
scope = "unit"
hint = "请改正。"
"""


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ('expr = "A02 <= A99"', "未知指标代码 A99"),
        ('expr = "A02 <= "', "语法错误"),
        ('expr = "A02 + A01"', "不是比较式"),
        ('expr = "open(A01) == 1"', "不是可用的函数"),
        ("", "缺少 expr"),
        ('expr = "A02 <= A01"\nwhen = "A06 >"', "when 有误"),
        ('expr = "A02 <= A01"\nblame = "A05"', "blame"),
        ('expr = "A02 <= A01"\nunits = "村"', "units"),
        ('expr = "A02 <= A01"\ncolour = "red"', "不认识的项目 colour"),
        ('kind = "rate"\ncode = "A01"', "不是 profile.toml 中定义的比率"),
        ('kind = "rate"\ncode = "H99"', "未知指标代码 H99"),
        ('kind = "type"\nof = ["counts"]', "of 应列出指标类型"),
        ('kind = "change"\nthreshold = "很多"', "threshold"),
        ('kind = "change"\nthreshold = -5', "大于 0"),
        ('kind = "guess"', "kind “guess”无效"),
        ('kind = "total"', "不能用 scope = unit"),
        ('kind = "readable"\nexpr = "A02 <= A01"', "不用 expr"),
    ],
)
def test_a_broken_rule_is_a_profile_error_naming_file_and_rule(tmp_path, extra, why):
    prof = profile_with_rules(tmp_path, RULE + extra + "\n")
    with pytest.raises(ProfileError) as exc:
        load_rules(prof)
    msg = exc.value.message
    assert why in msg
    assert str(prof.path / "rules.toml") in msg
    assert "(X01)" in msg
    assert exc.value.exit_code == 2


def test_duplicate_id(tmp_path):
    prof = profile_with_rules(tmp_path, RULE.replace("X01", "R01a") + 'expr = "A02 <= A01"\n')
    with pytest.raises(ProfileError) as exc:
        load_rules(prof)
    assert "规则编号 R01a 重复" in exc.value.message and "rules.toml" in exc.value.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[[rule]\nid = 1", "格式有误,第 1 行第 7 列:方括号 [ ] 没有配对"),
        ("[[rule]]\nid = “R01”\n", "第 2 行第 6 列:值的写法不对(文字要用英文双引号括起来"),
        ('[[rule]]\nid = "R01"\nid = "R02"\n', "第 3 行第 11 列:同一项写了两次"),
        ('[[rule]]\nlabel = "未写完\n', "第 2 行第 13 列:有不允许的字符(常见原因:引号没有配对"),
        ("", "没有规则"),
        ('title = "x"\n', "不认识的项目"),
        ('[[rule]]\nid = "X"\n', "缺少 label"),
        (RULE.replace('"error"', '"fatal"') + 'expr = "A02 <= A01"\n', "severity “fatal”无效"),
        (RULE.replace('"unit"', '"town"') + 'expr = "A02 <= A01"\n', "scope “town”无效"),
    ],
)
def test_broken_file(tmp_path, text, why):
    prof = profile_with_rules(tmp_path, text, append=False)
    with pytest.raises(ProfileError) as exc:
        load_rules(prof)
    assert why in exc.value.message and "rules.toml" in exc.value.message
    if "格式有误" in exc.value.message:  # the TOML parser's own words are not passed on in English
        reason = exc.value.message.split("格式有误", 1)[1].replace("rules.toml", "")
        assert not re.search(r"[A-Za-z]{4,}", reason), exc.value.message


def test_missing_rules_file(tmp_path):
    prof = profile_with_rules(tmp_path, "")
    (prof.path / "rules.toml").unlink()
    with pytest.raises(ProfileError) as exc:
        load_rules(prof)
    assert "找不到审核规则文件" in exc.value.message


def test_a_clerk_can_add_a_rule_without_code(tmp_path):
    prof = profile_with_rules(tmp_path, RULE + 'expr = "B06 >= 1"\nunits = "乡镇"\n')
    rule = next(r for r in load_rules(prof) if r.id == "X01")
    assert rule.expr is not None and rule.expr.codes == ("B06",) and rule.units == "乡镇"
