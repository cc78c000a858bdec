"""How a figure is written in a letter: Chinese number conventions (GB/T 15835 and the seed letter).

Pure functions on exact values (``Decimal`` or ``int``; a ``float`` is refused, it has already lost the
figure). Each returns the text as printed, unit word included, so that a test can compare it with the seed.

- counts with their unit, no thousands separators: 5580 → “5580人”;
- money in 元 written in 万元, exactly, trailing zeros dropped: 1688720.00 → “168.872万元”;
- money in 元 as 元: 12800.00 → “12800元”;
- rates as computed: 97.78 → “97.78%”;
- approximations floored to N significant digits, “余” only when something was cut off:
  2046 with 1 digit → “2000余”, 2000 → “2000”; 152600 元 → “15余万元”;
- dates: 2025-12-26 → “2025年12月26日”; 文号 with 六角括号: “绿民函〔2025〕83号”.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from carestats.errors import CarestatsError

Number = Decimal | int

_WAN = 4  # 1 万 = 10^4


class NumberFormatError(CarestatsError):
    """A value that cannot be written the way the template asks (a count with decimals, a negative …)."""


def to_decimal(value: object) -> Decimal:
    """An exact Decimal from an int, a Decimal or a decimal string; floats and booleans are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise NumberFormatError(f"数值 {value!r} 不是精确数(浮点数),不能写入答复函。")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberFormatError(f"数值 {value} 不是有限数。")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except ArithmeticError as exc:
            raise NumberFormatError(f"“{value}”不是数字。") from exc
        if d.is_finite():
            return d
    raise NumberFormatError(f"“{value}”不是数字。")


def plain(value: Number) -> str:
    """Fixed-point digits as they are, never an exponent: Decimal('97.78') → '97.78', 1E+3 → '1000'."""
    return format(to_decimal(value), "f")


def trimmed(value: Number) -> str:
    """Fixed-point digits with trailing fractional zeros dropped: 12800.00 → '12800', 34.0400 → '34.04'."""
    d = to_decimal(value)
    if d == d.to_integral_value():
        return format(d.quantize(Decimal(1)), "f")
    return format(d.normalize(), "f")


def _non_negative(d: Decimal, what: str) -> None:
    if d < 0:
        raise NumberFormatError(f"{what}是负数({plain(d)}),不能这样写入答复函。")


def count(value: Number, unit: str = "", places: int = 0) -> str:
    """An exact count with its unit word: 5580 → '5580人'. ``places``: the decimals the catalogue allows
    (an area in 亩 with one: 36.5 → '36.5亩'); a figure with more is refused, never rounded."""
    d = to_decimal(value)
    _non_negative(d, "计数")
    if d == d.to_integral_value():
        return format(d.quantize(Decimal(1)), "f") + unit
    if places <= 0:
        raise NumberFormatError(f"计数应为整数,却是 {plain(d)}。")
    shown = trimmed(d)
    if len(shown.split(".", 1)[1]) > places:
        raise NumberFormatError(f"计数 {plain(d)} 的小数位超过指标目录规定的 {places} 位。")
    return shown + unit


def yuan(value: Number) -> str:
    """Money in 元, written in 元: 12800.00 → '12800元', 12800.50 → '12800.5元'."""
    d = to_decimal(value)
    _non_negative(d, "金额")
    return trimmed(d) + "元"


def wan_yuan(value: Number) -> str:
    """Money in 元, written in 万元 exactly: 1688720 → '168.872万元', 4278000 → '427.8万元', 360000 → '36万元'."""
    d = to_decimal(value)
    _non_negative(d, "金额")
    return trimmed(d.scaleb(-_WAN)) + "万元"


def percent(value: Number) -> str:
    """A rate as computed, digits untouched: Decimal('97.78') → '97.78%'."""
    return plain(value) + "%"


def approx(value: Number, digits: int, unit: str = "") -> str:
    """Floor to ``digits`` significant digits; add 余 only when something was cut off.

    2046, 1 → '2000余'; 936, 1 → '900余'; 12345, 2 → '12000余'; 2000, 1 → '2000'. The unit word
    follows 余 ('2000余份'). Which N is right is the template's choice, figure by figure.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise NumberFormatError(f"约数的有效位数应为正整数,却是 {digits!r}。")
    d = to_decimal(value)
    _non_negative(d, "约数")
    whole = int(d)  # floor for a non-negative value
    if whole == 0:
        raise NumberFormatError(f"{plain(d)} 不足 1,不能写成“余”数。")
    step = 10 ** max(len(str(whole)) - digits, 0)
    floored = (whole // step) * step
    cut = Decimal(floored) != d
    return f"{floored}{'余' if cut else ''}{unit}"


def approx_wan_yuan(value: Number, digits: int | None = None) -> str:
    """Money in 元 as an approximate 万元 figure: 152600 → '15余万元' (floored to whole 万元 by default).

    ``digits`` floors further to that many significant digits (1268000, 1 → '100余万元').
    """
    d = to_decimal(value)
    _non_negative(d, "金额")
    wan = d.scaleb(-_WAN)
    if wan < 1:
        raise NumberFormatError(f"{trimmed(d)} 元不足 1 万元,不能写成“余万元”。")
    if digits is None:
        digits = len(str(int(wan)))
    return approx(wan, digits, "万元")


def cn_date(value: dt.date | str) -> str:
    """2025-12-26 (a date or ISO text) → '2025年12月26日': Arabic numerals, full year, no zero padding."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise NumberFormatError(f"日期“{value}”应写成 2025-12-26 这样的格式。") from exc
    if not isinstance(value, dt.date):
        raise NumberFormatError(f"“{value}”不是日期。")
    return f"{value.year}年{value.month}月{value.day}日"


_DOC_NO = re.compile(
    r"^\s*(?P<org>[^\s〔\[［【(（〈<]+)\s*[〔\[［【(（〈<]\s*(?P<year>\d{4})\s*[〕\]］】)）〉>]"
    r"\s*第?\s*(?P<num>\d+)\s*号\s*$"
)


def doc_number(value: str) -> str:
    """A 发文字号 in the standard form: '绿民函[2025]第083号' → '绿民函〔2025〕83号'.

    六角括号 around the full year, no 第, no leading zeros (GB/T 9704-2012 7.2.4).
    """
    m = _DOC_NO.match(str(value))
    if not m:
        raise NumberFormatError(
            f"文号“{value}”应写成“{_doc_number_example(str(value))}”这样的格式(机关代字、〔年份〕、序号、号)。"
        )
    return f"{m['org']}〔{m['year']}〕{int(m['num'])}号"


def _doc_number_example(value: str) -> str:
    """The 文号 the clerk meant, in the standard form, from its own 机关代字 and numbers (“元民函2025年12号”
    → “元民函〔2025〕12号”): an example from another county's letters would only confuse."""
    org = re.match(r"\s*([^\d\s〔\[［【(（〈<第]+)", value)
    numbers = re.findall(r"\d+", value)
    year = next((n for n in numbers if len(n) == 4), "2025")
    rest = [n for n in numbers if n != year]
    return f"{org.group(1) if org else '某民函'}〔{year}〕{int(rest[-1]) if rest else 1}号"
