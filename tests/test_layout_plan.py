"""Returns of one template are read by a plan learnt from the first of them; the plan must never change what
is read. Each test reads a return fresh (no plan) and after a return of the same template (the plan in
place), and the two readings must be identical, refusals included; a spy tells whether the plan was used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from carestats import layout
from carestats.ingest import FileResult, Prepared, prepare_file
from tests.workbooks import EXAMPLES, headings_in_name_column, table_copied_below, write_table1, year_columns


@pytest.fixture(autouse=True)
def no_plans():
    layout._PLANS.clear()
    yield
    layout._PLANS.clear()


@pytest.fixture
def followed(monkeypatch) -> list[bool]:
    """One entry per plan tried on a sheet: True when the plan read it."""
    seen: list[bool] = []
    follow = layout._follow

    def spy(*args):
        found = follow(*args)
        seen.append(found is not None)
        return found

    monkeypatch.setattr(layout, "_follow", spy)
    return seen


def reading(path: Path, profile) -> tuple:
    """What ingest would store of the file, or the refusal, without the sha and the path."""
    prep = prepare_file(path, profile)
    if isinstance(prep, FileResult):
        return ("refused", prep.code, prep.message)
    assert isinstance(prep, Prepared)
    return (prep.sheet, prep.table, prep.filer, prep.year, prep.values)


def fresh(path: Path, profile) -> tuple:
    layout._PLANS.clear()
    return reading(path, profile)


def after(template: Path, path: Path, profile) -> tuple:
    layout._PLANS.clear()
    assert reading(template, profile)[0] != "refused"
    return reading(path, profile)


def test_a_return_of_the_same_template_is_read_by_the_plan(profile, tmp_path, followed):
    template = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", "大兴镇")
    other = write_table1(tmp_path / "牛孔镇2025年一老一小统计表.xlsx", "牛孔镇")
    expected = fresh(other, profile)
    assert followed == []  # no plan yet: read row by row
    assert after(template, other, profile) == expected
    assert followed == [True]
    assert expected[2] == "牛孔镇" and len(expected[4]) == 29


def test_without_a_code_column_and_with_blank_rows_and_a_subtitle(profile, tmp_path, followed):
    kw = dict(
        codes=False, blank_rows_after=("B01", "C07"), subtitle="(统计时段:2025年1月1日至2025年12月31日)"
    )
    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", **kw)
    other = write_table1(tmp_path / "半坡乡.xlsx", "半坡乡", **kw)
    assert after(template, other, profile) == fresh(other, profile)
    assert followed == [True]


def _values(unit: str, **changed) -> dict:
    from tests.workbooks import _num, expected_2025

    values = {k: _num(v) for k, v in expected_2025()["units"][unit].items() if not k.startswith("H")}
    return {**values, **changed}


def _row_of(ws, text: str, column: int) -> int:
    for row in ws.iter_rows():
        if row[column - 1].value == text:
            return row[0].row
    raise AssertionError(text)


def _set(column_of_text: int, text: str, offset: int, column: int, value) -> Callable:
    def edit(ws) -> None:
        ws.cell(row=_row_of(ws, text, column_of_text) + offset, column=column).value = value

    return edit


# what changes in the second return (牛孔镇) against the template (大兴镇); both have a blank row after A13
DEPARTURES = {
    "money in 万元": dict(units={"A07": "万元"}, values=_values("牛孔镇", A07=13.2386)),
    "a value in a section row": dict(edit=_set(1, "二、阵地建设", 0, 5, 5)),
    "a value in the blank row": dict(edit=_set(2, "A13", 1, 5, "7")),
    "a note in 备注 that ends the table": dict(edit=_set(2, "A13", 1, 6, "注:以下为儿童数")),
    "a formula in a section row": dict(edit=_set(1, "三、儿童关爱保护", 0, 5, "=1+1")),
    "a renamed row": dict(names={"A06": "八十周岁以上老人数"}),
    "a number for a 计量单位": dict(units={"A01": 1}),
    "a row more": dict(extra_rows=[("C09", "困境儿童数", "人", 3)]),
}


@pytest.mark.parametrize("change", list(DEPARTURES))
def test_a_return_that_departs_from_the_template_reads_as_without_a_plan(profile, tmp_path, change, followed):
    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", blank_rows_after=("A13",))
    other = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", blank_rows_after=("A13",), **DEPARTURES[change])
    expected = fresh(other, profile)
    assert after(template, other, profile) == expected
    assert not any(followed), "the plan must not have read this return"


def test_values_that_are_problems_are_read_by_the_plan_as_without_it(profile, tmp_path, followed):
    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇")
    other = write_table1(
        tmp_path / "牛孔镇.xlsx",
        "牛孔镇",
        values=_values("牛孔镇", A13="2000余", A10=None, A12="—"),
        edit=_set(2, "A11", 0, 5, "=14+14"),  # openpyxl saves no result: calamine shows the cell empty
    )
    expected = fresh(other, profile)
    assert after(template, other, profile) == expected
    assert followed == [True]
    problems = {v[1]: v[5] for v in expected[4] if v[5]}
    assert problems == {"A13": "approximate", "A10": "blank", "A12": "placeholder", "A11": "formula-no-cache"}


def test_a_label_that_is_not_text_makes_no_plan(profile, tmp_path):
    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", units={"A01": 0})
    reading(template, profile)
    assert layout._PLANS == {}


def test_the_example_returns_read_the_same_with_and_without_plans(profile):
    files = sorted(p for p in EXAMPLES.iterdir() if p.is_file())
    alone = {p.name: fresh(p, profile) for p in files}
    layout._PLANS.clear()
    for _ in range(2):  # the second pass meets every plan the first pass left
        for p in files:
            assert reading(p, profile) == alone[p.name], p.name


def test_a_row_read_from_its_value_cell_makes_no_plan(profile, tmp_path, followed):
    # the template's table ends at a note typed into the value column: a plan would end every return there
    template = write_table1(
        tmp_path / "大兴镇.xlsx",
        "大兴镇",
        blank_rows_after=("C10",),
        edit=_set(2, "C10", 1, 5, "注:以上为全年数"),
    )
    other = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", blank_rows_after=("C10",))
    assert after(template, other, profile) == fresh(other, profile)
    assert followed == []
    # the same note in the middle of the table: the rows below it are not passed over
    middle = write_table1(
        tmp_path / "半坡乡.xlsx",
        "半坡乡",
        blank_rows_after=("A13",),
        edit=_set(2, "A13", 1, 5, "注:以下为儿童数"),
    )
    assert fresh(middle, profile)[:2] == ("refused", "rows-below-end")


def _merge_below(text_column: int, text: str, column: int, rows: int) -> Callable:
    """Merge ``column`` from the row of ``text`` down ``rows`` rows."""

    def edit(ws) -> None:
        first = _row_of(ws, text, text_column)
        ws.merge_cells(start_row=first, start_column=column, end_row=first + rows, end_column=column)

    return edit


def test_section_rows_merged_across_are_read_by_the_plan(profile, tmp_path, followed):
    def merged(ws) -> None:
        for text in ("一、老年人关爱服务", "二、阵地建设", "三、儿童关爱保护"):
            r = _row_of(ws, text, 1)
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=6)

    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", edit=merged)
    other = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", edit=merged)
    assert after(template, other, profile) == fresh(other, profile)
    assert followed == [True]


def test_a_value_cell_merged_over_other_rows_makes_no_plan(profile, tmp_path, followed):
    # the empty row below A13 shows A13's value cell, merged down over it: the row's reading depends on a
    # value, which a plan does not compare (here “注:无” in the second return ends its table there)
    down = _merge_below(2, "A13", 5, 1)
    kw = dict(blank_rows_after=("A13",), edit=down)
    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", values=_values("大兴镇", A13=None), **kw)
    other = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", values=_values("牛孔镇", A13="注:无"), **kw)
    assert after(template, other, profile) == fresh(other, profile)
    assert followed == []


def test_section_headings_in_the_name_column_are_read_by_the_plan(profile, tmp_path, followed):
    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", codes=False, edit=headings_in_name_column())
    other = write_table1(tmp_path / "半坡乡.xlsx", "半坡乡", codes=False, edit=headings_in_name_column())
    expected = fresh(other, profile)
    assert after(template, other, profile) == expected
    assert followed == [True] and len(expected[4]) == 29
    # a figure beside a heading: the plan does not read the return, and the refusal is the same
    followed.clear()
    figure = write_table1(
        tmp_path / "戈奎乡.xlsx", "戈奎乡", codes=False, edit=headings_in_name_column(figure=5)
    )
    expected = fresh(figure, profile)
    assert expected[0] == "refused"
    assert after(template, figure, profile) == expected
    assert not any(followed)


def test_last_years_column_reads_the_same_with_a_plan(profile, tmp_path, followed):
    template = write_table1(
        tmp_path / "大兴镇.xlsx", "大兴镇", edit=year_columns("2024年", last_year={"A01": 601})
    )
    other = write_table1(
        tmp_path / "牛孔镇.xlsx", "牛孔镇", edit=year_columns("2024年", last_year={"A01": 588})
    )
    expected = fresh(other, profile)
    assert expected[0] == "统计表" and len(expected[4]) == 29
    assert after(template, other, profile) == expected
    assert followed == [False]  # last year's figures differ: compared cells, so the rows are read one by one


def test_a_second_table_where_the_template_has_notes_is_refused_with_a_plan(profile, tmp_path, followed):
    # the same number of rows below the footer: the plan's key (header, row count, merges) is the same
    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", edit=table_copied_below(4, 3, notes=10))
    other = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", edit=table_copied_below(4, 12))
    expected = fresh(other, profile)
    assert expected[:2] == ("refused", "two-tables")
    assert after(template, other, profile) == expected
    assert followed == [True]


def test_a_money_unit_line_is_part_of_the_template(profile, tmp_path, followed):
    def no_unit_column(ws) -> None:
        ws.delete_cols(4)

    def wan_yuan(ws) -> None:
        ws.delete_cols(4)
        ws["C3"] = "金额单位:万元"  # in the 填报单位 row: the header stays where the template has it

    template = write_table1(tmp_path / "大兴镇.xlsx", "大兴镇", edit=no_unit_column)
    values = {**_values("牛孔镇"), "A07": 13.2386}
    other = write_table1(tmp_path / "牛孔镇.xlsx", "牛孔镇", values=values, edit=wan_yuan)
    expected = fresh(other, profile)
    assert [v[3] for v in expected[4] if v[1] == "A07"] == ["132386.00"]
    assert after(template, other, profile) == expected
    assert followed == []  # the template's plan read its money in 元: not offered for this return
