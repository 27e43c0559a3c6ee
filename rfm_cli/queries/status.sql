-- status: what a database holds, in one row (`rfm status`).
-- Output columns: orders (stored, with a customer or not), counted_orders, first_order_at,
--   last_order_at (of all stored orders), customers (with at least one counted order), files,
--   last_run_at, last_run_as_of, last_run_scheme, last_run_customers (the latest snapshot taken,
--   by `rfm run`), latest_snapshot_as_of (the latest as-of date with a snapshot), lists_written_at
--   (the latest list recorded by `rfm run`/`rfm export`), suppressions.
-- Grain: one row.
WITH facts AS (
    SELECT o.customer_id, o.ordered_at,
           o.status = 'counted'
           AND o.amount - o.refund_amount - coalesce((SELECT sum(f.amount) FROM rfm_refunds AS f
                                                      WHERE f.order_id = o.order_id), 0) > 0 AS counted
    FROM rfm_orders AS o
),
last_run AS (
    SELECT taken_at, as_of, scheme, customers FROM rfm_snapshot_runs ORDER BY taken_at DESC LIMIT 1
)
SELECT (SELECT count(*) FROM facts)                                                    AS orders,
       (SELECT count(*) FILTER (WHERE counted) FROM facts)                             AS counted_orders,
       (SELECT min(ordered_at) FROM facts)                                             AS first_order_at,
       (SELECT max(ordered_at) FROM facts)                                             AS last_order_at,
       (SELECT count(DISTINCT customer_id) FILTER (WHERE counted AND customer_id IS NOT NULL) FROM facts)
                                                                                       AS customers,
       (SELECT count(*) FROM rfm_imports)                                              AS files,
       (SELECT taken_at FROM last_run)                                                 AS last_run_at,
       (SELECT as_of FROM last_run)                                                    AS last_run_as_of,
       (SELECT scheme FROM last_run)                                                   AS last_run_scheme,
       (SELECT customers FROM last_run)                                                AS last_run_customers,
       (SELECT max(as_of) FROM rfm_snapshot_runs)                                      AS latest_snapshot_as_of,
       (SELECT max(sent_at) FROM rfm_send_lists)                                       AS lists_written_at,
       (SELECT count(*) FROM rfm_suppressions)                                         AS suppressions;
