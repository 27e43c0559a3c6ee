"""The interval rule: when is a customer's next order due, and how overdue are they?

A customer's typical gap is the median of the days between their purchase days, shrunk toward the
shop's median gap in proportion to how few gaps they have:

    typical_gap = (x · own_median + PRIOR_GAPS · shop_median) / (x + PRIOR_GAPS)

x is the number of their gaps (repeat purchases), so one gap counts for a third, ten for 83%. The
shop's median gap is the median, over repeat buyers, of their own median gaps (one vote per
customer, so the most frequent buyers do not set it alone). next_order_due = last purchase day +
typical gap (whole days); days_overdue = as-of date - next_order_due (negative: not due yet).

due_basis says where the gap came from: "own gaps" (a repeat buyer; shrunk toward the shop's median
when there is one), "shop median" (a one-time buyer, given the shop's median gap: the date to send a
first-repurchase reminder) or "none" (a one-time buyer in a shop with fewer than
MIN_REPEAT_BUYERS_FOR_SHOP_GAP repeat buyers: too few gaps to speak for everyone).

No model is needed, so these columns are there for any shop, however small.
"""

from __future__ import annotations

from datetime import date

import polars as pl

PRIOR_GAPS = 2
MIN_REPEAT_BUYERS_FOR_SHOP_GAP = 10
OWN, SHOP, NONE = "own gaps", "shop median", "none"


def shop_median_gap(inputs: pl.DataFrame) -> float | None:
    """The median over repeat buyers of their median gap (days), or None with too few repeat buyers."""
    gaps = inputs.filter(pl.col("x") >= 1)["median_gap_days"]
    if gaps.len() < MIN_REPEAT_BUYERS_FOR_SHOP_GAP:
        return None
    return float(gaps.median())


def due_dates(inputs: pl.DataFrame, as_of: date) -> tuple[pl.DataFrame, float | None]:
    """typical_gap_days, next_order_due, days_overdue, due_basis for each row of `inputs`
    (predict_inputs.sql's columns), and the shop's median gap used."""
    shop = shop_median_gap(inputs)
    x, own = pl.col("x"), pl.col("median_gap_days")
    if shop is None:
        typical = pl.when(x >= 1).then(own)
        basis = pl.when(x >= 1).then(pl.lit(OWN)).otherwise(pl.lit(NONE))
    else:
        typical = (
            pl.when(x >= 1).then((x * own + PRIOR_GAPS * shop) / (x + PRIOR_GAPS)).otherwise(pl.lit(shop))
        )
        basis = pl.when(x >= 1).then(pl.lit(OWN)).otherwise(pl.lit(SHOP))
    frame = (
        inputs.select(
            typical_gap_days=typical.cast(pl.Float64),
            due_basis=basis,
        )
        .with_columns(
            next_order_due=inputs["last_day"]
            + pl.duration(days=(pl.col("typical_gap_days") + 0.5).floor().cast(pl.Int64)),
        )
        .with_columns(
            days_overdue=(pl.lit(as_of) - pl.col("next_order_due")).dt.total_days().cast(pl.Int64),
        )
    )
    return frame.select("typical_gap_days", "next_order_due", "days_overdue", "due_basis"), shop
