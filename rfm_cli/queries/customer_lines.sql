-- customer_lines: the products each customer bought: every stored line of their counted orders
-- (core/tags.py: categories, --bought; core/report_products.py: the category mix).
-- Parameters: $as_of (DATE): orders after this day are left out; $since (DATE or NULL): the analysis
--   window's first day (rfm_in_window), as in customer_rfm.sql.
-- Counted order: the rule of view rfm_order_net (queries/migrate_v9.sql: status counted, a customer
--   id, its amount net of every refund > 0), on or before $as_of and in the window.
-- Output columns: customer_id, order_id, ordered_at, line_no, sku, product, category (the export's,
--   else the --categories map's, else NULL), quantity, amount (NULL when the export gave no amount
--   of the line: it then counts as 0 in spend).
-- Grain: one row per line of a counted order.
WITH counted AS (
    SELECT o.customer_id, o.order_id, o.ordered_at
    FROM rfm_order_net AS o
    WHERE o.counted
      AND CAST(o.ordered_at AS DATE) <= $as_of
      AND rfm_in_window(o.ordered_at, $since)
)
SELECT c.customer_id, c.order_id, c.ordered_at, l.line_no, l.sku, l.product, l.category, l.quantity, l.amount
FROM counted AS c
JOIN rfm_order_lines AS l USING (order_id)
