"""The hold-out check (Fader, Hardie & Lee 2005, figures 2 and 4): fit on the orders up to a date,
then compare what the model expected after it with what customers did.

- overall: repeat purchases in the hold-out period, summed over the calibration customers;
- by calibration frequency: for customers with x = 0, 1, ... 6 and 7+ repeat purchases in the
  calibration period, the mean hold-out purchases, actual and expected (the conditional
  expectations E[Y(t) | x, t_x, T]);
- p_alive_auc: how well P(alive) ranks customers who bought again in the hold-out period above those
  who did not (0.5: no better than chance; the issue measured 0.32 for plain BG/NBD on CDNOW);
- tracking: cumulative repeat purchases week by week from the first customer's first purchase,
  actual and expected (each customer from their own first purchase: the sum over first-purchase days
  of customers × E[X(t)] of a new customer).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from rfm_cli.core.predict.stats import DAYS_PER_WEEK, SufficientStats

FREQUENCY_CAP = 7  # the paper's last group, "7+"


def auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """The area under the ROC curve: P(a random positive scores above a random negative), ties 1/2."""
    from scipy.stats import rankdata

    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    if not n_positive or not n_negative:
        return None
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def by_frequency(x: np.ndarray, actual: np.ndarray, expected: np.ndarray) -> list[dict[str, Any]]:
    groups = np.minimum(x, FREQUENCY_CAP).astype(np.int64)
    rows = []
    for group in range(FREQUENCY_CAP + 1):
        chosen = groups == group
        customers = int(chosen.sum())
        rows.append(
            {
                "x": f"{group}+" if group == FREQUENCY_CAP else str(group),
                "customers": customers,
                "actual_mean": round(float(actual[chosen].mean()), 4) if customers else None,
                "expected_mean": round(float(expected[chosen].mean()), 4) if customers else None,
            }
        )
    return rows


def tracking(
    model, params, first_days: pl.Series, daily: pl.DataFrame, calibration_end: date, holdout_end: date
) -> list[dict[str, Any]]:
    """Week by week from the earliest first purchase to holdout_end: cumulative repeat purchases."""
    births = first_days.value_counts().rename({first_days.name: "day", "count": "customers"})
    birth_days = births["day"].to_numpy().astype("datetime64[D]")
    birth_counts = births["customers"].to_numpy().astype(np.float64)
    start = birth_days.min()
    ends = np.arange(
        start + np.timedelta64(6, "D"),
        np.datetime64(holdout_end) + np.timedelta64(7, "D"),
        np.timedelta64(7, "D"),
    )
    ends = np.minimum(ends, np.datetime64(holdout_end))
    per_day = dict(
        zip(
            daily["day"].to_numpy().astype("datetime64[D]").tolist(),
            daily["repeat_purchases"].to_list(),
            strict=True,
        )
    )
    rows, actual = [], 0
    cursor = start
    for week, end in enumerate(ends, start=1):
        while cursor <= end:
            actual += per_day.get(cursor.tolist(), 0)
            cursor += np.timedelta64(1, "D")
        ages = (end - birth_days).astype(np.float64) / DAYS_PER_WEEK
        alive = ages >= 0
        stats = SufficientStats.from_weeks(
            np.zeros(alive.sum()), np.zeros(alive.sum()), np.zeros(alive.sum())
        )
        expected = float((birth_counts[alive] * model.expected_purchases(params, stats, ages[alive])).sum())
        end_date = end.item()
        rows.append(
            {
                "week": week,
                "week_end": end_date.isoformat(),
                "period": "calibration" if end_date <= calibration_end else "holdout",
                "actual_cumulative": int(actual),
                "expected_cumulative": round(expected, 2),
            }
        )
    return rows


def summary(
    model,
    params,
    x: np.ndarray,
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    first_days: pl.Series,
    daily: pl.DataFrame,
    calibration_end: date,
    holdout_end: date,
    p_alive: np.ndarray,
) -> dict[str, Any]:
    """The hold-out check as data: overall, by_frequency and tracking."""
    actual_total, expected_total = float(actual.sum()), float(expected.sum())
    ranking = auc(np.nan_to_num(p_alive.astype(np.float64)), actual > 0)
    return {
        "calibration_end": calibration_end.isoformat(),
        "holdout_start": (calibration_end + timedelta(days=1)).isoformat(),
        "holdout_end": holdout_end.isoformat(),
        "holdout_weeks": round((holdout_end - calibration_end).days / DAYS_PER_WEEK, 4),
        "overall": {
            "customers": len(x),
            "actual_repeat_purchases": int(actual_total),
            "expected_repeat_purchases": round(expected_total, 2),
            "error": round(expected_total - actual_total, 2),
            "error_pct": round(100 * (expected_total - actual_total) / actual_total, 2)
            if actual_total
            else None,
            "p_alive_auc": None if ranking is None else round(ranking, 4),
        },
        "by_frequency": by_frequency(x, actual, expected),
        "tracking": tracking(model, params, first_days, daily, calibration_end, holdout_end),
    }
