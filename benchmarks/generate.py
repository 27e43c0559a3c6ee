#!/usr/bin/env python3
"""Deterministic synthetic order export for the rfm benchmarks.

    python benchmarks/generate.py 10M --out benchmarks/data/orders_10M.csv [--seed 42]
    python benchmarks/generate.py 10M --increment 10k --out benchmarks/data/increment_10M_10k.csv

Everything is generated inside DuckDB with SQL; no Python loop touches a row: 10 million
orders (a 629 MiB file) take about 30 s on 2 cores. Randomness is md5 of (seed, stream, row
number), split into 32-bit uniforms: md5 is the same in every DuckDB version, so the same N
and seed always give the same bytes (DuckDB's own hash() may change between versions; md5
cannot).

Shape of the data (N counts ORDERS, not rows):
- customers: a capped discrete Pareto number of orders each (P(f >= x) = x^-1.15, capped at
  2,000): about 55% buy once, a heavy tail of repeat buyers, ~N/5 customers in all.
- dates: 3 years ending 2026-11-20 23:59:59, `YYYY-MM-DD HH:MM:SS`, growing over time; rows
  sorted by date, order ids increasing with date.
- status: ~93% `paid`, ~4% `cancelled`, ~2% `refunded`, ~1% `pending`; ~3% of orders are paid
  with a partial refund.
- lines: ~8% of orders are exported as 2-4 rows sharing order_id; order-level fields (date,
  customer, status, contact fields) are repeated on every line, `amount` is the line's amount
  (the lines of an order add up to its total). `refund_amount` also adds up over the lines:
  a fully refunded order carries each line's amount, a partial refund sits on its first line.
  It is empty when nothing was refunded.
- contact fields (customer_name, phone, email) are per customer and often empty, as in real
  exports; some phones are masked (`138****1234`). currency is `CNY`.

--increment K writes K NEW orders dated 2026-11-21 (the day after the main file's last day)
for the main file of the same N and seed: ~75% by existing customers (picked in proportion
to their past orders), ~25% by new customers; order ids continue after the main file's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import duckdb

# Bump when a change to this file changes its output: run.py regenerates data of another version.
GENERATOR_VERSION = 1

HEADER = "order_id,customer_id,order_date,amount,status,refund_amount,currency,customer_name,phone,email"

START_TS = "2023-11-21 00:00:00"  # the main file covers three years, to 2026-11-20 23:59:59
SPAN_SECONDS = 3 * 365 * 86400 + 86400  # 2023-11-21 00:00:00 .. 2026-11-20 23:59:59 (2024 is a leap year)
INCREMENT_DAY = "2026-11-21"

PARETO_ALPHA = 1.15  # tail exponent of orders per customer
MAX_ORDERS_PER_CUSTOMER = 2000
ORDER_ID_BASE = 10_000_000
CUSTOMER_ID_BASE = 1_000_000
EXISTING_SHARE_IN_INCREMENT = 0.75

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高")
GIVEN = [*"伟芳娜敏静丽强磊军洋勇艳杰娟涛明超", "秀英", "霞", "平"]


def parse_count(text: str) -> int:
    """'100k' -> 100_000, '1M' -> 1_000_000, '2500' -> 2500."""
    t = text.strip().lower().replace("_", "")
    mult = 1
    if t.endswith("k"):
        mult, t = 1_000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    value = float(t) * mult
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"not a positive whole count: {text!r}")
    return int(value)


def _customer_universe(n_orders: int) -> tuple[int, int]:
    """How many customer slots to draw from, and a multiplier that permutes them into ids."""
    cmax = n_orders // 3 + 1000  # mean orders per customer is ~5: enough slots with a wide margin
    mult = 1_000_003
    while math.gcd(mult, cmax) != 1:
        cmax += 1
    return cmax, mult


def _macros(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    # rnd(stream, i): 128 pseudo-random bits; u(h, k): the k-th 32-bit slice of h as a double in [0, 1).
    con.execute(f"CREATE OR REPLACE MACRO rnd(stream, i) AS md5_number('{int(seed)}:' || stream || ':' || i)")
    con.execute(
        "CREATE OR REPLACE MACRO u(h, k) AS ((h >> (32 * k)::UHUGEINT) & 4294967295)::DOUBLE / 4294967296.0"
    )
    con.execute(
        "CREATE OR REPLACE MACRO lognormal(u1, u2, mu, sigma) AS "
        "exp(mu + sigma * sqrt(-2 * ln(1 - u1)) * cos(2 * pi() * u2))"
    )


def _customers_sql(n_orders: int, cmax: int, mult: int) -> str:
    """One row per customer slot c with its number of orders f and where its orders start."""
    surnames = "[" + ",".join(f"'{s}'" for s in SURNAMES) + "]"
    given = "[" + ",".join(f"'{g}'" for g in GIVEN) + "]"
    return f"""
    CREATE OR REPLACE TEMP TABLE customers AS
    WITH slots AS (
        SELECT c, rnd('c', c) AS h FROM range({cmax}) t(c)
    ), drawn AS (
        SELECT c, h,
               least({MAX_ORDERS_PER_CUSTOMER}, floor(pow(1 - u(h, 0), -1 / {PARETO_ALPHA})))::BIGINT AS f
        FROM slots
    ), placed AS (
        SELECT c, h, f, sum(f) OVER (ORDER BY c ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS s
        FROM drawn
    )
    SELECT c,
           coalesce(s, 0)::BIGINT AS start,
           least(f, {n_orders} - coalesce(s, 0))::BIGINT AS f,
           'C' || ({CUSTOMER_ID_BASE} + (c * {mult}) % {cmax}) AS customer_id,
           -- contact fields, sparse as in most exports: name 8%, phone 8% (1 in 8 masked), email 2%
           CASE WHEN u(h, 1) < 0.08
                THEN {surnames}[1 + ((h >> 64) % 20)::INT] || {given}[1 + ((h >> 72) % 20)::INT]
           END AS customer_name,
           CASE WHEN u(h, 2) < 0.07
                THEN '1' || (3 + (h >> 80) % 7)::VARCHAR || lpad(((h >> 88) % 1000000000)::VARCHAR, 9, '0')
                WHEN u(h, 2) < 0.08
                THEN '1' || (3 + (h >> 80) % 7)::VARCHAR || ((h >> 88) % 10)::VARCHAR || '****'
                     || lpad(((h >> 96) % 10000)::VARCHAR, 4, '0') END AS phone,
           CASE WHEN u(h, 3) < 0.02
                THEN 'u' || ({CUSTOMER_ID_BASE} + (c * {mult}) % {cmax}) || '@example.com' END AS email
    FROM placed
    WHERE coalesce(s, 0) < {n_orders}
    """


def _order_lines_sql(orders_table: str, stream: str) -> str:
    """Rows of the export for the orders in `orders_table` (columns j, ts, customer slot fields).

    `j` is the order's sequence number (random streams are keyed by it); order-level randomness
    comes from rnd(stream || 'o', j), line-level from rnd(stream || 'l', j * 4 + line).
    """
    return f"""
    WITH o AS (
        SELECT *, rnd('{stream}o', j) AS h FROM {orders_table}
    ), o2 AS (
        SELECT *,
               CASE WHEN u(h, 1) < 0.04 THEN 'cancelled'
                    WHEN u(h, 1) < 0.06 THEN 'refunded'
                    WHEN u(h, 1) < 0.07 THEN 'pending'
                    ELSE 'paid' END AS status,
               -- 3% of all orders: paid with a partial refund of 10-60% of the first line
               (u(h, 1) >= 0.07 AND u(h, 1) < 0.10) AS partial,
               0.10 + 0.50 * u(h, 2) AS refund_frac,
               CASE WHEN u(h, 3) >= 0.08 THEN 1
                    WHEN u(h, 3) < 0.060 THEN 2
                    WHEN u(h, 3) < 0.074 THEN 3
                    ELSE 4 END AS n_lines
        FROM o
    ), lines AS (
        SELECT *, unnest(range(n_lines)) AS line FROM o2
    ), priced AS (
        SELECT *,
               greatest(0.5, least(20000, CASE WHEN n_lines = 1
                    THEN lognormal(u(rnd('{stream}l', j * 4 + line), 0),
                                   u(rnd('{stream}l', j * 4 + line), 1), 4.2, 0.9)
                    ELSE lognormal(u(rnd('{stream}l', j * 4 + line), 0),
                                   u(rnd('{stream}l', j * 4 + line), 1), 3.7, 0.8)
               END))::DECIMAL(12, 2) AS amount
        FROM lines
    )
    SELECT order_id, customer_id, ts AS order_date, amount, status,
           CASE WHEN status = 'refunded' THEN amount
                WHEN partial AND line = 0 THEN (amount * refund_frac)::DECIMAL(12, 2) END AS refund_amount,
           'CNY' AS currency, customer_name, phone, email
    FROM priced
    ORDER BY order_id, line
    """


def generate_main(con: duckdb.DuckDBPyConnection, n_orders: int, out: Path) -> dict:
    cmax, mult = _customer_universe(n_orders)
    con.execute(_customers_sql(n_orders, cmax, mult))
    total = con.execute("SELECT sum(f), count(*) FROM customers").fetchone()
    if total[0] < n_orders:  # cannot happen for any sensible N; kept as a guard, not an assumption
        raise SystemExit(f"generate.py: bug: only {total[0]} orders drawn for {n_orders}")
    # One row per order: j is the order's sequence number, its date a growing-trend draw over 3 years.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE orders AS
        WITH o AS (
            SELECT c.customer_id, c.customer_name, c.phone, c.email, c.start + k AS j
            FROM (SELECT *, unnest(range(f)) AS k FROM customers) c
        ), d AS (
            SELECT *, TIMESTAMP '{START_TS}'
                      + to_seconds(floor(pow(u(rnd('t', j), 0), 1 / 1.5) * {SPAN_SECONDS})::BIGINT) AS ts
            FROM o
        )
        SELECT *, {ORDER_ID_BASE} + row_number() OVER (ORDER BY ts, j) - 1 AS order_id FROM d
        """
    )
    rows = con.execute(
        f"COPY ({_order_lines_sql('orders', 'm')}) TO '{_sql_path(out)}' (HEADER, DELIMITER ',')"
    )
    rows = rows.fetchone()[0]
    stats = con.execute(
        "SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers, max(ts) AS last FROM orders"
    ).fetchone()
    return {"orders": stats[0], "rows": rows, "customers": stats[1], "last_order": str(stats[2])}


def generate_increment(con: duckdb.DuckDBPyConnection, n_base: int, k_new: int, out: Path) -> dict:
    cmax, mult = _customer_universe(n_base)
    con.execute(_customers_sql(n_base, cmax, mult))
    # Existing customers are picked by drawing a random past order (repeat buyers come back more
    # often); new customers get ids past every slot the main file could use.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE inc AS
        WITH o AS (
            SELECT i, rnd('i', i) AS h FROM range({k_new}) t(i)
        ), picks AS (
            SELECT i, h, u(h, 0) < {EXISTING_SHARE_IN_INCREMENT} AS existing,
                   floor(u(h, 1) * {n_base})::BIGINT AS past_order
            FROM o
        ), matched AS (
            SELECT p.*, c.customer_id, c.customer_name, c.phone, c.email
            FROM picks p ASOF LEFT JOIN customers c ON p.past_order >= c.start
        )
        SELECT {n_base} + i AS j,
               TIMESTAMP '{INCREMENT_DAY} 00:00:00' + to_seconds(floor(u(h, 2) * 86400)::BIGINT) AS ts,
               CASE WHEN existing THEN customer_id
                    ELSE 'C' || ({CUSTOMER_ID_BASE} + {cmax} + i) END AS customer_id,
               CASE WHEN existing THEN customer_name END AS customer_name,
               CASE WHEN existing THEN phone END AS phone,
               CASE WHEN existing THEN email END AS email
        FROM matched
        """
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE orders AS
            SELECT *, {ORDER_ID_BASE + n_base} + row_number() OVER (ORDER BY ts, j) - 1 AS order_id
            FROM inc"""
    )
    rows = con.execute(
        f"COPY ({_order_lines_sql('orders', 'i')}) TO '{_sql_path(out)}' (HEADER, DELIMITER ',')"
    )
    rows = rows.fetchone()[0]
    stats = con.execute(
        """SELECT count(*), count(DISTINCT customer_id),
                   count(*) FILTER (WHERE customer_id IN (SELECT customer_id FROM customers)), max(ts)
            FROM orders"""
    ).fetchone()
    return {
        "orders": stats[0],
        "rows": rows,
        "customers": stats[1],
        "orders_by_existing_customers": stats[2],
        "last_order": str(stats[3]),
    }


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("orders", type=parse_count, help="orders in the main file (100k, 1M, 10M, 2500 ...)")
    ap.add_argument("--out", required=True, type=Path, help="CSV file to write")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument(
        "--increment",
        type=parse_count,
        metavar="K",
        help="write K new orders dated the day after the main file of the same N and seed",
    )
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = ap.parse_args(argv)

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    t0 = time.perf_counter()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    con.execute("SET preserve_insertion_order = true")
    _macros(con, args.seed)
    if args.increment:
        info = generate_increment(con, args.orders, args.increment, tmp)
    else:
        info = generate_main(con, args.orders, tmp)
    con.close()
    with open(tmp, encoding="utf-8") as f:
        if f.readline().rstrip("\n") != HEADER:  # the contract with rfm and the baselines
            raise SystemExit(f"generate.py: bug: header of {tmp} is not {HEADER}")
    os.replace(tmp, out)
    info.update(
        generator_version=GENERATOR_VERSION,
        seed=args.seed,
        base_orders=args.orders if args.increment else None,
        file=str(out),
        bytes=out.stat().st_size,
        seconds=round(time.perf_counter() - t0, 2),
    )
    info = {k: v for k, v in info.items() if v is not None}
    # A sidecar with the file's figures, read by run.py for its tables.
    out.with_name(out.name + ".json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(" ".join(f"{k}={v}" for k, v in info.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
