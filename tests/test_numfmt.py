"""The Chinese number filters, each pinned with figures as the seed letter writes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carestats import numfmt
from carestats.numfmt import NumberFormatError


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (5580, "人", "5580人"),  # A05
        (Decimal("4073"), "人", "4073人"),  # C04
        (863, "名", "863名"),  # A08
        (6676, "名", "6676名"),  # F03
        (24120, "人", "24120人"),  # F22, no thousands separator
        (Decimal("300.00"), "人次", "300人次"),
        (0, "个", "0个"),
    ],
)
def test_count(value, unit, text):
    assert numfmt.count(value, unit) == text


@pytest.mark.parametrize("bad", [Decimal("12.5"), -3, 2.0, True, "abc"])
def test_count_refuses_what_is_not_an_exact_count(bad):
    with pytest.raises(NumberFormatError):
        numfmt.count(bad, "人")


def test_count_with_the_decimals_the_catalogue_allows():
    # an area in 亩 with one decimal (indicators.csv 小数位 = 1): written as it is, trailing zeros dropped
    assert numfmt.count(Decimal("36.5"), "亩", places=1) == "36.5亩"
    assert numfmt.count(Decimal("36.50"), "亩", places=1) == "36.5亩"
    assert numfmt.count(Decimal("36.0"), "亩", places=1) == "36亩"
    with pytest.raises(NumberFormatError, match="超过指标目录规定的 1 位"):
        numfmt.count(Decimal("36.55"), "亩", places=1)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1688720.00"), "168.872万元"),  # A07
        (Decimal("4278000.00"), "427.8万元"),  # D05
        (Decimal("360000.00"), "36万元"),  # D06
        (Decimal("120000.00"), "12万元"),  # D07
        (Decimal("1966090.00"), "196.609万元"),  # C09
        (Decimal("340400.00"), "34.04万元"),  # A09
        (Decimal("967800.00"), "96.78万元"),  # F09
        (Decimal("1688720.55"), "168.872055万元"),  # exact, never rounded
        (Decimal("5000"), "0.5万元"),
    ],
)
def test_wan_yuan(value, text):
    assert numfmt.wan_yuan(value) == text


def test_yuan():
    assert numfmt.yuan(Decimal("12800.00")) == "12800元"  # A12
    assert numfmt.yuan(Decimal("12800.50")) == "12800.5元"


def test_percent_as_computed():
    assert numfmt.percent(Decimal("97.78")) == "97.78%"  # H03
    assert numfmt.percent(Decimal("97.80")) == "97.80%"


@pytest.mark.parametrize(
    ("value", "digits", "unit", "text"),
    [
        (2046, 1, "份", "2000余份"),  # A13
        (936, 1, "家", "900余家"),  # F08
        (12345, 2, "人次", "12000余人次"),  # F15
        (2000, 1, "", "2000"),  # nothing cut off, no 余
        (1627, 2, "人次", "1600余人次"),  # F01
        (6538, 2, "人", "6500余人"),  # F07
        (9214, 1, "人次", "9000余人次"),  # F13
        (527, 2, "人次", "520余人次"),  # F17
        (60812, 1, "名", "60000余名"),  # F20
        (12, 1, "次", "10余次"),  # F24
        (4260, 2, "人", "4200余人"),  # F25
        (46, 2, "", "46"),  # the seed's “46余所” is template text around an exact 46
        (7, 3, "", "7"),
    ],
)
def test_approx(value, digits, unit, text):
    assert numfmt.approx(value, digits, unit) == text


@pytest.mark.parametrize("digits", [0, -1, 1.5, True])
def test_approx_needs_a_positive_digit_count(digits):
    with pytest.raises(NumberFormatError):
        numfmt.approx(2046, digits)


def test_approx_refuses_zero():
    with pytest.raises(NumberFormatError):
        numfmt.approx(0, 1)


def test_approx_wan_yuan():
    assert numfmt.approx_wan_yuan(Decimal("152600.00")) == "15余万元"  # F11
    assert numfmt.approx_wan_yuan(Decimal("150000.00")) == "15万元"
    assert numfmt.approx_wan_yuan(Decimal("1268000"), 1) == "100余万元"
    with pytest.raises(NumberFormatError):
        numfmt.approx_wan_yuan(Decimal("9000"))


def test_cn_date():
    assert numfmt.cn_date(dt.date(2025, 12, 26)) == "2025年12月26日"
    assert numfmt.cn_date("2026-01-05") == "2026年1月5日"
    with pytest.raises(NumberFormatError):
        numfmt.cn_date("2025年12月")


@pytest.mark.parametrize(
    "raw",
    [
        "绿民函〔2025〕83号",
        "绿民函[2025]83号",
        "绿民函(2025)第083号",
        "绿民函【2025】 83 号",
        "绿民函［2025］83号",
    ],
)
def test_doc_number(raw):
    assert numfmt.doc_number(raw) == "绿民函〔2025〕83号"


def test_doc_number_refuses_a_short_year():
    with pytest.raises(NumberFormatError):
        numfmt.doc_number("绿民函〔25〕83号")


def test_plain_never_writes_an_exponent():
    assert numfmt.plain(Decimal("1E+3")) == "1000"
    assert numfmt.trimmed(Decimal("3.6E+1")) == "36"
