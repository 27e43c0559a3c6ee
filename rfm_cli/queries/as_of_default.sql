-- as_of_default: the default as-of date (BRIEF §3): the date of the latest counted order.
-- Input: rfm_orders, rfm_refunds. Output: one row, one column `as_of` (DATE, NULL when no counted order).
-- An order counts when its status is counted and its amount net of all its refunds is positive.
SELECT CAST(max(o.ordered_at) AS DATE) AS as_of
FROM rfm_orders AS o
LEFT JOIN (SELECT order_id, sum(amount) AS refunded FROM rfm_refunds GROUP BY order_id) AS r USING (order_id)
WHERE o.customer_id IS NOT NULL
  AND o.status = 'counted'
  AND o.amount - o.refund_amount - coalesce(r.refunded, 0) > 0;
