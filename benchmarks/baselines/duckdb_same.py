#!/usr/bin/env python3
"""Baseline (f): the same per-customer table as `rfm score FILE`, hand-written in DuckDB.

    python benchmarks/baselines/duckdb_same.py ORDERS.csv OUT.csv [--memory-limit 600MB]

Where `duckdb_rfm` is what an analyst would type, this is what a careful DuckDB programmer
would write for *the same result* as rfm (BRIEF §3), byte for byte, on the benchmark's
generated exports (benchmarks/generate.py: typed columns, statuses paid/cancelled/refunded/
pending, partial refunds, orders of several lines, contacts often empty):

- lines sharing an order_id are one order: its amount is the sum of its positive lines, its
  refund the refund column plus its negative lines; it is paid when a line says `paid`;
  an order whose lines are all negative is a refund row, which reduces its customer's monetary;
- counted = paid, net (amount - refunds) > 0, placed on or before the as-of date (the date of
  the latest counted order); frequency = counted orders; monetary = their net plus refund rows;
  recency = days from the last counted order to the as-of date;
- contacts (name, phone, email, each on its own) from the customer's latest order that has one,
  of any status, up to the as-of date; among orders placed the same second, the greatest order
  id as a number (md5_number_lower of the id when it is not plain digits);
- R and F by rfm's fixed breakpoints (30/60/90/180 days; 2/3/4/6 orders), M by rfm's quantile
  rule: 1 + floor(5 x customers with strictly less / customers), ties sharing a score;
- tiers: dormant (R <= 2), diamond (F >= 4 and M >= 4), gold (F >= 3), potential;
- rfm's 14 columns, sorted by customer id, money with 2 decimals.

It runs under the same memory cap as `rfm score FILE` (600MB unless told), so the comparison is
of the work, not of how much memory each may use. The runner checks its output equals rfm's.
"""

import sys

import duckdb

COLUMNS = {
    "order_id": "VARCHAR",
    "customer_id": "VARCHAR",
    "order_date": "TIMESTAMP",
    "amount": "DECIMAL(18,2)",
    "status": "VARCHAR",
    "refund_amount": "DECIMAL(18,2)",
    "currency": "VARCHAR",
    "customer_name": "VARCHAR",
    "phone": "VARCHAR",
    "email": "VARCHAR",
}

QUERY = """
COPY (
WITH orders AS (
    SELECT order_id,
           any_value(customer_id)                                        AS customer_id,
           min(order_date)                                               AS ordered_at,
           coalesce(sum(amount) FILTER (WHERE amount > 0), 0)            AS amount,
           coalesce(sum(refund_amount), 0)
             - coalesce(sum(amount) FILTER (WHERE amount < 0), 0)        AS refunded,
           bool_or(status = 'paid' AND amount >= 0)                      AS paid,
           bool_and(amount < 0)                                          AS refund_only,
           max(customer_name) AS customer_name, max(phone) AS phone, max(email) AS email
    FROM read_csv('{src}', header = true, columns = {columns}, nullstr = '')
    WHERE customer_id IS NOT NULL
    GROUP BY order_id
),
as_of AS (
    SELECT max(ordered_at)::DATE AS day FROM orders
    WHERE paid AND NOT refund_only AND amount - refunded > 0
),
flagged AS (
    SELECT o.*, amount - refunded AS net,
           NOT refund_only AND ordered_at::DATE <= (SELECT day FROM as_of) AS eligible,
           NOT refund_only AND ordered_at::DATE <= (SELECT day FROM as_of)
               AND paid AND amount - refunded > 0 AS counted,
           CASE WHEN regexp_full_match(order_id, '0|[1-9][0-9]{{0,19}}')
                     AND TRY_CAST(order_id AS UBIGINT) IS NOT NULL
                THEN order_id::UBIGINT ELSE md5_number_lower(order_id) END AS pick
    FROM orders AS o
),
customers AS (
    SELECT customer_id,
           arg_max(customer_name, (ordered_at, pick)) FILTER (WHERE eligible AND customer_name IS NOT NULL)
                                                                         AS customer_name,
           arg_max(phone, (ordered_at, pick)) FILTER (WHERE eligible AND phone IS NOT NULL) AS phone,
           arg_max(email, (ordered_at, pick)) FILTER (WHERE eligible AND email IS NOT NULL) AS email,
           min(ordered_at) FILTER (WHERE counted)                        AS first_order_at,
           max(ordered_at) FILTER (WHERE counted)                        AS last_order_at,
           count(*) FILTER (WHERE counted)                               AS frequency,
           sum(net) FILTER (WHERE counted OR refund_only)                AS monetary
    FROM flagged
    GROUP BY customer_id
    HAVING count(*) FILTER (WHERE counted) > 0
),
scored AS (
    SELECT *,
           date_diff('day', last_order_at::DATE, (SELECT day FROM as_of)) AS recency_days,
           1 + (5 * (rank() OVER (ORDER BY monetary) - 1)) // count(*) OVER () AS m_score
    FROM customers
),
rf AS (
    SELECT *,
           CASE WHEN recency_days <= 30 THEN 5 WHEN recency_days <= 60 THEN 4
                WHEN recency_days <= 90 THEN 3 WHEN recency_days <= 180 THEN 2 ELSE 1 END AS r_score,
           CASE WHEN frequency < 2 THEN 1 WHEN frequency < 3 THEN 2 WHEN frequency < 4 THEN 3
                WHEN frequency < 6 THEN 4 ELSE 5 END                    AS f_score
    FROM scored
)
SELECT customer_id, customer_name, phone, email, first_order_at, last_order_at,
       recency_days, frequency, monetary::DECIMAL(18, 2) AS monetary, r_score, f_score, m_score,
       (100 * r_score + 10 * f_score + m_score)::VARCHAR AS rfm_code,
       CASE WHEN r_score <= 2 THEN 'dormant'
            WHEN f_score >= 4 AND m_score >= 4 THEN 'diamond'
            WHEN f_score >= 3 THEN 'gold'
            ELSE 'potential' END AS tier
FROM rf
ORDER BY customer_id
) TO '{dst}' (HEADER, DELIMITER ',', TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S')
"""


def main() -> int:
    args = sys.argv[1:]
    limit = "600MB"
    if "--memory-limit" in args:
        at = args.index("--memory-limit")
        limit = args[at + 1]
        del args[at : at + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = (a.replace("'", "''") for a in args)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{limit}'")
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    con.execute(QUERY.format(src=src, dst=dst, columns=columns))
    n = con.execute(f"SELECT count(*) FROM read_csv('{dst}')").fetchone()[0]
    print(f"customers={n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
