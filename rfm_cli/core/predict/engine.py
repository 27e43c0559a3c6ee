"""predict_customers: the models fitted on a store and every customer's prediction, in one call.

The purchase model (MBG/NBD by default, Pareto/NBD or BG/NBD on request) gives P(alive) and the
expected purchases in the horizon; Gamma-Gamma gives the expected spend per purchase; CLV is their
product, discounted when a rate is given. The interval rule (due dates) needs no model and is always
there; churn risk comes from the model when one was fitted, else from the interval rule. With fewer
than MIN_REPEAT_BUYERS repeat buyers, or a fit that does not converge, the model columns stay empty
and `notes` says why in one line each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from rfm_cli.core.errors import DataError, UsageError
from rfm_cli.core.predict import churn, gamma_gamma, holdout, intervals
from rfm_cli.core.predict.bg_family import BG_NBD, MBG_NBD
from rfm_cli.core.predict.inputs import daily_repeat_purchases, holdout_purchases, model_inputs
from rfm_cli.core.predict.mle import FitResult
from rfm_cli.core.predict.pareto_nbd import PARETO_NBD
from rfm_cli.core.predict.stats import DAYS_PER_WEEK, SufficientStats
from rfm_cli.core.store import Store

if TYPE_CHECKING:
    from rfm_cli.core.ingest.pipeline import FileReport, ImportOptions

MODELS = {m.name: m for m in (MBG_NBD, PARETO_NBD, BG_NBD)}
DEFAULT_MODEL = MBG_NBD.name
MIN_REPEAT_BUYERS = 200
DAYS_PER_YEAR = 365.0
DISCOUNT_STEP_DAYS = 7  # discounted CLV: each week's expected purchases discounted at the week's end


@dataclass
class PredictionResult:
    as_of: date  # the day the predictions describe (the calibration end with a hold-out)
    horizon_days: int
    customers: pl.DataFrame  # prediction_columns(horizon_days), one row per customer, by customer_id
    model: dict[str, Any]  # models, parameters, log-likelihoods, convergence, rules in force
    notes: list[str] = field(default_factory=list)  # one line each, for a person
    holdout: dict[str, Any] | None = None
    inputs: pl.DataFrame | None = None  # model_inputs' rows (INPUT_COLUMNS), as customers: for explain

    @property
    def fitted(self) -> bool:
        return self.model["purchases"] is not None and self.model["purchases"]["converged"]


def prediction_columns(horizon_days: int, *, with_holdout: bool = False) -> list[str]:
    columns = [
        "customer_id",
        "x_repeat_purchases",
        "t_x_weeks",
        "T_weeks",
        "p_alive",
        f"expected_orders_{horizon_days}d",
        "expected_spend_per_order",
        f"clv_{horizon_days}d",
        "typical_gap_days",
        "next_order_due",
        "days_overdue",
        "due_basis",
        "churn_risk",
        "churn_rule",
    ]
    return columns + (["holdout_expected_orders", "holdout_actual_orders"] if with_holdout else [])


@dataclass
class _Fit:
    model: Any
    stats: SufficientStats
    index: np.ndarray  # per customer, its triple in stats
    purchases: FitResult | None = None
    spend: FitResult | None = None
    spend_correlation: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.purchases is not None and self.purchases.converged

    @property
    def spend_usable(self) -> bool:
        return self.usable and self.spend is not None and self.spend.converged and self.spend.params["q"] > 1


def check_options(horizon_days: int, discount_rate: float | None, model: str) -> None:
    """The checks of predict()'s options, which PredictOptions (core/specs.py) makes when it is built."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int):  # a notebook's 90.5 or "90"
        raise UsageError(f"--horizon {horizon_days!r} is not a whole number of days; give e.g. 90")
    if discount_rate is not None and (isinstance(discount_rate, bool)
                                      or not isinstance(discount_rate, int | float)):
        raise UsageError(
            f"--discount-rate {discount_rate!r} is not an annual rate; give e.g. 0.1 for 10% a year")
    if horizon_days < 1:
        raise UsageError(f"--horizon {horizon_days} is too short; give a whole number of days >= 1")
    if discount_rate is not None and not 0 <= discount_rate < 10:
        raise UsageError(
            f"--discount-rate {discount_rate} is not an annual rate; give e.g. 0.1 for 10% a year"
        )
    if model not in MODELS:
        raise UsageError(f"--model {model!r} is not known; use one of {', '.join(MODELS)}")


def _fit(inputs: pl.DataFrame, model_name: str, min_repeat_buyers: int, *, fit_model: bool = True) -> _Fit:
    stats, index = SufficientStats.from_days(
        inputs["x"].to_numpy(), inputs["t_x_days"].to_numpy(), inputs["T_days"].to_numpy()
    )
    found = _Fit(model=MODELS[model_name], stats=stats, index=index)
    if not fit_model:  # the caller needs the interval rule only (e.g. an overdue list)
        return found
    interval_only = (
        "p_alive, expected orders and CLV are left empty; due dates and churn risk come from "
        "the interval rule"
    )
    repeat = inputs.filter(pl.col("x") >= 1)
    if repeat.height < min_repeat_buyers:
        found.notes.append(
            f"{repeat.height:,} repeat buyers, fewer than the {min_repeat_buyers} a model needs: "
            + interval_only
        )
        return found
    found.purchases = found.model.fit(stats)
    if not found.purchases.converged:
        found.notes.append(
            f"the {found.model.title} fit did not converge ({found.purchases.message}): " + interval_only
        )
        return found
    if found.purchases.at_bound:
        found.notes.append(
            f"{found.model.title}: {', '.join(found.purchases.at_bound)} ended at the bound of the "
            "search (the likelihood is flat there); read it as 'near 0' or 'very large'"
        )
    x = repeat["x"].to_numpy().astype(np.float64)
    mean_spend = repeat["repeat_spend"].to_numpy() / x
    found.spend = gamma_gamma.fit(x, mean_spend)
    found.spend_correlation = gamma_gamma.frequency_spend_correlation(x, mean_spend)
    if not found.spend.converged:
        found.notes.append(
            f"the Gamma-Gamma fit did not converge ({found.spend.message}): expected spend and "
            "CLV are left empty"
        )
    elif found.spend.params["q"] <= 1:
        found.notes.append(
            f"Gamma-Gamma q = {found.spend.params['q']:.3f} <= 1: the mean spend per order is "
            "unbounded under the fit; expected spend and CLV are left empty"
        )
    return found


def _discounted_purchases(
    fit: _Fit, params: tuple, alive: np.ndarray, horizon_days: int, discount_rate: float
) -> np.ndarray:
    """Expected purchases in the horizon, each week's discounted to today at the week's end."""
    ends = list(range(DISCOUNT_STEP_DAYS, horizon_days, DISCOUNT_STEP_DAYS)) + [horizon_days]
    total, before = np.zeros(fit.stats.size), np.zeros(fit.stats.size)
    for end in ends:
        upto = fit.model.expected_purchases(params, fit.stats, end / DAYS_PER_WEEK, alive)
        total += (upto - before) / (1.0 + discount_rate) ** (end / DAYS_PER_YEAR)
        before = upto
    return total


def _clean(values: np.ndarray, low: float = 0.0, high: float = np.inf) -> pl.Series:
    """Numbers for output: clipped to their range, NaN/inf as null (never NaN in a list)."""
    values = np.clip(values, low, high)
    return pl.Series(np.where(np.isfinite(values), values, np.nan)).fill_nan(None)


def _model_columns(
    inputs: pl.DataFrame, fit: _Fit, horizon_days: int, discount_rate: float | None
) -> dict[str, pl.Series]:
    n = inputs.height
    empty = pl.Series([None] * n, dtype=pl.Float64)
    columns = {"p_alive": empty, "expected_orders": empty, "expected_spend_per_order": empty, "clv": empty}
    if not fit.usable:
        return columns
    params = tuple(fit.purchases.params.values())
    alive = fit.model.p_alive(params, fit.stats)
    expected = fit.model.expected_purchases(params, fit.stats, horizon_days / DAYS_PER_WEEK, alive)
    columns["p_alive"] = _clean(alive[fit.index], high=1.0).round(4)
    columns["expected_orders"] = _clean(expected[fit.index]).round(4)
    bad = int((~np.isfinite(alive[fit.index]) | ~np.isfinite(expected[fit.index])).sum())
    if bad:
        fit.notes.append(f"{bad:,} customers' model numbers could not be computed (left empty)")
    if fit.spend_usable:
        x = inputs["x"].to_numpy().astype(np.float64)
        mean_spend = np.divide(inputs["repeat_spend"].to_numpy(), x, out=np.zeros(n), where=x > 0)
        spend = gamma_gamma.expected_spend(tuple(fit.spend.params.values()), x, mean_spend)
        purchases = (
            expected
            if discount_rate is None
            else _discounted_purchases(fit, params, alive, horizon_days, discount_rate)
        )
        columns["expected_spend_per_order"] = _clean(spend).round(2)
        columns["clv"] = _clean(purchases[fit.index] * spend).round(2)
    return columns


def _model_summary(
    fit: _Fit,
    inputs: pl.DataFrame,
    as_of: date,
    horizon_days: int,
    discount_rate: float | None,
    shop_gap: float | None,
    thresholds: churn.ChurnThresholds,
) -> dict[str, Any]:
    purchases = spend = None
    if fit.purchases is not None:
        purchases = {"title": fit.model.title, **fit.purchases.as_dict()}
    if fit.spend is not None:
        spend = {
            "title": gamma_gamma.TITLE,
            **fit.spend.as_dict(),
            "frequency_spend_correlation": None
            if fit.spend_correlation is None
            else round(fit.spend_correlation, 4),
        }
    return {
        "as_of": as_of.isoformat(),
        "horizon_days": horizon_days,
        "discount_rate": discount_rate,
        "time_unit": "weeks",
        "customers": inputs.height,
        "repeat_buyers": int((inputs["x"] >= 1).sum()),
        "distinct_inputs": fit.stats.size,
        "status": "fitted" if fit.usable else "interval rule only",
        "purchases": purchases,
        "spend": spend,
        "intervals": {"shop_median_gap_days": shop_gap, "prior_gaps": intervals.PRIOR_GAPS},
        "churn_rules": churn.rules_in_force(model_fitted=fit.usable, thresholds=thresholds),
        "churn_thresholds": thresholds.as_dict(),
        "notes": fit.notes,
    }


def _holdout_dates(latest: date, holdout_from: date | None) -> tuple[date, date | None]:
    """(the date the model describes, the hold-out's last day or None)."""
    if holdout_from is None:
        return latest, None
    if holdout_from > latest:
        raise UsageError(
            f"--holdout-from {holdout_from} is after the last day of the data ({latest}); give an "
            "earlier date, so there are orders to check the predictions against"
        )
    return holdout_from - timedelta(days=1), latest


def predict_customers(
    store: Store,
    as_of: date | None = None,
    horizon_days: int = 90,
    discount_rate: float | None = None,
    *,
    model: str = DEFAULT_MODEL,
    holdout_from: date | None = None,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
    churn_thresholds: churn.ChurnThresholds | None = None,
    fit_model: bool = True,
) -> PredictionResult:
    """Fit the models on the store's counted orders up to `as_of` (default: the latest counted order)
    and predict every customer. With `holdout_from`, fit on the orders before it and check the
    predictions against the orders from it to `as_of`. `fit_model=False`: the interval rule only (due
    dates, and churn risk by it), without a note."""
    from rfm_cli.core.scoring import default_as_of

    check_options(horizon_days, discount_rate, model)
    latest = as_of or default_as_of(store)
    if latest is None:
        raise DataError(f"no counted orders in {store.label}; import an export with paid orders first")
    model_as_of, holdout_end = _holdout_dates(latest, holdout_from)
    inputs = model_inputs(store, model_as_of)
    if inputs.is_empty():
        raise DataError(
            f"no counted orders on or before {model_as_of} in {store.label}; choose a later "
            "--as-of or --holdout-from"
        )
    thresholds = churn_thresholds or churn.DEFAULT_THRESHOLDS
    fit = _fit(inputs, model, min_repeat_buyers, fit_model=fit_model)
    due, shop_gap = intervals.due_dates(inputs, model_as_of)
    frame = _customer_table(inputs, fit, due, model_as_of, horizon_days, discount_rate, thresholds)
    result = PredictionResult(
        as_of=model_as_of,
        horizon_days=horizon_days,
        customers=frame,
        notes=fit.notes,
        model=_model_summary(fit, inputs, model_as_of, horizon_days, discount_rate, shop_gap, thresholds),
        inputs=inputs,
    )
    if holdout_end is not None:
        _add_holdout(store, result, inputs, fit, holdout_end)
    return result


def _customer_table(
    inputs: pl.DataFrame,
    fit: _Fit,
    due: pl.DataFrame,
    model_as_of: date,
    horizon_days: int,
    discount_rate: float | None,
    thresholds: churn.ChurnThresholds,
) -> pl.DataFrame:
    """One row per customer: the model's inputs and predictions, the due date and the churn risk."""
    model_columns = _model_columns(inputs, fit, horizon_days, discount_rate)
    frame = pl.DataFrame(
        {
            "customer_id": inputs["customer_id"],
            "x_repeat_purchases": inputs["x"],
            "t_x_weeks": (inputs["t_x_days"] / DAYS_PER_WEEK).round(4),
            "T_weeks": (inputs["T_days"] / DAYS_PER_WEEK).round(4),
            "p_alive": model_columns["p_alive"],
            f"expected_orders_{horizon_days}d": model_columns["expected_orders"],
            "expected_spend_per_order": model_columns["expected_spend_per_order"],
            f"clv_{horizon_days}d": model_columns["clv"],
        }
    ).hstack(due.with_columns(pl.col("typical_gap_days").round(1)))
    return frame.hstack(
        churn.churn_risk(
            frame.with_columns(last_day=inputs["last_day"]),
            model_as_of,
            model_fitted=fit.usable,
            thresholds=thresholds,
        )
    )


def _add_holdout(
    store: Store, result: PredictionResult, inputs: pl.DataFrame, fit: _Fit, holdout_end: date
) -> None:
    calibration_end = result.as_of
    actual = (
        inputs.select("customer_id")
        .join(holdout_purchases(store, calibration_end, holdout_end), on="customer_id", how="left")[
            "holdout_purchases"
        ]
        .fill_null(0)
    )
    expected = pl.Series([None] * inputs.height, dtype=pl.Float64)
    if fit.usable:
        params = tuple(fit.purchases.params.values())
        weeks = (holdout_end - calibration_end).days / DAYS_PER_WEEK
        per_triple = fit.model.expected_purchases(params, fit.stats, weeks)
        expected = _clean(per_triple[fit.index])
        daily = daily_repeat_purchases(store, calibration_end, holdout_end)
        result.holdout = holdout.summary(
            fit.model,
            params,
            inputs["x"].to_numpy(),
            actual.to_numpy(),
            expected.fill_null(0).to_numpy(),
            first_days=inputs["first_day"],
            daily=daily,
            calibration_end=calibration_end,
            holdout_end=holdout_end,
            p_alive=result.customers["p_alive"].to_numpy(),
        )
    else:
        result.notes.append("no hold-out check without a fitted model")
    result.customers = result.customers.with_columns(
        holdout_expected_orders=expected.round(4), holdout_actual_orders=actual
    )


def predict(
    db: str,
    files: list[Path] | None = None,
    options: ImportOptions | None = None,
    *,
    wait: float = 0.0,
    **settings: Any,
) -> tuple[PredictionResult, list[FileReport]]:
    """predict_customers on the database `db`, or with `files` on just them, scored in memory (as
    `rfm score FILE`). `settings`: predict_customers' keywords."""
    from rfm_cli.core.api import scoring_store
    from rfm_cli.core.ingest.pipeline import ImportOptions

    check_options(
        settings.get("horizon_days", 90), settings.get("discount_rate"), settings.get("model", DEFAULT_MODEL)
    )  # before any file is read
    with scoring_store(db, files, options or ImportOptions(), wait=wait, read_only=True) as (store, reports):
        return predict_customers(store, **settings), reports
