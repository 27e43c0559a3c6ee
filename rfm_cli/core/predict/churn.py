"""Churn risk: low / medium / high, and the rule that gave it.

With a fitted model, the risk is the model's P(alive) in three bands. Without one (a small shop, or
a fit that did not converge), it is the interval rule: how far past their due date a customer is,
and for customers with no due date, how long since their last order (BRIEF §2: silent for over 90
days is high risk, 60-90 days is when sellers send the win-back message). The first rule that
matches wins; the rules of each kind cover every customer, so every customer gets one.

The four thresholds are `ChurnThresholds` (defaults below); rfm.toml's `[churn]` table or the
library's `churn=` keyword change them. A customer whose P(alive) could not be computed (left empty)
is judged by the interval rule even when a model was fitted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

import polars as pl

from rfm_cli.core.errors import ConfigError

RISKS = ("high", "medium", "low")


@dataclass(frozen=True)
class ChurnThresholds:
    """Defaults: P(alive) below 0.30 is high risk, below 0.60 medium; without a due date, no order in
    over 90 days is high risk, in over 60 days medium."""

    high_below_p_alive: float = 0.3
    medium_below_p_alive: float = 0.6
    quiet_high_days: int = 90
    quiet_medium_days: int = 60

    def __post_init__(self) -> None:
        if not 0 <= self.high_below_p_alive <= self.medium_below_p_alive <= 1:
            raise ConfigError(
                f"churn thresholds: high_below_p_alive {self.high_below_p_alive} and medium_below_p_alive "
                f"{self.medium_below_p_alive} must satisfy 0 <= high <= medium <= 1; e.g. 0.3 and 0.6"
            )
        if not 0 <= self.quiet_medium_days <= self.quiet_high_days:
            raise ConfigError(
                f"churn thresholds: quiet_medium_days {self.quiet_medium_days} and quiet_high_days "
                f"{self.quiet_high_days} must satisfy 0 <= medium <= high; e.g. 60 and 90"
            )

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str) -> ChurnThresholds:
        """From rfm.toml's [churn] table (`where` names it in errors): only the keys given change."""
        known = {f.name: f.type for f in fields(cls)}
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(known)}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{where}: key {key!r} is not a number; write it as e.g. {key} = "
                                  f"{getattr(cls(), key)}")
            if key.startswith("quiet") and value != int(value):
                raise ConfigError(f"{where}: key {key!r} = {value} is not a whole number of days")
        values = {k: (int(v) if k.startswith("quiet") else float(v)) for k, v in table.items()}
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def model_rules(self) -> list[tuple[str, str, pl.Expr]]:
        high, medium = self.high_below_p_alive, self.medium_below_p_alive
        alive = pl.col("p_alive")
        return [
            ("high", f"p_alive < {high:.2f}", alive < high),
            ("medium", f"p_alive < {medium:.2f}", alive < medium),
            ("low", f"p_alive >= {medium:.2f}", alive.is_not_null()),
        ]

    def interval_rules(self) -> list[tuple[str, str, pl.Expr]]:
        quiet, high, medium = pl.col("recency_days"), self.quiet_high_days, self.quiet_medium_days
        overdue = pl.col("days_overdue")
        return [
            ("high", "overdue by more than one typical gap", overdue > pl.col("typical_gap_days")),
            ("medium", "overdue", overdue > 0),
            ("low", "not yet due", overdue.is_not_null()),
            ("high", f"no due date; no order in over {high} days", quiet > high),
            ("medium", f"no due date; no order in {medium + 1}-{high} days", quiet > medium),
            ("low", f"no due date; an order in the last {medium} days", pl.lit(True)),
        ]


DEFAULT_THRESHOLDS = ChurnThresholds()
# The default rules (rule texts are stable so lists can be selected by them).
MODEL_RULES = DEFAULT_THRESHOLDS.model_rules()
INTERVAL_RULES = DEFAULT_THRESHOLDS.interval_rules()


def _first_match(rules: list) -> tuple[pl.Expr, pl.Expr]:
    risk: pl.Expr | pl.When | pl.Then = pl
    rule: pl.Expr | pl.When | pl.Then = pl
    for name, text, condition in rules:
        risk = risk.when(condition).then(pl.lit(name))
        rule = rule.when(condition).then(pl.lit(text))
    return risk.otherwise(None), rule.otherwise(None)


def churn_risk(
    frame: pl.DataFrame, as_of: date, *, model_fitted: bool, thresholds: ChurnThresholds | None = None
) -> pl.DataFrame:
    """churn_risk and churn_rule for each row of `frame` (p_alive, typical_gap_days, days_overdue and
    last_day)."""
    thresholds = thresholds or DEFAULT_THRESHOLDS
    rules = (thresholds.model_rules() if model_fitted else []) + thresholds.interval_rules()
    risk, rule = _first_match(rules)
    quiet = (pl.lit(as_of) - pl.col("last_day")).dt.total_days()
    return frame.with_columns(recency_days=quiet).select(churn_risk=risk, churn_rule=rule)


def rules_in_force(*, model_fitted: bool, thresholds: ChurnThresholds | None = None) -> list[dict[str, str]]:
    """The rules, in order, for the model summary (with a model, the interval rules only serve the
    customers whose P(alive) is empty)."""
    thresholds = thresholds or DEFAULT_THRESHOLDS
    rules = thresholds.model_rules() if model_fitted else thresholds.interval_rules()
    return [{"churn_risk": name, "rule": text} for name, text, _ in rules]
