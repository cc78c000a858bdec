"""values: raw cells → exact Decimals, or a problem code; never 0 for something unreadable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carestats import values as V


@pytest.fixture(scope="module")
def ind(profile):
    return profile.indicators


@pytest.mark.parametrize(
    ("cell", "code", "unit", "expected"),
    [
        (569.0, "A01", "人", Decimal("569")),
        ("534", "A05", "人", Decimal("534")),
        ("１１２８", "A12", "元", Decimal("1128.00")),  # full-width digits
        ("264,907", "C09", "元", Decimal("264907.00")),  # thousands separator
        ("264，907", "C09", "元", Decimal("264907.00")),  # full-width comma
        ("399人", "A02", "人", Decimal("399")),  # unit suffix agreeing with the indicator
        (" 12 ", "A01", "人", Decimal("12")),
        (13.2386, "A07", "万元", Decimal("132386.00")),  # 万元 converted to 元 exactly
        ("16.8872万元", "A07", None, Decimal("168872.00")),
        (274.65999999999997, "A07", "元", Decimal("274.66")),  # floating noise, 15 significant digits
        (98, "H03", "%", Decimal("98.00")),  # a rate shown with fewer digits
        (98.1, "H03", None, Decimal("98.10")),
        ("97.78%", "H03", None, Decimal("97.78")),
        (0.1271, "A12", "万元", Decimal("1271.00")),
        (12.3456789, "A07", "万元", Decimal("123456.789")),  # more than 2 decimals kept exactly for check
        ("1 234 567.5", "A07", "元", Decimal("1234567.50")),  # thousands grouped by spaces
        (999999999999999.0, "A07", "元", Decimal("999999999999999.00")),  # 15 digits: all Excel holds
        (-3.0, "A01", "人", Decimal("-3")),  # a negative count is for check to flag, not for the reader
        ("－１２", "A01", "人", Decimal("-12")),  # full-width minus: int("－１２") fails without NFKC
        ("１２３．５", "A07", "元", Decimal("123.50")),  # full-width point: float("１２３．５") fails too
        ("\u3000１５\u3000", "A01", "人", Decimal("15")),  # ideographic spaces around it
    ],
)
def test_parses_exactly(ind, cell, code, unit, expected):
    parsed = V.parse_value(cell, ind[code], unit)
    assert parsed.problem is None
    assert parsed.value == expected
    assert str(parsed.value) == str(expected)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("2000余", V.APPROXIMATE),
        ("约300", V.APPROXIMATE),
        ("300多", V.APPROXIMATE),
        ("", V.BLANK),
        (None, V.BLANK),
        ("   ", V.BLANK),
        ("—", V.PLACEHOLDER),
        ("/", V.PLACEHOLDER),
        ("无", V.PLACEHOLDER),
        ("见附件", V.NOT_A_NUMBER),
        ("12元", V.UNIT_MISMATCH),  # a count of people written in 元
        ("13887654321 13987654321", V.NOT_A_NUMBER),  # two phone numbers in one cell, not 1 234 grouping
        ("12 34", V.NOT_A_NUMBER),
        (1e30, V.NOT_A_NUMBER),  # more digits than Excel holds: no figure (and it used to crash a count)
        (12345678901234567890, V.NOT_A_NUMBER),
        ("1234567890123456", V.NOT_A_NUMBER),
        (dt.datetime(2025, 1, 1), V.NOT_A_NUMBER),
        (True, V.NOT_A_NUMBER),
        ("#N/A", V.ERROR_VALUE),  # an error cell as a CSV saved from it keeps it: text
        ("#div/0!", V.ERROR_VALUE),
        ('=DISPIMG("ID_5F3A0B1C",1)', V.NOT_A_NUMBER),  # a WPS in-cell picture
    ],
)
def test_unreadable_is_a_problem_never_zero(ind, cell, problem):
    parsed = V.parse_value(cell, ind["A01"], "人")
    assert parsed.value is None
    assert parsed.problem == problem
    assert parsed.detail  # a Chinese explanation for the clerk


def test_formula_without_cached_value(ind):
    parsed = V.parse_value("", ind["A10"], "人次", formula="14+14")
    assert parsed.value is None and parsed.problem == V.FORMULA_NO_CACHE
    assert "WPS" in parsed.detail and "=14+14" in parsed.detail


def test_formula_computed_to_empty_text(ind):
    parsed = V.parse_value("", ind["A10"], "人次", empty_formula='IF(G15="","",G15)')
    assert (parsed.value, parsed.raw, parsed.problem) == (None, '=IF(G15="","",G15)', V.FORMULA_EMPTY)
    assert "空白" in parsed.detail and "填 0" in parsed.detail and "保存后" not in parsed.detail


def test_unit_cell_disagreeing_with_indicator(ind):
    parsed = V.parse_value(12, ind["A01"], "元")
    assert parsed.problem == V.UNIT_MISMATCH


def test_float_goes_through_shortest_repr_not_binary_value(ind):
    # Decimal(0.1) would be 0.1000000000000000055511151231257827...; the cell shows 0.1
    parsed = V.parse_value(0.1, ind["A07"], "万元")
    assert parsed.value == Decimal("1000.00")
    assert V.raw_text(0.1) == "0.1"


@pytest.mark.parametrize("cell", [float("nan"), float("inf"), float("-inf")])
def test_a_float_that_is_no_figure_is_not_a_number(ind, cell):
    parsed = V.parse_value(cell, ind["A01"], "人")
    assert (parsed.value, parsed.problem) == (None, V.NOT_A_NUMBER)
