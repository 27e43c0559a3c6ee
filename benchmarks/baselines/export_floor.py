#!/usr/bin/env python3
"""Baseline (e): the least an export can do in rfm's own stack (DuckDB + Polars), as a floor.

    python benchmarks/baselines/export_floor.py DB.duckdb OUT_DIR

Reads the per-customer totals that `rfm export` stores (table rfm_customers, so it needs a
database an export has run on), scores R, F and M 1-5 by quantile as rfm does (equal values share
a score), puts each customer in one of four tiers by a fixed rule and writes one CSV per tier with
the columns of rfm's lists, in the order read. Nothing else: no sorting (rfm writes each list best
customer first), no rules file, no checks, no contact normalising or suppression, no send ledger,
no hashing, fsync, staging or manifest. What rfm does on top of this is what it costs beyond the
floor.
"""

import sys
from pathlib import Path

import duckdb
import polars as pl

COLUMNS = ("customer_id, customer_name, phone, email, first_order_at, last_order_at, frequency, "
           "spend AS monetary")
OUTPUT = ["customer_id", "customer_name", "phone", "email", "first_order_at", "last_order_at", "recency_days",
          "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_code", "tier"]


def score(value: pl.Expr, n: int, *, lower_is_better: bool = False) -> pl.Expr:
    """1 + floor(5 * customers strictly worse / n): rfm's quantile rule, written out here rather than
    imported, so that the baseline runs without rfm."""
    worse = ((n - value.rank("max").cast(pl.Int64)) if lower_is_better
             else (value.rank("min").cast(pl.Int64) - 1))
    return 1 + worse * 5 // n


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    db, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(db, read_only=True)
    frame = pl.from_arrow(con.sql(f"SELECT {COLUMNS} FROM rfm_customers").to_arrow_table())
    con.close()
    n = frame.height
    as_of = frame["last_order_at"].max().date()
    frame = frame.with_columns(
        recency_days=(pl.lit(as_of) - pl.col("last_order_at").dt.date()).dt.total_days()
    ).with_columns(
        r_score=score(pl.col("recency_days"), n, lower_is_better=True),
        f_score=score(pl.col("frequency"), n),
        m_score=score(pl.col("monetary").cast(pl.Float64), n),
    ).with_columns(
        rfm_code=pl.col("r_score") * 100 + pl.col("f_score") * 10 + pl.col("m_score"),
        tier=pl.when((pl.col("r_score") >= 4) & (pl.col("f_score") >= 4)
                     & (pl.col("m_score") >= 4)).then(pl.lit("diamond"))
        .when((pl.col("r_score") >= 3) & (pl.col("m_score") >= 3)).then(pl.lit("gold"))
        .when(pl.col("r_score") >= 3).then(pl.lit("potential"))
        .otherwise(pl.lit("dormant")),
    ).select(OUTPUT)
    written = 0
    for tier in ("diamond", "gold", "potential", "dormant"):
        part = frame.filter(pl.col("tier") == tier)
        part.write_csv(out / f"{tier}.csv", datetime_format="%Y-%m-%d %H:%M:%S")  # rfm's lists' format
        written += part.height
    print(f"customers={n} written={written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
