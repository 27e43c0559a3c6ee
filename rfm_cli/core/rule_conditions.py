"""One rule's `when`: parsed and checked once, then evaluated three ways from the same tree.

A rule is a small boolean language (comparisons of a field with numbers, joined by and / or / not,
`in [..]` lists) parsed with Python's `ast` and checked by `rule_checks`, so it can never run code.
The tree becomes a Python predicate (`Condition.evaluate`, for `rfm explain`), a Polars expression
(`Condition.to_polars`, for scoring) and text with each field's value shown (`render`).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rfm_cli.core import rule_checks, rule_coverage
from rfm_cli.core.errors import ConfigError
from rfm_cli.core.rule_checks import COMPARE as _COMPARE
from rfm_cli.core.rule_checks import number_value

_SYMBOL = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
}



@dataclass(frozen=True)
class Condition:
    text: str
    tree: ast.expr

    def evaluate(self, values: Mapping[str, float]) -> bool:
        return bool(_eval(self.tree, values))

    def to_polars(self):  # -> pl.Expr
        return _to_polars(self.tree)

    def fields(self) -> set[str]:
        return {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}

    def constants(self) -> dict[str, set[float]]:
        """Numbers each field is compared with: the points where the condition can change."""
        found = rule_coverage.numbers_by_field(self.tree)
        return {name: numbers for name, numbers in found.items() if numbers}



def parse_condition(text: str, where: str) -> Condition:
    """Parse and check one rule; `where` names it in errors ("rules.toml: rule of tier 'vip'")."""
    source = text.strip() or "true"
    rule_checks.check_size(source, where)
    try:
        tree = ast.parse(source, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError) as exc:
        # RecursionError / MemoryError: the parser's own stack ran out on deep nesting.
        reason = exc.msg if isinstance(exc, SyntaxError) else "nested too deeply"
        raise ConfigError(
            f"{where}: cannot read condition {rule_checks.shown(text)} ({reason}); "
            'write comparisons like "f_score >= 4 and m_score >= 4"'
        ) from None
    rule_checks.check_shape(tree, where)
    rule_checks.check_test(tree, text, where)
    return Condition(text=source, tree=rule_checks.with_truth_words(tree))


def _eval(node: ast.AST, values: Mapping[str, float]) -> Any:
    match node:
        case ast.BoolOp(op=ast.And(), values=items):
            return all(_eval(v, values) for v in items)
        case ast.BoolOp(op=ast.Or(), values=items):
            return any(_eval(v, values) for v in items)
        case ast.UnaryOp(op=ast.Not(), operand=inner):
            return not _eval(inner, values)
        case ast.UnaryOp(op=ast.USub(), operand=inner):
            return -_eval(inner, values)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return frozenset(number_value(e) for e in elts)
        case ast.Compare(left=left, ops=ops, comparators=rights):
            current = _eval(left, values)
            for op, right in zip(ops, rights):
                other = _eval(right, values)
                if not _COMPARE[type(op)](current, other):
                    return False
                current = other
            return True
        case ast.Name(id=name):
            return values[name]
        case ast.Constant(value=value):
            return value
    raise AssertionError(f"unchecked node {ast.dump(node)}")


def _to_polars(node: ast.AST):
    import polars as pl

    match node:
        case ast.BoolOp(op=ast.And(), values=items):
            # One n-ary node, not a chain of n binary ones: a rule of 1,000 terms stays one level deep.
            return pl.all_horizontal([_to_polars(item) for item in items])
        case ast.BoolOp(op=ast.Or(), values=items):
            return pl.any_horizontal([_to_polars(item) for item in items])
        case ast.UnaryOp(op=ast.Not(), operand=inner):
            return ~_to_polars(inner)
        case ast.Compare(left=left, ops=ops, comparators=rights):
            parts = []
            for current, op, right in zip([left, *rights], ops, rights):
                a = _to_polars(current)
                if isinstance(op, ast.In | ast.NotIn):
                    # Listed as floats: an integer score column takes a list like [4, 5.5] too.
                    member = a.cast(pl.Float64).is_in([float(number_value(e)) for e in right.elts])
                    parts.append(member if isinstance(op, ast.In) else ~member)
                else:
                    parts.append(_COMPARE[type(op)](a, _to_polars(right)))
            return pl.all_horizontal(parts) if len(parts) > 1 else parts[0]
        case ast.Name(id=name):
            return pl.col(name)
        case ast.Constant(value=value):
            return pl.lit(value)
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=value)):
            return pl.lit(-value)
    raise AssertionError(f"unchecked node {ast.dump(node)}")


def render(node_or_condition: Condition | ast.AST, values: Mapping[str, float]) -> str:
    """The condition with each field's value shown: `f_score (4) >= 4 and m_score (3) >= 4`."""
    tree = node_or_condition.tree if isinstance(node_or_condition, Condition) else node_or_condition
    match tree:
        case ast.BoolOp(op=op, values=items):
            joiner = " and " if isinstance(op, ast.And) else " or "
            return joiner.join(render(i, values) for i in items)
        case ast.UnaryOp(op=ast.Not(), operand=inner):
            return f"not ({render(inner, values)})"
        case ast.Compare(left=left, ops=ops, comparators=rights):
            out = render(left, values)
            for op, right in zip(ops, rights):
                out += f" {_SYMBOL[type(op)]} {render(right, values)}"
            return out
        case ast.Name(id=name):
            value = values.get(name)
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            return f"{name} ({shown})"
        case ast.Constant(value=True):
            return "true"
    return ast.unparse(tree)
