"""A hand-edited reply letter checked figure by figure against the data (``carestats check --letter``).

Each figure the letter writes (``letter_read.find_figures``) is tied to the indicator it states, in one of
two ways:

- **aligned** with what the letter spec's template renders from the data. The render marks every figure
  the template prints (``fig.A05 | 人`` → A05, with its cells); both texts are compared with their digits
  masked, so that a figure the clerk retyped still sits at the same place as the template's, and the same
  place means the same indicator;
- **by words**: the words before the figure (and after it, for “9个乡镇未成年人保护工作站”) are matched
  against the catalogue's names and other spellings, nearest clause first, widening to the sentence only
  to settle a tie. A tie that the words cannot settle is never settled by which candidate's value agrees
  with the figure (a wrong figure may equal another indicator's value): the figure is reported as not
  tied, with its candidates, never guessed — and as wrong when it disagrees with every candidate.

Then each tied figure is compared with the data: exact figures exactly (万元 against the 元 total), rates
against the ratio recomputed from the summed parts, and approximate figures by their marker — “N余” agrees
when N ≤ data < N + 10^z (z: trailing zeros of N), “约N” when the data rounds to N at N's precision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import jinja2

from carestats import numfmt
from carestats.errors import CarestatsError
from carestats.figures import Figures, compute_figures
from carestats.findings import CANNOT, ERROR, FAIL, WARNING, CellRef, Finding
from carestats.letter import (
    COUNTY_SCOPE,
    Figure,
    FigureNotAvailable,
    LetterSpec,
    letter_filters,
    load_spec,
    make_environment,
    render_letter,
)
from carestats.letter_read import (
    NUMBER,
    LetterText,
    Paragraph,
    WrittenFigure,
    find_figures,
    normalise,
    precision,
    read_letter,
    unit_group,
)
from carestats.letter_words import WordMatcher
from carestats.profile import Indicator, Profile
from carestats.resources import examples_dir
from carestats.store import Store
from carestats.text import squash

OK, WRONG, UNTIED, UNVERIFIABLE = "ok", "wrong", "untied", "unverifiable"
ALIGNED, WORDS = "aligned", "words"


# ------------------------------------------------------------------------------------------- the ties
@dataclass(frozen=True)
class Tie:
    """The indicator a written figure states, and the data it is compared with."""

    indicator: Indicator
    scope: str  # 全县 or a unit name
    value: Decimal | None  # None: the store has no figure (``missing`` says why)
    sources: tuple[Any, ...]  # StoredValue rows behind ``value``
    how: str  # aligned | words
    printed: str | None = None  # the figure as the template renders it (aligned only)
    exact: Decimal | None = None  # a county rate's unrounded ratio
    ratio: str | None = None  # “14810 ÷ 15147 × 100”, for the message
    missing: str | None = None
    # a county figure's units not in the store (a return not sent, a row lost): the sum is only partial,
    # so the figure cannot be judged — “县妇联(未报送表四)”
    lacks: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def label(self) -> str:
        where = "" if self.scope == COUNTY_SCOPE else f",{self.scope}"
        return f"{self.indicator.code} {self.indicator.name}{where}"


@dataclass
class FigureCheck:
    """One written figure: where it is, what it was tied to, and whether it agrees with the data."""

    figure: WrittenFigure
    place: str  # 第 12 段 / 第 12 行
    context: str  # the words around it, as written
    tie: Tie | None
    status: str  # ok | wrong | untied | unverifiable
    expected: str | None = None  # how it should read (wrong only)
    message: str = ""
    candidates: tuple[str, ...] = ()
    # wrong and not tied: how the figure would read for each candidate, which all disagree with it
    alternatives: tuple[tuple[Tie, str], ...] = ()

    @property
    def approximate(self) -> bool:
        return self.figure.kind != "exact"

    def to_json(self) -> dict:
        t = self.tie
        return {
            "letter_text": self.figure.text,
            "place": self.place,
            "status": self.status,
            "code": t.code if t else None,
            "scope": t.scope if t else None,
            "how": t.how if t else None,
            "value": numfmt.plain(t.value) if t and t.value is not None else None,
            "expected": self.expected,
            "candidates": list(self.candidates),
            "expected_by_candidate": {t.code: text for t, text in self.alternatives},
        }


@dataclass
class LetterCheck:
    letter: LetterText
    year: int
    spec: Path | None
    checks: list[FigureCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # template figures not found in the letter
    template_used: bool = False  # the spec's template was rendered and aligned (else figures tied by words)

    @property
    def how(self) -> str:
        """How the figures were tied, for the summary: a spec whose template could not be rendered from the
        data (a return missing) leaves the words alone."""
        return "按模板对照" if self.template_used else "按文字对应指标"

    def by_status(self, status: str) -> list[FigureCheck]:
        return [c for c in self.checks if c.status == status]

    @property
    def wrong(self) -> list[FigureCheck]:
        return self.by_status(WRONG)

    def summary(self) -> str:
        n = {s: len(self.by_status(s)) for s in (OK, WRONG, UNTIED, UNVERIFIABLE)}
        text = (
            f"答复函 {self.letter.path.name}:共 {len(self.checks)} 个数字,与数据相符 {n[OK]} 个,"
            f"不符 {n[WRONG]} 个,未对应到指标 {n[UNTIED]} 个"
        )
        if n[UNVERIFIABLE]:
            text += f",无法核对 {n[UNVERIFIABLE]} 个"
        return text + "。"

    def to_json(self) -> dict:
        return {
            "file": self.letter.path.name,
            "spec": str(self.spec) if self.spec else None,
            "year": self.year,
            "figures": [c.to_json() for c in self.checks],
            "not_in_letter": self.unmatched,
        }


# ---------------------------------------------------------------------------------------- entry point
def choose_spec(
    letter: LetterText, profile: Profile, spec: str | Path | None = None, *, find_spec: bool = True
) -> tuple[LetterSpec | None, list[str]]:
    """The letter spec to align with: the one given, else one whose 文号 the letter carries (with a note)."""
    if spec is not None:
        return load_spec(spec), []
    if find_spec:
        found = find_letter_spec(letter, profile)
        if found is not None:
            chosen = load_spec(found)
            return chosen, [f"信中的文号 {chosen.doc_number} 与答复函说明 {found} 相同,按其模板对照。"]
    return None, []


def check_letter(
    letter: str | Path | LetterText,
    store: Store,
    profile: Profile,
    year: int | None = None,
    spec: str | Path | LetterSpec | None = None,
    *,
    find_spec: bool = True,
) -> LetterCheck:
    """Read the letter, tie each figure to an indicator and compare it with ``year``'s data.

    ``spec`` is the letter spec it was rendered from; without one, a spec whose 文号 the letter carries is
    looked for beside the letter, in the profile's ``letters/`` and among the bundled examples
    (``find_spec=False`` ties by words alone). ``year`` defaults to the spec's, else the latest in the store.
    """
    if not isinstance(letter, LetterText):
        letter = read_letter(letter)
    if isinstance(spec, LetterSpec):
        spec_obj, notes = spec, []
    else:
        spec_obj, notes = choose_spec(letter, profile, spec, find_spec=find_spec)
    if year is None:
        year = spec_obj.year if spec_obj else _latest_year(store)
    figures = compute_figures(store, profile, year)
    units = profile_units(profile)
    written = find_figures(letter, units)
    result = LetterCheck(letter, year, spec_obj.path if spec_obj else None, notes=notes)

    aligned: dict[int, tuple[Figure | None, str, int]] = {}
    template: list[tuple[str, Figure | None]] = []
    matcher = WordMatcher(profile)
    template_words: _TemplateWords | None = None
    if spec_obj is not None:
        try:
            rendered = render_marked(spec_obj, figures, profile, year)
        except FigureNotAvailable as exc:  # the data lack a figure the template prints: words still work
            notes.append(f"无法按答复函模板生成对照文本({exc.message.rstrip('。')}),改为按文字对应指标。")
        else:
            aligned, template = align(letter, written, rendered, units)
            result.template_used = True
            template_words = _TemplateWords(matcher, rendered.text, units)
    used: set[int] = set()
    for i, w in enumerate(written):
        par = letter.paragraphs[w.paragraph]
        context = _snippet(par.text, w)
        tie: Tie | None = None
        candidates: tuple[str, ...] = ()
        fig, printed, k = aligned.get(i, (None, None, None))
        code, contenders = matcher.tie(letter, written, i)
        if fig is not None and (
            code == fig.code
            or fig.code in contenders
            or (code is None and not contenders)
            or (template_words is not None and template_words.tie(k) == (code, contenders))
        ):
            # the place, where the words agree or say nothing, or say what they say at the same place of the
            # template (whose author put this indicator there); where they name another indicator (a clause
            # deleted before it, a paragraph moved), the place has slipped and the words are taken
            tie = _tie(profile, figures, fig.code, fig.scope, fig.value, fig.sources, ALIGNED, printed)
            used.add(k)
        elif code is not None:
            named = _units_named(profile, code, matcher.clause(letter, written, i))
            if named:
                tie = _unit_tie(profile, figures, code, named, WORDS)
            else:
                tie = _county_tie(profile, figures, code, WORDS)
        else:  # never settled by which value agrees: a wrong figure may equal another's value
            candidates = tuple(contenders)
        result.checks.append(_check_one(w, par, context, tie, candidates, profile, figures))
    # a template figure is in the letter when a figure sits at its place, or is tied by its words to the
    # same indicator (its place having slipped: a clause deleted before it, a paragraph moved)
    tied = {(c.tie.code, c.tie.scope) for c in result.checks if c.tie is not None}
    result.unmatched = [
        f"{text}({fig.code} {fig.name})"
        for k, (text, fig) in enumerate(template)
        if fig is not None and k not in used and (fig.code, fig.scope) not in tied
    ]
    if result.unmatched:
        notes.append(
            f"模板中有 {len(result.unmatched)} 个数字在信中对应的位置没有找到(可能已删去或改写):"
            + "、".join(result.unmatched)
            + "。"
        )
    return result


class _TemplateWords:
    """What the words say of each figure of the rendered template, asked only where a letter's words name
    another indicator than its place: when the template's own words at that place say the same, they are
    the template's wording (“发动210名“爱心妈妈”结对关爱留守儿童…”, whose words after 210名 are another
    indicator's name), not a sign that the letter's text has moved."""

    def __init__(self, matcher: WordMatcher, text: LetterText, units: Iterable[str]):
        self.matcher, self.text = matcher, text
        self.figures = find_figures(text, units)
        self._ties: dict[int, tuple[str | None, list[str]]] = {}

    def tie(self, k: int) -> tuple[str | None, list[str]]:
        if k not in self._ties:
            self._ties[k] = self.matcher.tie(self.text, self.figures, k)
        return self._ties[k]


def profile_units(profile: Profile) -> frozenset[str]:
    """The 计量单位 of the profile's indicators (元 and % included), so a county's own unit words count."""
    return frozenset(ind.unit for ind in profile.indicators.values())


def _latest_year(store: Store) -> int:
    years = store.years()
    if not years:
        raise CarestatsError(f"数据库 {store.path} 中还没有数据。请先运行 carestats ingest 汇入报表")
    return years[-1]


def find_letter_spec(letter: LetterText, profile: Profile) -> Path | None:
    """The letter spec whose 文号 the letter carries: beside the letter, in the profile's ``letters/``,
    then among the bundled examples. None when there is none, or more than one with different 文号."""
    text = squash(letter.text + "\n" + letter.properties)
    folders = [letter.path.parent, Path(profile.path) / "letters", examples_dir() / "letters"]
    found: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in sorted(folder.glob("*.toml")):
            try:
                spec = load_spec(p)
            except (CarestatsError, OSError):  # pyproject.toml, profile.toml …: not a letter spec
                continue
            if squash(spec.doc_number) in text:
                found.setdefault(spec.doc_number, p)
    return next(iter(found.values())) if len(found) == 1 else None


def _snippet(text: str, w: WrittenFigure, before: int = 14, after: int = 6) -> str:
    a, b = max(0, w.start - before), min(len(text), w.end + after)
    return ("…" if a else "") + text[a:b].strip() + ("…" if b < len(text) else "")


# ------------------------------------------------------------------------------------ the rendered text
_OPEN, _MID, _CLOSE = "\ue000", "\ue001", "\ue002"
_MARKED = re.compile(_OPEN + r"(\d+)" + _MID + "(.*?)" + _CLOSE)


@dataclass
class Rendered:
    """What the spec's template renders from the data: its text and, per paragraph, the marked figures."""

    text: LetterText
    spans: dict[int, list[tuple[int, int, Figure]]]  # paragraph → (start, end, figure)


def render_marked(spec: LetterSpec, figures: Figures, profile: Profile, year: int) -> Rendered:
    """Render the letter as ``carestats report`` does (plain text), every printed figure marked."""
    from carestats.letter_text import to_text

    registry: list[Figure] = []

    def mark(fig: Figure, text: str) -> str:
        registry.append(fig)
        return f"{_OPEN}{len(registry) - 1}{_MID}{text}{_CLOSE}"

    def wrap(fn):
        def apply(value: Any, *args: Any, **kwargs: Any) -> str:
            text = fn(value, *args, **kwargs)
            return mark(value, text) if isinstance(value, Figure) else text

        return apply

    env: jinja2.Environment = make_environment(profile)
    for name in letter_filters(profile):
        env.filters[name] = wrap(env.filters[name])
    env.finalize = lambda v: mark(v, str(v)) if isinstance(v, Figure) else v
    letter = render_letter(spec, figures, profile, year, environment=env)
    paragraphs: list[Paragraph] = []
    spans: dict[int, list[tuple[int, int, Figure]]] = {}
    for n, line in enumerate(to_text(letter).split("\n")):
        out, pos, length = [], 0, 0
        for m in _MARKED.finditer(line):
            out.append(line[pos : m.start()])
            length += m.start() - pos
            spans.setdefault(n, []).append((length, length + len(m[2]), registry[int(m[1])]))
            out.append(m[2])
            length += len(m[2])
            pos = m.end()
        out.append(line[pos:])
        paragraphs.append(Paragraph("".join(out), f"第 {n + 1} 行"))
    return Rendered(LetterText(spec.path, tuple(paragraphs)), spans)


# ------------------------------------------------------------------------------------------ alignment
def _masked(letter: LetterText) -> tuple[str, list[tuple[int, int]]]:
    """The letter's text without white space, each number (digits, . and ,; thousands grouped by spaces
    as ``find_figures`` reads them, “5 680”) one ‘#’; and for each character, the (paragraph, offset) it
    stands for."""
    chars: list[str] = []
    src: list[tuple[int, int]] = []
    for pi, par in enumerate(letter.paragraphs):
        norm, origin = normalise(par.text)
        i = 0
        while i < len(norm):
            ch = norm[i]
            if ch.isspace():
                i += 1
                continue
            chars.append("#" if "0" <= ch <= "9" else ch)
            src.append((pi, origin[i]))
            if "0" <= ch <= "9":
                number = NUMBER.match(norm, i)
                if number is not None and " " in number[0]:
                    i = number.end()
                while i < len(norm) and (
                    "0" <= norm[i] <= "9"
                    or (norm[i] in ".," and i + 1 < len(norm) and "0" <= norm[i + 1] <= "9")
                ):
                    i += 1
                continue
            i += 1
    return "".join(chars), src


MIN_CONTEXT = 2  # a figure is aligned only inside a matching run with this many characters on one side


def align(
    letter: LetterText, written: Sequence[WrittenFigure], rendered: Rendered, units: Iterable[str] = ()
) -> tuple[dict[int, tuple[Figure | None, str, int]], list[tuple[str, Figure | None]]]:
    """Letter figure index → (the template's figure at the same place, as the template prints it, its
    index among the template's figures); the figure is None where the number is the template's own words.

    Also returns each of the template's figures: its text and its figure (None for the template's own
    words), to tell which are not in the letter.
    """
    their = find_figures(rendered.text, units)
    their_fig: list[Figure | None] = []
    for f in their:
        hit = None
        for s, e, fig in rendered.spans.get(f.paragraph, []):
            if s < f.end and f.num_start < e:
                hit = fig
                break
        their_fig.append(hit)
    ours_m, ours_src = _masked(letter)
    theirs_m, theirs_src = _masked(rendered.text)
    ours_at = {pos: i for i, pos in enumerate(ours_src)}
    theirs_at = {pos: i for i, pos in enumerate(theirs_src)}
    their_by_index = {theirs_at[(f.paragraph, f.num_start)]: k for k, f in enumerate(their)}
    blocks = SequenceMatcher(None, theirs_m, ours_m, autojunk=False).get_matching_blocks()
    out: dict[int, tuple[Figure | None, str, int]] = {}
    for i, w in enumerate(written):
        j = ours_at.get((w.paragraph, w.num_start))
        if j is None:
            continue
        for a, b, size in blocks:
            if b <= j < b + size and max(j - b, b + size - 1 - j) >= MIN_CONTEXT:
                k = their_by_index.get(a + j - b)
                if k is not None:
                    out[i] = (their_fig[k], normalise(their[k].text)[0], k)
                break
    return out, [(f.text, fig) for f, fig in zip(their, their_fig, strict=True)]


# ------------------------------------------------------------------------------------------ comparing
def _tie(
    profile: Profile,
    figures: Figures,
    code: str,
    scope: str,
    value: Decimal | None,
    sources: Iterable[Any],
    how: str,
    printed: str | None = None,
) -> Tie:
    ind = profile.indicators[code]
    exact = ratio = None
    rate = profile.rates.get(code)
    if rate is not None and scope == COUNTY_SCOPE:
        num, den = figures.totals.get(rate.numerator), figures.totals.get(rate.denominator)
        if num is not None and den:
            exact = num / den * rate.scale
            ratio = f"{rate.numerator} {numfmt.plain(num)} ÷ {rate.denominator} {numfmt.plain(den)} × {rate.scale}"
    missing = None
    if value is None:
        why = figures.incomplete.get(code)
        missing = why or "没有任何报表报送这个指标"
    lacks: tuple[str, ...] = ()
    if scope == COUNTY_SCOPE:  # a rate's county figure is recomputed from its parts: they count too
        parts = (code, rate.numerator, rate.denominator) if rate is not None else (code,)
        lacks = tuple(
            dict.fromkeys(u for c in parts for u in profile.county_lacks(c, figures.missing, figures.gaps))
        )
    return Tie(
        ind,
        scope,
        value,
        tuple(sources),
        how,
        printed,
        exact=exact,
        ratio=ratio,
        missing=missing,
        lacks=lacks,
    )


def _county_tie(profile: Profile, figures: Figures, code: str, how: str) -> Tie:
    return _tie(
        profile, figures, code, COUNTY_SCOPE, figures.totals.get(code), figures.sources.get(code, ()), how
    )


def _units_named(profile: Profile, code: str, clause: str) -> list[str]:
    """The units (乡镇, 部门, by any spelling the profile knows) the figure's own clause names and that
    report ``code``: “其中大兴镇纳入最低生活保障的老年人有1135人” states 大兴镇's A05, not the county's. A
    unit that does not report the indicator (“县民政局” before a township figure) does not scope it, nor
    does any when a single unit reports it (its figure is the county's)."""
    tables = set(profile.indicators[code].tables)
    reporters = {unit for unit, table, _row in profile.expected_returns() if table in tables}
    if len(reporters) < 2:  # one unit's figure is the county's (“向州民政局申请…12万元” is not scoped)
        return []
    return [u for u in profile.units_mentioned(clause, prose=True) if u in reporters]


def _unit_tie(profile: Profile, figures: Figures, code: str, units: Sequence[str], how: str) -> Tie:
    """The tie of a figure whose clause names ``units``: one unit's own value and cells; with several
    (“大兴镇和牛孔镇共…”) no figure to compare with, rather than the county's."""
    if len(units) > 1:
        tie = _tie(profile, figures, code, "、".join(units), None, (), how)
        return replace(tie, missing=f"句中写了 {len(units)} 个单位,数据中没有它们合起来的数")
    unit = units[0]
    cells = [s for s in figures.sources.get(code, ()) if s.unit == unit]
    value = figures.units.get(unit, {}).get(code)
    tie = _tie(profile, figures, code, unit, value, cells, how)
    if value is None:
        bad = [s for s in cells if s.value is None]
        why = (
            "、".join(f"{s.where}({s.detail or s.problem})" for s in bad)
            if bad
            else f"{unit}没有报送这个指标"
        )
        tie = replace(tie, missing=why)
    return tie


def _fmt(d: Decimal) -> str:
    return numfmt.trimmed(d)


def _like(w: WrittenFigure, number: Decimal) -> str:
    """``number`` with as many decimals as the letter wrote: 1.3 for “1.2万人”, 2000 for “2100余”."""
    places = len(w.digits.split(".", 1)[1]) if "." in w.digits else 0
    return format(number.quantize(Decimal(1).scaleb(-places)), "f") if places else _fmt(number)


def _rewrite(w: WrittenFigure, number: Decimal) -> str:
    """The figure as written, with another number: “2100余份” → “2000余份”, “约1.2万人” → “约1.3万人”."""
    norm, _ = normalise(w.text)
    digits = NUMBER.search(norm)  # the whole number, thousands separators and all (“5 680”)
    assert digits is not None
    return norm[: digits.start()] + _like(w, number) + norm[digits.end() :]


def _exact_text(w: WrittenFigure, tie: Tie) -> str:
    """The data written exactly in the letter's unit word (in 万元 when the letter writes 万元)."""
    d = tie.value
    assert d is not None
    if tie.indicator.kind == "money":
        if w.scale == 4:
            return numfmt.wan_yuan(d)
        if w.scale == 8:
            return _fmt(d.scaleb(-8)) + "亿元"
        return numfmt.yuan(d)
    if tie.indicator.kind == "rate":
        return numfmt.percent(d)
    unit = w.unit if unit_group(w.unit) == unit_group(tie.indicator.unit) else tie.indicator.unit
    return _fmt(d) + unit


def _round(d: Decimal, step: Decimal) -> Decimal:
    """``d`` rounded half-up to a multiple of ``step`` (0.01, 1, 1000 …)."""
    return (d / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def judge(w: WrittenFigure, tie: Tie) -> tuple[str, str | None, str]:
    """(status, how the figure should read, why) for a figure tied to ``tie``."""
    ind = tie.indicator
    if tie.lacks:  # a partial sum is no county figure: never an “应为” from it
        why = f"全县数不完整:缺 {'、'.join(tie.lacks)}"
        if tie.value is not None and ind.kind != "rate":
            why += f",已报送单位之和为 {_exact_text(w, tie)}"
        return UNVERIFIABLE, None, why
    if tie.value is None:
        return UNVERIFIABLE, None, f"该指标没有{tie.scope}数({tie.missing})"
    if unit_group(w.unit) != unit_group(ind.unit):
        why = f"单位“{w.unit}”与指标的计量单位“{ind.unit}”不符"
        return WRONG, tie.printed or _exact_text(w, tie), why
    if w.kind == "mixed":
        return UNVERIFIABLE, None, f"约数写了两个标记({w.qualifier}),一个约数只用一个标记,如“1200余人次”"
    data = tie.exact if ind.kind == "rate" and tie.exact is not None else tie.value
    shown = data.scaleb(-w.scale)  # the data in the letter's scale: 1688720 元 → 168.872 (万元)
    n, step = w.number, precision(w.digits)
    unit = {4: "万", 8: "亿"}.get(w.scale, "") + w.unit
    written = normalise(w.text)[0]
    if w.kind == "exact":
        if ind.kind == "rate":
            if _round(shown, step) == n:
                return OK, None, ""
            same_places = step == Decimal(1).scaleb(-ind.decimals)
            if same_places or tie.exact is None:
                return WRONG, numfmt.percent(tie.value), ""
            return WRONG, _like(w, _round(shown, step)) + "%", ""
        if w.scale and ind.kind != "money":  # 1.2万人: a count written to the precision shown
            rounded = _round(shown, step)
            return (OK, None, "") if rounded == n else (WRONG, _rewrite(w, rounded), "")
        return (OK, None, "") if shown == n else (WRONG, _exact_text(w, tie), "")
    if w.kind == "floor":
        if n <= shown < n + step:
            return OK, None, ""
        floored = (shown / step).to_integral_value(rounding=ROUND_FLOOR) * step
        expected = _rewrite(w, floored) if floored > 0 else _exact_text(w, tie)
        return WRONG, expected, f"“{written}”表示不少于 {_fmt(n)}{unit}、不到 {_fmt(n + step)}{unit}"
    if w.kind == "round":
        rounded = _round(shown, step)
        if rounded == n:
            return OK, None, ""
        return WRONG, _rewrite(w, rounded), f"“{written}”表示四舍五入后为 {_fmt(n)}{unit}"
    checks = {
        "at-least": (shown >= n, f"“{written}”表示不少于 {_fmt(n)}{unit}"),
        "above": (shown > n, f"“{written}”表示多于 {_fmt(n)}{unit}"),
        "below": (shown < n, f"“{written}”表示少于 {_fmt(n)}{unit}"),
        "near": (n - step <= shown <= n, f"“{written}”表示略少于 {_fmt(n)}{unit}"),
    }
    ok, why = checks[w.kind]
    return (OK, None, "") if ok else (WRONG, _exact_text(w, tie), why)


def source_text(sources: Sequence[Any]) -> str:
    """Where a figure comes from: one file's cells, or each unit's cell when several returns add up."""
    if not sources:
        return "无来源单元格"
    groups: dict[tuple[str, str], list[Any]] = {}
    for s in sources:
        groups.setdefault((s.file, s.sheet), []).append(s)
    if len(groups) == 1:
        (file, sheet), cells = next(iter(groups.items()))
        return f"{file} {sheet}!" + "、".join(cell_ranges([c.cell for c in cells]))
    sheets = {sheet for _file, sheet in groups}
    if len(sheets) == 1:
        return f"{len(groups)} 份报表之和(工作表“{sheets.pop()}”):" + "、".join(
            f"{s.unit} {s.cell}" for s in sources
        )
    return f"{len(groups)} 份报表之和:" + "、".join(f"{s.unit} {s.sheet}!{s.cell}" for s in sources)


_A1 = re.compile(r"^([A-Z]+)(\d+)$")


def cell_ranges(cells: Sequence[str]) -> list[str]:
    """Runs of cells down one column written as ranges: D6、D7、D8 → D6:D8 (order kept otherwise)."""
    out: list[str] = []
    run: list[tuple[str, int]] = []

    def flush() -> None:
        if run:
            out.append(f"{run[0][0]}{run[0][1]}" + (f":{run[-1][0]}{run[-1][1]}" if len(run) > 1 else ""))
            run.clear()

    for cell in cells:
        m = _A1.match(cell)
        if m is None:
            flush()
            out.append(cell)
            continue
        col, row = m[1], int(m[2])
        if run and not (run[-1][0] == col and run[-1][1] + 1 == row):
            flush()
        run.append((col, row))
    flush()
    return out


def _check_one(
    w: WrittenFigure,
    par: Paragraph,
    context: str,
    tie: Tie | None,
    candidates: tuple[str, ...],
    profile: Profile,
    figures: Figures,
) -> FigureCheck:
    if tie is None and candidates:
        wrong_for_all = _wrong_for_every_candidate(w, candidates, profile, figures)
        if wrong_for_all:
            options = " 或 ".join(f"{t.label}(应为‘{text}’)" for t, text in wrong_for_all)
            msg = (
                f"信中‘{w.text}’与数据不符:按文字可能是 {options},与其中任何一个都不符"
                f"(“{context}”),请确定是哪一个指标后改正。"
            )
            return FigureCheck(
                w,
                par.place,
                context,
                None,
                WRONG,
                message=msg,
                candidates=candidates,
                alternatives=wrong_for_all,
            )
    if tie is None:
        msg = f"信中‘{w.text}’没有对应到指标,未核对(“{context}”)"
        if candidates:
            options = " 或 ".join(
                f"{c} {profile.indicators[c].name}({_candidate_value(profile, figures, c)})"
                for c in candidates
            )
            msg += f";按文字可能是 {options},无法确定,请核对"
        return FigureCheck(w, par.place, context, None, UNTIED, message=msg + "。", candidates=candidates)
    status, expected, why = judge(w, tie)
    source = source_text(tie.sources)
    if status == UNVERIFIABLE:
        msg = f"信中‘{w.text}’对应指标 {tie.label},但{why.rstrip('。')},无法核对。"
        if tie.lacks:
            msg += "请催报,补齐后重新汇入再核对。"
        return FigureCheck(w, par.place, context, tie, status, message=msg)
    if status == OK:
        return FigureCheck(w, par.place, context, tie, OK)
    detail = tie.label
    if tie.ratio and tie.exact is not None:
        detail += f",按 {tie.ratio} 重新计算为 {numfmt.plain(_round(tie.exact, Decimal('0.0001')))}"
    elif w.kind != "exact":
        detail += f",数据为 {_exact_text(w, tie)}"
    msg = f"信中‘{w.text}’与数据不符"
    if why:
        msg += f"({why})"
    msg += f",应为‘{expected}’({detail},来源 {source})。"
    return FigureCheck(w, par.place, context, tie, WRONG, expected=expected, message=msg)


def _wrong_for_every_candidate(
    w: WrittenFigure, candidates: Sequence[str], profile: Profile, figures: Figures
) -> tuple[tuple[Tie, str], ...]:
    """(candidate, how the figure would read for it) when the figure disagrees with every candidate's
    data — then it is wrong whichever the letter means; () when any agrees or cannot be checked."""
    out = []
    for code in candidates:
        tie = _county_tie(profile, figures, code, WORDS)
        status, expected, _why = judge(w, tie)
        if status != WRONG or expected is None:
            return ()
        out.append((tie, expected))
    return tuple(out)


def _candidate_value(profile: Profile, figures: Figures, code: str) -> str:
    lacks = _county_tie(profile, figures, code, WORDS).lacks
    if lacks:  # a partial sum shown as the county figure would mislead
        return f"全县数不完整,缺 {'、'.join(lacks)}"
    value = figures.totals.get(code)
    if value is None:
        return "无全县数"
    ind = profile.indicators[code]
    if ind.kind == "money":
        return numfmt.wan_yuan(value)
    if ind.kind == "rate":
        return numfmt.percent(value)
    return _fmt(value) + ind.unit


# ------------------------------------------------------------------------------------------- findings
LETTER_UNIT = "答复函"  # the group letter findings are listed under, after the units' own findings
LETTER_RULES = {
    "wrong": ("L01", "答复函数字与数据不符"),
    "wrong-approx": ("L02", "答复函约数与数据不符"),
    UNTIED: ("L03", "答复函数字未对应到指标"),
    UNVERIFIABLE: ("L04", "答复函数字无法核对"),
}


@dataclass(frozen=True)
class LetterFinding(Finding):
    """A finding about a figure of the letter: the same Finding, located at the letter's paragraph, with
    the figure as written and as it should read."""

    letter_text: str = ""
    expected: str | None = None
    scope: str | None = None  # 全县 or the unit whose value the figure states
    how: str | None = None  # aligned | words

    @property
    def where(self) -> str:
        return f"{self.file} {self.cell}" if self.cell else str(self.file)

    def to_json(self) -> dict:
        data = super().to_json()
        data.update(letter_text=self.letter_text, expected=self.expected, scope=self.scope, how=self.how)
        return data


def letter_findings(check: LetterCheck) -> list[Finding]:
    """Errors for wrong figures, warnings for figures tied to no indicator or without data, in letter order."""
    out: list[Finding] = []
    for c in check.checks:
        if c.status == OK:
            continue
        key = ("wrong-approx" if c.approximate else "wrong") if c.status == WRONG else c.status
        rule, label = LETTER_RULES[key]
        tie = c.tie
        sources = tie.sources if tie else tuple(s for t, _text in c.alternatives for s in t.sources)
        cells = tuple(
            CellRef(
                s.code, s.file, s.sheet, s.cell, format(s.value, "f") if s.value is not None else None, s.path
            )
            for s in sources
        )
        out.append(
            LetterFinding(
                severity=ERROR if c.status == WRONG else WARNING,
                outcome=FAIL if c.status == WRONG else CANNOT,
                rule=rule,
                label=label,
                unit=LETTER_UNIT,
                codes=(tie.code,) if tie else c.candidates,
                file=check.letter.path.name,
                sheet=None,
                cell=c.place,
                cells=cells,
                message=c.message,
                letter_text=c.figure.text,
                expected=c.expected,
                scope=tie.scope if tie else None,
                how=tie.how if tie else None,
            )
        )
    return out


def render_letter_findings(check: LetterCheck, findings: Sequence[Finding], console: Any) -> None:
    """The letter's part of the human report: one table like the data's, then the count of figures."""
    from rich.table import Table
    from rich.text import Text

    from carestats.findings import SEVERITY_TEXT

    if findings:
        table = Table(title=f"{LETTER_UNIT} {check.letter.path.name}", title_justify="left", show_lines=True)
        for col in ("类别", "规则", "指标", "位置", "说明"):  # CJK text has no spaces: fold, never crop
            table.add_column(
                col, no_wrap=col in ("类别", "指标"), overflow="fold", ratio=4 if col == "说明" else None
            )
        for f in findings:
            kind = SEVERITY_TEXT[f.severity] + ("(无法审核)" if f.outcome == CANNOT else "")
            style = "red" if f.severity == ERROR else "yellow"
            table.add_row(
                Text(kind, style=style), f"{f.rule} {f.label}", "、".join(f.codes), f.where, f.message
            )
        console.print(table)
    for note in check.notes:
        console.print(f"说明:{note}")
    how = check.how
    tail = "请按“应为”改正答复函中的数字后再核对。" if check.wrong else ""
    console.print(check.summary().rstrip("。") + f"({how})。" + tail)
