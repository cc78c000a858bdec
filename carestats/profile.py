"""The profile: a county's units, indicator catalogue, tables, rates and limits, read from a folder of data files.

Another county is another folder, never a code change. ``Profile.load`` validates what it reads and raises
``ProfileError`` with the file and line, so that a broken profile stops a command with exit 2.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import shutil
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from carestats.errors import CarestatsError, ProfileError, os_reason, toml_problem
from carestats.reader import Limits
from carestats.resources import default_profile_dir, examples_dir, templates_dir
from carestats.text import catalogue_unit_words, name_key, squash, use_measure_units

KINDS = ("count", "money", "rate")
UNIT_KINDS = (
    "乡镇",
    "部门",
)  # a township files its own 表一 and is a row of 表二; the code knows no other kind
ENV_PROFILE = "CARESTATS_PROFILE"

# In running text (a letter's sentence) a unit's spelling counts only as a whole name. A department's
# spelling right after another government's level (州民政局, 省妇联, 全国妇联, 区民政局) or a lower one's
# (乡镇妇联, 村妇联) is that body's, not the county department's; a township's bare name (大兴 for 大兴镇)
# right before a place word is another place (大兴村, 平河社区, 大兴县).
OTHER_LEVELS = "省州市区国"
LOWER_LEVELS = "乡镇村"
TOWNSHIP_ENDINGS = ("乡", "镇", "街道", "办事处")
PLACE_WORDS = ("村", "社区", "居委会", "街道", "县", "区")
NOT_PLACE_WORDS = ("区域",)  # 大兴区域内: the township's area


@dataclass(frozen=True)
class Indicator:
    code: str
    tables: tuple[str, ...]
    name: str
    unit: str  # 计量单位 as the form states it: 人, 元, %, 人次 …
    kind: str  # count | money | rate
    decimals: int
    parent: str | None  # the row a “其中” row is part of
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class Unit:
    name: str
    kind: str  # 乡镇 | 部门
    tables: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """A section heading printed on the form (“一、老年人关爱服务”) above the indicator ``first``."""

    title: str
    first: str


@dataclass(frozen=True)
class Table:
    id: str
    name: str
    filer: str  # "乡镇" (each township) or a unit name
    about: str  # "filer" or "乡镇"
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Rate:
    code: str
    numerator: str
    denominator: str
    scale: int


@dataclass
class Profile:
    path: Path
    county: str
    title: str
    year: int
    tables: dict[str, Table]
    indicators: dict[str, Indicator]
    units: dict[str, Unit]
    rates: dict[str, Rate]
    limits: dict[str, int]
    _name_index: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _unit_index: list[tuple[str, str]] = field(default_factory=list, repr=False)
    _unit_by_label: dict[str, str] = field(default_factory=dict, repr=False)
    _unit_lengths_by_first: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _unit_parts: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _unit_longest: int = field(default=0, repr=False)
    _table_codes: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _row_units: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _unit_words: tuple[str, ...] = field(default=(), repr=False)  # the catalogue's own 计量单位: 辆, 亩, 床

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A profile sent to a worker process that starts a new Python (Windows): its catalogue's unit
        words are made known there too, as ``load`` made them known here."""
        self.__dict__.update(state)
        self.use_unit_words()

    def use_unit_words(self) -> None:
        """Make this profile's unit words the process's (``text.use_measure_units``): labels are compared
        with them. Called by whatever reads labels for a profile (the reader, the letter's lookups), since
        loading another profile since puts that one's words in force; cheap when they already are."""
        use_measure_units(self._unit_words)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path | None = None) -> Profile:
        """Load a profile folder; None means ``$CARESTATS_PROFILE`` or the bundled default."""
        if path is None:
            path = os.environ.get(ENV_PROFILE) or default_profile_dir()
        root = Path(path)
        if not root.is_dir():
            raise ProfileError(
                f"找不到配置目录 {root}。请检查 --profile 参数,或用 carestats init 目录 生成一份。"
            )
        toml_path = root / "profile.toml"
        meta = read_toml(toml_path)
        spec = _ProfileToml(toml_path, meta)
        county, title, year = spec.county, spec.title, spec.year
        tables, rates, limits = spec.tables, spec.rates, spec.limits
        indicators = _read_indicators(root / "indicators.csv", tables, rates)
        units = _read_units(root / "units.csv", tables)
        for table in tables.values():
            for section in table.sections:
                ind = indicators.get(section.first)
                if ind is None or table.id not in ind.tables:
                    raise ProfileError(
                        f"配置文件 {toml_path} 中{table.id}的分组“{section.title}”"
                        f"从指标 {section.first} 开始,但该指标不在{table.id}中。"
                    )
        spec.check_rates(indicators)
        spec.check_filers(units)
        prof = cls(
            path=root,
            county=county,
            title=title,
            year=year,
            tables=tables,
            indicators=indicators,
            units=units,
            rates=rates,
            limits=limits,
            _unit_words=catalogue_unit_words(ind.unit for ind in indicators.values()),
        )
        prof.use_unit_words()
        prof._build_indexes()
        return prof

    def _build_indexes(self) -> None:
        index: dict[str, list[str]] = {}
        for ind in self.indicators.values():
            for label in (ind.name, *ind.aliases):
                key = name_key(label)
                codes = index.setdefault(key, [])
                if ind.code not in codes:
                    codes.append(ind.code)
        self._name_index = index
        pairs: list[tuple[str, str]] = []
        for unit in self.units.values():
            for label in (unit.name, *unit.aliases):
                pairs.append((squash(label), unit.name))
        # Longest spelling first, so that “大黑山镇” wins over “大黑山” and “县民政局本级” over “民政局”.
        pairs.sort(key=lambda p: -len(p[0]))
        self._unit_index = pairs
        self._unit_by_label = {}
        for label, name in pairs:
            self._unit_by_label.setdefault(label, name)
        firsts: dict[str, set[int]] = {}
        for label, _name in pairs:
            if label:
                firsts.setdefault(label[0], set()).add(len(label))
        self._unit_lengths_by_first = {ch: sorted(ls, reverse=True) for ch, ls in firsts.items()}

    def _name_parts(self) -> tuple[dict[str, frozenset[str]], int]:
        """Every stretch of a unit's spelling → the units it is part of a name of, and the longest spelling.
        Made on first use: only the letter check reads running text, and for a province's thousand units
        the table costs more than loading the rest of the profile, which every command does."""
        if not self._unit_parts:
            parts: dict[str, set[str]] = {}
            for label, name in self._unit_index:
                for i in range(len(label)):
                    for j in range(i + 1, len(label) + 1):
                        parts.setdefault(label[i:j], set()).add(name)
            self._unit_parts = {part: frozenset(names) for part, names in parts.items()}
            self._unit_longest = max((len(label) for label, _name in self._unit_index), default=0)
        return self._unit_parts, self._unit_longest

    # ------------------------------------------------------------------ lookups
    def codes_for_name(self, key: str) -> list[str]:
        """Indicator codes whose name or other spelling normalises to ``key`` (see ``text.name_key``)."""
        return list(self._name_index.get(key, []))

    def all_name_keys(self) -> list[str]:
        return list(self._name_index)

    def unit_named(self, text: str) -> str | None:
        """The unit a whole cell names (“平河乡” → 平河镇), or None."""
        s = squash(text)
        for suffix in ("人民政府", "政府"):
            if s.endswith(suffix) and len(s) > len(suffix):
                s = s[: -len(suffix)]
        s = s.removeprefix(squash(self.county)) if s != squash(self.county) else s
        return self._unit_by_label.get(s)

    def units_mentioned(self, text: str, *, prose: bool = False) -> list[str]:
        """Every unit a free text (title, file name) mentions, longest spelling first, without overlaps.

        ``prose``: the text is running text (a letter's clause), where a spelling counts only as a whole
        name (``_inside_another_name``): 州民政局 is not 县民政局, 大兴村 not 大兴镇. Titles and file names
        are read as before: a return's title names its own unit.
        """
        s = squash(text)
        by_label = self._unit_by_label
        lengths = self._unit_lengths_by_first
        # (-length, start, unit) of every spelling found: sorted, the longest spellings claim the text first
        hits: list[tuple[int, int, str]] = []
        for start, ch in enumerate(s):
            for length in lengths.get(ch, ()):  # only the lengths of spellings that start with this character
                name = by_label.get(s[start : start + length])
                if name is not None:
                    hits.append((-length, start, name))
        found: list[str] = []
        taken = [False] * len(s)
        for neg, start, name in sorted(hits):
            length = -neg
            if not any(taken[start : start + length]):
                # a spelling inside another name still claims its text: no shorter spelling in it counts
                taken[start : start + length] = [True] * length
                if prose and self._inside_another_name(s, start, start + length, name):
                    continue
                if name not in found:
                    found.append(name)
        return found

    def _inside_another_name(self, s: str, start: int, end: int, name: str) -> bool:
        """Whether the spelling ``s[start:end]`` of unit ``name`` is part of a longer name in running text:
        another unit's spelling holds it and the characters around it go on as that spelling does (新大兴
        of 新大兴乡, not 大兴镇); a department's follows another level (州民政局, 乡镇妇联); a township's
        bare name comes before a place word (大兴村, 大兴县)."""
        label = s[start:end]
        if self.units[name].kind == "部门":
            before = s[start - 1 : start]
            ours = label.startswith(("县", squash(self.county)))  # 红河州绿春县民政局 is ours
            if before and (before in LOWER_LEVELS or (before in OTHER_LEVELS and not ours)):
                return True
        elif not label.endswith(TOWNSHIP_ENDINGS):
            rest = s[end:]
            if rest.startswith(PLACE_WORDS) and not rest.startswith(NOT_PLACE_WORDS):
                return True
        unit_parts, longest = self._name_parts()
        for i in range(start, max(end - longest, 0) - 1, -1):
            for j in range(end, min(len(s), i + longest) + 1):
                owners = unit_parts.get(s[i:j])
                if (i, j) != (start, end) and owners and name not in owners:
                    return True
        return False

    def townships(self) -> list[str]:
        return [u.name for u in self.units.values() if u.kind == "乡镇"]

    def expected_returns(self) -> list[tuple[str, str, bool]]:
        """(unit, table, is-a-row-of-someone-else's-table) for every return the profile expects."""
        out: list[tuple[str, str, bool]] = []
        for unit in self.units.values():
            for tid in unit.tables:
                out.append((unit.name, tid, False))
        townships = self.townships()
        for table in self.tables.values():
            if table.about == "乡镇":
                out.extend((name, table.id, True) for name in townships)
        return out

    def table_indicators(self, table_id: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if table_id in i.tables]

    def missing_returns(self, values: Iterable[Any]) -> list[tuple[str, str, bool]]:
        """The expected returns a year's stored ``values`` hold nothing of (check's completeness rule and the
        figures' warning): a return counts by its filer or by rows of its unit; a row of someone else's table
        (表二's row for a township) only by that row."""
        filed: set[tuple[str, str]] = set()
        rows: set[tuple[str, str]] = set()
        for v in values:
            filed.add((v.filer, v.table))
            if v.role == "value":
                rows.add((v.unit, v.table))
        either = filed | rows
        return [e for e in self.expected_returns() if (e[0], e[1]) not in (rows if e[2] else either)]

    def missing_indicators(self, values: Iterable[Any]) -> dict[str, list[str]]:
        """code → units whose stored return of a table asking for the code has no value for it (a row lost in
        a correction): a county figure of the code then lacks them (figures' warning, check's county rules).
        Rates are left out: a county rate is recomputed from the summed parts."""
        have: dict[tuple[str, str], set[str]] = {}
        for v in values:
            if v.role == "value":
                have.setdefault((v.unit, v.table), set()).add(v.code)
        order = {name: i for i, name in enumerate(self.units)}
        short: dict[str, list[str]] = {}
        for (unit, tid), codes in sorted(
            have.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0])
        ):
            if tid not in self.tables:
                continue
            for ind in self.table_indicators(tid):
                if ind.code not in codes and ind.code not in self.rates:
                    short.setdefault(ind.code, []).append(unit)
        return {code: short[code] for code in self.indicators if code in short}

    def county_lacks(
        self, code: str, missing: Iterable[tuple[str, str, bool]], gaps: dict[str, list[str]]
    ) -> list[str]:
        """The units a county figure of ``code`` lacks, given ``missing_returns`` and ``missing_indicators``:
        “大兴镇(未报送表一)”, “大兴镇(表二中没有它的数据)”, “大兴镇(已报送的表中没有这一项)”. Empty when it
        is whole. Shared by check's county rules and the letter check, so both name the same units."""
        ind = self.indicators.get(code)
        if ind is None:
            return []
        whom = [
            f"{unit}(未报送{tid})" if not as_row else f"{unit}({tid}中没有它的数据)"
            for unit, tid, as_row in missing
            if tid in ind.tables
        ]
        whom += [f"{unit}(已报送的表中没有这一项)" for unit in gaps.get(code, [])]
        return whom

    def table_codes(self, table_id: str) -> frozenset[str]:
        """The codes of a table's indicators (kept: every return asks)."""
        codes = self._table_codes.get(table_id)
        if codes is None:
            codes = self._table_codes[table_id] = frozenset(i.code for i in self.table_indicators(table_id))
        return codes

    def row_units(self, table_id: str) -> frozenset[str]:
        """The units a one-unit-a-row table may have a row for: for a table about the townships (表二, filed by
        a department) every township and nothing else (the department's own row is no township's); otherwise
        those that file it (a county-compiled 表一's townships). Kept: every such return asks, and walking a
        province's units for each file would cost O(units) per file."""
        units = self._row_units.get(table_id)
        if units is None:
            if self.tables[table_id].about == "乡镇":
                names = set(self.townships())
            else:
                names = {u.name for u in self.units.values() if table_id in u.tables}
            units = self._row_units[table_id] = frozenset(names)
        return units

    def limit(self, key: str, default: int) -> int:
        return int(self.limits.get(key, default))


# ---------------------------------------------------------------------- readers
def read_toml(
    path: Path,
    *,
    what: str = "配置文件",
    missing: str = "",
    example: str = "自带配置",
    error: type[CarestatsError] = ProfileError,
) -> dict:
    """Read a TOML data file a clerk may have edited; every failure is a Chinese message naming the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise error(f"找不到{what} {path}。{missing}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} 不是 UTF-8 编码,请用“另存为 UTF-8”保存。") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} 格式有误,{toml_problem(exc)}。请对照{example}修改。") from exc


# What profile.toml may hold: anything else is a typo (“[[rate]]” for “[[rates]]”) that would be ignored.
TOP_KEYS = ("county", "title", "year", "tables", "rates", "limits")
TABLE_KEYS = ("id", "name", "filer", "about", "sections")
SECTION_KEYS = ("title", "first")
RATE_KEYS = ("code", "numerator", "denominator", "scale")
LIMIT_KEYS = tuple(f.name for f in fields(Limits))
ABOUTS = ("filer", "乡镇")
_WHOLE = re.compile(r"[0-9]+")


def unknown_keys(found: Iterable[str], known: Iterable[str]) -> str:
    """“不认识的项目“rate”(是不是 rates?)。可用的项目:…”, or "" when every key is known."""
    known = list(known)
    extra = [k for k in found if k not in known]
    if not extra:
        return ""
    hints = [m for k in extra for m in difflib.get_close_matches(k, known, n=1, cutoff=0.6)]
    guess = f"(是不是 {'、'.join(hints)}?)" if hints else ""
    names = "、".join(f"“{k}”" for k in extra)
    return f"有不认识的项目 {names}{guess}。可用的项目:{'、'.join(known)}"


def _entry_name(key: str, n: int, name: object) -> str:
    """“[[tables]] 表二”, or “第 2 个 [[tables]]” while it has no name."""
    return f"[[{key}]] {name.strip()}" if isinstance(name, str) and name.strip() else f"第 {n} 个 [[{key}]]"


def _lead(what: str) -> str:
    return f"{what} " if what else ""


def _of(what: str) -> str:
    return f"{what} 的 " if what else ""


class TomlLines:
    """Where a key is in a TOML file a clerk edited (tomllib tells values, not lines), for the messages."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):  # pragma: no cover - read_toml has just read it
            self.lines = []

    def header_line(self, key: str, n: int, *, double: bool = True) -> int | None:
        """The line of the n-th ``[[key]]`` (or ``[key]``) header."""
        pattern = re.compile(
            r"^\s*\[\[\s*" + re.escape(key) + r"\s*\]\]"
            if double
            else r"^\s*\[\s*" + re.escape(key) + r"\s*\]"
        )
        hits = [i for i, text in enumerate(self.lines, start=1) if pattern.match(text)]
        return hits[n - 1] if len(hits) >= n else None

    def key_line(self, key: str, start: int | None) -> int | None:
        """The line ``key = …`` is on in the section whose header is on line ``start`` (None: the top of the
        file, where a ``[key]`` or ``[[key]]`` header counts too); None when it cannot be told."""
        assign = re.compile(r'^\s*["\']?' + re.escape(key) + r'["\']?\s*[=.]')
        header = re.compile(r'^\s*\[\[?\s*["\']?' + re.escape(key) + r'["\']?\s*[\].]')
        in_section = True  # the section of ``start``, or the top of the file before the first header
        for i in range((start or 0) + 1, len(self.lines) + 1):
            text = self.lines[i - 1]
            if start is None and header.match(text):
                return i
            if text.lstrip().startswith("["):
                if start is not None:
                    return None
                in_section = False
            elif in_section and assign.match(text):
                return i
        return None

    def line_of_entry(self, key: str, field_name: str, value: str) -> int | None:
        """The header line of the first ``[[key]]`` whose ``field_name`` is ``value``."""
        n = 1
        while (line := self.header_line(key, n)) is not None:
            at = self.key_line(field_name, line)
            if at is not None and re.search(r'=\s*["\']' + re.escape(value) + r'["\']', self.lines[at - 1]):
                return line
            n += 1
        return None


class _ProfileToml(TomlLines):
    """profile.toml checked key by key: every mistake names the file, the line where it can be found, the key."""

    def __init__(self, path: Path, data: dict[str, Any]):
        super().__init__(path)
        self._refuse_unknown(
            data, TOP_KEYS, None, "", "(表写在 [[tables]] 下,比率写在 [[rates]] 下,上限写在 [limits] 下)"
        )
        self.county = self._text(data, "county", None, "", 'county = "绿春县"')
        self.title = self._text(
            data, "title", None, "", 'title = "绿春县“一老一小”关爱服务年度统计"', self.county
        )
        self.year = self._whole(data, "year", None, "", "year = 2025", 0)
        self.tables: dict[str, Table] = {}
        for n, (entry, line) in enumerate(self._entries(data, "tables"), start=1):
            table = self._table(entry, line, n)
            if table.id in self.tables:
                first = self.line_of_entry("tables", "id", table.id)
                raise self.error(
                    line,
                    f"表号 {table.id} 写了两次({'第 ' + str(first) + ' 行和本行' if first else '两个 [[tables]]'})。"
                    "每张表只写一个 [[tables]];不同的表用不同的 id",
                )
            self.tables[table.id] = table
        if not self.tables:
            raise self.error(None, "没有表。每张表写一个 [[tables]](见自带配置)")
        self.rates: dict[str, Rate] = {}
        for n, (entry, line) in enumerate(self._entries(data, "rates"), start=1):
            rate = self._rate(entry, line, n)
            if rate.code in self.rates:
                first = self.line_of_entry("rates", "code", rate.code)
                raise self.error(
                    line,
                    f"比率 {rate.code} 写了两次({'第 ' + str(first) + ' 行和本行' if first else '两个 [[rates]]'})。"
                    "每个比率只写一个 [[rates]]",
                )
            self.rates[rate.code] = rate
        limits = data.get("limits", {})
        line = self.header_line("limits", 1, double=False)
        if not isinstance(limits, dict):
            raise self.error(line, "limits 应写成 [limits] 一节")
        self._refuse_unknown(limits, LIMIT_KEYS, line, "[limits]")
        self.limits = {
            key: self._whole(limits, key, line, "[limits]", f"{key} = {getattr(Limits(), key)}", 0)
            for key in limits
        }

    def check_filers(self, units: dict[str, Unit]) -> None:
        """A table is filed by each township or by one unit of units.csv, which must list it among its tables."""
        for n, table in enumerate(self.tables.values(), start=1):
            if table.filer == "乡镇":
                continue
            line = self.header_line("tables", n)
            line = self.key_line("filer", line) or line
            unit = units.get(table.filer)
            if unit is None:
                named = next((u.name for u in units.values() if table.filer in u.aliases), None)
                fix = (
                    f"请写单位名称 {named}(units.csv 第一列)"
                    if named
                    else f'应为 "乡镇"(每个乡镇各报一份)或 units.csv 中部门的名称'
                    f"({'、'.join(u.name for u in units.values() if u.kind != '乡镇') or 'units.csv 中还没有部门'})"
                )
                raise self.error(
                    line, f"[[tables]] {table.id} 的 filer “{table.filer}”不是 units.csv 中的单位。{fix}"
                )
            if table.id not in unit.tables:
                listed = f"只有“{'|'.join(unit.tables)}”" if unit.tables else "是空的"
                raise self.error(
                    line,
                    f"[[tables]] {table.id} 由 {unit.name} 填报(filer),但 units.csv 中 {unit.name} 的报送表{listed},"
                    f"没有{table.id}。请改正其中一处",
                )

    def check_rates(self, indicators: dict[str, Indicator]) -> None:
        """A rate is recomputed from its numerator and denominator summed: it must be a rate of sums."""
        for rate in self.rates.values():
            line = self.line_of_entry("rates", "code", rate.code)
            for key in ("code", "numerator", "denominator"):
                code = getattr(rate, key)
                if code not in indicators:
                    raise self.error(
                        self.key_line(key, line) or line,
                        f"比率 {rate.code} 的 {key} 是未知指标代码 {code}(应为 indicators.csv 中的指标代码)",
                    )
            if indicators[rate.code].kind != "rate":
                raise self.error(
                    line,
                    f"[[rates]] 中的 {rate.code} 在 indicators.csv 中的类型是 {indicators[rate.code].kind},"
                    "不是 rate(比率)。是比率的,把 indicators.csv 中的类型改为 rate;不是比率的,删去这个 [[rates]]",
                )
            for key in ("numerator", "denominator"):
                code = getattr(rate, key)
                if indicators[code].kind == "rate":
                    raise self.error(
                        self.key_line(key, line) or line,
                        f"比率 {rate.code} 的 {key} {code} 本身是比率,不能相加;分子、分母应为人数、金额等指标",
                    )

    # -------------------------------------------------------------- messages
    def error(self, line: int | None, text: str) -> ProfileError:
        where = f"配置文件 {self.path}" + (f" 第 {line} 行" if line else "")
        return ProfileError(f"{where}:{text}。")

    def _refuse_unknown(
        self, data: dict, known: Iterable[str], start: int | None, what: str, more: str = ""
    ) -> None:
        problem = unknown_keys(data, known)
        if problem:
            key = next(k for k in data if k not in known)
            raise self.error(self.key_line(key, start) or start, f"{_lead(what)}{problem}{more}")

    # -------------------------------------------------------------- values
    def _text(
        self, data: dict, key: str, start: int | None, what: str, example: str, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if isinstance(value, str) and value.strip():
            return value.strip()
        line = self.key_line(key, start) or start
        if key not in data:
            raise self.error(line, f"{_lead(what)}缺少 {key}(如 {example})")
        raise self.error(line, f"{_of(what)}{key} 应为非空文字,用英文双引号括起来(如 {example})")

    def _whole(
        self, data: dict, key: str, start: int | None, what: str, example: str, default: int, least: int = 0
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and value >= least:
            return value
        line = self.key_line(key, start) or start
        shown = f"“{value}”" if isinstance(value, str) else str(value).lower()
        bound = (
            "正整数" if least > 0 else "不小于 0 的整数" if isinstance(value, int) and value < 0 else "整数"
        )
        raise self.error(line, f"{_of(what)}{key} 应为{bound},只写数字(如 {example}),现在写的是 {shown}")

    # -------------------------------------------------------------- entries
    def _entries(self, data: dict, key: str) -> list[tuple[dict, int | None]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise self.error(self.key_line(key, None), f"{key} 应写成多个 [[{key}]],每个一节")
        return [(e, self.header_line(key, n)) for n, e in enumerate(value, start=1)]

    def _table(self, entry: dict, line: int | None, n: int) -> Table:
        what = _entry_name("tables", n, entry.get("id"))
        self._refuse_unknown(entry, TABLE_KEYS, line, what)
        tid = self._text(entry, "id", line, what, 'id = "表一"')
        name = self._text(entry, "name", line, what, 'name = "乡镇“一老一小”关爱服务情况统计表"')
        filer = self._text(entry, "filer", line, what, 'filer = "乡镇" 或 filer = "县民政局"')
        about = self._text(entry, "about", line, what, 'about = "filer"', "filer")
        if about not in ABOUTS:
            raise self.error(
                self.key_line("about", line) or line,
                f'{_of(what)}about “{about}”无效,应为 "filer"(数值是填报单位自己的)'
                '或 "乡镇"(表内每一行是一个乡镇)',
            )
        raw = entry.get("sections", [])
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            raise self.error(
                self.key_line("sections", line) or line,
                f'{_of(what)}sections 应写成 [ {{ title = "一、……", first = "A01" }}, … ]',
            )
        sections = []
        for k, sec in enumerate(raw, start=1):
            sec_what = f"{what} 的 sections 第 {k} 项"
            self._refuse_unknown(sec, SECTION_KEYS, self.key_line("sections", line) or line, sec_what)
            sections.append(
                Section(
                    self._text(sec, "title", line, sec_what, 'title = "一、老年人关爱服务"'),
                    self._text(sec, "first", line, sec_what, 'first = "A01"'),
                )
            )
        return Table(tid, name, filer, about, tuple(sections))

    def _rate(self, entry: dict, line: int | None, n: int) -> Rate:
        what = _entry_name("rates", n, entry.get("code"))
        self._refuse_unknown(entry, RATE_KEYS, line, what)
        code = self._text(entry, "code", line, what, 'code = "H03"')
        return Rate(
            code,
            self._text(entry, "numerator", line, what, 'numerator = "H02"'),
            self._text(entry, "denominator", line, what, 'denominator = "H01"'),
            self._whole(entry, "scale", line, what, "scale = 100", 100, least=1),
        )


SAVE_AS_UTF8 = "请在 WPS/Excel 中打开,确认没有乱码后“另存为”“CSV UTF-8(逗号分隔)”"


def _decode_csv(path: Path, data: bytes, columns: list[str]) -> str:
    """UTF-8 (with or without BOM), or GBK/GB18030 as Excel's “CSV (逗号分隔)” saves it on Chinese Windows.

    GBK is taken only when its first line reads as the expected header and no line of the file is UTF-8
    Chinese (a file edited by two programs): a wrong guess would turn names into other names silently.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ProfileError(
            f"配置文件 {path} 的编码无法识别(不是 UTF-8,也不是 GBK)。{SAVE_AS_UTF8}。"
        ) from exc
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    missing = [c for c in columns if c not in (h.strip() for h in header)]
    if missing:
        raise ProfileError(
            f"配置文件 {path} 不是 UTF-8 编码;按 GBK 编码读出的第一行是“{','.join(header)}”,"
            f"缺少列:{'、'.join(missing)}。{SAVE_AS_UTF8}。"
        )
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            raise ProfileError(
                f"配置文件 {path} 第 {lineno} 行是 UTF-8 编码,其他行是 GBK 编码(可能先后用不同的软件编辑过),"
                f"无法确定文字。{SAVE_AS_UTF8}。"
            )
    return text


def _read_csv(
    path: Path, columns: list[str], several: tuple[str, ...], example: str
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with a header, each with the line of the file it starts on (blank rows skipped).

    ``several`` are the columns that hold more than one value, separated by |: a comma there makes an extra
    field, which is refused rather than dropped.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ProfileError(f"配置目录缺少文件 {path}。") from exc
    except OSError as exc:
        raise ProfileError(f"无法读取配置文件 {path}:{os_reason(exc)}。") from exc
    text = _decode_csv(path, data, columns)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ProfileError(
                f"配置文件 {path} 缺少列:{'、'.join(missing)}。第一行应为:{','.join(columns)}。"
            )
        named = [h for h in header if h]
        twice = sorted({h for h in named if named.count(h) > 1})
        if twice:
            raise ProfileError(f"配置文件 {path} 第 1 行:列 {'、'.join(twice)} 写了两次。")
        extra = [h for h in named if h not in columns]
        if extra:
            raise ProfileError(
                f"配置文件 {path} 第 1 行:有不认识的列 {'、'.join(extra)}。可用的列:{','.join(columns)}。"
            )
        end = reader.line_num
        for row in reader:
            lineno, end = end + 1, reader.line_num
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            stray = [c for i, c in enumerate(cells) if c and (i >= len(header) or not header[i])]
            if stray:
                raise ProfileError(
                    f"{path} 第 {lineno} 行:比第一行多出 {len(stray)} 个字段(“{'”“'.join(stray)}”),"
                    f"不知道属于哪一列。{'、'.join(several)}中有几个值时用 | 分隔,不要用逗号,例如 {example}。"
                )
            rows.append(
                (lineno, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h})
            )
    except csv.Error as exc:
        raise ProfileError(
            f"{path} 第 {reader.line_num} 行格式有误(引号没有配对,或有不能显示的字符)。"
        ) from exc
    return rows


def _split(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split("|") if p.strip())


def _read_indicators(path: Path, tables: dict[str, Table], rates: dict[str, Rate]) -> dict[str, Indicator]:
    cols = ["指标代码", "表号", "指标名称", "计量单位", "类型", "小数位", "所属指标", "其他写法"]
    out: dict[str, Indicator] = {}
    lines: dict[str, int] = {}
    for lineno, row in _read_csv(path, cols, ("表号", "其他写法"), "留守老年人数|农村留守老人"):
        where = f"{path} 第 {lineno} 行"
        code = row["指标代码"]
        if not code:
            raise ProfileError(f"{where}:指标代码为空。")
        if code in out:
            raise ProfileError(f"{where}:指标代码 {code} 与第 {lines[code]} 行重复。每个指标只写一行。")
        kind = row["类型"]
        if kind not in KINDS:
            raise ProfileError(f"{where}:类型“{kind}”无效,应为 count(计数)、money(金额)或 rate(比率)。")
        try:
            decimals = int(row["小数位"] or "0")
        except ValueError as exc:
            raise ProfileError(f"{where}:小数位“{row['小数位']}”不是整数。") from exc
        tabs = _split(row["表号"])
        unknown = [t for t in tabs if t not in tables]
        if not tabs or unknown:
            raise ProfileError(f"{where}:表号“{row['表号']}”不在 profile.toml 的表中。")
        lines[code] = lineno
        out[code] = Indicator(
            code=code,
            tables=tabs,
            name=row["指标名称"],
            unit=row["计量单位"],
            kind=kind,
            decimals=decimals,
            parent=row["所属指标"] or None,
            aliases=_split(row["其他写法"]),
        )
    for ind in out.values():
        if ind.kind == "rate" and ind.code not in rates:
            raise ProfileError(
                f"{path} 第 {lines[ind.code]} 行:指标 {ind.code} 的类型是 rate(比率),但 profile.toml 中没有它的"
                f" [[rates]]。比率不能把各单位的数相加,全县数要按分子、分母重算:请在 profile.toml 中写"
                f' [[rates]] code = "{ind.code}" numerator = 分子代码 denominator = 分母代码;'
                "不是比率的,类型改为 count 或 money。"
            )
        if ind.parent and ind.parent not in out:
            raise ProfileError(
                f"{path} 第 {lines[ind.code]} 行:指标 {ind.code} 的所属指标 {ind.parent} 不存在(应为本文件中另一个指标的代码)。"
            )
    if not out:
        raise ProfileError(f"配置文件 {path} 中没有指标。")
    # before any label is compared: “车辆(辆)” is 车辆; another profile's words (床) are no longer in force
    use_measure_units(catalogue_unit_words(ind.unit for ind in out.values()))
    _refuse_shared_spellings(path, out, lines)
    return out


def _refuse_shared_spellings(path: Path, indicators: dict[str, Indicator], lines: dict[str, int]) -> None:
    """One spelling (name or 其他写法, compared as the reader compares a row's label: ``name_key``) for two
    indicators is refused: a row so labelled would be read as either. Only two “其中:” rows under different
    parents may share one (其中:纳入最低生活保障 under 留守老人数 and under 留守儿童数): the reader tells them
    apart by the row they are part of."""
    seen: dict[str, list[tuple[Indicator, str]]] = {}  # key → (indicator, the spelling as written)
    for ind in indicators.values():
        own: set[str] = set()
        for label in (ind.name, *ind.aliases):
            key = name_key(label)
            if key in own:
                continue
            own.add(key)
            for other, other_label in seen.get(key, []):
                if key.startswith("其中:") and ind.parent and other.parent and ind.parent != other.parent:
                    continue
                what = "指标名称" if label == ind.name else "其他写法"
                was = "指标名称" if other_label == other.name else "其他写法"
                raise ProfileError(
                    f"{path} 第 {lines[ind.code]} 行:{ind.label} 的{what}“{label}”与第 {lines[other.code]} 行"
                    f" {other.label} 的{was}“{other_label}”相同,汇入时这样写的一行无法确定是哪个指标。"
                    "请改正或删去其中一个。"
                )
            seen.setdefault(key, []).append((ind, label))


def _read_units(path: Path, tables: dict[str, Table]) -> dict[str, Unit]:
    cols = ["单位名称", "类别", "报送表", "其他写法"]
    out: dict[str, Unit] = {}
    lines: dict[str, int] = {}
    spellings: dict[str, tuple[str, str]] = {}  # squashed spelling → (unit, the spelling as written)
    for lineno, row in _read_csv(path, cols, ("报送表", "其他写法"), "大兴|大兴乡"):
        where = f"{path} 第 {lineno} 行"
        name = row["单位名称"]
        if not name:
            raise ProfileError(f"{where}:单位名称为空。")
        if name in lines:
            raise ProfileError(f"{where}:单位名称 {name} 与第 {lines[name]} 行重复。每个单位只写一行。")
        lines[name] = lineno
        kind = row["类别"]
        if kind not in UNIT_KINDS:
            raise ProfileError(
                f"{where}:类别“{kind}”无效,应为“乡镇”(乡、镇、街道都写乡镇)或“部门”(县直部门)。"
            )
        tabs = _split(row["报送表"])
        unknown = [t for t in tabs if t not in tables]
        if unknown:
            raise ProfileError(
                f"{where}:报送表中的“{'、'.join(unknown)}”不是 profile.toml 中的表号"
                f"(可用的表号:{'、'.join(tables)};几个表之间用 | 分隔,如 表四|表五)。"
            )
        if kind == "乡镇":
            for table in tables.values():
                if table.filer == "乡镇" and table.id not in tabs:
                    listed = f"只有“{row['报送表']}”" if tabs else "是空的"
                    raise ProfileError(
                        f"{where}:乡镇 {name} 的报送表{listed},没有{table.id}。profile.toml 中{table.id}"
                        f'由每个乡镇各报一份(filer = "乡镇"),请在报送表中写上 {table.id}(几个表之间用 | 分隔)。'
                    )
        unit = Unit(name=name, kind=kind, tables=tabs, aliases=_split(row["其他写法"]))
        for label in dict.fromkeys((name, *unit.aliases)):
            other = spellings.get(squash(label))
            if other is not None and other[0] != name:
                what = "名称" if label == name else "其他写法"
                was = "名称" if other[1] == other[0] else "其他写法"
                raise ProfileError(
                    f"{where}:{name} 的{what}“{label}”与第 {lines[other[0]]} 行 {other[0]} 的{was}“{other[1]}”"
                    "相同,汇入时无法确定是哪个单位。请改正或删去其中一个。"
                )
            spellings.setdefault(squash(label), (name, label))
        out[name] = unit
    if not out:
        raise ProfileError(f"配置文件 {path} 中没有单位。")
    return out


def init_profile(target: Path) -> Path:
    """Write an editable copy of the bundled profile (with its templates and the example letter spec, in
    ``letters/`` where ``check --letter`` looks for specs) into ``target``: an installed carestats keeps
    the bundled examples inside the package, where a clerk would never find them."""
    if target.exists() and not target.is_dir():
        raise ProfileError(f"{target} 是一个文件,不是文件夹;请指定一个新的文件夹。")
    if target.exists() and any(target.iterdir()):
        raise ProfileError(f"目录 {target} 已存在且不为空;请指定一个新目录,以免覆盖已有配置。")
    shutil.copytree(default_profile_dir(), target, dirs_exist_ok=True)
    shutil.copytree(templates_dir(), target / "templates", dirs_exist_ok=True)
    shutil.copytree(examples_dir() / "letters", target / "letters", dirs_exist_ok=True)
    return target
