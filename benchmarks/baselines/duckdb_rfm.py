#!/usr/bin/env python3
"""Baseline (b): a hand-written DuckDB RFM query, what an analyst would type.

    python benchmarks/baselines/duckdb_rfm.py ORDERS.csv OUT.csv

Counted orders only (status `paid`, net of refunds, net > 0); rows sharing an order_id are
summed into one order first, then grouped by customer: recency in days to the latest counted
order date, frequency = counted orders, monetary = net spend; R, F and M each scored 1-5 with
ntile(5). The result (one row per customer, unsorted) is written with COPY ... TO CSV.
"""

import sys

import duckdb

QUERY = """
COPY (
    WITH lines AS (
        SELECT * FROM read_csv('{src}')
    ), orders AS (
        SELECT order_id,
               any_value(customer_id) AS customer_id,
               max(order_date) AS order_date,
               sum(amount) - coalesce(sum(refund_amount), 0) AS net
        FROM lines
        WHERE status = 'paid'
        GROUP BY order_id
    ), counted AS (
        SELECT * FROM orders WHERE net > 0
    ), customers AS (
        SELECT customer_id,
               date_diff('day', max(order_date)::DATE,
                         (SELECT max(order_date)::DATE FROM counted)) AS recency_days,
               count(*) AS frequency,
               round(sum(net), 2) AS monetary
        FROM counted
        GROUP BY customer_id
    )
    SELECT customer_id, recency_days, frequency, monetary,
           ntile(5) OVER (ORDER BY recency_days DESC) AS r_score,
           ntile(5) OVER (ORDER BY frequency) AS f_score,
           ntile(5) OVER (ORDER BY monetary) AS m_score
    FROM customers
) TO '{dst}' (HEADER, DELIMITER ',')
"""


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = (a.replace("'", "''") for a in sys.argv[1:3])
    con = duckdb.connect()
    con.execute(QUERY.format(src=src, dst=dst))
    n = con.execute(f"SELECT count(*) FROM read_csv('{dst}')").fetchone()[0]
    print(f"customers={n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
