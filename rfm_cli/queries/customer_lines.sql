-- customer_lines: the products each customer bought: every stored line of their counted orders
-- (core/tags.py: categories, --bought; core/report_products.py: the category mix).
-- Parameters: $as_of (DATE): orders after this day are left out; $since (DATE or NULL): the analysis
--   window's first day (rfm_in_window), as in customer_rfm.sql.
-- Counted order: as customer_rfm.sql: status counted, a customer id, and its amount net of every
--   refund > 0.
-- Output columns: customer_id, order_id, ordered_at, line_no, sku, product, category (the export's,
--   else the --categories map's, else NULL), quantity, amount (NULL when the export gave no amount
--   of the line: it then counts as 0 in spend).
-- Grain: one row per line of a counted order.
WITH refunds_by_order AS (
    SELECT order_id, sum(amount) AS refunded
    FROM rfm_refunds
    GROUP BY order_id
),
counted AS (
    SELECT o.customer_id, o.order_id, o.ordered_at
    FROM rfm_orders AS o
    LEFT JOIN refunds_by_order AS r USING (order_id)
    WHERE o.customer_id IS NOT NULL
      AND o.status = 'counted'
      AND CAST(o.ordered_at AS DATE) <= $as_of
      AND rfm_in_window(o.ordered_at, $since)
      AND o.amount - o.refund_amount - coalesce(r.refunded, 0) > 0
)
SELECT c.customer_id, c.order_id, c.ordered_at, l.line_no, l.sku, l.product, l.category, l.quantity, l.amount
FROM counted AS c
JOIN rfm_order_lines AS l USING (order_id)
