"""A raw cell → an exact Decimal in the indicator's unit, or a located reason why not.

Nothing is guessed: a blank, an approximate figure (“2000余”), a placeholder (“—”), a formula without a
cached value or any other non-number is a problem, never 0.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from carestats.profile import Indicator
from carestats.text import nfkc, unit_alternation

# Problem codes (stable: tests, the store and check depend on them, not on wording).
BLANK = "blank"
APPROXIMATE = "approximate"
PLACEHOLDER = "placeholder"
FORMULA_NO_CACHE = "formula-no-cache"
# a formula computed to empty text (=IF(B5="","",B5)): unlike FORMULA_NO_CACHE, saving again will not help
FORMULA_EMPTY = "formula-empty"
ERROR_VALUE = "error-value"
NOT_A_NUMBER = "not-a-number"
UNIT_MISMATCH = "unit-mismatch"

PROBLEM_TITLES = {
    BLANK: "空白单元格",
    APPROXIMATE: "估计数",
    PLACEHOLDER: "占位符",
    FORMULA_NO_CACHE: "公式没有计算结果",
    FORMULA_EMPTY: "公式结果为空",
    ERROR_VALUE: "公式错误值",
    NOT_A_NUMBER: "不是数字",
    UNIT_MISMATCH: "计量单位不符",
}

_PLACEHOLDERS = {"-", "--", "—", "——", "/", "\\", "无", "空", "暂无", "n/a", "na", "null", "none", "x", "×"}
_APPROX = re.compile(r"(余|多|约|左右|以上|以下|上下|近|超过|不到|大约|大概|~|～|\+$|^\+)")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@lru_cache(maxsize=4)
def _suffix(units: str) -> re.Pattern[str]:
    """A number with a unit word after it (5680人, 168.872万元, and the profile's own: 24辆, 36.5亩)."""
    return re.compile(r"^(?P<num>[+-]?[\d.,]+)\s*(?P<unit>" + units + r")$")


_SPACED_DIGITS = re.compile(r"\d\s+\d")
_SPACE_GROUPED = re.compile(r"^[+-]?\d{1,3}(\s\d{3})+(\.\d+)?(\s*\D+)?$")  # 1 234 567.5 (人)
# Excel holds 15 significant digits: a figure of 16 digits or more before the point is no count or sum of
# money but a phone number, an ID number or several numbers typed into one cell.
MAX_INTEGER_DIGITS = 15

TEN_THOUSAND = Decimal(10000)


class Parsed(NamedTuple):
    """A value cell read: one for every value cell of every return, so a light immutable tuple."""

    value: Decimal | None
    raw: str
    problem: str | None = None
    detail: str | None = None  # Chinese, what is wrong and what to do


def raw_text(cell: object) -> str:
    """The cell as text for the record: floats through their shortest repr."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return _float_text(cell)
    return str(cell)


def _float_text(f: float) -> str:
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    s = repr(f)
    digits = len(re.sub(r"[^0-9]", "", s.split("e")[0]).lstrip("0"))
    if digits > 15:  # floating noise such as 274.65999999999997: 15 significant digits is what Excel shows
        s = format(f, ".15g")
    return s


ONE = Decimal(1)


@lru_cache(maxsize=4096)
def _scale(unit_text: str, unit: str, kind: str) -> tuple[Decimal | None, str]:
    """(multiplier to the catalogue unit or None when the units differ, the unit as written)."""
    u = nfkc(unit_text).strip().lstrip("(").rstrip(")").strip()
    if not u or u == unit:
        return ONE, u
    if kind == "money" and u == "万元" and unit == "元":
        return TEN_THOUSAND, u
    if kind == "rate" and u in ("%", "百分比", "百分数"):
        return ONE, u
    if u in ("人次", "人") and unit in ("人次", "人") or u in ("名", "人") and unit in ("名", "人"):
        return ONE, u  # 人/名/人次 are spelled interchangeably on returns of counts of people
    return None, u


def unit_scale(unit_text: str | None, ind: Indicator) -> tuple[Decimal, str | None]:
    """Scale for a 计量单位 cell or a header “(万元)”: (multiplier to the catalogue unit, problem detail)."""
    if not unit_text:
        return ONE, None
    scale, u = _scale(unit_text, ind.unit, ind.kind)  # cached by strings: cheap for every value cell
    if scale is None:
        return ONE, f"计量单位为“{u}”,而指标 {ind.label} 的计量单位是“{ind.unit}”"
    return scale, None


def parse_value(
    cell: object,
    ind: Indicator,
    unit_text: str | None = None,
    *,
    formula: str | None = None,
    error: str | None = None,
    scaled: tuple[Decimal, str | None] | None = None,
    empty_formula: str | None = None,
) -> Parsed:
    """Parse one value cell for ``ind``. ``unit_text`` is the row's 计量单位 or the column header's unit;
    ``scaled`` is ``unit_scale(unit_text, ind)`` when the caller knows it already (a template's plan does).
    ``formula`` is a formula saved without its result, ``empty_formula`` one whose saved result is empty text:
    the cell looks blank either way, but only the first is mended by opening and saving the file."""
    if formula is not None:
        return Parsed(
            None,
            f"={formula}",
            FORMULA_NO_CACHE,
            f"公式“={formula}”没有保存计算结果;请用 WPS 或 Excel 打开该文件并保存后重新报送",
        )
    if empty_formula is not None:
        shown = f"公式“={empty_formula}”" if empty_formula else "公式"  # a shared formula's copy has no text
        return Parsed(
            None,
            f"={empty_formula}",
            FORMULA_EMPTY,
            f"{shown}的计算结果是空白(空文本),不是数字,重新保存也不会变;"
            "这一格必须是本年的数(无数据的填 0):请改正公式或直接填写数字后重新报送",
        )
    if error is not None:
        return Parsed(None, error, ERROR_VALUE, f"单元格是错误值 {error};请改正公式或填写准确数")
    scale, unit_problem = scaled or unit_scale(unit_text, ind)
    t = type(cell)
    if t is float or t is int or (t is not bool and isinstance(cell, (int, float))):  # the common case
        raw = _float_text(float(cell)) if isinstance(cell, float) else str(int(cell))  # type: ignore[arg-type]
        if unit_problem:
            return Parsed(None, raw, UNIT_MISMATCH, unit_problem + ";请核对计量单位")
        if (
            scale is ONE
            and raw.isdigit()
            and len(raw) <= MAX_INTEGER_DIGITS
            and ind.kind not in ("money", "rate")
        ):
            return Parsed(Decimal(raw), raw)  # a whole count: already exact, nothing to round or scale
        value = Decimal(raw)  # the shortest text of a float is the figure the clerk typed, never float math
        if not value.is_finite():
            return Parsed(None, raw, NOT_A_NUMBER, f"“{raw}”不是数字;请填写准确数")
        if too_long := _too_long(value, raw):
            return too_long
        return Parsed(_finish(value if scale is ONE else value * scale, ind), raw)
    raw = raw_text(cell)
    if unit_problem:
        return Parsed(None, raw, UNIT_MISMATCH, unit_problem + ";请核对计量单位")
    if isinstance(cell, bool) or isinstance(cell, dt.date | dt.time | dt.timedelta):
        return Parsed(None, raw, NOT_A_NUMBER, f"“{raw}”不是数字(日期或逻辑值);请填写准确数")
    text = nfkc(raw).strip().replace("\u00a0", "")
    if not text:
        return Parsed(None, raw, BLANK, "单元格为空;无数据的应填 0,不得留空")
    if _SPACED_DIGITS.search(text) and not _SPACE_GROUPED.match(text):
        return Parsed(None, raw, NOT_A_NUMBER, f"“{raw}”中间有空格,不是一个数;请只填写一个准确数")
    compact = re.sub(r"\s+", "", text)
    if compact.lower() in _PLACEHOLDERS:
        return Parsed(None, raw, PLACEHOLDER, f"“{raw}”不是数值;无数据的应填 0")
    if _APPROX.search(compact):
        return Parsed(None, raw, APPROXIMATE, f"“{raw}”是估计数;填报说明要求填写准确数,不得填写“约”“余”等")
    m = _suffix(unit_alternation()).match(compact)
    if m:
        scale2, problem = unit_scale(m.group("unit"), ind)
        if problem:
            return Parsed(None, raw, UNIT_MISMATCH, f"“{raw}”的{problem};请核对")
        if unit_text and scale2 != scale:
            return Parsed(None, raw, UNIT_MISMATCH, f"“{raw}”与计量单位“{unit_text}”不一致;请核对")
        scale, compact = scale2, m.group("num")
    if _THOUSANDS.match(compact):
        compact = compact.replace(",", "")
    if not _NUMBER.match(compact):
        return _not_a_number(raw, compact)
    try:
        value = Decimal(compact)
    except InvalidOperation:
        return Parsed(None, raw, NOT_A_NUMBER, f"“{raw}”不是数字;请填写准确数")
    if too_long := _too_long(value, raw):
        return too_long
    return Parsed(_finish(value * scale, ind), raw)


# What Excel/WPS show in an error cell, kept as text by a CSV saved from it or by a copy pasted as values.
_ERROR_LITERALS = frozenset(
    ("#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA")
)
# WPS's in-cell picture (嵌入单元格的图片): its cached value is the formula's own text.
_DISPIMG = re.compile(r"^=?(_xlfn\.)?DISPIMG\(", re.IGNORECASE)


def _not_a_number(raw: str, compact: str) -> Parsed:
    """Text that is no number, told as what the clerk sees in the cell: an error value (#DIV/0! as text, from
    a CSV) or a WPS picture, rather than only “not a number”. Only reached for a cell that is no figure."""
    if compact.upper() in _ERROR_LITERALS:
        return Parsed(None, raw, ERROR_VALUE, f"单元格是错误值 {compact.upper()};请改正公式或填写准确数")
    if _DISPIMG.match(compact):
        return Parsed(
            None, raw, NOT_A_NUMBER, "单元格里是一张图片(WPS 嵌入单元格的图片),不是数字;请删除图片,填写准确数"
        )
    return Parsed(None, raw, NOT_A_NUMBER, f"“{raw}”不是数字;请填写准确数")


def _too_long(value: Decimal, raw: str) -> Parsed | None:
    """A figure with more digits before the point than Excel can hold, as a problem (never rounded)."""
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        return Parsed(
            None,
            raw,
            NOT_A_NUMBER,
            f"“{raw}”有 {value.adjusted() + 1} 位整数,超过 {MAX_INTEGER_DIGITS} 位,不像统计数"
            "(可能是电话号码、身份证号或几个数填在了一格);请填写准确数",
        )
    return None


def _finish(value: Decimal, ind: Indicator) -> Decimal:
    """Give the value its catalogue precision when that loses nothing (98 → 98.00 for a 2-decimal rate)."""
    if ind.kind in ("money", "rate"):
        q = _quantum(ind.decimals)
        try:
            exact = value.quantize(q)
        except InvalidOperation:  # more digits than the context holds: keep the figure as it is
            return value.normalize()
        return exact if exact == value else value.normalize()
    if value == value.to_integral_value():
        return value.quantize(ONE)
    return value.normalize()


@lru_cache(maxsize=16)
def _quantum(decimals: int) -> Decimal:
    """1 for 0 decimals, 0.01 for 2: the step a catalogue precision rounds to (one per precision)."""
    return ONE.scaleb(-decimals)


def decimal_text(value: Decimal) -> str:
    """Exact text for the store, never in exponent notation."""
    return format(value, "f")
