"""ingest on real workbooks: each quirk of the 2025 returns in its own small file, into a real SQLite store."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from carestats.figures import compute_figures
from carestats.ingest import REFUSED, STORED, UNCHANGED, exit_code, ingest_paths, prepare_file
from carestats.reader import open_book
from tests.workbooks import (
    EXAMPLES,
    TOWNSHIPS,
    expected_2025,
    headings_in_name_column,
    rewrite_cells,
    save_as_csv,
    table_copied_below,
    write_table1,
    write_table2,
    write_wide_table1,
    year_columns,
)

FIXTURES = Path(__file__).parent / "fixtures"


def ingest_one(store, profile, path, **kw):
    results = ingest_paths(store, profile, [path], **kw)
    assert len(results) == 1
    return results[0]


def values_of(store, year=2025, unit=None, role="value"):
    return {
        (v.unit, v.code): v
        for v in store.active_values(year)
        if v.role == role and (unit is None or v.unit == unit)
    }


def expected_unit(unit):
    exp = expected_2025()["units"][unit]
    return {k: Decimal(str(v)) for k, v in exp.items() if not k.startswith("H")}


def expected_unit_values(unit):
    """The unit's 2025 表一 figures as write_table1 writes them (whole numbers as int)."""
    return {k: (int(v) if v == v.to_integral_value() else float(v)) for k, v in expected_unit(unit).items()}


def assert_unit_matches(store, unit):
    got = {code: v.value for (_u, code), v in values_of(store, unit=unit).items() if not code.startswith("H")}
    assert got == expected_unit(unit)


# ---------------------------------------------------------------- the form as issued, and each quirk
def test_form_as_issued(store, profile, tmp_path):
    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx"))
    assert (r.status, r.filer, r.table, r.year, r.values) == (STORED, "大兴镇", "表一", 2025, 29)
    assert_unit_matches(store, "大兴镇")
    v = values_of(store)[("大兴镇", "A02")]
    assert (v.file, v.sheet, v.cell, v.raw) == ("大兴镇2025年一老一小统计表.xlsx", "统计表", "E7", "69")


def test_no_code_column_other_spellings_and_qizhong_rows(store, profile, tmp_path):
    names = {
        "A02": "其中:纳入最低生活保障",
        "A03": "其中：纳入残疾人两项补贴",
        "A04": "其中:获得临时救助",
        "A06": "80周岁以上高龄老人数",
        "A07": "高龄津贴",
        "C02": "其中:纳入最低生活保障",
        "C03": "其中:纳入残疾人两项补贴",
        "C04": "低保儿童数",
        "C05": "孤儿数",
        "B04": "养老服务床位",
    }
    path = write_table1(
        tmp_path / "牛孔镇一老一小关爱服务情况统计表(2025).xlsx", "牛孔镇", codes=False, names=names
    )
    r = ingest_one(store, profile, path)
    assert r.status == STORED and r.problems == []
    assert_unit_matches(store, "牛孔镇")
    vals = values_of(store, unit="牛孔镇")
    # the same words “其中:纳入最低生活保障” are A02 under 留守老人数 and C02 under 留守儿童数
    assert vals[("牛孔镇", "A02")].cell == "D7"
    assert vals[("牛孔镇", "C02")].value == Decimal(43)


def test_section_headings_in_the_name_column(store, profile, tmp_path):
    path = write_table1(tmp_path / "戈奎乡.xlsx", "戈奎乡", codes=False, edit=headings_in_name_column())
    r = ingest_one(store, profile, path)
    assert (r.status, r.values, r.problems) == (STORED, 29, [])
    assert_unit_matches(store, "戈奎乡")


def test_a_figure_beside_a_section_heading_refuses_the_file(store, profile, tmp_path):
    path = write_table1(
        tmp_path / "戈奎乡.xlsx", "戈奎乡", codes=False, edit=headings_in_name_column(figure=5)
    )
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED
    assert "统计表!D19 有数值“5”,但这一行是分组标题“二.阵地建设”,不是指标" in r.message
    assert store.counts() == (0, 0)


def test_an_empty_total_line_in_a_one_indicator_a_row_table_is_passed_and_a_filled_one_refused(
    store, profile, tmp_path
):
    r = ingest_one(
        store, profile, write_table1(tmp_path / "大兴镇.xlsx", extra_rows=[("", "合计", "", None)])
    )
    assert (r.status, r.values, r.problems) == (STORED, 29, [])
    path = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", extra_rows=[("", "合计", "", 9999)])
    r = ingest_one(store, profile, path)
    assert (
        r.status == REFUSED and "有数值“9999”,但这一行是合计行“合计”;这张表每行一个指标,不填合计" in r.message
    )


def test_a_formula_beside_a_section_heading_is_shown_as_the_clerk_typed_it(store, profile, tmp_path):
    def edit(ws) -> None:  # openpyxl saves no result: calamine shows the cell empty
        for (cell,) in ws.iter_rows(min_col=1, max_col=1):
            if cell.value == "三、儿童关爱保护":
                ws.cell(row=cell.row, column=5).value = "=1+1"

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=edit))
    assert r.status == REFUSED
    assert "统计表!E26 有数值“=1+1”,但这一行没有指标名称或代码" in r.message


def test_a_year_typed_as_a_number_heads_the_value_column(store, profile, tmp_path):
    def as_number(ws) -> None:
        for (cell,) in ws.iter_rows(min_col=5, max_col=5):
            if cell.value == "2025年":
                cell.value = 2025

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=as_number))
    assert (r.status, r.year, r.values) == (STORED, 2025, 29)


def test_a_value_column_header_it_does_not_know_is_named_in_the_refusal(store, profile, tmp_path):
    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", value_header="2025年数据"))
    assert r.status == REFUSED and r.code == "no-return"
    assert (
        "工作表“统计表”第 4 行是表头,其中E4“2025年数据”不是可识别的数值列表头(应写“2025年”或“本年数值”)"
        in r.message
    )
    r = ingest_one(
        store, profile, write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", value_header="实绩"), year=2026
    )
    assert "E4“实绩”不是可识别的数值列表头(应写“2026年”或“本年数值”)" in r.message


def test_a_header_without_a_value_column_is_named_in_the_refusal(store, profile, tmp_path):
    def edit(ws) -> None:
        ws.delete_cols(5)  # the 2025年 column

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=edit))
    assert r.status == REFUSED
    assert "第 4 行是表头,但没有数值列(应有一列表头写“2025年”或“本年数值”)" in r.message
    assert store.counts() == (0, 0)


def test_last_years_column_beside_this_years_is_left_out(store, profile, tmp_path):
    last_year = {"A01": 601, "A02": 70, "B05": 1}
    path = write_table1(tmp_path / "大兴镇.xlsx", edit=year_columns("2024年", last_year=last_year))
    r = ingest_one(store, profile, path)
    assert (r.status, r.values, r.problems) == (STORED, 29, [])
    assert_unit_matches(store, "大兴镇")
    assert values_of(store)[("大兴镇", "A02")].cell == "F7"


@pytest.mark.parametrize(
    ("left", "right", "title"),
    [
        ("2026年", "2025年", None),  # a later year: not last year's figures
        ("2023年", "2024年", None),  # neither is this year's
        ("本年数值", "2025年", None),  # both say they are this year's
        ("2024年", "2025年", "大兴镇“一老一小”关爱服务情况统计表"),  # no year in the title, none given
    ],
)
def test_two_value_columns_that_do_not_say_which_is_this_years_refuse_the_file(
    store, profile, tmp_path, left, right, title
):
    path = write_table1(tmp_path / "大兴镇.xlsx", title=title, edit=year_columns(left, right))
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED
    assert f"表头有多个数值列(E列“{left}”、F列“{right}”)" in r.message
    assert store.counts() == (0, 0)


def test_last_years_column_beside_a_column_headed_this_year_in_words(store, profile, tmp_path):
    path = write_table1(
        tmp_path / "大兴镇.xlsx", edit=year_columns("2024年", "本年数值", last_year={"A01": 601})
    )
    r = ingest_one(store, profile, path)
    assert (r.status, r.year) == (STORED, 2025)
    assert_unit_matches(store, "大兴镇")


def test_year_option_picks_this_years_column_when_the_title_has_no_year(store, profile, tmp_path):
    path = write_table1(
        tmp_path / "大兴镇.xlsx", title="大兴镇“一老一小”关爱服务情况统计表", edit=year_columns("2024年")
    )
    r = ingest_one(store, profile, path, year=2025)
    assert (r.status, r.year, r.values) == (STORED, 2025, 29)
    assert_unit_matches(store, "大兴镇")


def test_a_second_table_below_the_footer_refuses_the_file(store, profile, tmp_path):
    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=table_copied_below(4, 12)))
    assert (r.status, r.code) == (REFUSED, "two-tables")
    assert (
        "工作表“统计表”第 40 行又是一张表的表头(“序号 指标代码 指标名称 计量单位 2025年 备注”)" in r.message
    )
    assert store.counts() == (0, 0)


def test_a_note_in_the_middle_of_the_table_does_not_pass_the_rows_below_over(store, profile, tmp_path):
    def note(ws) -> None:
        for (cell,) in ws.iter_rows(min_col=2, max_col=2):
            if cell.value == "A13":
                ws.insert_rows(cell.row + 1)
                ws.cell(row=cell.row + 1, column=1).value = "注:高龄津贴含补发2024年12月部分"
                return

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=note))
    assert (r.status, r.code) == (REFUSED, "rows-below-end")
    assert (
        "第 19 行“注:高龄津贴含补发2024年12月部分”被当作表尾,读到这一行为止;但下面第 21 行还有指标 B01 乡镇敬老院"
        in r.message
    )
    assert store.counts() == (0, 0)


def test_a_note_in_the_middle_of_table2_does_not_pass_the_townships_below_over(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    wb = load_workbook(path)
    wb.active.insert_rows(9)
    wb.active.cell(row=9, column=1).value = "说明:以下乡镇为半年数"
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "rows-below-end")
    assert "第 9 行“说明:以下乡镇为半年数”被当作表尾" in r.message and "第 10 行还有" in r.message


def test_a_contact_line_ends_the_table(store, profile, tmp_path):
    def contact(ws) -> None:
        ws.append(["联系人:卢某某", None, None, None, "电话:0873-4254774"])

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=contact))
    assert (r.status, r.values, r.problems) == (STORED, 29, [])


def test_notes_below_the_footer_are_not_a_second_table(store, profile, tmp_path):
    def notes(ws) -> None:
        ws.append(["注:1. 本表由各乡镇于次年1月15日前报送;2. 指标名称、2025年数值不得改动。"])

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=notes))
    assert (r.status, r.values) == (STORED, 29)


def test_a_second_table_below_table2_refuses_the_file(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    wb = load_workbook(path)
    table_copied_below(4, 7)(wb.active)
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "two-tables")
    assert "工作表“Sheet1”第 19 行又是一张表的表头" in r.message


def test_phone_numbers_in_a_value_cell_are_a_located_problem(store, profile, tmp_path):
    values = {**expected_unit_values("大兴镇"), "A13": "13887654321 13987654321", "A11": 1e30}
    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", values=values))
    assert r.status == STORED and r.values == 29
    assert {(p.cell, p.problem) for p in r.problems} == {("E18", "not-a-number"), ("E16", "not-a-number")}
    assert values_of(store)[("大兴镇", "A13")].value is None


def _in_wan_yuan(unit: str) -> dict:
    """The unit's 表一 figures with the four money figures in 万元."""
    values = expected_unit_values(unit)
    return {**values, **{c: float(Decimal(str(values[c])) / 10000) for c in ("A07", "A09", "A12", "C09")}}


def _without_unit_column(ws) -> None:
    ws.delete_cols(4)


def test_wan_yuan_after_an_indicator_name_scales_its_figure(store, profile, tmp_path):
    values = {**expected_unit_values("大兴镇"), "C09": 40.555}
    names = {"C09": "发放困境儿童生活补贴金额（万元）"}
    path = write_table1(tmp_path / "大兴镇.xlsx", values=values, names=names, edit=_without_unit_column)
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert_unit_matches(store, "大兴镇")  # C09 = 405550.00 元
    # the same name beside a 计量单位 cell that says 元: which one is meant is not guessed
    path = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", names=names)
    r = ingest_one(store, profile, path)
    assert [(p.cell, p.problem) for p in r.problems] == [("E35", "unit-mismatch")]
    assert "指标名称写的计量单位是“万元”,而这一行的计量单位是“元”" in r.problems[0].detail


def test_a_money_unit_line_above_the_header_scales_the_money_figures(store, profile, tmp_path):
    path = write_table1(
        tmp_path / "大兴镇.xlsx",
        values=_in_wan_yuan("大兴镇"),
        subtitle="金额单位:万元",
        edit=_without_unit_column,
    )
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert_unit_matches(store, "大兴镇")
    # with the form's 计量单位 column still saying 元 the two disagree: every money figure is a problem
    path = write_table1(
        tmp_path / "牛孔镇.xlsx", "牛孔镇", values=_in_wan_yuan("牛孔镇"), subtitle="单位：万元"
    )
    r = ingest_one(store, profile, path)
    assert sorted(p.code for p in r.problems) == ["A07", "A09", "A12", "C09"]
    assert {p.problem for p in r.problems} == {"unit-mismatch"}


def test_a_code_and_a_name_that_name_two_indicators_refuse_the_file(store, profile, tmp_path):
    def swap(ws) -> None:
        for (cell,) in ws.iter_rows(min_col=2, max_col=2):
            if cell.value == "A05":
                cell.value, ws.cell(row=cell.row + 1, column=2).value = "A06", "A05"
                return

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=swap))
    assert r.status == REFUSED
    assert (
        "统计表!B10 指标代码“A06”是 A06 在册高龄老人数,但同一行的指标名称“纳入最低生活保障的老年人数”是 A05"
        in r.message
    )
    assert store.counts() == (0, 0)


def test_an_indicator_of_another_table_refuses_the_return(store, profile, tmp_path):
    r = ingest_one(
        store,
        profile,
        write_table1(tmp_path / "大兴镇.xlsx", extra_rows=[("H01", "家庭医生签约人数", "人", 2500)]),
    )
    assert (r.status, r.code) == (REFUSED, "foreign-indicator")
    assert (
        "这是表一,但有 1 行是别的表的指标" in r.message
        and "指标 H01" in r.message
        and "是表二的指标" in r.message
    )


def test_a_return_of_a_table_its_filer_does_not_file_is_refused(store, profile, tmp_path):
    from openpyxl import load_workbook

    # 县妇联 (表四) sends a copy of 县教育局's 表五: stored, it would double 表五's county figures
    wb = load_workbook(EXAMPLES / "县教育局2025年学生心理健康和关爱教育情况表.xlsx")
    wb.active["A3"] = "填报单位(盖章):县妇联"
    wb.save(path := tmp_path / "县妇联2025年学生心理健康和关爱教育情况表.xlsx")
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "not-its-table")
    assert (
        "这是表五(学生心理健康和关爱教育情况表),按配置 units.csv 由县教育局报送,县妇联报送的是表四"
        in r.message
    )
    assert "在 units.csv 的“报送表”中为它加上表五" in r.message
    assert store.counts() == (0, 0)


def test_a_blank_form_is_refused_and_does_not_hold_the_units_place(store, profile, tmp_path):
    codes = [i.code for i in profile.table_indicators("表一")]
    (tmp_path / "blank").mkdir()
    blank = write_table1(tmp_path / "blank" / "大兴镇2025年一老一小统计表.xlsx", values=dict.fromkeys(codes))
    r = ingest_one(store, profile, blank)
    assert (r.status, r.code) == (REFUSED, "blank-return")
    assert f"这是一份没有填写的空白报表(工作表“统计表”的 {len(codes)} 个数值单元格都是空的)" in r.message
    assert store.counts() == (0, 0)
    # one figure filled: a return with blanks, stored so that check names every blank cell
    one = write_table1(
        tmp_path / "大兴镇2025年一老一小统计表.xlsx", values={**dict.fromkeys(codes), "A01": 569}
    )
    r = ingest_one(store, profile, one)
    assert r.status == STORED and len(r.problems) == len(codes) - 1


def test_a_blank_form_whose_cells_are_formulas_computed_to_empty_text_is_refused(store, profile, tmp_path):
    codes = [i.code for i in profile.table_indicators("表一")]
    path = write_table1(
        tmp_path / "大兴镇2025年一老一小统计表.xlsx", values={**dict.fromkeys(codes), "A10": "=0"}
    )
    rewrite_cells(path, {"E15": EMPTY_TEXT_FORMULA["excel"]})
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "blank-return")
    assert f"{len(codes)} 个数值单元格都是空的,其中 1 个是计算结果为空白的公式" in r.message


def test_a_figure_typed_into_the_last_year_column_is_named_in_the_blank_message(store, profile, tmp_path):
    """This year's A01 typed under 上年数 (E6) and 2025年 (F6) left empty: the blank's message names E6."""
    values = {**expected_unit_values("大兴镇"), "A01": None}
    edit = year_columns("上年数", last_year={"A01": 5680})
    path = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", values=values, edit=edit)
    r = ingest_one(store, profile, path)
    assert r.status == STORED  # lands: check lists the blank with the others
    [p] = r.problems
    assert (p.cell, p.code, p.problem) == ("F6", "A01", "blank")
    assert "E6(“上年数”列)有数字 5680,请确认是否填错了列(本年数应填在 F 列)" in p.detail
    assert values_of(store)[("大兴镇", "A01")].value is None  # never taken from the other column
    # the next return of the template is read by its plan: the same message
    again = prepare_file(path, profile)
    assert [v[6] for v in again.values if v[1] == "A01"] == [p.detail]


def test_a_blank_beside_a_filled_last_year_column_is_only_a_blank(store, profile, tmp_path):
    """上年数 filled in every row (by the township, or by carestats form) is a column of its own: its figure
    beside one blank 本年数 is last year's, not this year's typed in the wrong column."""
    values = {**expected_unit_values("大兴镇"), "A01": None}
    edit = year_columns("上年数", last_year=expected_unit_values("大兴镇"))
    path = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", values=values, edit=edit)
    [p] = ingest_one(store, profile, path).problems
    assert (p.cell, p.problem) == ("F6", "blank")
    assert p.detail == "单元格为空;无数据的应填 0,不得留空"


def test_a_figure_typed_into_the_remarks_column_is_named_in_the_blank_message(store, profile, tmp_path):
    def remark(ws):
        for row in ws.iter_rows():
            if row[1].value == "A05":
                row[5].value = "1135人"  # 备注 (F), with 2025年 (E) left empty

    values = {**expected_unit_values("大兴镇"), "A05": None}
    path = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", values=values, edit=remark)
    [p] = ingest_one(store, profile, path).problems
    assert (p.cell, p.problem) == ("E10", "blank")
    assert "F10(“备注”列)有数字 1135人,请确认是否填错了列(本年数应填在 E 列)" in p.detail
    assert "A10" not in p.detail and "B10" not in p.detail  # 序号 and 指标代码 are no figures


def test_a_blank_value_with_nothing_beside_it_says_only_that_it_is_blank(store, profile, tmp_path):
    values = {**expected_unit_values("大兴镇"), "A01": None}
    [p] = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", values=values)).problems
    assert p.detail == "单元格为空;无数据的应填 0,不得留空"


def test_a_return_typed_entirely_into_the_last_year_column_says_so(store, profile, tmp_path):
    codes = [i.code for i in profile.table_indicators("表一")]
    edit = year_columns("上年数", last_year=expected_unit_values("大兴镇"))
    path = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", values=dict.fromkeys(codes), edit=edit)
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "blank-return")
    assert f"但 E 列(“上年数”)有 {len(codes)} 个数字:若那是本年的数,请移到本年数一列" in r.message


def test_a_hidden_value_column_is_not_read(store, profile, tmp_path):
    def hide(ws) -> None:
        ws.insert_cols(6)
        ws["F4"] = "2025年(调整后)"
        ws.column_dimensions["E"].hidden = True

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=hide))
    assert (r.status, r.code) == (REFUSED, "hidden-value-column")
    assert "数值列 E 列(表头“2025年”)是隐藏的" in r.message


def test_a_filer_written_in_the_cell_after_its_label(store, profile, tmp_path):
    def split(ws) -> None:
        ws["A3"], ws["B3"] = "填报单位:", "牛孔镇人民政府"

    title = "绿春县2025年“一老一小”关爱服务情况统计表"
    r = ingest_one(store, profile, write_table1(tmp_path / "统计表.xlsx", "牛孔镇", title=title, edit=split))
    assert (r.status, r.filer) == (STORED, "牛孔镇")
    # and it is checked against the file name like any 填报单位
    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇2025年.xlsx", title=title, edit=split))
    assert r.status == REFUSED and "牛孔镇" in r.message and "大兴镇" in r.message


def test_a_filer_naming_two_units_is_told_once(store, profile, tmp_path):
    r = ingest_one(store, profile, write_table1(tmp_path / "表.xlsx", filer="大兴镇妇联"))
    assert r.status == REFUSED
    assert "填报单位(统计表!A3“大兴镇妇联”)写的是大兴镇和县妇联" in r.message


def test_last_years_sheet_in_the_workbook_is_left_out_with_the_year_option(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", sheet_name="2025年")
    old = load_workbook(write_table1(tmp_path / "old.xlsx", year=2024, sheet_name="2024年"))["2024年"]
    wb = load_workbook(path)
    copy = wb.create_sheet("2024年")
    for row in old.iter_rows(values_only=True):
        copy.append(row)
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED and "若其中有往年的表,可加 --year 2025 只汇入这一年的" in r.message
    r = ingest_one(store, profile, path, year=2025)
    assert (r.status, r.year, r.values) == (STORED, 2025, 29)
    assert {v.sheet for v in values_of(store).values()} == {"2025年"}


def test_a_statistical_period_line_is_not_taken_for_the_title(store, profile, tmp_path):
    path = write_table1(tmp_path / "大兴镇.xlsx", subtitle="统计时间:2024年12月1日至2025年11月30日")
    r = ingest_one(store, profile, path)
    assert (r.status, r.year) == (STORED, 2025)


def test_text_numbers_full_width_and_separators(store, profile, tmp_path):
    values = {k: v for k, v in expected_unit("平河镇").items()}
    values = {k: str(int(v)) if v == v.to_integral_value() else str(v) for k, v in values.items()}
    values["A12"] = "１１２８"
    values["C09"] = "231,021"
    values["B02"] = "４"
    path = write_table1(tmp_path / "平河镇_2025_一老一小.xlsx", "平河镇", values=values)
    r = ingest_one(store, profile, path)
    assert r.status == STORED and r.problems == []
    assert_unit_matches(store, "平河镇")
    assert values_of(store)[("平河镇", "A12")].raw == "１１２８"


def test_money_in_wan_yuan_is_converted_exactly(store, profile, tmp_path):
    exp = expected_unit("戈奎乡")
    values = dict(exp)
    units = {}
    for code in ("A07", "A09", "A12", "C09"):
        values[code] = float(exp[code] / 10000)
        units[code] = "万元"
    r = ingest_one(
        store, profile, write_table1(tmp_path / "戈奎乡.xlsx", "戈奎乡", values=values, units=units)
    )
    assert r.status == STORED and r.problems == []
    assert values_of(store)[("戈奎乡", "A07")].value == Decimal("132386.00")
    assert_unit_matches(store, "戈奎乡")


def test_blank_rows_instruction_sheet_first_and_subtitle(store, profile, tmp_path):
    path = write_table1(
        tmp_path / "骑马坝乡2025年一老一小统计表(终).xlsx",
        "骑马坝乡",
        blank_rows_after=("B01", "C07"),
        instructions_first=True,
        subtitle="(统计时段:2025年1月1日至2025年12月31日)",
    )
    r = ingest_one(store, profile, path)
    assert r.status == STORED and r.problems == []
    assert_unit_matches(store, "骑马坝乡")
    assert values_of(store)[("骑马坝乡", "A01")].cell == "E7"  # header moved down one row by the subtitle


def test_formula_with_cached_value_made_by_libreoffice(store, profile):
    r = ingest_one(store, profile, FIXTURES / "formula-cached-三猛乡.xlsx")
    assert r.status == STORED and r.problems == []
    v = values_of(store)[("三猛乡", "A10")]
    assert v.value == Decimal(28) and v.cell == "E15"


def test_formula_without_cached_value_is_a_located_problem(store, profile, tmp_path):
    def formula(ws):
        for row in ws.iter_rows():
            if row[1].value == "A10":
                row[4].value = "=14+14"  # openpyxl stores no cached value

    r = ingest_one(store, profile, write_table1(tmp_path / "三猛乡.xlsx", "三猛乡", edit=formula))
    assert r.status == STORED  # lands, so that check can show every problem at once
    [p] = r.problems
    assert (p.cell, p.code, p.problem) == ("E15", "A10", "formula-no-cache")
    v = values_of(store)[("三猛乡", "A10")]
    assert v.value is None and v.raw == "=14+14"


def test_formula_without_cached_value_after_a_styled_empty_cell(store, profile, tmp_path):
    """A bordered 计量单位 cell left empty, as Excel writes it (<c r="D15" s="1"/>): the formula is still E15's."""
    from openpyxl.styles import Border, Side

    def formula(ws):
        for row in ws.iter_rows():
            if row[1].value == "A10":
                row[3].value = None
                row[3].border = Border(left=Side(style="thin"))  # a style of its own: s="1"
                row[4].value = "=14+14"

    path = write_table1(tmp_path / "三猛乡.xlsx", "三猛乡", edit=formula)
    rewrite_cells(path, {"D15": '<c r="D15" s="1"/>'})
    r = ingest_one(store, profile, path)
    [p] = r.problems
    assert (p.cell, p.code, p.problem) == ("E15", "A10", "formula-no-cache")


# A formula computed to empty text, as Excel (<v/>) and LibreOffice (<v></v>) save it: t="str", the result "".
EMPTY_TEXT_FORMULA = {
    "excel": '<c r="E15" t="str"><f>IF(G15="","",G15)</f><v/></c>',
    "libreoffice": '<c r="E15" s="0" t="str"><f aca="false">IF(G15=&quot;&quot;,&quot;&quot;,G15)</f><v></v></c>',
}


@pytest.mark.parametrize("writer", sorted(EMPTY_TEXT_FORMULA))
def test_formula_computed_to_empty_text_is_told_apart_from_one_without_a_result(
    store, profile, tmp_path, writer
):
    def formula(ws):
        for row in ws.iter_rows():
            if row[1].value == "A10":
                row[4].value = "=0"  # a placeholder that rewrite_cells replaces

    path = write_table1(tmp_path / "三猛乡.xlsx", "三猛乡", edit=formula)
    rewrite_cells(path, {"E15": EMPTY_TEXT_FORMULA[writer]})
    r = ingest_one(store, profile, path)
    assert r.status == STORED  # lands, so that check shows it with the other problems
    [p] = r.problems
    assert (p.cell, p.code, p.problem) == ("E15", "A10", "formula-empty")
    assert '=IF(G15="","",G15)' in p.detail and "空白" in p.detail and "填 0" in p.detail
    assert "打开该文件并保存" not in p.detail  # saving again gives the same blank
    v = values_of(store)[("三猛乡", "A10")]
    assert v.value is None and v.raw == '=IF(G15="","",G15)'  # never 0, never skipped


def test_approximate_and_blank_values_are_stored_as_text_with_problems(store, profile, tmp_path):
    values = dict(expected_unit("半坡乡"))
    values["A13"] = "2000余"
    values["A10"] = None
    r = ingest_one(store, profile, write_table1(tmp_path / "半坡乡.xlsx", "半坡乡", values=values))
    assert {(p.code, p.problem) for p in r.problems} == {("A13", "approximate"), ("A10", "blank")}
    vals = values_of(store)
    assert vals[("半坡乡", "A13")].value is None and vals[("半坡乡", "A13")].raw == "2000余"
    fig = compute_figures(store, profile, 2025)
    assert "A13" not in fig.totals and "A13" in fig.incomplete  # never summed as if it were 0


def test_wide_table2_with_merged_header_and_total_row(store, profile, tmp_path):
    r = ingest_one(store, profile, write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx"))
    assert (r.status, r.filer, r.table) == (STORED, "县卫生健康局", "表二")
    vals = values_of(store)
    assert vals[("大兴镇", "H03")].value == Decimal("98.58")
    assert vals[("平河镇", "H03")].value == Decimal("98.10")  # shown as 98.1
    assert vals[("骑马坝乡", "H03")].value == Decimal("98.00")  # shown as 98
    assert vals[("大兴镇", "H01")].cell == "C6"
    totals = values_of(store, role="total")
    assert totals[("合计", "H03")].value == Decimal("97.78")
    assert {u for u, _c in vals} == set(TOWNSHIPS)  # 合计 is never a unit
    fig = compute_figures(store, profile, 2025)
    assert fig.totals["H01"] == 15147 and fig.totals["H03"] == Decimal("97.78")


def assert_table2_as_expected(store, profile, first_cell: str) -> None:
    vals = values_of(store)
    assert {u for u, _c in vals} == set(TOWNSHIPS)
    assert vals[("大兴镇", "H01")].cell == first_cell and vals[("大兴镇", "H02")].value == 2839
    assert vals[("平河镇", "H03")].value == Decimal("98.10")
    fig = compute_figures(store, profile, 2025)
    assert fig.totals["H01"] == 15147 and fig.totals["H02"] == 14810 and fig.totals["H03"] == Decimal("97.78")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_table2_csv_with_its_two_line_header_is_read(store, profile, tmp_path, encoding):
    """表二 saved as CSV: “家庭医生签约服务” on the header line, the two indicators it spans on the next line."""
    xlsx = write_table2(tmp_path / "source.xlsx")
    path = save_as_csv(xlsx, tmp_path / "县卫健局2025年老年人健康管理情况表.csv", encoding)
    assert path.read_text(encoding=encoding).splitlines()[3:5] == [
        "序号,乡镇,家庭医生签约服务,,健康管理率(%),爱心义诊(场次),备注",
        ",,60周岁以上家庭医生签约人数(人),65周岁以上老年人健康管理人数(人),,,",
    ]
    r = ingest_one(store, profile, path)
    assert (r.status, r.values, r.problems) == (STORED, 4 * (len(TOWNSHIPS) + 1), [])
    assert_table2_as_expected(store, profile, "C6")


def test_table2_with_its_header_unmerged_is_read(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    wb = load_workbook(path)
    for rng in list(wb.active.merged_cells.ranges):
        if rng.min_row <= 5:
            wb.active.unmerge_cells(str(rng))
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert_table2_as_expected(store, profile, "C6")


def test_table2_csv_whose_second_header_line_names_no_indicator_names_the_whole_heading(
    store, profile, tmp_path
):
    lines = [
        "绿春县2025年老年人健康管理情况表",
        "填报单位:县卫生健康局",
        "乡镇,老年人健康管理,,,",
        ",65岁及以上老年人数,健康管理人数,健康管理率(%),爱心义诊(场次)",
        "大兴镇,2880,2839,98.58,3",
    ]
    path = tmp_path / "县卫健局2025年老年人健康管理情况表.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED
    assert "B3 列标题“老年人健康管理/65岁及以上老年人数”不在指标目录中" in r.message
    assert store.counts() == (0, 0)


def assert_rates_read_as_shown(store) -> None:
    """Every H03 as the expected figures have it (98.58 from 0.9858 in a 0.00% cell), but 牛孔镇's 0.9785,
    whose cell only shows a % (quoted or escaped in the format): stored as typed."""
    got = {u: v.value for (u, code), v in values_of(store).items() if code == "H03"}
    expected = {u: Decimal(str(v["H03"])) for u, v in expected_2025()["units"].items() if "H03" in v}
    assert {u: g for u, g in got.items() if u != "牛孔镇"} == {
        u: e for u, e in expected.items() if u != "牛孔镇"
    }
    assert got["牛孔镇"] == Decimal("0.9785")


def test_a_rate_formatted_as_a_percentage_is_read_as_shown(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    for row in range(6, 16):  # the townships and the 合计 row: 98.58 typed as 0.9858 in a 0.00% cell
        cell = ws.cell(row, 5)
        cell.value, cell.number_format = float(Decimal(str(cell.value)) / 100), "0.00%"
    ws.cell(7, 5).number_format = '0.00"%"'  # a % in quotes is only shown: 0.9785 stays 0.9785
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert r.status == STORED
    assert_rates_read_as_shown(store)
    assert values_of(store)[("大兴镇", "H03")].raw == "98.58%"


def test_a_units_row_under_a_one_row_header_gives_the_units(store, profile, tmp_path):
    from openpyxl import Workbook

    from tests.workbooks import _num

    wb = Workbook()
    ws = wb.active
    ws.append(["绿春县2025年老年人健康管理情况表"])
    ws.append(["填报单位:县卫生健康局"])
    ws.append(
        [
            "序号",
            "乡镇",
            "60周岁以上家庭医生签约人数",
            "65周岁以上老年人健康管理人数",
            "健康管理率",
            "爱心义诊",
        ]
    )
    ws.append([None, "单位", "人", "人", "%", "场次"])
    for i, unit in enumerate(TOWNSHIPS, 1):
        v = expected_2025()["units"][unit]
        ws.append([i, unit, v["H01"], v["H02"], _num(v["H03"]), v["H04"]])
    wb.save(path := tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    got = {(u, c): v.value for (u, c), v in values_of(store).items()}
    assert got[("大兴镇", "H03")] == Decimal(str(expected_2025()["units"]["大兴镇"]["H03"]))
    assert len(got) == 4 * len(TOWNSHIPS)


def test_a_subtotal_row_in_table2_is_never_taken_for_the_total(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    wb = load_workbook(path)
    wb.active.insert_rows(10)
    wb.active["A10"], wb.active["C10"] = "小计", 7967
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED
    assert "Sheet1!A10 是“小计”行:本表每行一个乡镇(或单位),只在最后一行填合计,小计行请删除" in r.message
    assert store.counts() == (0, 0)


def test_a_hidden_indicator_column_in_table2_is_not_read(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx")
    wb = load_workbook(path)
    wb.active.column_dimensions["F"].hidden = True
    wb.save(path)
    r = ingest_one(store, profile, path)
    assert (r.status, r.code) == (REFUSED, "hidden-value-column")
    assert "指标列 F 列(H04" in r.message and "是隐藏的" in r.message


def test_county_compiled_table1_one_township_a_row_in_wan_yuan_with_old_names(store, profile, tmp_path):
    exp = expected_2025()["units"]
    codes = ["A01", "A05", "A07", "C09"]
    rows = {}
    for unit in TOWNSHIPS:
        label = {"平河镇": "平河乡", "牛孔镇": "牛孔乡", "大兴镇": "大兴"}.get(unit, unit)
        rows[label] = {
            c: (float(Decimal(exp[unit][c]) / 10000) if c in ("A07", "C09") else exp[unit][c]) for c in codes
        }
    r = ingest_one(store, profile, write_wide_table1(tmp_path / "绿春县2025年汇总.xlsx", rows))
    assert (r.status, r.filer, r.table) == (STORED, "县民政局", "表一")
    assert sorted(r.units) == sorted(TOWNSHIPS)
    vals = values_of(store)
    assert vals[("平河镇", "A07")].value == Decimal(exp["平河镇"]["A07"])
    assert vals[("大兴镇", "C09")].value == Decimal("405550.00")
    fig = compute_figures(store, profile, 2025)
    assert fig.totals["A07"] == Decimal("1688720.00")


def _wide_rows(codes: list[str], units: list[str]) -> dict[str, dict[str, Any]]:
    exp = expected_2025()["units"]
    return {u: {c: exp[u][c] for c in codes} for u in units}


def test_county_compiled_table1_with_a_column_of_another_table_is_refused(store, profile, tmp_path):
    # F22 is 表五's (县教育局 files it): stored under 表一, it would be added to the county total a second time
    rows = _wide_rows(["A01", "A05"], TOWNSHIPS)
    for unit in rows:
        rows[unit]["F22"] = 3
    r = ingest_one(
        store, profile, write_wide_table1(tmp_path / "绿春县2025年汇总.xlsx", rows, money_in_wan=False)
    )
    assert (r.status, r.code) == (REFUSED, "foreign-indicator")
    assert "汇总!E3" in r.message and "F22" in r.message and "表五" in r.message
    assert store.counts() == (0, 0)


def test_one_unit_a_row_table_with_a_row_for_a_unit_that_does_not_file_it_is_refused(
    store, profile, tmp_path
):
    # 县民政局 files 表三, not 表一: a row for it in a county-compiled 表一 would change the county's 表一 totals
    rows = _wide_rows(["A01", "A05"], TOWNSHIPS)
    rows["县民政局本级"] = {"A01": 5, "A05": 2}
    r = ingest_one(
        store, profile, write_wide_table1(tmp_path / "绿春县2025年汇总.xlsx", rows, money_in_wan=False)
    )
    assert r.status == REFUSED
    assert "县民政局" in r.message and "表一" in r.message and "units.csv" in r.message
    assert store.counts() == (0, 0)


def test_table2_row_for_a_department_is_refused(store, profile, tmp_path):
    units = expected_2025()["units"]
    rows = {u: {c: units[u][c] for c in ("H01", "H02", "H03", "H04")} for u in TOWNSHIPS}
    rows["县妇联"] = {"H01": 1, "H02": 1, "H03": 100, "H04": 0}
    r = ingest_one(
        store, profile, write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx", rows, total={})
    )
    assert r.status == REFUSED
    assert "县妇联" in r.message and "表二" in r.message
    assert store.counts() == (0, 0)


def test_table2_row_for_the_department_that_files_it_is_refused(store, profile, tmp_path):
    """表二 is about the townships (each row one township): the health bureau's own row is no township's, and
    its figures would go into the county 表二 figures unnoticed when the 合计 row includes them."""
    units = expected_2025()["units"]
    rows = {u: {c: units[u][c] for c in ("H01", "H02", "H03", "H04")} for u in TOWNSHIPS}
    rows["县卫健局"] = {"H01": 100, "H02": 90, "H03": 90, "H04": 1}
    r = ingest_one(
        store, profile, write_table2(tmp_path / "县卫健局2025年老年人健康管理情况表.xlsx", rows, total={})
    )
    assert r.status == REFUSED, r.message
    assert "“县卫健局”是县卫生健康局,不是乡镇" in r.message and "表二每行是一个乡镇" in r.message
    assert store.counts() == (0, 0)


def test_xls_made_by_libreoffice_with_old_township_name(store, profile):
    r = ingest_one(store, profile, FIXTURES / "old-name-平河乡2025年一老一小统计表.xls")
    assert (r.status, r.filer) == (STORED, "平河镇")
    assert r.problems == []
    assert_unit_matches(store, "平河镇")
    assert open_book(FIXTURES / "old-name-平河乡2025年一老一小统计表.xls").kind == "xls"


def test_xls_hidden_value_column_is_not_read(store, profile):
    # made by LibreOffice from the .xlsx of test_a_hidden_value_column_is_not_read: E hidden, F "2025年(调整后)"
    r = ingest_one(store, profile, FIXTURES / "hidden-value-column-大兴镇2025年一老一小统计表.xls")
    assert (r.status, r.code) == (REFUSED, "hidden-value-column")
    assert "数值列 E 列(表头“2025年”)是隐藏的" in r.message
    assert store.counts() == (0, 0)


def test_xls_rate_formatted_as_a_percentage_is_read_as_shown(store, profile):
    # made by LibreOffice from the .xlsx of test_a_rate_formatted_as_a_percentage_is_read_as_shown: 0.9858 in
    # 0.00% cells, and 牛孔镇's 0.9785 in a cell whose % is only shown (LibreOffice writes it 0.00\%)
    r = ingest_one(store, profile, FIXTURES / "percent-rate-县卫健局2025年老年人健康管理情况表.xls")
    assert r.status == STORED
    assert_rates_read_as_shown(store)
    assert values_of(store, role="total")[("合计", "H03")].value == Decimal("97.78")


def test_xls_whose_formats_cannot_be_read_is_refused(store, profile, tmp_path, monkeypatch):
    import xlrd

    def broken(*_a, **_k):
        raise xlrd.XLRDError("Unsupported format, or corrupt file")

    monkeypatch.setattr(xlrd, "open_workbook", broken)
    r = ingest_one(store, profile, FIXTURES / "old-name-平河乡2025年一老一小统计表.xls")
    assert (r.status, r.code) == (REFUSED, "xls-formats")
    assert "无法读取这个 .xls 文件的格式信息" in r.message and "另存为”.xlsx" in r.message
    assert store.counts() == (0, 0)


def test_csv_in_gbk_and_utf8_bom(store, profile, tmp_path):
    rows = [
        "表三",
        "绿春县2025年县民政局本级“一老一小”工作情况表",
        "填报单位(盖章):县民政局,,,,填报日期:2026年1月10日",
        "序号,指标代码,指标名称,计量单位,2025年,备注",
    ]
    exp = expected_2025()["units"]["县民政局"]
    for i, code in enumerate(("D01", "D02", "D03", "D04", "D05", "D06", "D07", "B04"), start=1):
        rows.append(
            f"{i},{code},{profile.indicators[code].name},{profile.indicators[code].unit},{exp[code]},"
        )
    text = "\r\n".join(rows) + "\r\n"
    gbk = tmp_path / "县民政局 本级 2025.csv"
    gbk.write_bytes(text.encode("gbk"))
    r = ingest_one(store, profile, gbk)
    assert (r.status, r.filer, r.table, r.values) == (STORED, "县民政局", "表三", 8)
    assert values_of(store)[("县民政局", "D05")].value == Decimal("4278000.00")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    r2 = ingest_one(store, profile, bom)  # other bytes, same unit and year: refused, naming the first file
    assert r2.status == REFUSED and "县民政局 本级 2025.csv" in r2.message
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(text.encode("utf-8"))
    r3 = ingest_one(store, profile, utf8, replace=True)
    assert r3.status == STORED and values_of(store)[("县民政局", "D05")].value == Decimal("4278000.00")


def test_unicode_text_from_excel_utf16_tab_separated(store, profile, tmp_path):
    # Excel's “Unicode 文本(*.txt)”: UTF-16 LE with its BOM, tab-separated, CRLF; named .txt, or renamed .csv
    exp = expected_2025()["units"]["县民政局"]
    rows = ["表三", "绿春县2025年县民政局本级“一老一小”工作情况表", "填报单位(盖章):县民政局\t\t\t\t\t"]
    rows.append("序号\t指标代码\t指标名称\t计量单位\t2025年\t备注")
    for i, code in enumerate(("D01", "D02", "D03", "D04", "D05", "D06", "D07", "B04"), start=1):
        ind = profile.indicators[code]
        rows.append(f"{i}\t{code}\t{ind.name}\t{ind.unit}\t{exp[code]}\t")
    data = "\r\n".join(rows).encode("utf-16")  # the BOM first, as Excel writes it
    assert data.startswith(b"\xff\xfe")
    (tmp_path / "县民政局2025.txt").write_bytes(data)
    r = ingest_one(store, profile, tmp_path / "县民政局2025.txt")
    assert (r.status, r.filer, r.table, r.values, r.problems) == (STORED, "县民政局", "表三", 8, [])
    assert values_of(store)[("县民政局", "D05")].value == Decimal("4278000.00")
    (tmp_path / "县民政局2025.csv").write_bytes(data)
    assert open_book(tmp_path / "县民政局2025.csv").sheets[0].rows[3][4] == "2025年"


def test_lock_files_named_on_the_command_line_are_told_for_what_they_are(store, profile, tmp_path):
    for name in ("~$大兴镇2025年一老一小统计表.xlsx", ".~lock.大兴镇2025年一老一小统计表.xlsx#"):
        lock = tmp_path / name
        lock.write_bytes(b"\x05admin" + b"\x00" * 160)  # Excel's owner file: the user's name, then zeros
        r = ingest_one(store, profile, lock)
        assert (r.status, r.code) == (REFUSED, "lock-file")
        assert "临时锁定文件,不是报表" in r.message


def test_a_wildcard_windows_does_not_expand_and_a_trailing_space_after_the_suffix(store, profile, tmp_path):
    import shutil

    from carestats.ingest import collect

    folder = tmp_path / "报表"
    folder.mkdir()
    for name in ("大兴镇2025年一老一小统计表.xlsx", "三猛乡2025年一老一小统计表.xlsx"):
        shutil.copy(EXAMPLES / name, folder / name)
    shutil.copy(EXAMPLES / "戈奎乡2025年一老一小统计表.xlsx", folder / "戈奎乡2025年一老一小统计表.xlsx ")
    (folder / "说明.docx").write_bytes(b"x")
    files, skipped = collect([folder / "*.xlsx"])  # as cmd.exe hands it over: unexpanded
    assert [f.name for f in files] == ["三猛乡2025年一老一小统计表.xlsx", "大兴镇2025年一老一小统计表.xlsx"]
    files, skipped = collect([folder])
    assert sorted(f.name for f in files) == [
        "三猛乡2025年一老一小统计表.xlsx",
        "大兴镇2025年一老一小统计表.xlsx",
        "戈奎乡2025年一老一小统计表.xlsx ",  # a name ending in a space (an e-mail attachment) is still read
    ]
    assert [s.path.name for s in skipped] == ["说明.docx"]
    results = ingest_paths(store, profile, [folder])
    assert sum(r.status == STORED for r in results) == 3


# ---------------------------------------------------------------- identification
def test_a_csv_separated_by_semicolons_under_title_lines(store, profile, tmp_path):
    lines = ["绿春县2025年老年人健康管理情况表", "填报单位:县卫生健康局"]
    lines.append(
        "序号;乡镇;60周岁以上家庭医生签约人数(人);65周岁以上老年人健康管理人数(人);健康管理率(%);爱心义诊(场次)"
    )
    for i, unit in enumerate(TOWNSHIPS, 1):
        v = expected_2025()["units"][unit]
        lines.append(f"{i};{unit};{v['H01']};{v['H02']};{v['H03']};{v['H04']}")
    path = tmp_path / "县卫健局2025年老年人健康管理情况表.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    r = ingest_one(store, profile, path)
    assert (r.status, r.values, r.problems) == (STORED, 4 * len(TOWNSHIPS), [])
    assert values_of(store)[("平河镇", "H03")].value == Decimal(
        str(expected_2025()["units"]["平河镇"]["H03"])
    )


def test_copied_neighbours_file_names_both_units(store, profile, tmp_path):
    path = write_table1(tmp_path / "大水沟乡2025年一老一小统计表.xlsx", "戈奎乡")
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED
    assert "戈奎乡" in r.message and "大水沟乡" in r.message
    assert store.counts() == (0, 0)


def test_year_from_title_and_header_conflict(store, profile, tmp_path):
    path = write_table1(tmp_path / "大兴镇.xlsx", value_header="2024年")
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED and "2024" in r.message and "2025" in r.message


def test_year_option_must_agree_and_fill_date_is_not_the_year(store, profile, tmp_path):
    path = write_table1(tmp_path / "大兴镇.xlsx")
    assert ingest_one(store, profile, path, year=2024).status == REFUSED
    r = ingest_one(store, profile, path)
    assert r.year == 2025  # 填报日期:2026年1月7日 is not the data year


def test_year_only_from_option_when_the_form_has_none(store, profile, tmp_path):
    path = write_table1(
        tmp_path / "大兴镇.xlsx", title="绿春县大兴镇“一老一小”关爱服务情况统计表", value_header="本年数值"
    )
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED and "--year" in r.message
    assert ingest_one(store, profile, path, year=2025).status == STORED


def test_names_numbered_or_ending_in_a_colon_are_matched(store, profile, tmp_path):
    names = {
        "A05": "纳入最低生活保障的老年人数：",
        "A02": "其中：①纳入最低生活保障",
        "A03": "其中：2.纳入残疾人两项补贴",
        "A01": "①留守老人数",
    }
    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", codes=False, names=names))
    assert (r.status, r.values, r.problems) == (STORED, 29, [])
    assert_unit_matches(store, "大兴镇")


def test_unknown_row_lists_closest_names_and_refuses_the_file(store, profile, tmp_path):
    path = write_table1(tmp_path / "大兴镇.xlsx", codes=False, names={"A06": "高龄老人人数统计"})
    r = ingest_one(store, profile, path)
    assert r.status == REFUSED
    assert "统计表!B11" in r.message and "高龄老人人数统计" in r.message and "A06" in r.message
    assert store.counts() == (0, 0)


# ---------------------------------------------------------------- history and transactions
def test_same_file_twice_is_a_noop(store, profile, tmp_path):
    path = write_table1(tmp_path / "大兴镇.xlsx")
    assert ingest_one(store, profile, path).status == STORED
    before = store.counts()
    r = ingest_one(store, profile, path)
    assert r.status == UNCHANGED and "未重复汇入" in r.message
    assert store.counts() == before


@pytest.mark.parametrize("corrected", ["大兴镇2025(更正).xlsx", "大兴镇2025年一老一小统计表（更正）.xlsx"])
def test_replace_never_lets_an_original_undo_its_correction_in_the_same_batch(
    store, profile, tmp_path, corrected
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    original = write_table1(inbox / "大兴镇2025年一老一小统计表.xlsx")
    assert ingest_one(store, profile, original).status == STORED
    write_table1(inbox / corrected, values={**expected_unit_values("大兴镇"), "A05": 1136})
    # the correction sorts before or after the original: either way it is what stays
    results = ingest_paths(store, profile, [inbox], replace=True)
    by_name = {r.path.name: r for r in results}
    assert by_name[corrected].status == STORED
    assert values_of(store)[("大兴镇", "A05")].value == Decimal(1136)
    assert [s.file_name for s in store.submissions() if s.status == "active"] == [corrected]
    refused = [r for r in results if r.status == REFUSED]
    assert all("这一次一起汇入的" in r.message for r in refused)


def test_two_new_files_for_one_unit_in_one_batch_keep_the_first_and_say_why(store, profile, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_table1(inbox / "大兴镇2025年一老一小统计表.xlsx")
    write_table1(
        inbox / "大兴镇2025年一老一小统计表_2.xlsx", values={**expected_unit_values("大兴镇"), "A05": 1136}
    )
    first, second = ingest_paths(store, profile, [inbox], replace=True)
    assert first.status == STORED and second.status == REFUSED
    assert "无法确定以哪一份为准(--replace 不会用后一份替换前一份)" in second.message
    assert values_of(store)[("大兴镇", "A05")].value == Decimal(1135)


def test_second_file_for_same_unit_is_refused_then_replaced_with_history(store, profile, tmp_path):
    first = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx")
    assert ingest_one(store, profile, first).status == STORED
    values = dict(expected_unit("大兴镇"))
    values["A01"] = 570
    second = write_table1(tmp_path / "大兴镇2025年一老一小统计表(修改).xlsx", values=values)
    r = ingest_one(store, profile, second)
    assert r.status == REFUSED and "大兴镇2025年一老一小统计表.xlsx" in r.message and "--replace" in r.message
    assert values_of(store)[("大兴镇", "A01")].value == 569
    r = ingest_one(store, profile, second, replace=True)
    assert r.status == STORED and [s.file_name for s in r.superseded] == ["大兴镇2025年一老一小统计表.xlsx"]
    assert values_of(store)[("大兴镇", "A01")].value == 570
    subs = store.submissions(2025)
    assert [s.status for s in subs] == ["superseded", "active"]
    assert subs[0].superseded_by == subs[1].id
    # the store does not pay for foreign-key enforcement: its references must hold by construction
    ingest_paths(store, profile, [EXAMPLES])
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    orphans = "SELECT COUNT(*) FROM vals WHERE submission_id NOT IN (SELECT id FROM submissions)"
    assert store.conn.execute(orphans).fetchone()[0] == 0


def test_bad_file_never_damages_the_store(store, profile, tmp_path):
    ingest_paths(store, profile, [write_table1(tmp_path / "大兴镇.xlsx")])
    before = [(v.unit, v.code, v.value) for v in store.active_values(2025)]
    bad = tmp_path / "牛孔镇.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is half a zip")
    results = ingest_paths(store, profile, [bad, write_table1(tmp_path / "戈奎乡.xlsx", "戈奎乡")])
    assert [r.status for r in results] == [REFUSED, STORED]  # one bad file does not stop the others
    assert "牛孔镇.xlsx" in results[0].message
    after = [(v.unit, v.code, v.value) for v in store.active_values(2025) if v.unit == "大兴镇"]
    assert after == before


def test_the_thirteen_example_returns(example_store, profile):
    fig = compute_figures(example_store, profile, 2025)
    assert fig.to_json() == expected_2025()
    assert fig.incomplete == {}


def test_examples_bundled_are_the_shared_returns():
    from tests.workbooks import SHARED

    shared = sorted(p.name for p in (SHARED / "returns" / "2025").glob("*.xlsx"))
    assert sorted(p.name for p in EXAMPLES.glob("*.xlsx")) == shared
    for name in shared:
        assert (EXAMPLES / name).read_bytes() == (SHARED / "returns" / "2025" / name).read_bytes()


@pytest.mark.parametrize("label", ["乡镇", "乡(镇)", "单位"])
def test_table2_unit_column_spellings(store, profile, tmp_path, label):
    r = ingest_one(store, profile, write_table2(tmp_path / "县卫健局.xlsx", unit_label=label))
    assert r.status == STORED and len(r.units) == 9


def test_addresses_are_what_wps_shows_when_the_table_starts_off_origin(store, profile, tmp_path):
    def shift(ws):
        ws.insert_rows(1, 3)
        ws.insert_cols(1, 2)

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇.xlsx", edit=shift))
    assert r.status == STORED
    v = values_of(store)[("大兴镇", "A02")]
    assert v.cell == "G10" and v.value == 69  # E7 moved three rows down and two columns right


def test_hidden_copy_sheet_is_ignored_but_two_visible_returns_are_refused(store, profile, tmp_path):
    from openpyxl import load_workbook

    path = write_table1(tmp_path / "大兴镇.xlsx")
    wb = load_workbook(path)
    copy = wb.copy_worksheet(wb["统计表"])
    copy.title = "统计表 (2)"
    copy.sheet_state = "hidden"
    wb.save(path)
    assert ingest_one(store, profile, path).status == STORED
    wb = load_workbook(path)
    wb["统计表 (2)"].sheet_state = "visible"
    wb.save(path)
    r = ingest_paths(store, profile, [path])[0]
    assert r.status == REFUSED and "统计表 (2)" in r.message


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_return_on_a_hidden_sheet_says_which_sheet_and_how_to_show_it(store, profile, tmp_path, state):
    def hide(ws):
        ws.parent.create_sheet("Sheet2")  # the sheet left showing: empty
        ws.sheet_state = state

    r = ingest_one(store, profile, write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", edit=hide))
    assert (r.status, r.code) == (REFUSED, "hidden-sheet")
    assert "报表在隐藏的工作表“统计表”" in r.message and "没有找到可识别的报表" not in r.message
    if state == "hidden":
        assert "右键任一工作表标签→“取消隐藏”→选中“统计表”→确定" in r.message
    else:  # not in the 取消隐藏 list: only the sheet's Visible property shows it
        assert "“统计表”(深度隐藏)" in r.message and "Alt+F11" in r.message and "xlSheetVisible" in r.message
    assert store.counts() == (0, 0)


@pytest.mark.parametrize("name", ["说明", "目录(修改)", "审核意见已改", "封面数据"])
def test_a_return_sheet_renamed_like_an_instructions_sheet_is_read(store, profile, tmp_path, name):
    path = write_table1(
        tmp_path / "大兴镇2025年一老一小统计表.xlsx", sheet_name=name, instructions_first=True
    )
    r = ingest_one(store, profile, path)
    assert (r.status, r.problems) == (STORED, [])
    assert_unit_matches(store, "大兴镇")
    assert values_of(store)[("大兴镇", "A01")].sheet == name


@pytest.mark.parametrize("start", ["fork", "spawn"])  # spawn: how Windows starts the workers
def test_worker_pool_gives_the_same_store_as_one_process(profile, tmp_path, monkeypatch, start):
    import multiprocessing

    import carestats.ingest as ingest_mod
    from carestats.store import Store

    if start not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{start} is not available on this platform")
    monkeypatch.setattr(ingest_mod, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(ingest_mod, "POOL_MIN_FILES_SPAWN", 2)
    monkeypatch.setattr(ingest_mod, "START_METHOD", start)
    pooled = _count_pool_batches(monkeypatch)
    folder = tmp_path / "returns"
    folder.mkdir()
    for unit in TOWNSHIPS:
        write_table1(folder / f"{unit}.xlsx", unit)
    (folder / "坏文件.xlsx").write_bytes(b"")
    contents = []
    for workers in (1, 2):
        with Store.open(tmp_path / f"w{workers}.db") as s:
            results = ingest_paths(s, profile, [folder], workers=workers)
            contents.append(
                (
                    [(r.path.name, r.status, r.message) for r in results],
                    [(v.file, v.unit, v.code, v.value, v.raw, v.cell) for v in s.active_values(2025)],
                )
            )
    assert contents[0] == contents[1]
    assert [st for _n, st, _m in contents[0][0]].count(REFUSED) == 1
    assert pooled == [len(TOWNSHIPS) + 1]  # workers=2 went through worker processes, workers=1 did not


def _count_pool_batches(monkeypatch) -> list[int]:
    """The sizes of the batches handed to a worker pool (the parent's side of Pool.imap)."""
    import multiprocessing.pool

    batches: list[int] = []
    real_imap = multiprocessing.pool.Pool.imap

    def imap(self, func, iterable, chunksize=1):
        items = list(iterable)
        batches.append(len(items))
        return real_imap(self, func, items, chunksize)

    monkeypatch.setattr(multiprocessing.pool.Pool, "imap", imap)
    return batches


def test_spawned_workers_only_for_big_batches(profile, tmp_path, monkeypatch):
    # spawning a worker costs a new Python; a batch of a hundred returns is read faster in one process
    import carestats.ingest as ingest_mod
    from carestats.store import Store

    monkeypatch.setattr(ingest_mod, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(ingest_mod, "START_METHOD", "spawn")
    pooled = _count_pool_batches(monkeypatch)
    folder = tmp_path / "returns"
    folder.mkdir()
    for unit in TOWNSHIPS[:3]:
        write_table1(folder / f"{unit}.xlsx", unit)
    with Store.open(tmp_path / "s.db") as s:
        assert [r.status for r in ingest_paths(s, profile, [folder], workers=2)] == [STORED] * 3
    assert pooled == []


def test_an_error_cell_is_a_located_problem(store, profile, tmp_path):
    import re
    import zipfile

    path = write_table1(tmp_path / "三猛乡.xlsx", "三猛乡")
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    xml, n = re.subn(rb'<c r="E15"[^>]*?(/>|>.*?</c>)', b'<c r="E15" t="e"><v>#DIV/0!</v></c>', parts[sheet])
    assert n == 1
    parts[sheet] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    r = ingest_one(store, profile, path)
    assert r.status == STORED
    [p] = r.problems
    assert (p.cell, p.code, p.problem, p.raw) == ("E15", "A10", "error-value", "#DIV/0!")


def test_units_mentioned_longest_spelling_first_without_overlaps(profile):
    # “绿春县民政局” is one unit, not also 民政局 inside it; “大黑山镇” is not also 大黑山
    assert profile.units_mentioned("绿春县民政局关于大黑山镇和牛孔乡的报告") == [
        "县民政局",
        "大黑山镇",
        "牛孔镇",
    ]
    assert profile.units_mentioned("大兴 镇2025年统计表(平河)") == ["大兴镇", "平河镇"]
    assert profile.units_mentioned("县卫健局转来的表") == ["县卫生健康局"]
    assert profile.units_mentioned("2025年一老一小统计表") == []


def test_a_big_workbook_is_read_by_path_and_gives_the_same_values(store, profile, tmp_path):
    # over 4 MB (here a 5 MB picture in the package) calamine opens the file itself instead of a copy of it
    import os
    import zipfile

    from carestats.reader import _HAND_OVER_BYTES

    small = write_table1(tmp_path / "small.xlsx")
    big = tmp_path / "大兴镇2025年一老一小统计表.xlsx"
    with zipfile.ZipFile(small) as zin, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        zout.writestr(zipfile.ZipInfo("xl/media/image1.png"), os.urandom(5 * 1024 * 1024))
    assert big.stat().st_size > _HAND_OVER_BYTES
    r = ingest_one(store, profile, big)
    assert (r.status, r.filer, r.values) == (STORED, "大兴镇", 29)
    assert_unit_matches(store, "大兴镇")


def test_a_folder_that_cannot_be_listed_is_reported_not_passed_over(store, profile, tmp_path, monkeypatch):
    import os

    folder = tmp_path / "returns"
    locked = folder / "牛孔镇"
    locked.mkdir(parents=True)
    write_table1(folder / "大兴镇.xlsx")
    write_table1(locked / "牛孔镇.xlsx", "牛孔镇")
    real_scandir = os.scandir

    def scandir(path):  # as a folder without read permission answers (the tests run as root)
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    results = ingest_paths(store, profile, [folder])
    # notes on what was not read come first, then the files; the run ends with exit code 1
    assert [(r.path.name, r.status) for r in results] == [("牛孔镇", REFUSED), ("大兴镇.xlsx", STORED)]
    assert exit_code(results) == 1
    refused = results[0]
    assert refused.code == "unreadable-folder" and str(locked) in refused.message
    assert (
        "无法打开这个文件夹(没有访问权限,或正被其他程序占用)" in refused.message
        and "没有汇入" in refused.message
    )
    assert "Permission" not in refused.message  # the OS's English reason is told in Chinese


def test_workbook_parts_of_one_template_are_parsed_once_and_a_bad_one_is_refused_every_time(
    tmp_path, monkeypatch
):
    import zipfile

    from carestats import reader

    reader._WORKBOOK_SHEETS.clear()
    one = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇")
    two = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇")
    parsed: list[str] = []
    read_member = reader._read_member

    def spy(path, zf, member):
        parsed.append(member)
        return read_member(path, zf, member)

    monkeypatch.setattr(reader, "_read_member", spy)
    sheets = [[(s.name, s.visible, s.rows) for s in open_book(p).sheets] for p in (one, two)]
    assert parsed.count("xl/workbook.xml") == 1  # the second return's workbook.xml: the same bytes
    assert sheets[1][0][0] == "统计表" and sheets[1][0][2] != sheets[0][0][2]
    # the same workbook.xml with an entity declaration added: other bytes, parsed, refused; and again
    bad = tmp_path / "半坡乡.xlsx"
    with zipfile.ZipFile(two) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = b'<!DOCTYPE x [<!ENTITY a "a">]>' + data.split(b"?>", 1)[-1]
            zout.writestr(item, data)
    for _ in range(2):
        with pytest.raises(reader.ReadError) as exc:
            open_book(bad)
        assert exc.value.code == "xml-entities"
    # a sheet the cached workbook names but this package lacks is left out, as without the cache
    lacking = tmp_path / "三猛乡.xlsx"
    with zipfile.ZipFile(two) as zin, zipfile.ZipFile(lacking, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item.filename))
    reader._WORKBOOK_SHEETS.clear()
    fresh = reader._zip_sheets(
        lacking, reader.open_package(lacking.read_bytes()), set(zipfile.ZipFile(lacking).namelist())
    )
    open_book(two)
    cached = reader._zip_sheets(
        lacking, reader.open_package(lacking.read_bytes()), set(zipfile.ZipFile(lacking).namelist())
    )
    assert fresh == cached == []


@pytest.mark.parametrize(
    ("xml", "formulas"),
    [
        (b'<c r="E5"><f>14+14</f></c>', {"E5": "14+14"}),
        (b'f<c r="E5"><f>1+1</f></c>', {"E5": "1+1"}),  # an f before any element
        (b'<x:c r="E5"><x:f>SUM(E6:E9)</x:f></x:c>', {"E5": "SUM(E6:E9)"}),  # a namespace prefix
        (b'<c r="E5"><f t="shared" si="0"/></c>', {"E5": ""}),
        (b'<c r="E5"><f>1+1</f><v>2</v></c>', {}),  # with its result: calamine shows the result
        # a styled empty cell before it (a bordered 计量单位 cell left empty) keeps its own address
        (b'<c r="D5" s="2"/><c r="E5"><f>1+1</f></c>', {"E5": "1+1"}),
        (b'<sheetFormatPr defaultRowHeight="15"/><c r="E5"><v>2</v></c>', {}),
        (b'<c r="E5"><f>1+1</f><v></v></c>', {"E5": "1+1"}),  # openpyxl: no result, whatever <v> says
        (b'<c r="E5" t="str"><f>A1</f><v>x</v></c>', {}),  # a text result
    ],
)
def test_formulas_saved_without_a_result_are_found_in_the_sheet_xml(xml, formulas):
    from carestats.reader import _scan_uncached

    assert _scan_uncached(xml) == (formulas, {}, {})


@pytest.mark.parametrize(
    "xml",
    [
        b'<c r="E5" t="str"><f>IF(A5="","",A5)</f><v/></c>',  # Excel
        b'<c r="E5" s="0" t="str"><f aca="false">IF(A5=&quot;&quot;,&quot;&quot;,A5)</f><v></v></c>',  # LibreOffice
        b'<x:c r="E5" t="str"><x:f>IF(A5="","",A5)</x:f><x:v /></x:c>',
    ],
)
def test_formulas_computed_to_empty_text_are_told_apart(xml):
    from carestats.reader import _scan_uncached

    assert _scan_uncached(xml) == ({}, {}, {"E5": 'IF(A5="","",A5)'})


def test_a_one_unit_a_row_table_does_not_walk_the_units_for_every_file(monkeypatch, tmp_path):
    """A province ingests thousands of returns with thousands of units: which units a one-unit-a-row table may
    list is worked out once per profile and table, not once per file (O(units) on the hot path)."""
    from carestats.profile import Profile

    prof = Profile.load()
    calls = []
    townships = Profile.townships
    monkeypatch.setattr(Profile, "townships", lambda self: calls.append(1) or townships(self))
    health = EXAMPLES / "县卫健局2025年老年人健康管理情况表.xlsx"
    for _ in range(3):
        prep = prepare_file(health, prof)
        assert prep.table == "表二" and len({v[0] for v in prep.values}) == 10  # nine townships and 合计
    assert len(calls) <= 1
