-- order_facts: every stored order with its net amount and whether it counts, as of a date.
-- Parameters: $as_of (DATE): orders after this day are left out. Refund rows apply whatever their
--   date: the money of a refunded order was never revenue, and a late refund must not leave a
--   customer's earlier scores overstated.
--   $since (DATE or NULL): the analysis window's first day (rfm_in_window, as customer_rfm.sql): an
--   order before it does not count, with the reason 'before the analysis window'. NULL: all history.
-- Output columns: order_id, customer_id, ordered_at, status, raw_status, amount, refund_amount,
--   later_refunds (refund rows naming the order), net_amount, counted (BOOLEAN),
--   not_counted_reason (NULL when counted), customer_name, phone, email, source_file.
-- Grain: one row per order with a customer. The net and the counted rule are the view rfm_order_net
--   (queries/migrate_v9.sql).
SELECT * REPLACE (
           counted AND rfm_in_window(ordered_at, $since) AS counted,
           CASE WHEN counted AND NOT rfm_in_window(ordered_at, $since) THEN 'before the analysis window'
                ELSE not_counted_reason END AS not_counted_reason)
FROM rfm_order_net
WHERE ordered_at IS NULL OR CAST(ordered_at AS DATE) <= $as_of;
