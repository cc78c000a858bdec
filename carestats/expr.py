"""A small, safe expression language over indicator codes, for the rules in ``rules.toml``.

A clerk writes ``A02 <= A01`` or ``100 <= A07 / A06 <= 2000``; the text is parsed with ``ast`` and every
node is checked against a whitelist when the profile loads, so a broken rule stops the tool (exit 2)
instead of misbehaving at check time. Nothing is ever passed to ``eval``. Numbers are ``Decimal``
(a literal such as ``0.5`` is read from its source text, never through a float).
"""

from __future__ import annotations

import ast
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Division of two counts is exact to 50 significant digits; a quotient that does not terminate cannot
# sit exactly on a rounding boundary, so this precision never changes a comparison or a rounding.
CONTEXT = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])

FUNCTIONS = ("sum", "abs", "round")

_COMPARE_OPS: dict[type, tuple[str, Callable[[Decimal, Decimal], bool]]] = {
    ast.Lt: ("<", lambda a, b: a < b),
    ast.LtE: ("<=", lambda a, b: a <= b),
    ast.Gt: (">", lambda a, b: a > b),
    ast.GtE: (">=", lambda a, b: a >= b),
    ast.Eq: ("==", lambda a, b: a == b),
    ast.NotEq: ("!=", lambda a, b: a != b),
}
# What a failed comparison means, said in Chinese: “A02 … 574 大于 A01 … 569”.
FAILED_OP_TEXT = {"<": "不小于", "<=": "大于", ">": "不大于", ">=": "小于", "==": "不等于", "!=": "等于"}

_BIN_OPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class ExprError(Exception):
    """The rule text is not a valid expression (the caller adds file and rule id)."""


class MissingInput(Exception):
    """An input the expression needs has no readable value (cannot evaluate)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class DivisionByZero(Exception):
    """A divisor in the expression is zero (cannot evaluate)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class Comparison:
    """One link of a (possibly chained) comparison, as evaluated: what the failure message shows."""

    left_text: str
    left_codes: tuple[str, ...]
    left: Decimal
    op: str
    right_text: str
    right_codes: tuple[str, ...]
    right: Decimal
    holds: bool


@dataclass(frozen=True)
class Outcome:
    value: bool
    comparisons: tuple[Comparison, ...]

    @property
    def failed(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.comparisons if not c.holds)


class Expression:
    """A parsed, validated expression. ``codes`` are the indicator codes it reads, in order of appearance."""

    def __init__(self, source: str, known_codes: Mapping[str, object] | set[str], *, boolean: bool = True):
        self.source = source.strip()
        # a node's source text and codes never change: worked out once, not at every one of a province's
        # hundreds of thousands of evaluations (keyed by id: the tree, kept in self._tree, keeps them alive)
        self._texts: dict[int, str] = {}
        self._node_codes: dict[int, tuple[str, ...]] = {}
        self._constants: dict[int, Decimal] = {}
        if not self.source:
            raise ExprError("表达式为空")
        try:
            tree = ast.parse(self.source, mode="eval")
        except SyntaxError as exc:
            col = f"第 {exc.offset} 个字符处" if exc.offset else ""
            raise ExprError(f"表达式“{self.source}”{col}有语法错误") from exc
        self._known = set(known_codes)
        self.codes: tuple[str, ...] = ()
        codes: list[str] = []
        kind = self._check(tree.body, codes)
        want = "bool" if boolean else "num"
        if kind != want:
            if boolean:
                raise ExprError(f"表达式“{self.source}”不是比较式(应写成 A02 <= A01 这样的形式)")
            raise ExprError(f"表达式“{self.source}”应是一个数值,不能是比较式")
        self.codes = tuple(dict.fromkeys(codes))
        self._tree = tree.body

    # ---------------------------------------------------------------- validation
    def _text(self, node: ast.AST) -> str:
        text = self._texts.get(id(node))
        if text is None:
            text = self._texts[id(node)] = ast.get_source_segment(self.source, node) or ""
        return text

    def _check(self, node: ast.AST, codes: list[str]) -> str:
        """Return "num" or "bool" for the node, or raise ExprError for anything off the whitelist."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ExprError(f"“{self._text(node)}”不是数字")
            try:
                Decimal(self._text(node))
            except decimal.InvalidOperation as exc:
                raise ExprError(f"“{self._text(node)}”不是数字") from exc
            return "num"
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExprError(f"函数 {node.id} 后面要有括号,例如 {node.id}(A01, A02)")
            if node.id not in self._known:
                raise ExprError(f"未知指标代码 {node.id}")
            codes.append(node.id)
            return "num"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            self._need_num(node.operand, codes)
            return "num"
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN_OPS:
            self._need_num(node.left, codes)
            self._need_num(node.right, codes)
            return "num"
        if isinstance(node, ast.Compare):
            if not all(type(op) in _COMPARE_OPS for op in node.ops):
                raise ExprError(f"“{self._text(node)}”中有不支持的比较符号(可用 < <= > >= == !=)")
            self._need_num(node.left, codes)
            for comp in node.comparators:
                self._need_num(comp, codes)
            return "bool"
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                if self._check(value, codes) != "bool":
                    raise ExprError(f"“{self._text(value)}”应是比较式")
            return "bool"
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExprError(f"“{self._text(node.func)}”不是可用的函数(可用 sum、abs、round)")
            if node.keywords:
                raise ExprError(f"函数 {node.func.id} 不接受 名称=值 形式的参数")
            name = node.func.id
            if name == "sum" and not node.args:
                raise ExprError("sum 至少要有一个参数")
            if name == "abs" and len(node.args) != 1:
                raise ExprError("abs 只接受一个参数")
            if name == "round":
                if len(node.args) not in (1, 2):
                    raise ExprError("round 接受一个或两个参数:round(数值, 小数位)")
                if len(node.args) == 2:
                    places = node.args[1]
                    if not (
                        isinstance(places, ast.Constant)
                        and isinstance(places.value, int)
                        and not isinstance(places.value, bool)
                        and 0 <= places.value <= 10
                    ):
                        raise ExprError("round 的第二个参数(小数位)应是 0 到 10 的整数")
            for arg in node.args:
                self._need_num(arg, codes)
            return "num"
        raise ExprError(f"“{self._text(node)}”不是规则里可以用的写法")

    def _need_num(self, node: ast.AST, codes: list[str]) -> None:
        if self._check(node, codes) != "num":
            raise ExprError(f"“{self._text(node)}”应是数值,不能是比较式")

    # ---------------------------------------------------------------- evaluation
    def evaluate(self, env: Mapping[str, Decimal | None]) -> Outcome:
        """Evaluate against code → value. Raises MissingInput / DivisionByZero (cannot evaluate)."""
        for code in self.codes:
            if env.get(code) is None:
                raise MissingInput(code)
        comparisons: list[Comparison] = []
        with decimal.localcontext(CONTEXT):
            value = self._eval(self._tree, env, comparisons)
        return Outcome(bool(value), tuple(comparisons))

    def value(self, env: Mapping[str, Decimal | None]) -> Decimal:
        """Evaluate a numeric expression."""
        for code in self.codes:
            if env.get(code) is None:
                raise MissingInput(code)
        with decimal.localcontext(CONTEXT):
            return self._eval(self._tree, env, [])

    def _codes_in(self, node: ast.AST) -> tuple[str, ...]:
        codes = self._node_codes.get(id(node))
        if codes is None:
            codes = self._node_codes[id(node)] = tuple(
                dict.fromkeys(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in self._known)
            )
        return codes

    def _eval(self, node: ast.AST, env: Mapping[str, Decimal | None], out: list[Comparison]):  # noqa: C901
        if isinstance(node, ast.Constant):
            constant = self._constants.get(id(node))
            if constant is None:
                constant = self._constants[id(node)] = Decimal(self._text(node))
            return constant
        if isinstance(node, ast.Name):
            value = env[node.id]
            assert value is not None
            return value
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, env, out)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            left = self._eval(node.left, env, out)
            right = self._eval(node.right, env, out)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if right == 0:
                raise DivisionByZero(self._text(node.right))
            return left / right
        if isinstance(node, ast.Compare):
            result = True
            left_node = node.left
            left = self._eval(left_node, env, out)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._eval(right_node, env, out)
                symbol, fn = _COMPARE_OPS[type(op)]
                holds = fn(left, right)
                out.append(
                    Comparison(
                        self._text(left_node),
                        self._codes_in(left_node),
                        left,
                        symbol,
                        self._text(right_node),
                        self._codes_in(right_node),
                        right,
                        holds,
                    )
                )
                result = result and holds
                left_node, left = right_node, right
            return result
        if isinstance(node, ast.BoolOp):
            values = [self._eval(v, env, out) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]
            args = [self._eval(a, env, out) for a in node.args]
            if name == "sum":
                return sum(args, Decimal(0))
            if name == "abs":
                return abs(args[0])
            places = int(node.args[1].value) if len(node.args) == 2 else 0  # type: ignore[attr-defined]
            return round_half_up(args[0], places)
        raise AssertionError(f"unvalidated node {ast.dump(node)}")  # pragma: no cover


def round_half_up(value: Decimal, places: int) -> Decimal:
    """四舍五入 to ``places`` decimals (Python's round() is banker's rounding, which the form does not use)."""
    with decimal.localcontext(CONTEXT):
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
