"""The rule expression language and the interval arithmetic behind the rounding rule, on their own."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from carestats.expr import DivisionByZero, ExprError, Expression, MissingInput, round_half_up
from carestats.interval import Interval, decimals_of

CODES = {"A01", "A02", "A05", "A06", "A07", "H01", "H02", "H03"}


def ev(text: str, **env: str) -> bool:
    return Expression(text, CODES).evaluate({k: D(v) for k, v in env.items()}).value


def test_comparisons_and_codes_in_order():
    e = Expression("A02 <= A01", CODES)
    assert e.codes == ("A02", "A01")
    assert ev("A02 <= A01", A02="569", A01="569")
    assert not ev("A02 <= A01", A02="574", A01="569")
    assert ev("100 <= A07 / A06 <= 2000", A07="369104", A06="781")
    assert not ev("100 <= A07 / A06 <= 2000", A07="3691040", A06="781")
    assert ev("A02 < A01 and A01 != 0", A02="1", A01="2")
    assert ev("A02 > A01 or A01 == 2", A02="1", A01="2")


def test_failed_link_of_a_chain_is_reported_with_its_numbers():
    out = Expression("100 <= A07 / A06 <= 2000", CODES).evaluate({"A07": D("50"), "A06": D("1")})
    (failed,) = out.failed
    assert (failed.left_text, failed.op, failed.right_text) == ("100", "<=", "A07 / A06")
    assert failed.right == D(50) and failed.right_codes == ("A07", "A06")


def test_decimal_literals_are_exact_not_floats():
    assert ev("A01 * 0.1 + A01 * 0.2 == A01 * 0.3", A01="1")  # 0.1 + 0.2 != 0.3 in binary floating point
    assert Expression("A01 == 1.10", CODES).evaluate({"A01": D("1.1")}).value


def test_functions_sum_abs_round_half_up():
    assert ev("sum(A02, A05) == 3", A02="1", A05="2")
    assert ev("abs(A02 - A01) <= 1", A02="3", A01="4")
    assert ev("round(A01, 0) == 3", A01="2.5")  # 四舍五入, not banker's rounding (Python's round gives 2)
    assert ev("round(H02 / H01 * 100, 2) == H03", H02="3911", H01="4000", H03="97.78")
    assert round_half_up(D("97.775"), 2) == D("97.78")
    assert round_half_up(D("97.7749999"), 2) == D("97.77")


def test_missing_input_and_division_by_zero_are_not_failures():
    e = Expression("A07 / A06 >= 100", CODES)
    with pytest.raises(MissingInput) as exc:
        e.evaluate({"A07": D(1), "A06": None})
    assert exc.value.code == "A06"
    with pytest.raises(DivisionByZero) as dz:
        e.evaluate({"A07": D(1), "A06": D(0)})
    assert dz.value.text == "A06"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("A02 <= A99", "未知指标代码 A99"),
        ("A02 <=", "语法错误"),
        ("A02 + A01", "不是比较式"),
        ("__import__('os').system('x') == 0", "不是可用的函数"),
        ("A01.real == 1", "不是规则里可以用的写法"),
        ("(lambda: 1)() == 1", "不是可用的函数"),
        ("A01 == 'x'", "不是数字"),
        ("A01 in [1, 2]", "不支持的比较符号"),
        ("A01 ** 2 == 4", "不是规则里可以用的写法"),
        ("round(A01, A02) == 1", "小数位"),
        ("sum() == 0", "至少要有一个参数"),
        ("abs(A01, A02) == 0", "只接受一个参数"),
        ("sum == 0", "后面要有括号"),
        ("(A01 < A02) + 1 == 1", "应是数值"),
        ("A01 == True", "不是数字"),
        ("", "为空"),
    ],
)
def test_anything_off_the_whitelist_is_refused(text, why):
    with pytest.raises(ExprError) as exc:
        Expression(text, CODES)
    assert why in str(exc.value)


def test_numeric_expression_mode():
    e = Expression("H02 / H01 * 100", CODES, boolean=False)
    assert e.value({"H02": D(1), "H01": D(4)}) == D(25)
    with pytest.raises(ExprError):
        Expression("H02 < H01", CODES, boolean=False)


# --------------------------------------------------------------------------- intervals
def test_rounded_interval_is_half_open():
    i = Interval.rounded(D("97.78"), 2)
    assert (i.lo, i.hi, i.lo_closed, i.hi_closed) == (D("97.775"), D("97.785"), True, False)
    assert i.overlaps(Interval.point(D("97.775")))  # rounds half-up to 97.78
    assert not i.overlaps(Interval.point(D("97.785")))  # rounds half-up to 97.79
    assert not i.overlaps(Interval.point(D("97.7749999")))
    assert i.overlaps(Interval.point(D("97.7849999")))


def test_fewer_digits_shown_mean_the_profile_decimals_and_more_digits_are_kept():
    assert Interval.rounded(D("98.1"), 2) == Interval(D("98.095"), D("98.105"), True, False)
    assert Interval.rounded(D("98"), 2) == Interval(D("97.995"), D("98.005"), True, False)
    assert Interval.rounded(D("97.851"), 2) == Interval(D("97.8505"), D("97.8515"), True, False)


def test_interval_division_of_points_and_rounded_inputs():
    q = (Interval.point(D(3911)) / Interval.point(D(4000))).scale(D(100))
    assert q.is_point and q.lo == D("97.775")
    wide = Interval.rounded(D("1.0"), 1) / Interval.point(D(2))  # [0.95, 1.05) / 2 = [0.475, 0.525)
    assert wide == Interval(D("0.475"), D("0.525"), True, False)
    with pytest.raises(ValueError):
        Interval.point(D(1)) / Interval.point(D(0))


def test_overlap_at_touching_ends_respects_openness():
    a = Interval(D(1), D(2), True, False)
    assert not a.overlaps(Interval(D(2), D(3)))
    assert a.overlaps(Interval(D(0), D(1)))
    assert not Interval(D(0), D(1), True, False).overlaps(a)


def test_decimals_of():
    assert [decimals_of(D(x)) for x in ("98.1", "98", "98.10", "1E+2")] == [1, 0, 2, 0]
