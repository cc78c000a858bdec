"""Run the profile's 审核关系 against the values in the store: ``run_check(store, profile, year)``.

Each rule kind is one function registered by name in ``CHECKS``; it yields ``Finding``s for what fails or
cannot be evaluated and counts what passes. Four outcomes are never confused: pass (counted), fail (a
finding with the rule's severity), cannot evaluate (a warning that names the missing or unreadable input)
and a broken rule (refused when the profile loads, see ``rules.py``). All arithmetic is Decimal.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from carestats.expr import CONTEXT, Comparison, DivisionByZero, Expression, MissingInput, round_half_up
from carestats.findings import (
    CANNOT,
    FAIL,
    TOTAL_UNIT,
    WARNING,
    CellRef,
    CheckResult,
    Finding,
    Note,
    fmt_number,
)
from carestats.interval import Interval, decimals_of
from carestats.profile import Profile
from carestats.rules import Rule, load_rules
from carestats.store import Store, StoredValue
from carestats.text import nfkc
from carestats.values import PROBLEM_TITLES

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_FAILED = {"<": "不小于", "<=": "大于", ">": "不大于", ">=": "小于", "==": "不等于", "!=": "等于"}


def run_check(store: Store, profile: Profile, year: int, rules: list[Rule] | None = None) -> CheckResult:
    """Check ``year``'s active values against the profile's rules (``rules.toml`` unless given)."""
    if rules is None:
        rules = load_rules(profile)
    values = store.active_values(year)
    previous = store.active_values(year - 1) if (year - 1) in store.years() else None
    return evaluate(rules, profile, year, values, previous)


def evaluate(
    rules: list[Rule],
    profile: Profile,
    year: int,
    values: list[StoredValue],
    previous: list[StoredValue] | None = None,
) -> CheckResult:
    """The pure part of ``run_check``: rules × values → CheckResult."""
    ctx = _Context(profile, year, values, previous)
    for rule in rules:
        found = 0
        for finding in CHECKS[rule.kind](rule, ctx):
            ctx.result.findings.append(finding)
            found += 1
        if (
            not found
            and not ctx.result.passes[rule.id]
            and not any(n.rule == rule.id for n in ctx.result.notes)
        ):
            ctx.note(rule, f"没有可审核的数据:{_idle_reason(rule, ctx)},本条未审核。")
    ctx.result.findings = _ordered(ctx.result.findings, rules, ctx.result.unit_order)
    return ctx.result


# ----------------------------------------------------------------------------- context
@dataclass
class _Context:
    profile: Profile
    year: int
    values: list[StoredValue]
    previous: list[StoredValue] | None
    result: CheckResult = field(init=False)
    by_unit: dict[str, dict[str, StoredValue]] = field(init=False)  # role 'value' only
    by_submission: dict[int, list[StoredValue]] = field(init=False)
    # rule id → how many units (or totals, or the county) a rule's ``when`` did not hold for
    not_applicable: dict[str, int] = field(init=False, default_factory=dict)
    _missing: list[tuple[str, str, bool]] = field(init=False, default_factory=list)
    _short: dict[str, list[str]] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.result = CheckResult(self.year, unit_order=list(self.profile.units))
        self.by_unit = {}
        self.by_submission = {}
        for v in self.values:
            if v.role == "value":
                self.by_unit.setdefault(v.unit, {})[v.code] = v
            self.by_submission.setdefault(v.submission_id, []).append(v)

    def units(self) -> list[str]:
        """Units with values, in profile order (unknown names last)."""
        order = {name: i for i, name in enumerate(self.profile.units)}
        return sorted(self.by_unit, key=lambda u: (order.get(u, len(order)), u))

    def passed(self, rule: Rule, n: int = 1) -> None:
        self.result.passes[rule.id] += n

    def note(self, rule: Rule, text: str) -> None:
        """A note about ``rule`` (it did not run, or not for every unit), prefixed with its id and label."""
        self.result.notes.append(Note(rule.id, f"规则 {rule.id}({rule.label}){text}"))

    def county_short(self, codes: Iterable[str]) -> list[str]:
        """For each of ``codes`` whose county figure lacks units (an expected return not sent, a row missing
        from a return sent): “C01 留守儿童数 缺 大兴镇(未报送表一)”. Empty when every county figure is whole."""
        if self._short is None:
            self._missing = self.profile.missing_returns(self.values)
            self._short = self.profile.missing_indicators(self.values)
        out = []
        for code in dict.fromkeys(codes):
            whom = self.profile.county_lacks(code, self._missing, self._short)
            if whom:
                out.append(f"{self.label(code)} 缺 {'、'.join(whom)}")
        return out

    def label(self, code: str) -> str:
        ind = self.profile.indicators.get(code)
        return ind.label if ind else code

    def unit_applies(self, rule: Rule, unit: str) -> bool:
        if rule.units is None:
            return True
        u = self.profile.units.get(unit)
        return u is not None and u.kind == rule.units


def _ref(v: StoredValue) -> CellRef:
    return CellRef(
        v.code, v.file, v.sheet, v.cell, format(v.value, "f") if v.value is not None else None, v.path
    )


def _finding(
    rule: Rule,
    unit: str | None,
    codes: Iterable[str],
    primary: StoredValue | None,
    cells: Iterable[StoredValue],
    message: str,
    *,
    outcome: str = FAIL,
    file_only: StoredValue | None = None,
) -> Finding:
    """A finding located at ``primary`` (or only at the file of ``file_only`` when no single cell is to blame)."""
    at = primary or file_only
    return Finding(
        severity=rule.severity if outcome == FAIL else WARNING,
        outcome=outcome,
        rule=rule.id,
        label=rule.label,
        unit=unit,
        codes=tuple(dict.fromkeys(codes)),
        file=at.file if at else None,
        sheet=at.sheet if at else None,
        cell=primary.cell if primary else None,
        cells=tuple(_ref(c) for c in dict.fromkeys(cells)),
        message=message,
        path=at.path if at else None,
    )


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith(("。", "!", "?")) else text + "。"


def _show(value: Decimal) -> str:
    return fmt_number(value)


def _at(v: StoredValue, primary: StoredValue) -> str:
    """sheet!cell when the finding already names the file, else file and sheet!cell."""
    return f"{v.sheet}!{v.cell}" if v.file == primary.file else v.where


def _raw_note(v: StoredValue) -> str:
    """“(原填“13.2386”万元)” when what the clerk typed differs from the stored value in 元."""
    raw = nfkc(v.raw).strip().replace(",", "")
    try:
        if v.value is not None and Decimal(raw) == v.value:
            return ""
    except (InvalidOperation, ValueError):
        pass
    return f"(原填“{v.raw}”)"


# ----------------------------------------------------------------------------- readable
def _check_readable(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    for v in ctx.values:
        if not ctx.unit_applies(rule, v.unit) and v.unit != TOTAL_UNIT:
            continue
        if v.value is not None:
            ctx.passed(rule)
            continue
        title = PROBLEM_TITLES.get(v.problem or "", v.problem or "无法读取")
        detail = v.detail or title
        where = "合计行 " if v.role == "total" else ""
        yield _finding(
            rule,
            v.unit,
            [v.code],
            v,
            [v],
            _sentence(f"{where}{ctx.label(v.code)} 无法读取({title}):{detail}"),
        )


# ----------------------------------------------------------------------------- type
def _check_type(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    for v in ctx.values:
        ind = ctx.profile.indicators.get(v.code)
        if ind is None or ind.kind not in rule.of or v.value is None:
            continue
        if v.role == "value" and not ctx.unit_applies(rule, v.unit):
            continue
        problems = []
        if v.value < 0:
            problems.append("是负数")
        places = decimals_of(v.value.normalize())
        if places > ind.decimals:
            problems.append("不是整数" if ind.decimals == 0 else f"有 {places} 位小数,超过 {ind.decimals} 位")
        if not problems:
            ctx.passed(rule)
            continue
        where = "合计行 " if v.role == "total" else ""
        unit_text = f" {ind.unit}" if ind.unit else ""
        yield _finding(
            rule,
            v.unit,
            [v.code],
            v,
            [v],
            f"{where}{ind.label} 为 {_show(v.value)}{unit_text}{_raw_note(v)},{'、'.join(problems)}。"
            + _sentence(rule.hint),
        )


# ----------------------------------------------------------------------------- compare
def _check_compare(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    assert rule.expr is not None
    needed = rule.expr.codes + (rule.when.codes if rule.when else ())
    if rule.scope == "unit":
        for unit in ctx.units():
            if not ctx.unit_applies(rule, unit):
                continue
            vals = ctx.by_unit[unit]
            if not any(c in vals for c in needed):
                continue
            cells = {c: [vals[c]] for c in needed if c in vals}
            env = {c: vals[c].value for c in needed if c in vals}
            yield from _compare_one(rule, ctx, unit, env, cells, county=False)
    elif rule.scope == "total":
        for vals in ctx.by_submission.values():
            totals = {v.code: v for v in vals if v.role == "total"}
            if not any(c in totals for c in needed):
                continue
            cells = {c: [totals[c]] for c in needed if c in totals}
            env = {c: totals[c].value for c in needed if c in totals}
            yield from _compare_one(rule, ctx, TOTAL_UNIT, env, cells, county=False)
    else:  # county / between: a code stands for the county figure, the sum over the units reporting it
        short = ctx.county_short(needed)
        if short:
            # a county figure without some units' figures: the rule cannot be judged, and no unit that did
            # report is to blame (县妇联's F03 is not wrong because 大兴镇's C01 has not come in)
            yield _finding(
                rule,
                None,
                rule.expr.codes,
                None,
                [v for v in ctx.values if v.role == "value" and v.code in needed],
                f"无法审核:全县数不完整:{';'.join(short)}。补齐后才能审核本条。",
                outcome=CANNOT,
            )
            return
        cells = {}
        env = {}
        for code in needed:
            parts = [v for v in ctx.values if v.role == "value" and v.code == code]
            if not parts:
                continue
            cells[code] = parts
            if any(p.value is None for p in parts):
                env[code] = None
            else:
                env[code] = sum((p.value for p in parts if p.value is not None), Decimal(0))
        yield from _compare_one(rule, ctx, None, env, cells, county=True)


def _compare_one(
    rule: Rule,
    ctx: _Context,
    unit: str | None,
    env: dict[str, Decimal | None],
    cells: dict[str, list[StoredValue]],
    *,
    county: bool,
) -> Iterator[Finding]:
    assert rule.expr is not None
    all_cells = [c for code in cells for c in cells[code]]
    try:
        if rule.when is not None and not rule.when.evaluate(env).value:
            ctx.not_applicable[rule.id] = ctx.not_applicable.get(rule.id, 0) + 1
            return  # the rule does not apply (e.g. no divisor)
        outcome = rule.expr.evaluate(env)
    except MissingInput as exc:
        yield _cannot(rule, ctx, unit, exc.code, cells, all_cells, county)
        return
    except DivisionByZero as exc:
        # a county figure is many units' cells: no one unit's file is the place to mark
        first = all_cells[0] if all_cells and not county else None
        yield _finding(
            rule,
            unit,
            rule.expr.codes,
            None,
            all_cells,
            f"无法审核:除数 {exc.text} 为 0。",
            outcome=CANNOT,
            file_only=first,
        )
        return
    if outcome.value:
        ctx.passed(rule)
        return
    failed = outcome.failed or outcome.comparisons  # an `or` of comparisons fails as a whole
    blame_code = rule.blame or next(
        (c for comp in failed for c in (*comp.left_codes, *comp.right_codes)), rule.expr.codes[0]
    )
    blamed = cells.get(blame_code, [])
    primary = blamed[0] if len(blamed) == 1 else None
    parts = [_comparison_text(comp, ctx, env, county) for comp in failed]
    message = ";".join(parts) + "。" + _sentence(rule.hint)
    yield _finding(
        rule,
        unit,
        rule.expr.codes,
        primary,
        [*blamed, *all_cells],
        message,
        file_only=blamed[0] if blamed and not (county and len(blamed) > 1) else None,
    )


def _cannot(
    rule: Rule,
    ctx: _Context,
    unit: str | None,
    code: str,
    cells: dict[str, list[StoredValue]],
    all_cells: list[StoredValue],
    county: bool,
) -> Finding:
    assert rule.expr is not None
    bad = [c for c in cells.get(code, []) if c.value is None]
    if bad:
        wheres = "、".join(f"{_at(c, bad[0])}(原填“{c.raw}”)" for c in bad)
        message = f"无法审核:{ctx.label(code)} 的单元格 {wheres} 无法读取;改正后才能审核本条。"
        primary = bad[0]
    else:
        whom = "全县没有任何单位报送" if county else f"{unit} 没有报送"
        message = f"无法审核:{whom} {ctx.label(code)}。"
        primary = None
    return _finding(
        rule,
        unit,
        rule.expr.codes,
        primary,
        all_cells,
        message,
        outcome=CANNOT,
        # a unit's own file when the unit lacks a code; for the county, no unit's file is to blame
        file_only=all_cells[0] if all_cells and not county else None,
    )


def _comparison_text(comp: Comparison, ctx: _Context, env: dict, county: bool) -> str:
    left = (comp.left_text, comp.left_codes, comp.left)
    right = (comp.right_text, comp.right_codes, comp.right)
    op = comp.op
    if not comp.left_codes and comp.right_codes:  # “100 <= A07 / A06” reads better as “A07 ÷ A06 … 小于 100”
        left, right, op = right, left, _FLIP[op]
    return f"{_side(*left, other=right[2], ctx=ctx, env=env, county=county)} {_FAILED[op]} " + _side(
        *right, other=left[2], ctx=ctx, env=env, county=county
    )


def _side(
    text: str,
    codes: tuple[str, ...],
    value: Decimal,
    *,
    other: Decimal,
    ctx: _Context,
    env: dict,
    county: bool,
) -> str:
    text = text.strip()
    what = "(全县)" if county else ""
    if text in ctx.profile.indicators:
        return f"{ctx.label(text)}{what} {_show(value)}"
    if not codes:
        return text
    shown = _show(value) if decimals_of(value) <= 2 else fmt_number(value, 2)
    if decimals_of(value) > 2 and Decimal(shown) == other:
        shown = fmt_number(value, 6)
    inputs = ",".join(f"{ctx.label(c)}{what} {_show(env[c])}" for c in codes)
    pretty = text.replace("/", "÷").replace("*", "×")
    return f"{pretty} = {shown}({inputs})"


# ----------------------------------------------------------------------------- rate
def _check_rate(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    assert rule.code is not None
    rate = ctx.profile.rates[rule.code]
    if rule.scope == "unit":
        for unit in ctx.units():
            vals = ctx.by_unit[unit]
            reported = vals.get(rule.code)
            if reported is None or not ctx.unit_applies(rule, unit):
                continue
            num, den = vals.get(rate.numerator), vals.get(rate.denominator)
            inputs = {rate.numerator: [num] if num else [], rate.denominator: [den] if den else []}
            yield from _rate_one(rule, ctx, unit, reported, inputs, total=False)
    else:
        for vals in ctx.by_submission.values():
            reported = next((v for v in vals if v.role == "total" and v.code == rule.code), None)
            if reported is None:
                continue
            inputs = {
                code: [v for v in vals if v.role == "value" and v.code == code]
                for code in (rate.numerator, rate.denominator)
            }
            rows = [v for v in vals if v.role == "value" and v.code == rule.code]
            yield from _rate_one(rule, ctx, TOTAL_UNIT, reported, inputs, total=True, rows=rows)


def _input_interval(v: StoredValue, ctx: _Context) -> Interval:
    ind = ctx.profile.indicators[v.code]
    assert v.value is not None
    return Interval.rounded(v.value, ind.decimals) if ind.kind == "rate" else Interval.point(v.value)


def _rate_one(
    rule: Rule,
    ctx: _Context,
    unit: str,
    reported: StoredValue,
    inputs: dict[str, list[StoredValue]],
    *,
    total: bool,
    rows: list[StoredValue] | None = None,
) -> Iterator[Finding]:
    assert rule.code is not None
    rate = ctx.profile.rates[rule.code]
    ind = ctx.profile.indicators[rule.code]
    num_code, den_code = rate.numerator, rate.denominator
    read = [reported, *inputs[num_code], *inputs[den_code]]
    codes = [rule.code, num_code, den_code]
    for code in (num_code, den_code):
        if not inputs[code]:
            yield _finding(
                rule,
                unit,
                codes,
                None,
                read,
                f"无法审核:{unit if not total else '合计行所在的表中'}没有 {ctx.label(code)},无法核对 {ctx.label(rule.code)}。",
                outcome=CANNOT,
                file_only=reported,
            )
            return
    bad = [v for v in read if v.value is None]
    if bad:
        wheres = "、".join(f"{ctx.label(v.code)} {_at(v, bad[0])}(原填“{v.raw}”)" for v in bad)
        yield _finding(
            rule,
            unit,
            codes,
            bad[0],
            read,
            f"无法审核:{wheres} 无法读取;改正后才能审核本条。",
            outcome=CANNOT,
        )
        return
    assert reported.value is not None
    with decimal.localcontext(CONTEXT):
        num_i = _sum_intervals([_input_interval(v, ctx) for v in inputs[num_code]])
        den_i = _sum_intervals([_input_interval(v, ctx) for v in inputs[den_code]])
        if den_i.lo <= 0:
            yield _finding(
                rule,
                unit,
                codes,
                None,
                read,
                f"无法审核:{ctx.label(den_code)} 为 0,无法计算 {ctx.label(rule.code)}。",
                outcome=CANNOT,
                file_only=reported,
            )
            return
        computed = (num_i / den_i).scale(Decimal(rate.scale))
        claimed = Interval.rounded(reported.value, ind.decimals)
        if claimed.overlaps(computed):
            ctx.passed(rule)
            return
        num, den = num_i.lo, den_i.lo  # exact when the inputs are counts (points)
        exact = num * rate.scale / den
    expected = round_half_up(exact, ind.decimals)
    shown_exact = fmt_number(exact, ind.decimals + 2)
    approx = "" if exact == Decimal(shown_exact) else "…"
    formula = f"{num_code} ÷ {den_code} × {rate.scale}"
    if not total:
        message = (
            f"{ctx.label(rule.code)} 填报 {_show(reported.value)},按 {formula} = {_show(num)} ÷ {_show(den)} × "
            f"{rate.scale} = {shown_exact}{approx},四舍五入保留 {ind.decimals} 位小数应为 {_show(expected)}。"
        )
    else:
        parts = "各乡镇" if all(_is_township(ctx, r.unit) for r in inputs[num_code]) else "各行"
        average = _average_note(rows or [], reported.value, ind.decimals, f"{parts}{ind.name}")
        message = (
            f"合计行{ind.name}应为 {_show(expected)},填报 {_show(reported.value)}{average};"
            f"按{parts}之和计算:{num_code} {_show(num)} ÷ {den_code} {_show(den)} × {rate.scale} = {shown_exact}{approx}。"
        )
    yield _finding(rule, unit, codes, reported, read, message + _sentence(rule.hint))


def _is_township(ctx: _Context, unit: str) -> bool:
    u = ctx.profile.units.get(unit)
    return u is not None and u.kind == "乡镇"


def _sum_intervals(items: list[Interval]) -> Interval:
    lo = sum((i.lo for i in items), Decimal(0))
    hi = sum((i.hi for i in items), Decimal(0))
    return Interval(lo, hi, all(i.lo_closed for i in items), all(i.hi_closed for i in items))


def _average_note(rows: list[StoredValue], reported: Decimal, places: int, what: str) -> str:
    """“(疑为各乡镇健康管理率的平均数 97.66)” when the reported total rate is the plain mean of the row rates."""
    values = [r.value for r in rows if r.value is not None]
    if not values or len(values) != len(rows):
        return ""
    with decimal.localcontext(CONTEXT):
        mean = sum(values, Decimal(0)) / len(values)
    if Interval.rounded(reported, places).overlaps(Interval.point(mean)):
        return f"(疑为{what}的平均数 {fmt_number(mean, places)})"
    return ""


# ----------------------------------------------------------------------------- declared totals
def _check_total(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    for vals in ctx.by_submission.values():
        for t in (v for v in vals if v.role == "total"):
            ind = ctx.profile.indicators.get(t.code)
            if ind is None or ind.kind == "rate":
                continue  # a total rate is recomputed from the summed parts (rate rules), never summed
            parts = [v for v in vals if v.role == "value" and v.code == t.code]
            if not parts:
                continue
            bad = [v for v in (t, *parts) if v.value is None]
            if bad:
                wheres = "、".join(f"{_at(v, bad[0])}(原填“{v.raw}”)" for v in bad)
                yield _finding(
                    rule,
                    TOTAL_UNIT,
                    [t.code],
                    bad[0],
                    [t, *parts],
                    f"无法审核:合计行 {ind.label} 要用到的单元格 {wheres} 无法读取;改正后才能审核本条。",
                    outcome=CANNOT,
                )
                continue
            assert t.value is not None
            total = sum((p.value for p in parts if p.value is not None), Decimal(0))
            if total == t.value:
                ctx.passed(rule)
                continue
            diff = t.value - total
            yield _finding(
                rule,
                TOTAL_UNIT,
                [t.code],
                t,
                [t, *parts],
                f"合计行 {ind.label} 填报 {_show(t.value)},各行之和为 {_show(total)}"
                f"({'多' if diff > 0 else '少'} {_show(abs(diff))})。" + _sentence(rule.hint),
            )


# ----------------------------------------------------------------------------- completeness
def _check_completeness(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    missing = set(ctx.profile.missing_returns(ctx.values))
    for unit, tid, as_row in ctx.profile.expected_returns():
        if not ctx.unit_applies(rule, unit):
            continue
        table = ctx.profile.tables[tid]
        if (unit, tid, as_row) not in missing:
            ctx.passed(rule)
            continue
        if as_row:
            filer = table.filer if table.filer != "乡镇" else "填报单位"
            message = f"{tid}({table.name},{filer}填报)中没有{unit}的数据。"
        else:
            message = f"{unit}没有报送{tid}({table.name})。"
        yield _finding(rule, unit, [], None, [], message + _sentence(rule.hint))


def _check_missing(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    groups: dict[tuple[str, str], list[StoredValue]] = {}
    for v in ctx.values:
        if v.role == "value":
            groups.setdefault((v.unit, v.table), []).append(v)
    order = {name: i for i, name in enumerate(ctx.profile.units)}
    for (unit, tid), vals in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 999), kv[0])):
        if not ctx.unit_applies(rule, unit) or tid not in ctx.profile.tables:
            continue
        have = {v.code for v in vals}
        missing = [i.code for i in ctx.profile.table_indicators(tid) if i.code not in have]
        if not missing:
            ctx.passed(rule)
            continue
        names = "、".join(ctx.label(c) for c in missing)
        yield _finding(
            rule,
            unit,
            missing,
            None,
            [],
            f"{unit}的{tid}缺少 {len(missing)} 项指标:{names}。" + _sentence(rule.hint),
            file_only=vals[0],
        )


# ----------------------------------------------------------------------------- year over year
def _check_change(rule: Rule, ctx: _Context) -> Iterator[Finding]:
    assert rule.threshold is not None
    last = ctx.year - 1
    if ctx.previous is None:
        ctx.result.notes.append(
            Note(
                rule.id,
                f"数据库中没有 {last} 年的数据,规则 {rule.id}({rule.label})未审核。"
                f"如需与上年比较,请先汇入 {last} 年的报表。",
            )
        )
        return
    before = {(v.unit, v.code): v for v in ctx.previous if v.role == "value"}
    had = {v.unit for v in ctx.previous if v.role == "value"}
    without = []  # units with figures this year and none last year: not compared, and said so
    for unit in ctx.units():
        if not ctx.unit_applies(rule, unit):
            continue
        if unit not in had:
            without.append(unit)
            continue
        for code, v in ctx.by_unit[unit].items():
            p = before.get((unit, code))
            if p is None or (p.value is not None and p.value == 0):
                continue  # a new indicator, or 0 last year: a rate of change does not exist
            if p.value is None or v.value is None:
                bad = p if p.value is None else v
                year = last if bad is p else ctx.year
                yield _finding(
                    rule,
                    unit,
                    [code],
                    v,
                    [v, p],
                    f"无法审核:{year} 年 {ctx.label(code)} 的单元格 {bad.where}(原填“{bad.raw}”)无法读取,"
                    "无法与上年比较;改正后才能审核本条。",
                    outcome=CANNOT,
                )
                continue
            with decimal.localcontext(CONTEXT):
                change = (v.value - p.value) / abs(p.value) * 100
            if abs(change) <= rule.threshold:
                ctx.passed(rule)
                continue
            direction = "增加" if change > 0 else "减少"
            yield _finding(
                rule,
                unit,
                [code],
                v,
                [v, p],
                f"{ctx.label(code)} 本年 {_show(v.value)},上年 {_show(p.value)}({p.where}),"
                f"{direction} {fmt_number(abs(change), 2)}%,超过 {_show(rule.threshold)}%。"
                + _sentence(rule.hint),
            )

    if without and had:
        ctx.note(rule, f":{'、'.join(without)} 在数据库中没有 {last} 年的数据,未与上年比较。")


_KIND_WORDS = {"count": "计数", "money": "金额", "rate": "比率"}


def _idle_reason(rule: Rule, ctx: _Context) -> str:
    """Why a rule had nothing to run on, in a clerk's words (the note that replaces a silent pass)."""
    who = rule.units or "单位"
    codes = "、".join(rule.codes)
    if rule.kind == "change":
        return f"{ctx.year - 1} 年的数据中没有与本年同一单位、同一指标可比较的数值(上年为 0 的不比较)"
    if rule.kind in ("compare", "rate") and ctx.not_applicable.get(rule.id):
        assert rule.when is not None
        return f"前提条件“{rule.when.source}”对 {ctx.not_applicable[rule.id]} 处数据都不成立,本条不适用"
    if rule.kind in ("compare", "rate") and rule.scope == "total":
        return f"已汇入的报表中没有含 {codes} 的“合计”行"
    if rule.kind in ("compare", "rate"):
        return f"没有{who}报送 {codes}"
    if rule.kind == "total":
        return "已汇入的报表中没有可与各行之和核对的“合计”行"
    if rule.kind == "type":
        kinds = "、".join(_KIND_WORDS.get(k, k) for k in rule.of)
        return f"没有{who}报送{kinds}指标的数值"
    if rule.kind == "completeness":
        return f"配置中没有{who}应报的表"
    return f"没有{who}的数据"


CHECKS: dict[str, Callable[[Rule, _Context], Iterator[Finding]]] = {
    "readable": _check_readable,
    "type": _check_type,
    "compare": _check_compare,
    "rate": _check_rate,
    "total": _check_total,
    "completeness": _check_completeness,
    "missing": _check_missing,
    "change": _check_change,
}


def _ordered(findings: list[Finding], rules: list[Rule], unit_order: list[str]) -> list[Finding]:
    """Units in profile order, then 合计, then county; within a unit, errors first, then rule order."""
    rule_rank = {r.id: i for i, r in enumerate(rules)}
    unit_rank = {u: i for i, u in enumerate(unit_order)}

    def key(f: Finding) -> tuple:
        if f.unit is None:
            u = (3, 0, "")
        elif f.unit == TOTAL_UNIT:
            u = (2, 0, "")
        else:
            u = (0, unit_rank[f.unit], "") if f.unit in unit_rank else (1, 0, f.unit)
        return (*u, f.severity != "error", rule_rank.get(f.rule, 0))

    return sorted(findings, key=key)


__all__ = ["CHECKS", "CheckResult", "Expression", "evaluate", "run_check"]
