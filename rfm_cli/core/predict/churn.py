"""Churn risk: low / medium / high, and the rule that gave it.

With a fitted model, the risk is the model's P(alive) in three bands. Without one (a small shop, or
a fit that did not converge), it is the interval rule: how far past their due date a customer is,
and for customers with no due date, how long since their last order (BRIEF §2: silent for over 90
days is high risk, 60-90 days is when sellers send the win-back message). The first rule that
matches wins; the rules of each kind cover every customer, so every customer gets one.
"""

from __future__ import annotations

from datetime import date

import polars as pl

HIGH_BELOW_P_ALIVE = 0.3
MEDIUM_BELOW_P_ALIVE = 0.6
QUIET_HIGH_DAYS = 90
QUIET_MEDIUM_DAYS = 60

# (risk, rule text, condition) in order; the texts are stable so lists can be selected by them.
MODEL_RULES = [
    ("high", f"p_alive < {HIGH_BELOW_P_ALIVE:.2f}", pl.col("p_alive") < HIGH_BELOW_P_ALIVE),
    ("medium", f"p_alive < {MEDIUM_BELOW_P_ALIVE:.2f}", pl.col("p_alive") < MEDIUM_BELOW_P_ALIVE),
    ("low", f"p_alive >= {MEDIUM_BELOW_P_ALIVE:.2f}", pl.lit(True)),
]
_quiet = pl.col("recency_days")
INTERVAL_RULES = [
    ("high", "overdue by more than one typical gap", pl.col("days_overdue") > pl.col("typical_gap_days")),
    ("medium", "overdue", pl.col("days_overdue") > 0),
    ("low", "not yet due", pl.col("days_overdue").is_not_null()),
    ("high", f"no due date; no order in over {QUIET_HIGH_DAYS} days", _quiet > QUIET_HIGH_DAYS),
    (
        "medium",
        f"no due date; no order in {QUIET_MEDIUM_DAYS + 1}-{QUIET_HIGH_DAYS} days",
        _quiet > QUIET_MEDIUM_DAYS,
    ),
    ("low", f"no due date; an order in the last {QUIET_MEDIUM_DAYS} days", pl.lit(True)),
]


def _first_match(rules: list) -> tuple[pl.Expr, pl.Expr]:
    risk: pl.Expr | pl.When | pl.Then = pl
    rule: pl.Expr | pl.When | pl.Then = pl
    for name, text, condition in rules:
        risk = risk.when(condition).then(pl.lit(name))
        rule = rule.when(condition).then(pl.lit(text))
    return risk.otherwise(None), rule.otherwise(None)


def churn_risk(frame: pl.DataFrame, as_of: date, *, model_fitted: bool) -> pl.DataFrame:
    """churn_risk and churn_rule for each row of `frame` (p_alive, or typical_gap_days, days_overdue
    and last_day)."""
    if model_fitted:
        risk, rule = _first_match(MODEL_RULES)
        return frame.select(churn_risk=risk, churn_rule=rule)
    risk, rule = _first_match(INTERVAL_RULES)
    quiet = (pl.lit(as_of) - pl.col("last_day")).dt.total_days()
    return frame.with_columns(recency_days=quiet).select(churn_risk=risk, churn_rule=rule)


def rules_in_force(*, model_fitted: bool) -> list[dict[str, str]]:
    """The rules, in order, for the model summary."""
    return [
        {"churn_risk": name, "rule": text}
        for name, text, _ in (MODEL_RULES if model_fitted else INTERVAL_RULES)
    ]
