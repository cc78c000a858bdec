"""The reply letter (答复函): its spec, its Jinja context, and the structured text a template renders.

A letter is three things put together:

- the **spec** (a TOML file per letter, ``LetterSpec``): what the returns do not hold — 文号, member,
  proposal, dates, optional 签发人/联系人/抄送;
- the **figures** of the data year (``carestats.figures.Figures``), reached in the template as
  ``fig.A05`` or ``fig.纳入最低生活保障的老年人数`` and written with the named filters below;
- the **template** (``templates/reply-letter.j2``; a profile's own ``templates/`` folder wins), which
  renders *letter markup*, parsed here into ``Block``s that every output format (txt, md, html, docx) lays out.

Letter markup, one block per line or paragraph (documented for clerks in ``templates/README.md``)::

    @信息 索引号：lcxmzj/2026-00004      publication metadata (web page); docx keeps it in the properties
    @类别 A类                            办理结果类别 mark, first line, right
    @公开 主动公开                        公开属性
    @文号 绿民函〔2025〕83号               发文字号
    @签发人 某某                          签发人, on the 文号 line
    @主送 尊敬的施艳梅委员：               主送 / salutation, flush left
    @落款 绿春县民政局                     sender
    @日期 2025年12月26日                   成文日期
    @附注 （联系人：某某，联系电话：…）     附注
    @抄送 县政协提案委员会、县人民政府督查室。
    # 标题                                title; the docx splits it into balanced lines
    ## 一、……                            level-1 heading (黑体)
    ### （一）……。正文……                  level-2 heading (楷体); after its first 。 the text runs on as body
    #### 1.……  /  ##### （1）……           levels 3 and 4 (仿宋), same run-on rule
    any other text                         body paragraph, indented two characters

``@`` lines are one block each. A ``#`` line or a plain line starts a block that runs on over the
following lines (joined without spaces, so long Chinese paragraphs can be wrapped in the template)
until a blank line or the next marked line.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import jinja2

from carestats import numfmt
from carestats.errors import CarestatsError, ProfileError, UsageError, toml_problem
from carestats.numfmt import NumberFormatError
from carestats.resources import templates_dir
from carestats.text import name_key

DRAFT_MARK = "草稿（未通过审核）"
DEFAULT_TEMPLATE = "reply-letter.j2"
COUNTY_SCOPE = "全县"

# Unit words a template may use as a filter on a count: {{ fig.A05 | 人 }} → “5580人”.
COUNT_UNITS = (
    "人",
    "名",
    "人次",
    "次",
    "场次",
    "场",
    "个",
    "所",
    "张",
    "份",
    "家",
    "户",
    "项",
    "处",
    "座",
    "期",
    "名次",
)


# ---------------------------------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class Member:
    name: str
    salutation: str  # 称呼 as printed, without the colon: “尊敬的施艳梅委员”


@dataclass(frozen=True)
class Proposal:
    session: str  # 届次 for the title: 政协绿春县第十四届委员会第四次会议
    session_short: str  # 届次 in the opening sentence: 县政协第十四届委员会第四次会议
    number: str  # as issued: “57”
    title: str  # 《》 not included


@dataclass(frozen=True)
class LetterSpec:
    """One letter's facts that the returns do not hold (see data/examples/letters/2025-57.toml)."""

    path: Path
    year: int
    template: str
    index_no: str
    publisher: str
    doc_number: str
    publish_date: dt.date
    validity: str
    result_class: str
    sender: str
    date: dt.date
    member: Member
    proposal: Proposal
    signer: str | None = None
    disclosure: str | None = None
    contact: str | None = None
    phone: str | None = None
    cc: tuple[str, ...] = ()
    text: Mapping[str, str] = field(default_factory=dict)


_REQUIRED_STR = ("index_no", "publisher", "doc_number", "validity", "result_class", "sender")
_OPTIONAL_STR = ("signer", "disclosure", "contact", "phone")
_TOP_KEYS = (  # in the order of the example spec, as a message lists them
    "year",
    "template",
    "index_no",
    "publisher",
    "doc_number",
    "publish_date",
    "validity",
    "result_class",
    "sender",
    "date",
    *_OPTIONAL_STR,
    "cc",
    "member",
    "proposal",
    "text",
)
_MEMBER_KEYS = ("name", "salutation")
_PROPOSAL_KEYS = ("session", "session_short", "number", "title")
RESULT_CLASSES = ("A", "B", "C")
# A line that gives a key a date TOML cannot read (2025-12-6, 2025/12/26, 2025.12.26, 2025年12月26日);
# tomllib only says that the line goes on after a value, which reads as “一行只能写一项”.
_DATE_LIKE = re.compile(r"\s*([A-Za-z_][\w-]*)\s*=\s*\d{4}\s*[-/.年]")
_GOOD_DATE = re.compile(r"\s*[A-Za-z_][\w-]*\s*=\s*(\d{4}-\d{2}-\d{2})\s*(#.*)?$")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _date_problem(source: str, exc: tomllib.TOMLDecodeError) -> str | None:
    """“第 17 行的“date”:日期应写成 2025-12-26 …” when the faulty line holds a date TOML cannot read."""
    m = _TOML_LINE.search(str(exc))
    lines = source.splitlines()
    if m is None or not 1 <= int(m.group(1)) <= len(lines):
        return None
    line = lines[int(m.group(1)) - 1]
    date, good = _DATE_LIKE.match(line), _GOOD_DATE.match(line)
    if date is None or (good and _is_date(good.group(1))):
        return None  # the line's date is fine: the problem is elsewhere
    return (
        f"第 {m.group(1)} 行的“{date.group(1)}”日期写法不对:日期应写成 2025-12-26 这样"
        "(年-月-日,用减号“-”隔开,月和日都写两位,如 2025-01-06,不加引号)"
    )


def load_spec(path: str | Path) -> LetterSpec:
    """Read and validate a letter spec; every problem names the file and the key, in Chinese."""
    p = Path(path)
    if p.suffix.lower() != ".toml":
        raise UsageError(
            f"{p.name} 不是答复函说明文件(应为 .toml 文件,如 carestats 自带的示例 data/examples/letters/2025-57.toml)。"
            "请在 report 后面写答复函说明文件的路径"
        )
    try:
        # utf-8-sig: Windows Notepad's “UTF-8” starts the file with a byte order mark
        source = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise UsageError(f"找不到答复函说明文件 {p}。") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"答复函说明文件 {p} 不是 UTF-8 编码,请用“另存为 UTF-8”保存。") from exc
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"答复函说明文件 {p} 格式有误,{_date_problem(source, exc) or toml_problem(exc)}。"
            "请对照 carestats 自带的示例(data/examples/letters/2025-57.toml)修改。"
        ) from exc

    def bad(key: str, what: str) -> UsageError:
        return UsageError(f"答复函说明文件 {p} 的“{key}”{what}。")

    def refuse_unknown(table: Mapping[str, Any], known: Iterable[str], section: str = "") -> None:
        unknown = sorted(set(table) - set(known))
        if unknown:
            where = f"[{section}] 中" if section else ""
            keys = "、".join(f"{section}.{k}" if section else k for k in unknown)
            raise bad(keys, f"不是可用的项目(拼写有误?);{where}可用的项目:{'、'.join(known)}")

    refuse_unknown(raw, _TOP_KEYS)

    def text_of(table: Mapping[str, Any], key: str, where: str = "", *, required: bool = True) -> str | None:
        full = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise bad(full, "没有填写")
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad(full, "应为文字")
        value = str(value).strip()
        if not value and required:
            raise bad(full, "不能为空")
        return value or None

    def date_of(key: str) -> dt.date:
        value = raw.get(key)
        if value is None:
            raise bad(key, "没有填写")
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise bad(key, "应写成 2025-12-26 这样的日期") from exc

    def table_of(key: str) -> Mapping[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise bad(key, "应为一节([" + key + "])")
        return value

    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2999:
        raise bad("year", "应为四位年份,如 2025")
    strs = {k: text_of(raw, k) for k in _REQUIRED_STR}
    try:
        strs["doc_number"] = numfmt.doc_number(strs["doc_number"])
    except NumberFormatError as exc:
        raise bad("doc_number", ":" + exc.message.rstrip("。")) from exc
    if strs["result_class"] not in RESULT_CLASSES:
        raise bad("result_class", f"应为 {'、'.join(RESULT_CLASSES)} 之一")
    member_t, proposal_t = table_of("member"), table_of("proposal")
    refuse_unknown(member_t, _MEMBER_KEYS, "member")
    refuse_unknown(proposal_t, _PROPOSAL_KEYS, "proposal")
    name = text_of(member_t, "name", "member")
    member = Member(
        name=name, salutation=text_of(member_t, "salutation", "member", required=False) or f"{name}委员"
    )
    proposal = Proposal(
        session=text_of(proposal_t, "session", "proposal"),
        session_short=text_of(proposal_t, "session_short", "proposal", required=False)
        or text_of(proposal_t, "session", "proposal"),
        number=text_of(proposal_t, "number", "proposal"),
        title=text_of(proposal_t, "title", "proposal").strip("《》"),
    )
    cc = raw.get("cc", [])
    if isinstance(cc, str):
        cc = [cc]
    if not isinstance(cc, list) or not all(isinstance(c, str) for c in cc):
        raise bad("cc", '应为文字列表,如 ["县政协提案委员会", "县人民政府督查室"]')
    text = table_of("text")
    if not all(isinstance(v, str) for v in text.values()):
        raise bad("text", "中每一项都应为文字")
    template = text_of(raw, "template", required=False) or DEFAULT_TEMPLATE
    return LetterSpec(
        path=p,
        year=year,
        template=template,
        publish_date=date_of("publish_date"),
        date=date_of("date"),
        member=member,
        proposal=proposal,
        cc=tuple(c.strip() for c in cc if c.strip()),
        text=dict(text),
        **strs,
        **{k: text_of(raw, k, required=False) for k in _OPTIONAL_STR},
    )


# ------------------------------------------------------------------------------------ figures in a template
@dataclass(frozen=True)
class PrintedFigure:
    """One figure as the letter prints it, with the cells it came from (for ``--audit``)."""

    code: str
    name: str
    scope: str  # 全县 or a unit name
    value: Decimal
    unit: str  # 计量单位 of the catalogue (元, 人, %)
    text: str  # as printed: “168.872万元”
    sources: tuple[Any, ...]  # StoredValue rows that sum to ``value``


class Recorder:
    """Collects every figure a render prints, in order, without duplicates."""

    def __init__(self) -> None:
        self.printed: list[PrintedFigure] = []
        self._seen: set[tuple[str, str, str]] = set()

    def record(self, fig: Figure, text: str) -> None:
        key = (fig.code, fig.scope, text)
        if key not in self._seen:
            self._seen.add(key)
            self.printed.append(
                PrintedFigure(fig.code, fig.name, fig.scope, fig.value, fig.unit, text, fig.sources)
            )


class Figure:
    """A figure in a template: its value and where it came from. Compares like its value.

    ``{{ fig.A05 }}`` prints the bare number; a filter (``| 人``, ``| 万元`` …) writes it with its unit.
    """

    __slots__ = ("code", "name", "unit", "kind", "decimals", "scope", "value", "sources", "_recorder")

    def __init__(
        self, indicator: Any, scope: str, value: Decimal, sources: tuple[Any, ...], recorder: Recorder
    ):
        self.code: str = indicator.code
        self.name: str = indicator.name
        self.unit: str = indicator.unit
        self.kind: str = indicator.kind
        self.decimals: int = indicator.decimals
        self.scope = scope
        self.value = value
        self.sources = sources
        self._recorder = recorder

    @property
    def label(self) -> str:
        where = "" if self.scope == COUNTY_SCOPE else f"{self.scope}的"
        return f"{where}指标 {self.code} {self.name}"

    def __str__(self) -> str:
        text = numfmt.plain(self.value)
        self._recorder.record(self, text)
        return text

    def __repr__(self) -> str:
        return f"<Figure {self.scope} {self.code}={self.value}>"

    def _other(self, other: object) -> Decimal:
        return other.value if isinstance(other, Figure) else numfmt.to_decimal(other)

    def __eq__(self, other: object) -> bool:
        return self.value == self._other(other)

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: object) -> bool:
        return self.value < self._other(other)

    def __le__(self, other: object) -> bool:
        return self.value <= self._other(other)

    def __gt__(self, other: object) -> bool:
        return self.value > self._other(other)

    def __ge__(self, other: object) -> bool:
        return self.value >= self._other(other)


class FigureNotAvailable(CarestatsError):
    """The template asks for a figure the store does not have for that year (exit 1: fix the returns)."""


class _Lookup:
    """Indicator lookup by code or by catalogue name (or one of its other spellings)."""

    def __init__(self, profile: Any):
        self.profile = profile

    def indicator(self, key: str) -> Any:
        inds = self.profile.indicators
        if key in inds:
            return inds[key]
        self.profile.use_unit_words()  # the key is compared as the profile's own labels were
        codes = self.profile.codes_for_name(name_key(key))
        if len(codes) == 1:
            return inds[codes[0]]
        if len(codes) > 1:
            raise ProfileError(
                f"模板中的指标“{key}”对应多个指标({'、'.join(codes)}),请改用指标代码,如 fig.{codes[0]}。"
            )
        raise ProfileError(f"模板用到了未知指标“{key}”:指标目录(indicators.csv)中没有这个代码或名称。")


class FigureTable:
    """``fig`` in a template: the county figures of the data year, by code or by name."""

    def __init__(self, figures: Any, profile: Any, year: int, recorder: Recorder):
        self._figures = figures
        self._lookup = _Lookup(profile)
        self._year = year
        self._recorder = recorder

    def __getattr__(self, key: str) -> Figure:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __getitem__(self, key: str) -> Figure:
        ind = self._lookup.indicator(key)
        totals = self._figures.totals
        if ind.code not in totals or totals[ind.code] is None:
            why = self._figures.incomplete.get(ind.code) or self._lacking(ind.code)
            reason = f":{why}" if why else ":没有任何报表报送这个指标"
            raise FigureNotAvailable(
                f"指标 {ind.code} {ind.name} 没有 {self._year} 年的全县数{reason.rstrip('。')}。"
                "答复函不能留空或估计,请先补正报表(可运行 carestats check 查看)。"
            )
        sources = tuple(self._figures.sources.get(ind.code, ()))
        return Figure(ind, COUNTY_SCOPE, totals[ind.code], sources, self._recorder)

    def _lacking(self, code: str) -> str | None:
        """Whose return the figure waits for (“缺 县妇联(未报送表四)”), as check and the letter check name
        them; None when no expected return is missing (then nobody reports the indicator)."""
        lacks = self._lookup.profile.county_lacks(code, self._figures.missing, self._figures.gaps)
        return f"缺 {'、'.join(lacks)}" if lacks else None


class UnitFigures:
    """``units.大兴镇`` (or ``units["大兴镇"]``) in a template: one unit's values as reported."""

    def __init__(self, unit: str, values: Mapping[str, Decimal], owner: UnitTable):
        self._unit = unit
        self._values = values
        self._owner = owner

    def __getattr__(self, key: str) -> Figure:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __getitem__(self, key: str) -> Figure:
        o = self._owner
        ind = o._lookup.indicator(key)
        value = self._values.get(ind.code)
        if value is None:
            raise FigureNotAvailable(f"{self._unit} 没有报送 {o._year} 年的指标 {ind.code} {ind.name}。")
        sources = tuple(
            s for s in o._figures.sources.get(ind.code, ()) if getattr(s, "unit", None) == self._unit
        )
        return Figure(ind, self._unit, value, sources, o._recorder)


class UnitTable(Mapping[str, UnitFigures]):
    """``units`` in a template: unit name → its values; iterable in the order of the store."""

    def __init__(self, figures: Any, profile: Any, year: int, recorder: Recorder):
        self._figures = figures
        self._profile = profile
        self._lookup = _Lookup(profile)
        self._year = year
        self._recorder = recorder

    def __getitem__(self, unit: str) -> UnitFigures:
        values = self._figures.units.get(unit)
        if values is None:
            raise FigureNotAvailable(f"模板用到单位“{unit}”,但 {self._year} 年没有这个单位的报表。")
        return UnitFigures(unit, values, self)

    def __getattr__(self, unit: str) -> UnitFigures:
        if unit.startswith("_"):
            raise AttributeError(unit)
        return self[unit]

    def __iter__(self) -> Iterator[str]:
        return iter(self._figures.units)

    def __len__(self) -> int:
        return len(self._figures.units)


@dataclass
class LetterContext:
    """What a letter template sees. Every name here is documented in templates/README.md.

    fig:    county figures of the data year: ``fig.A05``, ``fig["纳入最低生活保障的老年人数"]``.
            A figure that is missing or incomplete fails the render with the indicator's code and name.
    units:  values per unit as reported: ``units.大兴镇.A05``; ``{% for name in units %}`` lists them.
    spec:   the letter spec (``LetterSpec``): ``spec.doc_number``, ``spec.member.salutation``,
            ``spec.proposal.title``, ``spec.date`` …; optional items are None when not given.
    year:   the data year (an int): write “2024年以来” as ``{{ year - 1 }}年以来``.
    county: the county's name from the profile (绿春县).
    draft:  True when the letter is rendered with --force despite check errors.
    """

    fig: FigureTable
    units: UnitTable
    spec: LetterSpec
    year: int
    county: str
    draft: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("fig", "units", "spec", "year", "county", "draft")}


# ------------------------------------------------------------------------------------------------ filters
def _figure_filter(
    fn: Callable[..., str], kinds: tuple[str, ...], what: str, *, places: bool = False
) -> Callable[..., str]:
    """Wrap a numfmt function so that it records the figure and names the indicator when it fails.
    ``places``: pass the indicator's 小数位 (a count of 亩 may have one), so the catalogue decides."""

    def apply(value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        if isinstance(value, Figure):
            if value.kind not in kinds:
                raise ProfileError(f"模板把{value.label}(类型 {value.kind})按{what}写出,请换用合适的写法。")
            if places:
                kwargs = {**kwargs, "places": value.decimals}
            try:
                text = fn(value.value, *args, **kwargs)
            except NumberFormatError as exc:
                raise NumberFormatError(f"{value.label}({numfmt.plain(value.value)}):{exc.message}") from exc
            value._recorder.record(value, text)
            return text
        return fn(value, *args, **kwargs)

    return apply


def _plain_filter(fn: Callable[..., str]) -> Callable[..., str]:
    def apply(value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return fn(value, *args, **kwargs)

    return apply


def count_units(profile: Any = None) -> tuple[str, ...]:
    """The unit words a count may be written with: ``COUNT_UNITS`` and the 计量单位 of the profile's own
    counts (辆, 亩, 床 …), so that another county's catalogue needs no code change."""
    own = () if profile is None else (i.unit for i in profile.indicators.values() if i.kind == "count")
    return tuple(dict.fromkeys((*COUNT_UNITS, *(u for u in own if u.isidentifier()))))


def letter_filters(profile: Any = None) -> dict[str, Callable[..., str]]:
    """The named filters of a letter template (see templates/README.md); ``profile`` adds its count units."""
    count = ("count",)
    filters: dict[str, Callable[..., str]] = {
        "数": _figure_filter(numfmt.count, count, "计数", places=True),
        "约数": _figure_filter(numfmt.approx, count, "约数"),
        "元": _figure_filter(numfmt.yuan, ("money",), "金额(元)"),
        "万元": _figure_filter(numfmt.wan_yuan, ("money",), "金额(万元)"),
        "余万元": _figure_filter(numfmt.approx_wan_yuan, ("money",), "金额(余万元)"),
        "百分比": _figure_filter(numfmt.percent, ("rate",), "百分比"),
        "日期": _plain_filter(numfmt.cn_date),
        "文号": _plain_filter(numfmt.doc_number),
    }
    for unit in count_units(profile):
        filters[unit] = _figure_filter(partial(numfmt.count, unit=unit), count, f"“{unit}”", places=True)
    return filters


def make_environment(profile: Any) -> jinja2.Environment:
    """One Jinja environment per profile: its ``templates/`` folder first, then the bundled templates."""
    folders = [str(Path(profile.path) / "templates"), str(templates_dir())]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(f, encoding="utf-8") for f in folders]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(letter_filters(profile))
    return env


# ------------------------------------------------------------------------------------------------ markup
TAGS = {
    "信息": "info",
    "类别": "class",
    "公开": "disclosure",
    "文号": "doc_number",
    "签发人": "signer",
    "主送": "salutation",
    "落款": "sender",
    "日期": "date",
    "附注": "note",
    "抄送": "cc",
}
HEADING_LEVELS = {1: "title", 2: "h1", 3: "h2", 4: "h3", 5: "h4"}


@dataclass(frozen=True)
class Block:
    """One block of a letter. ``kind``: draft, info, class, disclosure, doc_number, signer, title,
    salutation, h1, h2, h3, h4, body, sender, date, note, cc. For h2–h4, ``head`` is the heading
    part and ``text`` the run-on body after it (may be empty)."""

    kind: str
    text: str
    head: str = ""

    @property
    def full(self) -> str:
        return self.head + self.text


_MARK = re.compile(r"^@(\S+)\s*(.*)$")
_HASHES = re.compile(r"^(#{1,5})\s+(.*)$")


def parse_markup(markup: str, source: str = "模板") -> list[Block]:
    """Letter markup (see the module docstring) → blocks. An unknown ``@`` tag names its line."""
    blocks: list[Block] = []
    current: list[str] | None = None  # [kind, text]

    def flush() -> None:
        nonlocal current
        if current is not None:
            blocks.append(_block(current[0], current[1]))
            current = None

    for lineno, raw in enumerate(markup.splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        m = _MARK.match(line)
        if m:
            flush()
            tag, text = m.groups()
            if tag not in TAGS:
                raise ProfileError(
                    f"{source} 输出的第 {lineno} 行用了未知标记“@{tag}”;可用的标记:"
                    + "、".join("@" + t for t in TAGS)
                    + "。"
                )
            blocks.append(Block(TAGS[tag], text.strip()))
            continue
        h = _HASHES.match(line)
        if h:
            flush()
            current = [HEADING_LEVELS[len(h.group(1))], h.group(2).strip()]
            continue
        if current is None:
            current = ["body", line]
        else:
            current[1] += line
    flush()
    return blocks


def _block(kind: str, text: str) -> Block:
    if kind in ("h2", "h3", "h4"):
        stop = text.find("。")
        if stop >= 0 and stop < len(text) - 1:
            return Block(kind, text[stop + 1 :], head=text[: stop + 1])
        return Block(kind, "", head=text)
    return Block(kind, text)


# ------------------------------------------------------------------------------------------------ render
@dataclass
class Letter:
    """A rendered letter: blocks for the writers, the figures it prints (for --audit), its facts."""

    blocks: list[Block]
    printed: list[PrintedFigure]
    spec: LetterSpec
    year: int
    draft: bool

    def first(self, kind: str) -> Block | None:
        return next((b for b in self.blocks if b.kind == kind), None)


def render_letter(
    spec: LetterSpec,
    figures: Any,
    profile: Any,
    year: int | None = None,
    *,
    draft: bool = False,
    environment: jinja2.Environment | None = None,
) -> Letter:
    """Render ``spec`` with the figures of ``year`` (default: the spec's year) into a ``Letter``.

    ``environment`` replaces ``make_environment(profile)`` (``carestats check --letter`` marks each figure).
    """
    year = spec.year if year is None else year
    recorder = Recorder()
    ctx = LetterContext(
        fig=FigureTable(figures, profile, year, recorder),
        units=UnitTable(figures, profile, year, recorder),
        spec=spec,
        year=year,
        county=profile.county,
        draft=draft,
    )
    env = make_environment(profile) if environment is None else environment
    try:
        template = env.get_template(spec.template)
    except jinja2.TemplateNotFound as exc:
        raise ProfileError(
            f"找不到答复函模板“{spec.template}”(答复函说明 {spec.path} 的 template 项);"
            f"查找位置:{Path(profile.path) / 'templates'}、{templates_dir()}。"
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ProfileError(
            f"答复函模板 {exc.filename or exc.name} 第 {exc.lineno} 行有语法错误:{_jinja_problem(exc.message or '')}。"
        ) from exc
    try:
        markup = template.render(ctx.as_dict())
    except jinja2.UndefinedError as exc:
        raise ProfileError(
            f"答复函模板{_where(template)}用到了没有的内容:{_jinja_problem(exc.message or '')}。"
        ) from exc
    except CarestatsError as exc:
        raise type(exc)(exc.message.rstrip("。") + f"(答复函模板{_where(template)})。") from exc
    except (TypeError, ValueError, ArithmeticError, jinja2.TemplateError) as exc:  # e.g. {{ fig.A05 / 0 }}
        raise ProfileError(
            f"答复函模板{_where(template)}无法计算:{_jinja_problem(str(exc))}。"
            "模板里的数请直接写 fig.代码 再接过滤器(如 {{ fig.A05 | 人 }}),不要在模板中做运算"
        ) from exc
    blocks = parse_markup(markup, f"答复函模板 {template.filename}")
    if draft:
        blocks.insert(0, Block("draft", DRAFT_MARK))
    return Letter(blocks=blocks, printed=recorder.printed, spec=spec, year=year, draft=draft)


_JINJA_REASONS = (  # Jinja's English reason → Chinese; the quoted name (tag, filter, item) is kept
    (re.compile(r"Encountered unknown tag '([^']*)'"), "未知的标记“{}”"),
    (re.compile(r"No filter named '([^']*)'"), "没有名为“{}”的过滤器(可用的过滤器见 templates/README.md)"),
    (re.compile(r"has no attribute '([^']*)'"), "没有“{}”这一项"),
    (re.compile(r"'([^']*)' is undefined"), "没有“{}”这一项"),
    (re.compile(r"Unexpected end of template"), "模板结束时还缺少结束标记(如 endif、endfor)"),
    (re.compile(r"unexpected '([^']*)'"), "这里多了“{}”"),
    (re.compile(r"expected token"), "这里的写法不对(括号或 {{{{ }}}} 没有配对?)"),  # str.format: {{ }}
    (re.compile(r"division by zero|divide by zero|DivisionByZero|InvalidOperation"), "除数为 0"),
    (re.compile(r"unsupported operand|can only concatenate|not supported between"), "这两个值不能这样运算"),
    (re.compile(r"(takes|got) .*argument"), "过滤器的参数个数不对"),
)


def _jinja_problem(message: str) -> str:
    """Jinja's (or Python's) English reason for a template error, in Chinese."""
    for pattern, chinese in _JINJA_REASONS:
        m = pattern.search(message)
        if m:
            return chinese.format(*m.groups())
    return "写法不对"


def _where(template: jinja2.Template) -> str:
    """“ reply-letter.j2 第 12 行”: the template line being rendered when an error was raised."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    name = Path(template.filename or template.name or "").name
    return f" {name} 第 {line} 行" if line else f" {name}"
