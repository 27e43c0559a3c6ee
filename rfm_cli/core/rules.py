"""Scoring rules and tier rules: the rule set, loaded from the built-in schemes and rules files.

A tier's `when` is a small boolean language parsed and evaluated by `rule_conditions` and checked by
`rule_checks` (size, depth, types, a whitelist of node types), so a rules file can never run code
nor fail later than `rfm rules --check`. The same parse tree becomes a Polars expression (scoring),
a Python predicate (`rfm explain`) and bit masks over the coverage grid (rule_coverage).
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from rfm_cli.core import rule_checks, rule_coverage
from rfm_cli.core.errors import ConfigError
from rfm_cli.core.levels import BUILT_IN as BUILT_IN_LEVELS
from rfm_cli.core.levels import LevelRules, parse_levels

# The fields and the conditions were defined here once: still importable from here.
from rfm_cli.core.rule_checks import FIELDS, RAW_FIELDS, SCORE_FIELDS, number_value  # noqa: F401
from rfm_cli.core.rule_conditions import Condition, parse_condition, render  # noqa: F401

SCHEMES = ("tiers", "classic")
DIMENSIONS = ("recency", "frequency", "monetary")
# Each dimension's raw value and its score, as columns of the scored table.
RAW_OF = {"recency": "recency_days", "frequency": "frequency", "monetary": "monetary"}
SCORE_OF = {"recency": "r_score", "frequency": "f_score", "monetary": "m_score"}


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
    levels: LevelRules = BUILT_IN_LEVELS  # member levels ([levels]; core/levels.py)

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


# ---------------------------------------------------------------- coverage


def find_uncovered(tiers: tuple[Tier, ...]) -> dict[str, float] | None:
    """A combination of values no tier matches, or None when every customer gets a tier (exhaustive:
    see rule_coverage.find_uncovered)."""
    return rule_coverage.find_uncovered([t.when.tree for t in tiers])


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
                f"{where}: {name}.breakpoints is not 4 increasing numbers; "
                "write e.g. breakpoints = [30, 60, 90, 180]"

            )
        breakpoints = tuple(raw)
    basis = spec.get("basis", "total")
    if basis not in ("total", "average"):
        raise ConfigError(f'{where}: {name}.basis = {basis!r}; use "total" or "average"')
    return DimensionRule(dimension=name, method=method, breakpoints=breakpoints, basis=basis)


def build_rules(spec: Mapping[str, Any], where: str) -> RuleSet:
    unknown = set(spec) - {"scheme", "tiers", "levels", *DIMENSIONS}
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {min(unknown)!r}; "
            "keys: scheme, recency, frequency, monetary, tiers, levels"
        )
    tiers_spec = spec.get("tiers")
    if not isinstance(tiers_spec, list) or not tiers_spec:
        raise ConfigError(f'{where}: no [[tiers]] rules; add at least one, the last with when = "true"')
    if len(tiers_spec) > rule_checks.MAX_TIERS:
        raise ConfigError(f"{where}: {len(tiers_spec):,} tiers; at most {rule_checks.MAX_TIERS} are allowed; "
                          "merge some of them")
    tiers: list[Tier] = []
    seen: set[str] = set()
    for i, item in enumerate(tiers_spec, 1):
        if not isinstance(item, dict):
            raise ConfigError(f'{where}: tier #{i} has no name; give each [[tiers]] a name = "..."')
        raw_name = item.get("name")
        name = rule_checks.check_tier_name(raw_name.strip() if isinstance(raw_name, str) else raw_name, i,
                                           where)
        extra = set(item) - {"name", "when", "label_zh", "why"}
        if extra:
            raise ConfigError(
                f"{where}: tier {name!r} has unknown key {min(extra)!r}; "
                "keys: name, when, label_zh, why"
            )
        if name.lower() in seen:  # gold.csv and Gold.csv are one file on macOS and Windows
            raise ConfigError(f"{where}: tier {name!r} appears twice (names are compared without case); "
                              "give each tier its own name")
        seen.add(name.lower())
        when = item.get("when", "true")
        if isinstance(when, bool):  # when = true, unquoted
            when = str(when)
        when = rule_checks.check_text(when, "when", name, where)
        condition = parse_condition(when, f"{where}: rule of tier {name!r}")
        tiers.append(Tier(name=name, when=condition, label_zh=rule_checks.check_text(
            item.get("label_zh", ""), "label_zh", name, where), why=rule_checks.check_text(
            item.get("why", ""), "why", name, where)))
    rule_coverage.check_coverage_size([(t.name, t.when.tree) for t in tiers], where)
    rules = RuleSet(
        scheme=str(spec.get("scheme", "tiers")),
        recency=_dimension("recency", spec.get("recency"), where),
        frequency=_dimension("frequency", spec.get("frequency"), where),
        monetary=_dimension("monetary", spec.get("monetary"), where),
        tiers=tuple(tiers),
        source=where,
        levels=parse_levels(spec.get("levels"), where),
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
