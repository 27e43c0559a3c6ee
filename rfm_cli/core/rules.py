"""Scoring rules and tier rules: parse, validate (fields, coverage), evaluate, explain.

A rule's `when` is a small boolean language — comparisons of a field with numbers, joined by
and / or / not, `in [..]` lists — parsed with Python's `ast` and a whitelist of node types, so a
rules file can never run code. The same parse tree becomes a Polars expression (scoring) and a
Python predicate (coverage check and `rfm explain`).
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from rfm_cli.core.errors import ConfigError

SCORE_FIELDS = ("r_score", "f_score", "m_score")
RAW_FIELDS = ("recency_days", "frequency", "monetary")
FIELDS = SCORE_FIELDS + RAW_FIELDS
SCHEMES = ("tiers", "classic")
DIMENSIONS = ("recency", "frequency", "monetary")

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
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
class DimensionRule:
    dimension: str  # recency | frequency | monetary
    method: str  # fixed | quantile
    breakpoints: tuple[float, ...] = ()
    basis: str = "total"  # monetary only: total | average
    frozen_on: date | None = None  # quantile cut points frozen from the data of this day

    def describe(self) -> str:
        if self.frozen_on is not None:
            return self._describe_fixed() + f" (quantile cut points frozen on {self.frozen_on})"
        return self._describe_fixed() if self.method == "fixed" else self._describe_quantile()

    def _describe_quantile(self) -> str:
        extra = f", {self.basis} spend" if self.dimension == "monetary" else ""
        return f"{self.dimension}: quantile (score = 1 + floor(5 x share of customers strictly worse){extra})"

    def _describe_fixed(self) -> str:
        b = self.breakpoints
        if self.dimension == "recency":
            return (
                f"recency: fixed days <= {b[0]:g} -> 5, <= {b[1]:g} -> 4, <= {b[2]:g} -> 3, "
                f"<= {b[3]:g} -> 2, > {b[3]:g} -> 1"
            )
        return (
            f"{self.dimension}: fixed < {b[0]:g} -> 1, < {b[1]:g} -> 2, < {b[2]:g} -> 3, "
            f"< {b[3]:g} -> 4, >= {b[3]:g} -> 5"
        )


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
        found: dict[str, set[float]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                names = [o.id for o in operands if isinstance(o, ast.Name)]
                numbers: list[float] = []
                for o in operands:
                    if isinstance(o, ast.Constant) and not isinstance(o.value, bool):
                        numbers.append(o.value)
                    elif isinstance(o, ast.List | ast.Tuple):
                        numbers.extend(e.value for e in o.elts)
                for name in names:
                    found.setdefault(name, set()).update(numbers)
        return found


@dataclass(frozen=True)
class Tier:
    name: str
    when: Condition
    label_zh: str = ""
    why: str = ""


@dataclass(frozen=True)
class RuleSet:
    scheme: str
    recency: DimensionRule
    frequency: DimensionRule
    monetary: DimensionRule
    tiers: tuple[Tier, ...]
    source: str = "built-in"

    def dimension(self, name: str) -> DimensionRule:
        return getattr(self, name)

    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]

    def tier_for(self, values: Mapping[str, float]) -> Tier:
        for tier in self.tiers:
            if tier.when.evaluate(values):
                return tier
        raise AssertionError("validated rules always match")  # coverage is checked on load

    def to_dict(self) -> dict[str, Any]:
        def dim(d: DimensionRule) -> dict[str, Any]:
            out: dict[str, Any] = {"method": d.method}
            if d.method == "fixed":
                out["breakpoints"] = list(d.breakpoints)
            if d.frozen_on is not None:
                out["frozen_on"] = d.frozen_on.isoformat()
            if d.dimension == "monetary":
                out["basis"] = d.basis
            return out

        return {
            "scheme": self.scheme,
            "source": self.source,
            "recency": dim(self.recency),
            "frequency": dim(self.frequency),
            "monetary": dim(self.monetary),
            "tiers": [
                {"name": t.name, "label_zh": t.label_zh, "when": t.when.text, "why": t.why}
                for t in self.tiers
            ],
        }


# ---------------------------------------------------------------- parsing


def parse_condition(text: str, where: str) -> Condition:
    source = text.strip() or "true"
    normalised = {"true": "True", "false": "False"}.get(source.lower(), source)
    try:
        tree = ast.parse(normalised, mode="eval").body
    except SyntaxError as exc:
        raise ConfigError(
            f"{where}: cannot read condition {text!r} ({exc.msg}); "
            'write comparisons like "f_score >= 4 and m_score >= 4"'
        ) from None
    _check(tree, text, where)
    return Condition(text=source, tree=tree)


def _check(node: ast.AST, text: str, where: str) -> None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And | ast.Or):
        for value in node.values:
            _check(value, text, where)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text, where)
    elif isinstance(node, ast.Compare):
        if not all(type(op) in _COMPARE for op in node.ops):
            raise ConfigError(
                f"{where}: condition {text!r} uses an unsupported comparison; use < <= > >= == != in"
            )
        for operand in (node.left, *node.comparators):
            _check(operand, text, where)
    elif isinstance(node, ast.Name):
        if node.id not in FIELDS:
            raise ConfigError(
                f"{where}: condition {text!r} names unknown field {node.id!r}; "
                f"known fields: {', '.join(FIELDS)}"
            )
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float) or isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, int | float) for e in node.elts
    ) or (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        pass
    else:
        raise ConfigError(
            f"{where}: condition {text!r} is not a comparison of fields with numbers; "
            'e.g. "r_score <= 2" or "f_score >= 3 and monetary > 1000"'
        )


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
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_eval(e, values) for e in elts]
    raise AssertionError(f"unchecked node {ast.dump(node)}")


def _to_polars(node: ast.AST):
    import polars as pl

    match node:
        case ast.BoolOp(op=ast.And(), values=items):
            expr = _to_polars(items[0])
            for item in items[1:]:
                expr = expr & _to_polars(item)
            return expr
        case ast.BoolOp(op=ast.Or(), values=items):
            expr = _to_polars(items[0])
            for item in items[1:]:
                expr = expr | _to_polars(item)
            return expr
        case ast.UnaryOp(op=ast.Not(), operand=inner):
            return ~_to_polars(inner)
        case ast.Compare(left=left, ops=ops, comparators=rights):
            parts = []
            current = left
            for op, right in zip(ops, rights):
                a, b = _to_polars(current), _to_polars(right)
                if isinstance(op, ast.In | ast.NotIn):
                    member = (
                        pl.lit(None)
                        if not isinstance(right, ast.List | ast.Tuple)
                        else a.is_in([e.value for e in right.elts])
                    )
                    parts.append(member if isinstance(op, ast.In) else ~member)
                else:
                    parts.append(_COMPARE[type(op)](a, b))
                current = right
            expr = parts[0]
            for part in parts[1:]:
                expr = expr & part
            return expr
        case ast.Name(id=name):
            return pl.col(name)
        case ast.Constant(value=value):
            return pl.lit(value)
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=value)):
            return pl.lit(-value)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return pl.lit([e.value for e in elts])
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


# ---------------------------------------------------------------- coverage


def _representatives(constants: set[float], field_name: str) -> list[float]:
    """One value from every interval the constants cut the line into, and the constants themselves."""
    if field_name in SCORE_FIELDS:
        return [1, 2, 3, 4, 5]
    points = sorted(constants)
    if not points:
        return [0.0]
    reps = [points[0] - 1, points[-1] + 1, *points]
    reps += [(a + b) / 2 for a, b in itertools.pairwise(points)]
    return sorted(set(reps))


def find_uncovered(tiers: tuple[Tier, ...]) -> dict[str, float] | None:
    """A combination of values no tier matches, or None when every customer gets a tier.

    Each condition compares single fields with constants, so its truth only changes at those
    constants: checking one representative of each interval (for every field used) is exhaustive.
    Scores are checked over 1..5 independently of the raw values, which can only over-report.
    """
    used: dict[str, set[float]] = {}
    for tier in tiers:
        for name in tier.when.fields():
            used.setdefault(name, set())
        for name, numbers in tier.when.constants().items():
            used[name].update(numbers)
    names = sorted(used)
    grids = [_representatives(used[n], n) for n in names]
    for combo in itertools.product(*grids):
        values = dict(zip(names, combo))
        if not any(t.when.evaluate(values) for t in tiers):
            return values
    return None


# ---------------------------------------------------------------- loading


def _builtin(scheme: str) -> dict[str, Any]:
    text = resources.files("rfm_cli").joinpath("rules", f"{scheme}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _dimension(name: str, spec: Any, where: str) -> DimensionRule:
    if not isinstance(spec, dict):
        raise ConfigError(f'{where}: [{name}] must be a table with method = "fixed" or "quantile"')
    unknown = set(spec) - {"method", "breakpoints", "basis"}
    if unknown:
        raise ConfigError(
            f"{where}: [{name}] has unknown key {min(unknown)!r}; keys: method, breakpoints, basis"
        )
    method = spec.get("method", "fixed")
    if method not in ("fixed", "quantile"):
        raise ConfigError(f'{where}: {name}.method = {method!r}; use "fixed" or "quantile"')
    breakpoints: tuple[float, ...] = ()
    if method == "fixed":
        raw = spec.get("breakpoints")
        if (
            not isinstance(raw, list)
            or len(raw) != 4
            or not all(isinstance(b, int | float) for b in raw)
            or any(a >= b for a, b in itertools.pairwise(raw))
        ):
            raise ConfigError(
                f"{where}: {name}.breakpoints is not 4 increasing numbers; write e.g. breakpoints = [30, 60, 90, 180]"

            )
        breakpoints = tuple(raw)
    basis = spec.get("basis", "total")
    if basis not in ("total", "average"):
        raise ConfigError(f'{where}: {name}.basis = {basis!r}; use "total" or "average"')
    return DimensionRule(dimension=name, method=method, breakpoints=breakpoints, basis=basis)


def build_rules(spec: Mapping[str, Any], where: str) -> RuleSet:
    unknown = set(spec) - {"scheme", "tiers", *DIMENSIONS}
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {min(unknown)!r}; keys: scheme, recency, frequency, monetary, tiers"
        )
    tiers_spec = spec.get("tiers")
    if not isinstance(tiers_spec, list) or not tiers_spec:
        raise ConfigError(f'{where}: no [[tiers]] rules; add at least one, the last with when = "true"')
    tiers: list[Tier] = []
    seen: set[str] = set()
    for i, item in enumerate(tiers_spec, 1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ConfigError(f'{where}: tier #{i} has no name; give each [[tiers]] a name = "..."')
        name = item["name"].strip()
        extra = set(item) - {"name", "when", "label_zh", "why"}
        if extra:
            raise ConfigError(
                f"{where}: tier {name!r} has unknown key {min(extra)!r}; "
                "keys: name, when, label_zh, why"
            )
        if name in seen:
            raise ConfigError(f"{where}: tier {name!r} appears twice; give each tier its own name")
        seen.add(name)
        condition = parse_condition(str(item.get("when", "true")), f"{where}: tier {name!r}")
        tiers.append(
            Tier(name=name, when=condition, label_zh=item.get("label_zh", ""), why=item.get("why", ""))
        )
    rules = RuleSet(
        scheme=str(spec.get("scheme", "tiers")),
        recency=_dimension("recency", spec.get("recency"), where),
        frequency=_dimension("frequency", spec.get("frequency"), where),
        monetary=_dimension("monetary", spec.get("monetary"), where),
        tiers=tuple(tiers),
        source=where,
    )
    gap = find_uncovered(rules.tiers)
    if gap is not None:
        shown = ", ".join(f"{k}={v:g}" for k, v in gap.items())
        raise ConfigError(
            f"{where}: a customer with {shown} matches no tier; "
            'end the rules with a catch-all tier (when = "true")'
        )
    return rules


def read_rules_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"rules file {path} does not exist; check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rules file {path} is not valid TOML ({exc}); fix the syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"rules file {path} cannot be read ({exc}); check it is UTF-8 text") from None


def load_rules(scheme: str = "tiers", overrides: list[tuple[str, Mapping[str, Any]]] = ()) -> RuleSet:
    """The scheme's built-in rules with each override (later wins) laid over them key by key."""
    if scheme not in SCHEMES:
        raise ConfigError(f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    spec: dict[str, Any] = {k: v for k, v in _builtin("tiers").items() if k in DIMENSIONS}
    spec.update(_builtin(scheme))
    where = f"built-in {scheme} rules"
    for label, override in overrides:
        spec.update(override)
        where = label
    return build_rules(spec, where)


@dataclass
class CutPoints:
    """The cut points a run actually used: per dimension and score, the raw values it covered."""

    rows: list[dict[str, Any]] = field(default_factory=list)


def _fmt(value: float) -> str:
    return f"{value:,.2f}" if not float(value).is_integer() else f"{value:,.0f}"


def describe_band(dimension: DimensionRule, score: int) -> str:
    """The rule for one score band of a fixed dimension, in words."""
    b = dimension.breakpoints
    if dimension.dimension == "recency":
        edges = [-math.inf, *b, math.inf]
        lo, hi = edges[5 - score], edges[6 - score]
        if lo == -math.inf:
            return f"<= {_fmt(hi)}"
        return f"> {_fmt(lo)} and <= {_fmt(hi)}" if hi != math.inf else f"> {_fmt(lo)}"
    edges = [-math.inf, *b, math.inf]
    lo, hi = edges[score - 1], edges[score]
    if lo == -math.inf:
        return f"< {_fmt(hi)}"
    if hi == math.inf:
        return f">= {_fmt(lo)}"
    return f">= {_fmt(lo)} and < {_fmt(hi)}"
