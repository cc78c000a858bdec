"""The form's 审核关系 as data: ``rules.toml`` in the profile, loaded and validated into ``Rule`` objects.

Declaring a rule (here) is separate from running it (``check.py``): a clerk edits the TOML, and a broken
rule (unknown indicator code, duplicate id, an expression off the whitelist) stops the tool with a
``ProfileError`` naming the file and the rule, before any return is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from carestats.errors import ProfileError
from carestats.expr import ExprError, Expression
from carestats.profile import KINDS, Profile, read_toml

RULES_FILE = "rules.toml"
SEVERITIES = ("error", "warning")
SCOPES = ("unit", "total", "county", "between")
SCOPE_TEXT = {"unit": "每个单位", "total": "合计行", "county": "全县", "between": "表间"}
SEVERITY_TEXT = {"error": "错误", "warning": "提示"}
# Which scopes each kind of rule can run in.
RULE_KINDS: dict[str, tuple[str, ...]] = {
    "compare": ("unit", "total", "county", "between"),
    "rate": ("unit", "total"),
    "total": ("total",),
    "type": ("unit",),
    "completeness": ("unit",),
    "missing": ("unit",),
    "readable": ("unit",),
    "change": ("unit",),
}
_KEYS = {
    "id",
    "label",
    "description",
    "severity",
    "scope",
    "kind",
    "expr",
    "when",
    "blame",
    "units",
    "hint",
    "of",
    "code",
    "threshold",
}


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    description: str
    severity: str  # error | warning
    scope: str  # unit | total | county | between
    kind: str  # one of RULE_KINDS
    hint: str
    expr: Expression | None = None
    when: Expression | None = None
    blame: str | None = None
    units: str | None = None  # only units of this kind (乡镇 | 部门)
    of: tuple[str, ...] = ()  # indicator kinds, for type rules
    code: str | None = None  # the rate, for rate rules
    threshold: Decimal | None = None  # percent, for change rules

    @property
    def codes(self) -> tuple[str, ...]:
        """Indicator codes the rule names (for listing; completeness rules name none)."""
        if self.expr is not None:
            return self.expr.codes
        if self.code:
            return (self.code,)
        return ()


def load_rules(profile: Profile, path: str | Path | None = None) -> list[Rule]:
    """Read and validate the profile's ``rules.toml`` (or ``path``)."""
    file = Path(path) if path is not None else Path(profile.path) / RULES_FILE
    data = read_toml(
        file,
        what="审核规则文件",
        missing="可用 carestats init 目录 生成一份带规则的配置。",
        example="自带的 rules.toml",
    )
    entries = data.get("rule")
    unknown_top = set(data) - {"rule"}
    if unknown_top:
        raise ProfileError(
            f"审核规则文件 {file} 中有不认识的项目:{'、'.join(sorted(unknown_top))}(每条规则写在 [[rule]] 下)。"
        )
    if not isinstance(entries, list) or not entries:
        raise ProfileError(f"审核规则文件 {file} 中没有规则(每条规则写在 [[rule]] 下)。")
    rules: list[Rule] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        rule = _parse_rule(entry, number, file, profile)
        if rule.id in seen:
            raise ProfileError(
                f"审核规则文件 {file}:规则编号 {rule.id} 重复(第 {number} 条规则)。每条规则的 id 必须不同。"
            )
        seen.add(rule.id)
        rules.append(rule)
    return rules


def _parse_rule(entry: object, number: int, file: Path, profile: Profile) -> Rule:
    if not isinstance(entry, dict):
        raise ProfileError(f"审核规则文件 {file}:第 {number} 条规则不是 [[rule]] 表。")
    rid = entry.get("id")
    where = f"审核规则文件 {file} 第 {number} 条规则" + (f"({rid})" if isinstance(rid, str) and rid else "")

    def fail(text: str) -> ProfileError:
        return ProfileError(f"{where}:{text}")

    extra = set(entry) - _KEYS
    if extra:
        raise fail(f"有不认识的项目 {'、'.join(sorted(extra))}(可用的项目见文件开头的说明)。")
    for key in ("id", "label", "description", "severity", "scope", "hint"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"缺少 {key}(应为非空文字)。")
    severity = entry["severity"].strip()
    if severity not in SEVERITIES:
        raise fail(f"severity “{severity}”无效,应为 error(审核不通过)或 warning(提示性审核)。")
    scope = entry["scope"].strip()
    if scope not in SCOPES:
        raise fail(f"scope “{scope}”无效,应为 unit、total、county 或 between。")
    kind = str(entry.get("kind", "compare")).strip()
    if kind not in RULE_KINDS:
        raise fail(f"kind “{kind}”无效,应为 {'、'.join(RULE_KINDS)} 之一。")
    if scope not in RULE_KINDS[kind]:
        raise fail(f"kind = {kind} 的规则不能用 scope = {scope}(可用:{'、'.join(RULE_KINDS[kind])})。")

    def expression(key: str) -> Expression | None:
        text = entry.get(key)
        if text is None:
            return None
        if not isinstance(text, str):
            raise fail(f'{key} 应写成文字,例如 "A02 <= A01"。')
        try:
            return Expression(text, profile.indicators)
        except ExprError as exc:
            raise fail(f"{key} 有误:{exc}。") from exc

    expr = expression("expr")
    when = expression("when")
    if kind == "compare" and expr is None:
        raise fail("比较式规则缺少 expr。")
    if kind != "compare" and expr is not None:
        raise fail(f"kind = {kind} 的规则不用 expr(只有 compare 规则写比较式)。")
    if when is not None and kind != "compare":
        raise fail("只有 compare 规则可以写 when。")
    blame = entry.get("blame")
    if blame is not None and (expr is None or blame not in expr.codes):
        raise fail(f"blame “{blame}”应是 expr 中出现的指标代码。")
    units = entry.get("units")
    unit_kinds = {u.kind for u in profile.units.values()}
    if units is not None and units not in unit_kinds:
        raise fail(f"units “{units}”无效,应为 {'、'.join(sorted(unit_kinds))} 之一。")
    of: tuple[str, ...] = ()
    if kind == "type":
        raw_of = entry.get("of")
        if isinstance(raw_of, str):
            raw_of = [raw_of]
        if not isinstance(raw_of, list) or not raw_of or any(k not in KINDS for k in raw_of):
            raise fail(f'of 应列出指标类型,取自 {"、".join(KINDS)},例如 of = ["count"]。')
        of = tuple(raw_of)
    elif "of" in entry:
        raise fail("只有 kind = type 的规则写 of。")
    code = entry.get("code")
    if kind == "rate":
        if not isinstance(code, str) or code not in profile.indicators:
            raise fail(f"未知指标代码 {code}(code 应是比率指标的代码)。")
        if code not in profile.rates:
            raise fail(f"{code} 不是 profile.toml 中定义的比率([[rates]]),无法按分子、分母审核。")
    elif code is not None:
        raise fail("只有 kind = rate 的规则写 code。")
    threshold: Decimal | None = None
    if kind == "change":
        raw = entry.get("threshold")
        try:
            threshold = Decimal(str(raw))
        except (InvalidOperation, ValueError) as exc:
            raise fail("threshold 应是百分数,例如 50。") from exc
        if isinstance(raw, bool) or not threshold.is_finite() or threshold <= 0:
            raise fail("threshold 应是大于 0 的百分数,例如 50。")
    elif "threshold" in entry:
        raise fail("只有 kind = change 的规则写 threshold。")
    return Rule(
        id=entry["id"].strip(),
        label=entry["label"].strip(),
        description=entry["description"].strip(),
        severity=severity,
        scope=scope,
        kind=kind,
        hint=entry["hint"].strip(),
        expr=expr,
        when=when,
        blame=blame,
        units=units,
        of=of,
        code=code,
        threshold=threshold,
    )
