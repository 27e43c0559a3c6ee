"""What a rules file may hold, checked before anything is scored: safe tier names, rules of bounded
size and depth that are tests of fields against numbers, and tier rules that leave no customer out.

A rules file is configuration a seller copies from a forum or a colleague, so it is read as
hostile: a tier name becomes a file name and a cell, a rule is parsed and evaluated for every
customer. Every check raises ConfigError with one line naming the file, the tier, what is wrong
and the limit, so `rfm rules --check` refuses what would otherwise fail (or run for minutes) at
export.

Coverage is decided on a finite grid, not by search: a rule compares single fields with numbers,
so its truth only changes at those numbers; one value from every interval they cut each field into
(and each score 1..5) covers every customer. The grid's cells are bits of one Python integer per
condition, so a rule costs a few big-integer operations per term; the grid's size and the number of
terms are bounded, so the check is too (polynomial in the rules' size, under a second at the limits).
"""

from __future__ import annotations

import ast
import bisect
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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


# ---------------------------------------------------------------- coverage


def numbers_by_field(tree: ast.expr) -> dict[str, set[float]]:
    """The fields a rule uses, each with the numbers it is compared with."""
    found: dict[str, set[float]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.setdefault(node.id, set())
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            numbers = [number_value(o) for o in operands]
            for o in operands:
                if isinstance(o, ast.List | ast.Tuple):
                    numbers += [number_value(e) for e in o.elts]
            for o in operands:
                if isinstance(o, ast.Name):
                    found.setdefault(o.id, set()).update(n for n in numbers if n is not None)
    return found


def representatives(numbers: set[float], field_name: str) -> list[float]:
    """One value from every interval the numbers cut the line into, and the numbers themselves."""
    if field_name in SCORE_FIELDS:
        return [1, 2, 3, 4, 5]
    points = sorted(numbers)
    if not points:
        return [0.0]
    values = [points[0] - 1, points[-1] + 1, *points]
    values += [(a + b) / 2 for a, b in itertools.pairwise(points)]
    return sorted(set(values))


def coverage_axes(trees: Iterable[ast.expr]) -> dict[str, list[float]]:
    used: dict[str, set[float]] = {}
    for tree in trees:
        for name, numbers in numbers_by_field(tree).items():
            used.setdefault(name, set()).update(numbers)
    return {name: representatives(numbers, name) for name, numbers in used.items()}


def check_coverage_size(rules: Sequence[tuple[str, ast.expr]], where: str) -> None:
    """Refuse rules too big to check: more than MAX_FILE_TERMS terms in all, or a coverage grid (the
    product of each field's intervals) over MAX_COVERAGE_CASES; the error names the tier that makes it so."""
    used: dict[str, set[float]] = {}
    terms = 0
    for name, tree in rules:
        terms += count_terms(tree)
        if terms > MAX_FILE_TERMS:
            raise ConfigError(
                f"{where}: rule of tier {name!r} brings the terms of all rules to {terms:,}; at "
                f"most {MAX_FILE_TERMS:,} are allowed; merge tiers or compare with ranges"
            )
        for field_name, numbers in numbers_by_field(tree).items():
            used.setdefault(field_name, set()).update(numbers)
        sizes = {n: len(representatives(numbers, n)) for n, numbers in used.items()}
        cases = math.prod(sizes.values())
        if cases > MAX_COVERAGE_CASES:
            cut = " x ".join(f"{n} {size:,}" for n, size in sorted(sizes.items()))
            raise ConfigError(
                f"{where}: rule of tier {name!r} brings the cases the coverage check must try to {cases:,} "
                f"({cut}); at most {MAX_COVERAGE_CASES:,} are allowed; compare recency_days, frequency and "
                "monetary with fewer different numbers"
            )


def find_uncovered(trees: Sequence[ast.expr]) -> dict[str, float] | None:
    """A combination of values no rule matches, or None when every customer gets a tier.

    Each condition compares single fields with constants (or scores with scores, which take every
    value 1..5), so its truth only changes at those constants: checking one representative of each
    interval (for every field used) is exhaustive. Scores are checked over 1..5 independently of the
    raw values, which can only over-report.
    """
    grid = _Grid(coverage_axes(trees))
    uncovered = grid.everything
    for tree in trees:
        uncovered &= grid.everything ^ grid.mask(tree)
        if not uncovered:
            return None
    return grid.point((uncovered & -uncovered).bit_length() - 1)


def _repeat(pattern: int, width: int, times: int) -> int:
    """`pattern` (`width` bits) repeated `times` times, by doubling: O(log times) big-int operations."""
    out, shift, chunk, chunk_width = 0, 0, pattern, width
    while times:
        if times & 1:
            out |= chunk << shift
            shift += chunk_width
        times >>= 1
        if times:
            chunk |= chunk << chunk_width
            chunk_width *= 2
    return out


# An operator with its sides swapped: `5 < r_score` is `r_score > 5`.
_SWAPPED = {
    ast.Lt: ast.Gt,
    ast.LtE: ast.GtE,
    ast.Gt: ast.Lt,
    ast.GtE: ast.LtE,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}


class _Grid:
    """Every combination of the fields' representative values, as the bits of one integer.

    Cell index = sum(position of field i's value * stride i). A comparison of a field with a number
    holds on a run of the field's sorted values (found by bisection), so its mask is a run of bits
    repeated by doubling: a few big-integer operations, whatever the number of values."""

    def __init__(self, axes: Mapping[str, list[float]]) -> None:
        self.names = sorted(axes)
        self.values = [axes[n] for n in self.names]
        sizes = [len(v) for v in self.values]
        self.strides = [math.prod(sizes[i + 1 :]) for i in range(len(sizes))]
        self.size = math.prod(sizes)
        self.everything = (1 << self.size) - 1
        self._masks: dict[tuple[int, tuple[tuple[int, int], ...]], int] = {}

    def point(self, index: int) -> dict[str, float]:
        return {n: v[(index // s) % len(v)] for n, v, s in zip(self.names, self.values, self.strides)}

    def runs(self, name: str, op: type, number: float) -> list[tuple[int, int]]:
        """The positions [start, end) of `name`'s values v for which `v op number` holds."""
        values = self.values[self.names.index(name)]
        low, high = bisect.bisect_left(values, number), bisect.bisect_right(values, number)
        return {
            ast.Lt: [(0, low)],
            ast.LtE: [(0, high)],
            ast.Gt: [(high, len(values))],
            ast.GtE: [(low, len(values))],
            ast.Eq: [(low, high)],
            ast.NotEq: [(0, low), (high, len(values))],
        }[op]

    def where(self, name: str, runs: Iterable[tuple[int, int]]) -> int:
        """The cells whose value of `name` is at one of the positions in `runs`."""
        axis = self.names.index(name)
        key = (axis, tuple(sorted({r for r in runs if r[0] < r[1]})))
        if key not in self._masks:
            stride, count = self.strides[axis], len(self.values[axis])
            block = 0
            for start, end in key[1]:
                block |= ((1 << ((end - start) * stride)) - 1) << (start * stride)
            self._masks[key] = _repeat(block, stride * count, self.size // (stride * count))
        return self._masks[key]

    def mask(self, node: ast.AST) -> int:
        match node:
            case ast.BoolOp(op=ast.And(), values=items):
                found = self.everything
                for item in items:
                    found &= self.mask(item)
                return found
            case ast.BoolOp(op=ast.Or(), values=items):
                found = 0
                for item in items:
                    found |= self.mask(item)
                return found
            case ast.UnaryOp(op=ast.Not(), operand=inner):
                return self.everything ^ self.mask(inner)
            case ast.Constant(value=bool(value)):
                return self.everything if value else 0
            case ast.Compare(left=left, ops=ops, comparators=rights):
                found, operands = self.everything, [left, *rights]
                for a, op, b in zip(operands, ops, operands[1:]):
                    found &= self._comparison(a, type(op), b)
                return found
        raise AssertionError(f"unchecked node {ast.dump(node)}")

    def _comparison(self, left: ast.AST, op: type, right: ast.AST) -> int:
        if isinstance(right, ast.List | ast.Tuple):
            listed = [number_value(e) for e in right.elts]
            if not isinstance(left, ast.Name):
                return self.everything if COMPARE[op](number_value(left), listed) else 0
            hits = self.where(left.id, [run for n in listed for run in self.runs(left.id, ast.Eq, n)])
            return hits if op is ast.In else self.everything ^ hits
        if isinstance(left, ast.Name) and isinstance(right, ast.Name):
            return self._fields(left.id, op, right.id)
        if isinstance(left, ast.Name):
            return self.where(left.id, self.runs(left.id, op, number_value(right)))
        if isinstance(right, ast.Name):
            return self.where(right.id, self.runs(right.id, _SWAPPED[op], number_value(left)))
        return self.everything if COMPARE[op](number_value(left), number_value(right)) else 0

    def _fields(self, a: str, op: type, b: str) -> int:
        """Two scores compared: at most 5 x 5 value pairs."""
        values_a, values_b = self.values[self.names.index(a)], self.values[self.names.index(b)]
        found = 0
        for i, x in enumerate(values_a):
            for j, y in enumerate(values_b):
                if COMPARE[op](x, y) and (a != b or x == y):
                    found |= self.where(a, [(i, i + 1)]) & self.where(b, [(j, j + 1)])
        return found
