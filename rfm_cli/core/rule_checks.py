"""What a rules file may hold, checked before anything is scored: safe tier names, rules of bounded
size and depth that are tests of fields against numbers, and tier rules that leave no customer out.

A rules file is configuration a seller copies from a forum or a colleague, so it is read as
hostile: a tier name becomes a file name and a cell, a rule is parsed and evaluated for every
customer. Every check raises ConfigError with one line naming the file, the tier, what is wrong
and the limit, so `rfm rules --check` refuses what would otherwise fail (or run for minutes) at
export.

Whether the tier rules leave a customer out is rule_coverage's job (same limits, from here).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from rfm_cli.core.errors import ConfigError

SCORE_FIELDS = ("r_score", "f_score", "m_score")
RAW_FIELDS = ("recency_days", "frequency", "monetary")
FIELDS = SCORE_FIELDS + RAW_FIELDS

COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

# Limits. A real rule has a handful of terms; these leave two orders of magnitude of room and keep
# the worst accepted rules file checked in about a second (tests/test_rules_hostile.py times it).
MAX_TIERS = 100
MAX_CONDITION_CHARS = 50_000  # checked before parsing: the parser's own cost is bounded by it
MAX_TERMS = 1_000  # comparisons and listed numbers in one rule
MAX_FILE_TERMS = 5_000  # in all the rules of a file
MAX_NESTING = 32  # levels of and / or / not
MAX_NUMBER = 1e15  # a number beyond it cannot be a day count, an order count or a spend
MAX_COVERAGE_CASES = 1_000_000

# A tier name names files (DIR/<tier>.csv, DIR/sms/<tier>.csv) and fills cells: no path separator,
# dot, space, newline or formula character; unique without regard to case (macOS and Windows
# folders are case-insensitive); none of the device names Windows reserves whatever the extension.
TIER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
WINDOWS_DEVICES = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def shown(text: str, limit: int = 60) -> str:
    """A value for an error line: quoted and escaped (a newline cannot split the line), cut short."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def check_tier_name(name: Any, position: int, where: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f'{where}: tier #{position} has no name; give each [[tiers]] a name = "..."')
    if not TIER_NAME.fullmatch(name) or name.lower() in WINDOWS_DEVICES:
        raise ConfigError(
            f"{where}: tiers[{position}].name = {shown(name)} is not a safe tier name (it names files and "
            "fills cells); use 1-64 letters, digits, _ or -, starting with a letter or digit, and put "
            "free text in label_zh"
        )
    return name


def check_text(value: Any, key: str, tier: str, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f"{where}: tier {tier!r} has {key} = {shown(str(value))}, not text; "
            f'write it in quotes, e.g. {key} = "..."'
        )
    return value


# ---------------------------------------------------------------- one rule


def number_value(node: ast.AST) -> float | None:
    """The number a node writes (`5`, `-2.5`), or None when it is not one (True is not a number)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = number_value(node.operand) if isinstance(node.operand, ast.Constant) else None
        return None if inner is None else -inner
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    return None


def check_size(text: str, where: str) -> None:
    """Before parsing: Python's parser fails with MemoryError on deep nesting of long texts."""
    if len(text) > MAX_CONDITION_CHARS:
        raise ConfigError(
            f"{where} is {len(text):,} characters long; at most {MAX_CONDITION_CHARS:,} are "
            "allowed; split it into several tiers"
        )


def _walk_shape(tree: ast.expr) -> tuple[int, int]:
    """(terms, deepest nesting of and / or / not), without recursion."""
    terms, deepest, stack = 0, 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(node, ast.Compare):
            terms += len(node.ops)
        elif isinstance(node, ast.List | ast.Tuple):
            terms += len(node.elts)
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return terms, deepest


def count_terms(tree: ast.expr) -> int:
    return _walk_shape(tree)[0]


def check_shape(tree: ast.expr, where: str) -> None:
    """After parsing, without recursion: the rule's terms and nesting within the limits."""
    terms, deepest = _walk_shape(tree)
    if terms > MAX_TERMS:
        raise ConfigError(
            f"{where} has {terms:,} terms (comparisons and listed numbers); at most "
            f"{MAX_TERMS:,} are allowed; split it into several tiers, or compare with ranges "
            "(>=, <=) instead of single values"
        )
    if deepest > MAX_NESTING:
        raise ConfigError(
            f"{where} nests and / or / not {deepest:,} levels deep; at most {MAX_NESTING} are "
            "allowed; write it with fewer parentheses and nots"
        )


def check_test(node: ast.AST, text: str, where: str) -> None:
    """The node must be a test (true or false): and / or / not of comparisons, or true / false."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And | ast.Or):
        for value in node.values:
            check_test(value, text, where)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        check_test(node.operand, text, where)
    elif isinstance(node, ast.Compare):
        _check_comparison(node, text, where)
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool) or _truth_word(node) is not None:
        pass
    elif isinstance(node, ast.Name) or number_value(node) is not None:
        _check_number(node, text, where)  # an unknown field is named as such
        part = ast.unparse(node)
        raise ConfigError(
            f"{where}: {shown(part)} is a number, not a test; compare it, e.g. "
            f'"{part if isinstance(node, ast.Name) else "monetary"} >= 1000"'
        )
    else:
        _not_a_comparison(text, where)


def _truth_word(node: ast.AST) -> bool | None:
    """`true` / `false` as TOML writes them (any case), inside a rule as well as alone."""
    if isinstance(node, ast.Name) and node.id.lower() in ("true", "false"):
        return node.id.lower() == "true"
    return None


def with_truth_words(tree: ast.expr) -> ast.expr:
    """The checked tree with `true` / `false` as constants (its depth is bounded: recursion is safe)."""

    class Words(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            word = _truth_word(node)
            return node if word is None else ast.copy_location(ast.Constant(value=word), node)

    return Words().visit(tree)


def _check_comparison(node: ast.Compare, text: str, where: str) -> None:
    operands = [node.left, *node.comparators]
    for left, op, right in zip(operands, node.ops, operands[1:]):
        if type(op) not in COMPARE:
            raise ConfigError(
                f"{where}: condition {shown(text)} uses an unsupported comparison; use < <= > >= == != in"
            )
        _check_number(left, text, where)
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, ast.List | ast.Tuple):
                raise ConfigError(
                    f"{where}: {shown(ast.unparse(node))} needs a list of numbers after in; "
                    'write e.g. "r_score in [4, 5]"'
                )
            for element in right.elts:
                _check_number(element, text, where, field_allowed=False)
            continue
        _check_number(right, text, where)
        names = [o.id for o in (left, right) if isinstance(o, ast.Name)]
        if len(names) == 2 and not set(names) <= set(SCORE_FIELDS):
            raise ConfigError(
                f"{where}: {shown(ast.unparse(node))} compares two fields; compare "
                "recency_days, frequency and monetary with numbers (scores may be compared "
                "with each other)"
            )


def _check_number(node: ast.AST, text: str, where: str, *, field_allowed: bool = True) -> None:
    if _truth_word(node) is not None:
        raise ConfigError(
            f"{where}: condition {shown(text)} uses {node.id} as a number; true and false "
            'are tests: join them with and / or, e.g. "r_score <= 2 or true"'
        )
    if isinstance(node, ast.Name) and field_allowed:
        if node.id not in FIELDS:
            raise ConfigError(
                f"{where}: condition {shown(text)} names unknown field {node.id!r}; "
                f"known fields: {', '.join(FIELDS)}"
            )
        return
    value = number_value(node)
    if value is None:
        if isinstance(node, ast.List | ast.Tuple):
            raise ConfigError(
                f"{where}: condition {shown(text)} puts a list where a number goes; a list "
                'can only follow in, e.g. "r_score in [4, 5]"'
            )
        if field_allowed:
            _not_a_comparison(text, where)
        raise ConfigError(
            f"{where}: condition {shown(text)} lists something that is not a number; "
            'list numbers only, e.g. "r_score in [4, 5]"'
        )
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise ConfigError(
            f"{where}: condition {shown(text)} uses the number {value:g}; numbers up to "
            f"{MAX_NUMBER:,.0f} are allowed"
        )


def _not_a_comparison(text: str, where: str) -> None:
    raise ConfigError(
        f"{where}: condition {shown(text)} is not a comparison of fields with numbers; "
        'e.g. "r_score <= 2" or "f_score >= 3 and monetary > 1000"'
    )
