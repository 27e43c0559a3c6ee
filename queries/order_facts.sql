-- order_facts: every stored order with its net amount and whether it counts, as of a date.
-- Parameters: $as_of (DATE): orders after this day are left out. Refund rows apply whatever their
--   date: the money of a refunded order was never revenue, and a late refund must not leave a
--   customer's earlier scores overstated.
-- Output columns: order_id, customer_id, ordered_at, status, raw_status, amount, refund_amount,
--   later_refunds (refund rows naming the order), net_amount, counted (BOOLEAN),
--   not_counted_reason (NULL when counted), customer_name, phone, email, source_file.
-- Grain: one row per order with a customer.
WITH refunds_by_order AS (
    SELECT order_id, sum(amount) AS refunded
    FROM rfm_refunds
    GROUP BY order_id
)
SELECT o.order_id, o.customer_id, o.ordered_at, o.status, o.raw_status, o.amount, o.refund_amount,
       coalesce(r.refunded, 0)                                    AS later_refunds,
       o.amount - o.refund_amount - coalesce(r.refunded, 0)       AS net_amount,
       o.status = 'counted' AND o.amount - o.refund_amount - coalesce(r.refunded, 0) > 0 AS counted,
       CASE WHEN o.status <> 'counted' THEN o.status
            WHEN o.amount = 0 THEN 'zero amount'
            WHEN o.amount - o.refund_amount - coalesce(r.refunded, 0) <= 0 THEN 'fully refunded' END
                                                                  AS not_counted_reason,
       o.customer_name, o.phone, o.email, o.source_file
FROM rfm_orders AS o
LEFT JOIN refunds_by_order AS r USING (order_id)
WHERE o.customer_id IS NOT NULL
  AND (o.ordered_at IS NULL OR CAST(o.ordered_at AS DATE) <= $as_of);

