"""What `rfm predict` writes: the per-customer table, the JSON document, and lines for a person.

The house CSV writer rounds floats to 2 decimals (money); P(alive) and expected orders need 4, so
the (already rounded) float columns are written as their shortest text instead (FLOAT_PRECISION:
write_csv's own shortest form, the same text a cast to String gives, without a second copy of the
columns as text through the formula escaping).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from rfm_cli.core.predict.engine import PredictionResult

FLOAT_PRECISION = None  # for sinks.write_file / write_stdout: each float's shortest text


def table_for(result: PredictionResult, fmt: str) -> pl.DataFrame:
    return result.customers


def json_document(result: PredictionResult) -> bytes:
    """{"as_of", "horizon_days", "model", "holdout" (with --holdout-from), "notes", "customers": [rows]}."""
    head: dict[str, Any] = {
        "as_of": result.as_of.isoformat(),
        "horizon_days": result.horizon_days,
        "model": result.model,
    }
    if result.holdout is not None:
        head["holdout"] = result.holdout
    head["notes"] = result.notes
    opening = json.dumps(head, ensure_ascii=False)[:-1]  # without its closing brace
    rows = result.customers.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d")).write_json()
    return f'{opening}, "customers": {rows}}}\n'.encode()


def _params(fit: dict[str, Any]) -> str:
    return " ".join(f"{name}={value:.4g}" for name, value in fit["params"].items())


def _fit_line(kind: str, fit: dict[str, Any] | None) -> str | None:
    if fit is None:
        return None
    state = (
        f"converged in {fit['iterations']} iterations"
        if fit["converged"]
        else f"NOT converged ({fit['message']})"
    )
    return (
        f"{kind}: {fit['title']} {_params(fit)}; log-likelihood {fit['log_likelihood']:,.2f}; {state}; "
        f"{fit['fitted_on']['customers']:,} customers"
    )


def describe(result: PredictionResult) -> list[str]:
    """The models, their parameters and log-likelihoods, the rules in force: one line each."""
    model = result.model
    lines = [
        f"as of {result.as_of}: {model['customers']:,} customers, {model['repeat_buyers']:,} repeat buyers; "
        f"model time unit: weeks; horizon {result.horizon_days} days"
        + (f", discounted at {model['discount_rate']:.1%} a year" if model["discount_rate"] else "")
    ]
    lines += [
        line
        for line in (_fit_line("purchases", model["purchases"]), _fit_line("spend", model["spend"]))
        if line
    ]
    spend = model["spend"]
    if spend and spend.get("frequency_spend_correlation") is not None:
        lines.append(
            f"  correlation of repeat purchases and mean spend: {spend['frequency_spend_correlation']:.2f} "
            "(Gamma-Gamma assumes about 0)"
        )
    gap = model["intervals"]["shop_median_gap_days"]
    lines.append(
        "due dates: "
        + (
            f"shop median gap {gap:g} days; a customer's own median gap is shrunk toward it "
            f"with the weight of {model['intervals']['prior_gaps']} gaps"
            if gap is not None
            else "own gaps only (too few repeat buyers for a shop median)"
        )
    )
    counts = dict(result.customers.group_by("churn_risk").len().iter_rows())
    lines.append(
        "churn risk: "
        + ", ".join(f"{risk} {counts.get(risk, 0):,}" for risk in ("high", "medium", "low"))
        + f" (by {'P(alive)' if result.fitted else 'the interval rule'})"
    )
    return lines


def describe_holdout(result: PredictionResult) -> list[str]:
    if result.holdout is None:
        return []
    check, overall = result.holdout, result.holdout["overall"]
    auc = (
        f"; P(alive) AUC for buying again {overall['p_alive_auc']:.3f}"
        if overall["p_alive_auc"] is not None
        else ""
    )
    error = f" ({overall['error_pct']:+.1f}%)" if overall["error_pct"] is not None else ""
    line = (
        f"hold-out {check['holdout_start']} to {check['holdout_end']} ({check['holdout_weeks']:g} weeks), "
        f"{overall['customers']:,} customers: expected {overall['expected_repeat_purchases']:,.1f} repeat "
        f"purchases, actual {overall['actual_repeat_purchases']:,}{error}{auc}"
    )
    return [line]
