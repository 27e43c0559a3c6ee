"""Whether tier rules leave a customer out, decided on a finite grid, not by search.

A rule compares single fields with numbers (rule_checks made sure of it), so its truth only changes
at those numbers; one value from every interval they cut each field into (and each score 1..5)
covers every customer. The grid's cells are bits of one Python integer per condition, so a rule
costs a few big-integer operations per term; the grid's size and the number of terms are bounded
(MAX_FILE_TERMS, MAX_COVERAGE_CASES), so the check is too (polynomial in the rules' size, under a
second at the limits).
"""

from __future__ import annotations

import ast
import bisect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

from rfm_cli.core.errors import ConfigError
from rfm_cli.core.rule_checks import (
    COMPARE,
    MAX_COVERAGE_CASES,
    MAX_FILE_TERMS,
    SCORE_FIELDS,
    count_terms,
    number_value,
)


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
