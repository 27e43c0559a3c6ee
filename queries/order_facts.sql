-- order_facts: every stored order with its net amount and whether it counts, as of a date.
-- Parameters: $as_of (DATE): orders after this day are left out. Refund rows apply whatever their
--   date: the money of a refunded order was never revenue, and a late refund must not leave a
--   customer's earlier scores overstated.
-- Output columns: order_id, customer_id, ordered_at, status, raw_status, amount, refund_amount,
--   later_refunds (refund rows naming the order), net_amount, counted (BOOLEAN),
--   not_counted_reason (NULL when counted), customer_name, phone, email, source_file.
-- Grain: one row per order with a customer. The net and the counted rule are the view rfm_order_net
--   (queries/migrate_v9.sql).
SELECT *
FROM rfm_order_net
WHERE ordered_at IS NULL OR CAST(ordered_at AS DATE) <= $as_of;
