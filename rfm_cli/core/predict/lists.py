"""The prediction columns the lists select on: `rfm export --overdue DAYS` and `--churn-risk RISK`.

An overdue list holds the customers whose next order was due at least DAYS days before the as-of
date (days_overdue >= DAYS, by the interval rule: core/predict/intervals.py) and who are not yet
dormant: not in a tier named dormant, lost or hibernating (the tiers scheme's dormant, the classic
scheme's Lost and Hibernating), whom a win-back list serves instead. A customer with no due date (a
one-time buyer in a shop too small for a shop median gap) is on no overdue list.

A churn-risk list holds the customers whose churn_risk is one of those given (core/predict/churn.py:
by P(alive) when a model is fitted, else by the interval rule, said in one note). The model is
fitted only when a churn-risk selection asks for it: an overdue list needs the interval rule alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from rfm_cli.core.errors import UsageError
from rfm_cli.core.predict.churn import ChurnThresholds
from rfm_cli.core.store import Store

DORMANT_TIERS = ("dormant", "lost", "hibernating")
# Columns the lists gain when a selection uses predictions (after the RFM columns, in this order).
LIST_COLUMNS = ["p_alive", "typical_gap_days", "next_order_due", "days_overdue", "due_basis", "churn_risk",
                "churn_rule"]


@dataclass
class ListPredictions:
    columns: pl.DataFrame  # customer_id and LIST_COLUMNS, by customer_id
    model_status: str  # "fitted", "interval rule only" or "not fitted (not needed)"
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, object]:
        return {"model_status": self.model_status, "notes": self.notes}


def list_predictions(store: Store, as_of: date, *, churn: bool,
                     thresholds: ChurnThresholds | None = None) -> ListPredictions:
    """Every customer's LIST_COLUMNS as of `as_of`; the model is fitted only when `churn` is asked."""
    from rfm_cli.core.predict.engine import predict_customers

    result = predict_customers(store, as_of, fit_model=churn, churn_thresholds=thresholds)
    status = result.model["status"] if churn else "not fitted (not needed)"
    return ListPredictions(result.customers.select("customer_id", *LIST_COLUMNS), status, list(result.notes))


def with_predictions(customers: pl.DataFrame, predictions: pl.DataFrame) -> pl.DataFrame:
    """`customers` (scored, in its order) with the prediction columns; a customer scored but not
    predicted (none, by construction: the same counted orders) gets empty ones."""
    return customers.join(predictions, on="customer_id", how="left", maintain_order="left")


def listed_tiers(tiers: list[str], overdue_days: int | None) -> list[str]:
    """The tiers that get lists: an overdue selection writes none for the dormant tiers (always empty)."""
    if overdue_days is None:
        return tiers
    kept = [t for t in tiers if t.lower() not in DORMANT_TIERS]
    if not kept:
        raise UsageError(f"--overdue lists no dormant customers, and this selects only {', '.join(tiers)}; "
                         "name another --tier, or use --recency-days for a win-back list")
    return kept


def condition(overdue_days: int | None, churn_risk: list[str] | None) -> pl.Expr:
    """The selection's filter on the prediction columns (an empty cell never matches)."""
    keep = pl.lit(True)
    if overdue_days is not None:
        keep &= (pl.col("days_overdue") >= overdue_days).fill_null(False)
        keep &= ~pl.col("tier").str.to_lowercase().is_in(DORMANT_TIERS)
    if churn_risk:
        keep &= pl.col("churn_risk").is_in(churn_risk).fill_null(False)
    return keep
