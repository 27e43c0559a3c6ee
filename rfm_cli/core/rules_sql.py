"""Tier conditions as SQL: the same parse tree that rule_conditions.py turns into Polars, rendered for the
portable scoring plan (rfm_cli/core/plan.py), so a custom rules file scores alike on every engine.

The SQL is DuckDB's dialect; the plan translates it with sqlglot. Conditions compare the score and
raw columns with numbers, so the rendering needs no functions: only AND / OR / NOT, comparisons and
IN lists. Python's meaning is kept where SQL would differ: `a < b < c` is `a < b AND b < c`, a bare
field or number is true when it is not 0, and True / False compared with a number are 1 / 0.
"""

from __future__ import annotations

import ast
import math

from rfm_cli.core.rule_checks import FIELDS
from rfm_cli.core.rule_conditions import Condition

_OPERATOR = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "=",
    ast.NotEq: "<>",
    ast.In: "IN",
    ast.NotIn: "NOT IN",
}


def condition_to_sql(condition: Condition) -> str:
    """The condition as one SQL boolean expression over the columns of FIELDS."""
    return _predicate(condition.tree)


def _predicate(node: ast.AST) -> str:
    match node:
        case ast.BoolOp(op=ast.And(), values=items):
            return "(" + " AND ".join(_predicate(i) for i in items) + ")"
        case ast.BoolOp(op=ast.Or(), values=items):
            return "(" + " OR ".join(_predicate(i) for i in items) + ")"
        case ast.UnaryOp(op=ast.Not(), operand=inner):
            return f"(NOT {_predicate(inner)})"
        case ast.Compare(left=left, ops=ops, comparators=rights):
            parts, current = [], left
            for op, right in zip(ops, rights):
                if isinstance(right, ast.List | ast.Tuple) and not right.elts:  # SQL has no empty IN ()
                    parts.append("FALSE" if isinstance(op, ast.In) else "TRUE")
                else:
                    parts.append(f"{_operand(current)} {_OPERATOR[type(op)]} {_operand(right)}")
                current = right
            return "(" + " AND ".join(parts) + ")"
        case ast.Constant(value=bool(value)):
            return "TRUE" if value else "FALSE"
        case ast.Name() | ast.Constant() | ast.UnaryOp(op=ast.USub()):
            return f"({_operand(node)} <> 0)"  # Python truthiness of a number
    raise AssertionError(f"unchecked node {ast.dump(node)}")  # rule_conditions.parse_condition let it through


def _operand(node: ast.AST) -> str:
    match node:
        case ast.Name(id=name) if name in FIELDS:
            return name
        case ast.Constant(value=value):
            return _number(value)
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=value)):
            return _number(-value)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return "(" + ", ".join(_number(e.value) for e in elts) + ")"
    raise AssertionError(f"unchecked operand {ast.dump(node)}")


def _number(value: bool | float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and not math.isfinite(value):
        raise AssertionError(f"not a finite number: {value!r}")
    # repr is the shortest text that reads back as the same float: 0.1, not 0.1000000000000000055.
    return repr(value)
