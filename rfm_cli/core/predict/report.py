"""The report's look ahead (`rfm report --with-predictions`, `--holdout-from DATE`): CLV by tier, the
distribution of P(alive) in each tier, churn risk by tier and, with a hold-out date, the tracking
check. Aggregates only, never a customer's row, so the HTML page stays small.

The predictions are `rfm predict`'s (predict_customers) for the report's customers and as-of date.
The hold-out check is a second fit, on the orders before the hold-out date (as `rfm predict
--holdout-from`), so the CLV by tier still describes the report's as-of date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from rfm_cli.core.predict.engine import predict_customers
from rfm_cli.core.scoring import ScoreResult
from rfm_cli.core.store import Store

P_ALIVE_BINS = 10  # [0, 0.1), [0.1, 0.2) ... [0.9, 1.0]
RISKS = ("high", "medium", "low")


def _model(summary: dict[str, Any]) -> dict[str, Any]:
    def part(fit: dict[str, Any] | None) -> dict[str, Any] | None:
        if fit is None:
            return None
        return {"title": fit["title"], "params": fit["params"], "log_likelihood": fit["log_likelihood"],
                "converged": fit["converged"]}

    return {"status": summary["status"], "purchases": part(summary["purchases"]),
            "spend": part(summary["spend"])}


def _tier_rows(frame: pl.DataFrame, tiers: list[str], clv_total: float | None) -> list[dict[str, Any]]:
    grouped = frame.group_by("tier").agg(
        customers=pl.len(),
        clv_total=pl.col("clv").sum(),
        clv_mean=pl.col("clv").mean(),
        expected_orders=pl.col("expected").sum(),
        p_alive_mean=pl.col("p_alive").mean(),
        p_alive_median=pl.col("p_alive").median(),
        predicted=pl.col("p_alive").is_not_null().sum(),
        **{f"risk_{risk}": (pl.col("churn_risk") == risk).sum() for risk in RISKS},
    )
    by_tier = {row["tier"]: row for row in grouped.iter_rows(named=True)}
    rows = []
    for tier in tiers:
        row = by_tier.get(tier)
        fitted = row is not None and row["predicted"] > 0

        def number(key: str, digits: int, row=row, fitted=fitted) -> float | None:
            return round(row[key], digits) if fitted and row[key] is not None else None

        rows.append({
            "tier": tier,
            "customers": 0 if row is None else row["customers"],
            "clv_total": number("clv_total", 2),
            "clv_mean": number("clv_mean", 2),
            "clv_share": round(row["clv_total"] / clv_total, 4) if fitted and clv_total else None,
            "expected_orders": number("expected_orders", 2),
            "p_alive_mean": number("p_alive_mean", 4),
            "p_alive_median": number("p_alive_median", 4),
            "churn_risk": {risk: 0 if row is None else row[f"risk_{risk}"] for risk in RISKS},
        })
    return rows


def _distribution(frame: pl.DataFrame, tiers: list[str]) -> list[dict[str, Any]]:
    """Per tier: customers whose P(alive) falls in each bin (1.0 in the last); empty P(alive) left out."""
    binned = frame.filter(pl.col("p_alive").is_not_null()).with_columns(
        bin=(pl.col("p_alive") * P_ALIVE_BINS).floor().clip(0, P_ALIVE_BINS - 1).cast(pl.Int64))
    counts = {(t, b): n for t, b, n in binned.group_by("tier", "bin").len().iter_rows()}
    return [{"tier": tier,
             "counts": [counts.get((tier, b), 0) for b in range(P_ALIVE_BINS)]} for tier in tiers]


def clv_numbers(store: Store, result: ScoreResult, *, holdout_from: date | None = None,
                **settings: Any) -> dict[str, Any]:
    """The report's `predictions` block. `settings`: predict_customers' keywords."""
    predicted = predict_customers(store, result.as_of, **settings)
    horizon = predicted.horizon_days
    columns = predicted.customers.select(
        "customer_id", "p_alive", "churn_risk",
        expected=pl.col(f"expected_orders_{horizon}d"), clv=pl.col(f"clv_{horizon}d"))
    frame = result.customers.select("customer_id", "tier").join(columns, on="customer_id", how="left")
    tiers = result.rules.tier_names()
    clv_total = frame["clv"].sum() if frame["clv"].is_not_null().any() else None
    numbers: dict[str, Any] = {
        "as_of": predicted.as_of.isoformat(),
        "horizon_days": horizon,
        "model": _model(predicted.model),
        "notes": list(predicted.notes),
        "clv_total": None if clv_total is None else round(clv_total, 2),
        "tiers": _tier_rows(frame, tiers, clv_total),
        "p_alive_bins": [round(b / P_ALIVE_BINS, 2) for b in range(P_ALIVE_BINS + 1)],
        "p_alive_distribution": _distribution(frame, tiers) if predicted.fitted else [],
        "holdout": None,
    }
    if holdout_from is not None:
        check = predict_customers(store, result.as_of, holdout_from=holdout_from, **settings)
        numbers["holdout"] = check.holdout
        numbers["notes"] += [note for note in check.notes if note not in numbers["notes"]]
    return numbers
