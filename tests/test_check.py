"""Every rule kind of the 2025 form, each on real workbooks ingested into a real store: the mistake is found
at its cell with its rule, unit and codes; the same county without the mistake passes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carestats.check import run_check
from carestats.findings import CANNOT, FAIL
from carestats.profile import Profile
from carestats.rules import load_rules
from carestats.store import Store
from tests.county import DROP, checked, file_name, ingest, summary, write_county
from tests.workbooks import TOWNSHIPS, write_table1, write_wide_table1

DX = "大兴镇"
DX_FILE = file_name(DX)
T2_FILE = file_name("县卫生健康局")


def only(result, rule):
    found = result.for_rule(rule)
    assert len(found) == 1, summary(result)
    return found[0]


# --------------------------------------------------------------------------- clean
def test_example_returns_give_no_errors_and_no_warnings(example_store, profile):
    result = run_check(example_store, profile, 2025)
    assert summary(result) == []
    assert (len(result.errors), len(result.warnings)) == (0, 0)
    # every rule ran and passed somewhere, except the year-over-year rule (there is no 2024 in the store)
    ran = {r.id for r in load_rules(profile)} - {"R11"}
    assert {rid for rid, n in result.passes.items() if n > 0} == ran
    assert result.passes["R01a"] == 9 and result.passes["R03a"] == 9 and result.passes["R09"] == 1
    assert [n.rule for n in result.notes] == ["R11"] and "2024" in result.notes[0].message


def test_the_built_county_is_clean(tmp_path):
    """The workbooks every other test starts from pass every rule: each mistake below is the only change."""
    result = checked(tmp_path)
    assert summary(result) == []
    assert result.passes["R03b"] == 1 and result.passes["R04"] == 3 and result.passes["R10a"] == 22


# --------------------------------------------------------------------------- comparisons within a unit
@pytest.mark.parametrize(
    ("rule", "changes", "codes", "cell", "numbers"),
    [
        ("R01a", {"A02": 574}, ("A02", "A01"), "E7", ("574", "569")),
        ("R01b", {"A03": 600}, ("A03", "A01"), "E8", ("600", "569")),
        ("R01c", {"A04": 570}, ("A04", "A01"), "E9", ("570", "569")),
        ("R01d", {"A05": 60}, ("A02", "A05"), "E7", ("69", "60")),
        ("R02b", {"C03": 1200}, ("C03", "C01"), "E29", ("1200", "1151")),
        ("R02c", {"C02": 800}, ("C02", "C04"), "E28", ("800", "793")),
        ("R02d", {"C07": 13}, ("C07", "C05"), "E33", ("13", "12")),
        ("R02e", {"C08": 26}, ("C08", "C06"), "E34", ("26", "25")),
        ("R05", {"B05": 2}, ("B05",), "E24", ("2", "1")),
    ],
)
def test_comparison_rules(tmp_path, rule, changes, codes, cell, numbers):
    result = checked(tmp_path, {DX: changes})
    assert summary(result) == [(rule, DX, FAIL, cell)]
    f = result.findings[0]
    assert (f.severity, f.codes, f.file, f.sheet) == ("error", codes, DX_FILE, "统计表")
    for n in numbers:
        assert n in f.message
    assert "大于" in f.message and "请" in f.message
    assert result.passes[rule] == 8  # the other townships passed the same rule
    assert [c.code for c in f.cells][0] == codes[0] and f.cells[0].cell == cell


def test_issue_example_message_for_a02_over_a01(tmp_path):
    f = only(checked(tmp_path, {DX: {"A02": 574}}), "R01a")
    assert f.message.startswith("A02 留守老人中纳入最低生活保障人数 574 大于 A01 留守老人数 569")
    assert f.where == "大兴镇2025年一老一小统计表.xlsx 统计表!E7"
    assert [(c.code, c.cell, c.value) for c in f.cells] == [("A02", "E7", "574"), ("A01", "E6", "569")]


def test_one_mistake_breaking_two_rules_gives_two_findings(tmp_path):
    result = checked(tmp_path, {DX: {"C02": 1200}})  # more than C01 (1151) and more than C04 (793)
    assert summary(result) == [("R02a", DX, FAIL, "E28"), ("R02c", DX, FAIL, "E28")]


# --------------------------------------------------------------------------- type rules
@pytest.mark.parametrize(
    ("rule", "changes", "units", "cell", "words"),
    [
        ("R06a", {"A10": 72.5}, {}, "E15", ("72.5", "不是整数")),
        ("R06a", {"A11": -3}, {}, "E16", ("-3", "是负数")),
        ("R06b", {"A07": 369104.125}, {}, "E12", ("369104.125", "有 3 位小数,超过 2 位")),
        ("R06b", {"A12": -2665}, {}, "E17", ("-2665.00", "是负数")),
        # 万元 converted to 元 before the check: 36.9104125 万元 is 369104.125 元
        ("R06b", {"A07": 36.9104125}, {"A07": "万元"}, "E12", ("369104.125", "原填“36.9104125”")),
    ],
)
def test_type_rules(tmp_path, rule, changes, units, cell, words):
    result = checked(tmp_path, {DX: changes}, table1_kw={DX: {"units": units}})
    assert summary(result) == [(rule, DX, FAIL, cell)]
    f = result.findings[0]
    assert f.codes == (next(iter(changes)),) and f.file == DX_FILE
    for w in words:
        assert w in f.message


def test_money_in_wan_yuan_with_four_decimals_passes(tmp_path):
    result = checked(tmp_path, {DX: {"A07": 36.9104}}, table1_kw={DX: {"units": {"A07": "万元"}}})
    assert summary(result) == []


def test_rate_with_three_decimals(tmp_path):
    # 2839 ÷ 2880 × 100 = 98.5763…: 98.576 is consistent with the counts but not reported to two decimals
    result = checked(tmp_path, {DX: {"H03": 98.576}})
    assert summary(result) == [("R03c", DX, FAIL, "E6")]
    assert result.findings[0].file == T2_FILE


# --------------------------------------------------------------------------- rates with rounding
def test_rate_not_matching_its_counts(tmp_path):
    result = checked(tmp_path, {DX: {"H03": 98.57}})
    assert summary(result) == [("R03a", DX, FAIL, "E6")]
    f = result.findings[0]
    assert (f.codes, f.file, f.sheet) == (("H03", "H02", "H01"), T2_FILE, "Sheet1")
    assert "填报 98.57" in f.message and "应为 98.58" in f.message and "2839 ÷ 2880" in f.message
    assert {c.cell for c in f.cells} == {"E6", "D6", "C6"}


@pytest.mark.parametrize(
    ("h01", "h02", "reported", "ok", "expected"),
    [
        # 3911 ÷ 4000 × 100 = 97.775 exactly: the lower edge of 97.78's interval [97.775, 97.785)
        (4000, 3911, 97.78, True, None),
        (4000, 3911, 97.77, False, "97.78"),
        # 19557 ÷ 20000 × 100 = 97.785 exactly: the upper edge, which belongs to 97.79
        (20000, 19557, 97.79, True, None),
        (20000, 19557, 97.78, False, "97.79"),
        # a value shown with fewer digits stands for the profile's two decimals: 98 is 98.00
        (5000, 4900, 98, True, None),
        (5000, 4901, 98, False, "98.02"),
    ],
)
def test_rounding_rule_at_both_edges_of_the_interval(tmp_path, h01, h02, reported, ok, expected):
    result = checked(tmp_path, {DX: {"H01": h01, "H02": h02, "H03": reported}})
    if ok:
        assert summary(result) == []
        assert result.passes["R03a"] == 9
    else:
        assert summary(result) == [("R03a", DX, FAIL, "E6")]
        assert f"应为 {expected}" in result.findings[0].message


def test_total_rate_given_as_the_average_of_township_rates(tmp_path):
    result = checked(tmp_path, total={"H03": 97.66})  # (98.58 + 97.85 + … + 96.68) ÷ 9 = 97.655…
    assert summary(result) == [("R03b", "合计", FAIL, "E15")]
    f = result.findings[0]
    assert f.message.startswith("合计行健康管理率应为 97.78,填报 97.66(疑为各乡镇健康管理率的平均数 97.66)")
    assert f.codes == ("H03", "H02", "H01") and f.file == T2_FILE
    assert len(f.cells) == 1 + 9 + 9  # the 合计 rate and every township's H02 and H01


def test_total_rate_wrong_but_not_an_average(tmp_path):
    f = only(checked(tmp_path, total={"H03": 97.5}), "R03b")
    assert "应为 97.78,填报 97.50;" in f.message and "疑为" not in f.message


# --------------------------------------------------------------------------- declared totals
def test_total_row_not_the_sum_of_its_rows(tmp_path):
    result = checked(tmp_path, total={"H01": 15000})
    # the 合计 H03 is still checked against the rows' sums, so only the count is wrong
    assert summary(result) == [("R04", "合计", FAIL, "C15")]
    f = result.findings[0]
    assert f.codes == ("H01",) and f.file == T2_FILE
    assert "填报 15000,各行之和为 15147(少 147)" in f.message
    assert len(f.cells) == 10


def test_total_row_of_a_county_compiled_table1(tmp_path, profile):
    rows = {u: {"A01": 100, "A02": 10} for u in TOWNSHIPS[:3]}
    path = write_wide_table1(tmp_path / "汇总.xlsx", rows, total={"A01": 301, "A02": 30})
    ingest(tmp_path / "w.db", path)
    with Store.open(tmp_path / "w.db") as store:
        result = run_check(store, profile, 2025)
    f = only(result, "R04")
    assert (f.unit, f.codes, f.cell) == ("合计", ("A01",), "C7")
    assert "填报 301,各行之和为 300(多 1)" in f.message
    assert result.passes["R04"] == 1  # A02's 合计 is right


# --------------------------------------------------------------------------- plausibility (warnings)
@pytest.mark.parametrize(
    ("rule", "changes", "cell", "words"),
    [
        ("R07", {"A07": 3691040}, "E12", ("4726.04", "大于 2000")),
        ("R07", {"A07": 7810}, "E12", ("10.00", "小于 100")),
        ("R08", {"A09": 569750}, "E14", ("3331.87", "大于 1200")),
    ],
)
def test_per_capita_plausibility_is_a_warning(tmp_path, rule, changes, cell, words):
    result = checked(tmp_path, {DX: changes})
    assert summary(result) == [(rule, DX, FAIL, cell)]
    f = result.findings[0]
    assert f.severity == "warning" and result.errors == [] and result.exit_code == 0
    for w in words:
        assert w in f.message


def test_per_capita_rule_does_not_apply_without_a_divisor(tmp_path):
    result = checked(tmp_path, {DX: {"A08": 0, "A09": 0}})
    assert summary(result) == []
    assert result.passes["R08"] == 8  # not evaluated for 大兴镇, neither passed nor failed


# --------------------------------------------------------------------------- between tables
def test_between_tables_f03(tmp_path):
    result = checked(tmp_path, {"县妇联": {"F03": 6000}})
    assert summary(result) == [("R09", None, FAIL, "E7")]
    f = result.findings[0]
    assert f.codes == ("F03", "C01", "C10") and f.file == file_name("县妇联")
    assert "F03 结对关爱留守儿童和困境儿童(全县) 6000 不等于 C01 + C10 = 6676" in f.message
    assert len(f.cells) == 1 + 9 + 9


# --------------------------------------------------------------------------- completeness
def test_township_without_a_return(tmp_path):
    result = checked(tmp_path, skip=[DX])
    # R09 cannot be judged: 大兴镇's children are missing from ΣC01 + ΣC10 (县妇联's F03 is not to blame)
    assert summary(result) == [("R10a", DX, FAIL, None), ("R09", None, CANNOT, None)]
    assert "C01 留守儿童数 缺 大兴镇(未报送表一)" in result.findings[1].message
    f = result.findings[0]
    assert f.codes == () and f.file is None and f.cells == ()
    assert "大兴镇没有报送表一" in f.message


def test_department_without_a_return(tmp_path):
    result = checked(tmp_path, skip=["县教育局"])
    assert summary(result) == [("R10a", "县教育局", FAIL, None)]
    assert "县教育局没有报送表五" in result.findings[0].message


def test_township_whose_file_carries_a_neighbours_name(tmp_path):
    """大兴镇 copied 牛孔镇's return and forgot to change the name: ingest refuses it, so 大兴镇 returned nothing."""
    root = write_county(
        tmp_path / "returns",
        table1_kw={
            DX: {"title": "绿春县牛孔镇2025年“一老一小”关爱服务情况统计表", "filer": "牛孔镇人民政府"}
        },
    )
    results = ingest(tmp_path / "c.db", root)
    assert [r.path.name for r in results if r.status == "refused"] == [DX_FILE]
    with Store.open(tmp_path / "c.db") as store:
        result = run_check(store, Profile.load(), 2025)
    assert ("R10a", DX, FAIL, None) in summary(result)
    assert not [f for f in result.findings if f.unit == "牛孔镇"]


def test_township_missing_from_table2(tmp_path):
    result = checked(tmp_path, {DX: {"H01": None}})  # the builder leaves 大兴镇's row out of 表二
    f = only(result, "R10a")
    assert (f.unit, f.codes, f.file) == (DX, (), None)
    assert "表二" in f.message and "大兴镇" in f.message


def test_indicator_row_missing(tmp_path):
    result = checked(tmp_path, {DX: {"A05": DROP}})
    assert summary(result) == [("R10b", DX, FAIL, None), ("R01d", DX, CANNOT, None)]
    missing, cannot = result.findings
    assert missing.codes == ("A05",) and missing.file == DX_FILE and "缺少 1 项指标" in missing.message
    # the rule that needs A05 cannot be evaluated: a warning that says which input is missing
    assert cannot.severity == "warning" and "A05 纳入最低生活保障的老年人数" in cannot.message
    assert cannot.file == DX_FILE


# --------------------------------------------------------------------------- unreadable values
@pytest.mark.parametrize(
    ("raw", "problem"),
    [("2000余", "估计数"), (None, "空白单元格"), ("=E7+E8", "公式没有计算结果"), ("约300", "估计数")],
)
def test_unreadable_value_is_an_error_at_its_cell(tmp_path, raw, problem):
    result = checked(tmp_path, {DX: {"A01": raw}}, allow_problems=True)
    assert summary(result) == [
        ("S01", DX, FAIL, "E6"),
        ("R01a", DX, CANNOT, "E6"),
        ("R01b", DX, CANNOT, "E6"),
        ("R01c", DX, CANNOT, "E6"),
    ]
    f = result.findings[0]
    assert f.severity == "error" and f.codes == ("A01",) and f.file == DX_FILE
    assert problem in f.message and f.cells[0].value is None
    cannot = result.findings[1]
    assert cannot.severity == "warning" and "无法读取" in cannot.message and "E6" in cannot.message


def test_unreadable_total_cell(tmp_path):
    result = checked(tmp_path, total={"H04": "16余"}, allow_problems=True)
    assert summary(result) == [("S01", "合计", FAIL, "F15"), ("R04", "合计", CANNOT, "F15")]


# --------------------------------------------------------------------------- year over year
def test_change_of_more_than_half_against_last_year(tmp_path):
    result = checked(tmp_path, previous={DX: {"A01": 300, "A13": 400}})
    assert summary(result) == [("R11", DX, FAIL, "E6")]
    f = result.findings[0]
    assert f.severity == "warning" and f.codes == ("A01",) and f.file == DX_FILE
    assert "本年 569,上年 300" in f.message and "增加 89.67%" in f.message
    assert f.cells[1].file == file_name(DX, 2024) and f.cells[1].value == "300"
    # 大兴镇's other 表一 values pass (A13: 427 against 400 is within 50 %); B01 and B04 were 0 last year,
    # where a rate of change does not exist: neither passed nor failed
    assert result.passes["R11"] == 26


def test_no_change_against_last_year_passes(tmp_path):
    result = checked(tmp_path, previous={DX: {}})
    assert summary(result) == [] and result.passes["R11"] == 27
    # the units with no 2024 figures were not compared: said, once, not passed in silence
    (note,) = result.notes
    assert note.rule == "R11" and "牛孔镇" in note.message and "大兴镇" not in note.message


# --------------------------------------------------------------------------- outcomes never confused
def test_division_by_zero_is_cannot_evaluate_not_fail(tmp_path):
    """A rule without a guard whose divisor is zero: a warning that says so, never a silent pass or a fail."""
    from tests.test_rules import RULE, profile_with_rules

    prof = profile_with_rules(tmp_path, RULE + 'expr = "A07 / A06 >= 0"\n')
    root = write_county(tmp_path / "returns", {DX: {"A06": 0, "A07": 0}})
    ingest(tmp_path / "c.db", root)
    with Store.open(tmp_path / "c.db") as store:
        result = run_check(store, prof, 2025)
    f = only(result, "X01")
    assert (f.outcome, f.severity, f.unit) == (CANNOT, "warning", DX)
    assert "除数 A06 为 0" in f.message
    assert result.passes["X01"] == 8


def test_findings_are_grouped_by_unit_in_profile_order(tmp_path):
    result = checked(tmp_path, {"三猛乡": {"A02": 240}, DX: {"C07": 99}}, total={"H04": 17})
    assert [f.unit for f in result.findings] == [DX, "三猛乡", "合计"]
    assert [u for u, _ in result.groups()] == [DX, "三猛乡", "合计"]


def test_json_shape(tmp_path):
    data = checked(tmp_path, {DX: {"A02": 574}}).to_json()
    assert list(data) == ["year", "errors", "warnings", "findings", "notes"]
    assert (data["year"], data["errors"], data["warnings"]) == (2025, 1, 0)
    (f,) = data["findings"]
    assert list(f) == [
        "severity",
        "outcome",
        "rule",
        "unit",
        "codes",
        "file",
        "sheet",
        "cell",
        "cells",
        "message",
    ]
    assert list(f["cells"][0]) == ["code", "file", "sheet", "cell", "value"]
    assert f["cells"][0]["value"] == "574" and isinstance(f["codes"], list)


def test_values_are_decimal_end_to_end(tmp_path):
    # 0.1 + 0.2 style trap in money: 0.10 + 0.20 元 summed in a 合计 row must equal 0.30 exactly
    rows = {u: {"A07": v} for u, v in zip(TOWNSHIPS[:3], (0.1, 0.2, 100.7), strict=True)}
    path = write_wide_table1(tmp_path / "汇总.xlsx", rows, money_in_wan=False, total={"A07": 101.0})
    ingest(tmp_path / "w.db", path)
    with Store.open(tmp_path / "w.db") as store:
        values = {v.unit: v.value for v in store.active_values(2025)}
        result = run_check(store, Profile.load(), 2025)
    assert values["合计"] == Decimal("101.00")
    assert not result.for_rule("R04") and result.passes["R04"] == 1


def test_township_return_written_in_another_year_is_not_mixed_in(tmp_path, profile):
    """Only the checked year's values are read: a 2024 return does not complete 2025."""
    write_table1(tmp_path / "dx2024.xlsx", DX, 2024)
    ingest(tmp_path / "c.db", tmp_path / "dx2024.xlsx")
    with Store.open(tmp_path / "c.db") as store:
        result = run_check(store, profile, 2025)
    assert ("R10a", DX, FAIL, None) in summary(result)
