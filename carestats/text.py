"""Text normalisation shared by the profile and the readers: how a label typed by a clerk is compared."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Measurement units a label may carry in brackets, e.g. “留守老人数(人)”, “健康管理率(%)”.
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
_UNIT_TAIL = re.compile(r"[((\[【]\s*(" + "|".join(re.escape(u) for u in MEASURE_UNITS) + r")\s*[))\]】]$")
_NUMBERING = re.compile(r"^(\d+[.、.)]|[((]?[一二三四五六七八九十]+[)、)]|[((]\d+[))])")
_QIZHONG = re.compile(r"^其中[::]?")
_CIRCLED = dict.fromkeys(range(0x2460, 0x2474))  # ①…⑳ as numbering (NFKC would make them plain digits)


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
