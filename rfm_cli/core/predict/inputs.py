"""The models' inputs read from the store: queries/predict_*.sql, the same counted orders as RFM.

Time: the SQL gives whole days; the models work in weeks (days / 7), the unit of the papers whose
parameters `rfm` is checked against. x counts purchase days after the first (several orders on one
day are one purchase), so it is `frequency - 1` except for customers with two orders on one day.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from rfm_cli.core.store import Store, progress, sql

INPUT_COLUMNS = [
    "customer_id",
    "first_day",
    "last_day",
    "x",
    "t_x_days",
    "T_days",
    "repeat_spend",
    "median_gap_days",
]


def _frame(store: Store, name: str, params: dict, label: str) -> pl.DataFrame:
    with progress(store.con, label):
        return pl.from_arrow(store.con.sql(sql(name), params=params).to_arrow_table())


def model_inputs(store: Store, as_of: date) -> pl.DataFrame:
    """One row per customer with a counted order on or before `as_of` (INPUT_COLUMNS), by customer_id:
    from rfm_predict_inputs when it is kept and answers `as_of` (core/predict/stored.py), else from
    the orders."""
    from rfm_cli.core.predict import stored

    if stored.usable(store, as_of):
        with progress(store.con, "reading the kept model inputs"):
            frame = pl.from_arrow(store.con.sql(stored.read_sql(), params={"as_of": as_of}).to_arrow_table())
    else:
        frame = _frame(store, "predict_inputs", {"as_of": as_of}, "reading purchase days")
    frame = frame.with_columns(
        pl.col("x", "t_x_days", "T_days").cast(pl.Int64),
        pl.col("repeat_spend", "median_gap_days").cast(pl.Float64),
        pl.col("first_day", "last_day").cast(pl.Date),
    )
    frame = frame.select(INPUT_COLUMNS)
    # The kept rows come in customer_id order already: a check is one pass, a sort 0.5 s at 2M.
    return frame.set_sorted("customer_id") if frame["customer_id"].is_sorted() else frame.sort("customer_id")


def holdout_purchases(store: Store, calibration_end: date, holdout_end: date) -> pl.DataFrame:
    """customer_id, holdout_purchases: purchase days in (calibration_end, holdout_end]."""
    params = {"calibration_end": calibration_end, "holdout_end": holdout_end}
    frame = _frame(store, "predict_holdout", params, "reading hold-out purchases")
    return frame.with_columns(pl.col("holdout_purchases").cast(pl.Int64))


def daily_repeat_purchases(store: Store, calibration_end: date, holdout_end: date) -> pl.DataFrame:
    """day, repeat_purchases: by the customers whose first purchase is on or before calibration_end."""
    params = {"calibration_end": calibration_end, "holdout_end": holdout_end}
    frame = _frame(store, "predict_tracking", params, "reading repeat purchases per day")
    return frame.with_columns(pl.col("day").cast(pl.Date), pl.col("repeat_purchases").cast(pl.Int64))
