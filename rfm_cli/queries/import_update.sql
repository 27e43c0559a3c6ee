-- import_update: update the stored orders whose state one file changes (a later export's state of
-- an order wins: a refund or cancellation after the first import is applied). Runs inside the
-- import's transaction, before import_merge.sql, and only when the file has such orders (the
-- import's counts say so): reading every order's outcome to find none cost about 1 s at 10M orders.
-- Input:  temp table order_outcomes (the file's orders with their outcome); parameters $import_id,
--         $source_file.
-- Effect: the stored orders of outcome reason 'updated' take the file's state; contact fields,
--         consent and the delivered date the file leaves empty keep their stored values; their
--         previous state is kept in rfm_order_versions.
-- The state being replaced is kept first (rfm_order_versions, migrate_v10.sql): it is the earlier
-- file's, and `rfm imports rm` of this file gives it back.
INSERT INTO rfm_order_versions
SELECT o.order_id, o.customer_id, o.ordered_at, o.amount, o.refund_amount, o.status, o.raw_status, o.currency,
       o.customer_name, o.phone, o.email, o.lines, o.source_file, o.import_id, o.accepts_marketing,
       o.delivered_at
FROM rfm_orders AS o
WHERE o.order_id IN (SELECT order_id FROM order_outcomes WHERE reason = 'updated');

UPDATE rfm_orders AS o
SET customer_id = f.customer_id, ordered_at = f.ordered_at, amount = f.amount,
    refund_amount = f.refund_amount, status = f.status, raw_status = f.raw_status,
    currency = f.currency, customer_name = coalesce(f.customer_name, o.customer_name),
    phone = coalesce(f.phone, o.phone), email = coalesce(f.email, o.email), lines = f.lines,
    source_file = $source_file, import_id = $import_id,
    accepts_marketing = coalesce(f.accepts_marketing, o.accepts_marketing),
    delivered_at = coalesce(f.delivered_at, o.delivered_at)
FROM (SELECT * FROM order_outcomes WHERE reason = 'updated') AS f
WHERE o.order_id = f.order_id;
