#!/usr/bin/env python3
"""Baseline (d): the same RFM as (b), written the idiomatic pandas way.

    python benchmarks/baselines/pandas_rfm.py ORDERS.csv OUT.csv

pandas.read_csv (default engine, order_date parsed as dates), keep `paid` lines, groupby
order_id to sum the lines of each order net of refunds, keep net > 0, groupby customer_id for
recency/frequency/monetary, then pd.qcut on ranks for 1-5 quintile scores, to_csv.
"""

import sys

import pandas as pd


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    df = pd.read_csv(src, parse_dates=["order_date"])
    df = df[df["status"] == "paid"]
    orders = df.groupby("order_id").agg(
        customer_id=("customer_id", "first"),
        order_date=("order_date", "max"),
        amount=("amount", "sum"),
        refund=("refund_amount", "sum"),
    )
    orders["net"] = orders["amount"] - orders["refund"]
    orders = orders[orders["net"] > 0]
    as_of = orders["order_date"].max().normalize()
    customers = orders.groupby("customer_id").agg(
        last_order=("order_date", "max"),
        frequency=("net", "size"),
        monetary=("net", "sum"),
    )
    customers["recency_days"] = (as_of - customers["last_order"].dt.normalize()).dt.days
    customers["monetary"] = customers["monetary"].round(2)
    labels = [1, 2, 3, 4, 5]
    customers["r_score"] = pd.qcut(
        customers["recency_days"].rank(method="first", ascending=False), 5, labels=labels
    )
    customers["f_score"] = pd.qcut(customers["frequency"].rank(method="first"), 5, labels=labels)
    customers["m_score"] = pd.qcut(customers["monetary"].rank(method="first"), 5, labels=labels)
    customers[["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"]].to_csv(dst)
    print(f"customers={len(customers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
