-- customer_rfm: raw recency / frequency / monetary inputs per customer (BRIEF §3).
-- Parameters: $as_of (DATE): orders after this day are left out; refund rows apply whatever their date.
--   $since (DATE or NULL): the analysis window's first day (rfm_in_window): orders before it, and
--   refund rows naming no order dated before it, are left out, so frequency and monetary count the
--   window only; a customer with no counted order in the window has no row (not scored). NULL: all.
-- Counted order: status counted and amount net of every refund > 0, on or before $as_of.
-- monetary: net spend over counted orders, less refund rows that name no stored order
--   (credit notes: they reduce their customer's monetary, never recency or frequency).
-- Contact fields come from the customer's latest order that has them; of orders placed at the same
--   time, the one with the greatest order id (macro rfm_pick_key: as a number when it is one, else by a
--   fixed hash), so the pick never depends on the rows' storage order.
-- Output columns: customer_id, customer_name, phone, email, first_order_at, last_order_at,
--   frequency (BIGINT), spend (DECIMAL: net spend), unmatched_refunds (DECIMAL),
--   latest_key (HUGEINT: the greatest rfm_pick_key of all the customer's orders, counted or not;
--   rfm_customers keeps it so an import of later orders can update a row without reading the
--   customer's stored orders, see customer_stats_delta.sql; scoring leaves it out).
-- Grain: one row per customer with at least one counted order, ordered by customer_id.
WITH refunds_by_order AS (
    SELECT order_id, sum(amount) AS refunded
    FROM rfm_refunds
    GROUP BY order_id
),
orders_net AS (
    SELECT o.customer_id, o.order_id, o.ordered_at, o.status, o.customer_name, o.phone, o.email,
           rfm_pick_key(o.ordered_at, o.order_id) AS pick_key,
           o.amount - o.refund_amount - coalesce(r.refunded, 0) AS net_amount
    FROM rfm_orders AS o
    LEFT JOIN refunds_by_order AS r USING (order_id)
    WHERE rfm_stats_scope(o.customer_id)
      AND CAST(o.ordered_at AS DATE) <= $as_of
      AND rfm_in_window(o.ordered_at, $since)
),
unmatched AS (
    SELECT f.customer_id, sum(f.amount) AS refunded
    FROM rfm_refunds AS f
    WHERE rfm_stats_scope(f.customer_id)
      AND NOT EXISTS (SELECT 1 FROM rfm_orders AS o WHERE o.order_id = f.order_id)
      AND rfm_in_window(f.refunded_at, $since)
    GROUP BY f.customer_id
),
per_customer AS (SELECT * FROM rfm_per_customer('orders_net'))  -- macros.sql: the one definition
SELECT p.customer_id, p.customer_name, p.phone, p.email, p.first_order_at, p.last_order_at,
       p.frequency,
       p.counted_spend - coalesce(u.refunded, 0) AS spend,
       coalesce(u.refunded, 0)                   AS unmatched_refunds,
       p.latest_key
FROM per_customer AS p
LEFT JOIN unmatched AS u USING (customer_id)
WHERE p.frequency > 0
ORDER BY p.customer_id;
