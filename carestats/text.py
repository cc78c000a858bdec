"""Text normalisation shared by the profile and the readers: how a label typed by a clerk is compared."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Measurement units a label may carry in brackets, e.g. “留守老人数(人)”, “健康管理率(%)”; a profile adds
# its catalogue's own (辆, 亩, 床) while it is in use (``use_measure_units``).
MEASURE_UNITS = (
    "万元",
    "人次",
    "场次",
    "元",
    "人",
    "%",
    "个",
    "所",
    "张",
    "次",
    "份",
    "家",
    "名",
    "户",
    "岁",
)

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", "“”‘’\"'「」『』《》〈〉")


def _alternation(units: Iterable[str]) -> str:
    """``人次|场次|人 …``: longest first, so that 人次 is never read as 人 followed by 次."""
    return "|".join(re.escape(u) for u in sorted(units, key=lambda u: -len(u)))


def _unit_tail(units: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"[((\[【]\s*(" + _alternation(units) + r")\s*[))\]】]$")


_units: tuple[str, ...] = MEASURE_UNITS
_UNIT_TAIL = _unit_tail(_units)
_NOT_A_UNIT = re.compile(r"[\s\d()（）\[\]【】|,,;;]")


def measure_units() -> tuple[str, ...]:
    """The unit words known now: ``MEASURE_UNITS`` and those of the profile in use (``use_measure_units``)."""
    return _units


def _figure_units(units: tuple[str, ...]) -> str:
    # 岁 only heads a column (“年龄(岁)”): a figure is never so many 岁
    return _alternation(u for u in units if u != "岁")


_FIGURE_UNITS = _figure_units(_units)


def unit_alternation() -> str:
    """The unit words a figure may be typed with (5680人, 24辆) as a regular-expression alternation, longest
    first (made once per set of units: it is asked for every value cell typed as text)."""
    return _FIGURE_UNITS


def catalogue_unit_words(units: Iterable[str]) -> tuple[str, ...]:
    """A catalogue's own 计量单位 that are not built-in unit words (辆, 亩, 床), in catalogue order: what
    a profile makes known when it is loaded or used (``use_measure_units``)."""
    words = dict.fromkeys(nfkc(x).strip() for x in units)
    return tuple(u for u in words if u and not _NOT_A_UNIT.search(u) and u not in MEASURE_UNITS)


_extra: tuple[str, ...] = ()  # the words of the profile now in use, beyond MEASURE_UNITS


def use_measure_units(words: tuple[str, ...]) -> bool:
    """Make ``MEASURE_UNITS`` and a profile's own words (``catalogue_unit_words``: 辆, 亩, 床) the unit words,
    and no others: “助老爱心车辆(辆)” is then 助老爱心车辆 with the unit 辆, as “留守老人数(人)” is 留守老人数,
    while a profile without 床 still reads “养老服务床位(床)” as a label of its own (another profile's words,
    loaded before, do not change it). Called when a profile is loaded (in a worker too) and when it reads
    labels; a no-op when the words are already in use. True when they changed."""
    global _extra, _units, _UNIT_TAIL, _FIGURE_UNITS
    if words == _extra:
        return False
    _extra = words
    _units = MEASURE_UNITS + words
    _UNIT_TAIL = _unit_tail(_units)
    _FIGURE_UNITS = _figure_units(_units)
    split_unit.cache_clear()
    name_key.cache_clear()
    return True


_NUMBERING = re.compile(r"^(\d+[.、.)]|[((]?[一二三四五六七八九十]+[)、)]|[((]\d+[))])")
_QIZHONG = re.compile(r"^其中[::]?")
_CIRCLED = dict.fromkeys(range(0x2460, 0x2474))  # ①…⑳ as numbering (NFKC would make them plain digits)


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet cell: CJK characters count double (for column widths)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def nfkc(text: str) -> str:
    """NFKC plus the dashes and the middle dot that NFKC leaves alone."""
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


@lru_cache(maxsize=65536)
def squash(text: str) -> str:
    """NFKC, no white space at all: the form in which two labels are compared.

    Cached: the same labels come back in every return of a batch.
    """
    return _SPACE.sub("", nfkc(text))


@lru_cache(maxsize=65536)
def split_unit(label: str) -> tuple[str, str | None]:
    """“留守老人数(人)” → (“留守老人数”, “人”); a label without a unit in brackets keeps None."""
    s = squash(label)
    m = _UNIT_TAIL.search(s)
    if m:
        return s[: m.start()], m.group(1)
    return s, None


@lru_cache(maxsize=65536)
def name_key(label: str) -> str:
    """The key a catalogue name or a row label is looked up by.

    NFKC, no spaces or quotes, no leading numbering (“1.”, “(一)”), no unit in brackets at the end,
    “其中：” kept as the normalised prefix “其中:” so that callers can tell a part-of row.
    """
    s, _unit = split_unit(label.translate(_CIRCLED))
    s = s.translate(_QUOTES)
    s = _NUMBERING.sub("", s)
    if _QIZHONG.match(s):  # “其中：1.纳入…”: numbered after 其中 too
        s = "其中:" + _NUMBERING.sub("", _QIZHONG.sub("", s))
    return s.rstrip(":") if len(s) > 3 else s  # “…老年人数：” typed with a colon


def strip_qizhong(key: str) -> tuple[bool, str]:
    """(is a “其中” row, the key without the prefix)."""
    if key.startswith("其中:"):
        return True, key[3:]
    return False, key
