-- import_merge: store one file's orders and refunds. Runs inside the import's transaction.
-- Input:  temp table order_outcomes (the file's orders with their outcome); parameters $import_id,
--         $source_file.
-- Effect: new orders inserted (rejected ones never); new refunds inserted, keyed by refund_key.
--         Stored orders whose state this file changes are updated by import_update.sql, run
--         first, and only when the file has such orders.
INSERT INTO rfm_orders (order_id, customer_id, ordered_at, amount, refund_amount, status, raw_status,
                        currency, customer_name, phone, email, lines, source_file, import_id, accepts_marketing,
                        delivered_at)
SELECT f.order_id, f.customer_id, f.ordered_at, f.amount, f.refund_amount, f.status, f.raw_status,
       f.currency, f.customer_name, f.phone, f.email, f.lines, $source_file, $import_id, f.accepts_marketing,
       f.delivered_at
FROM order_outcomes AS f
WHERE f.outcome IN ('imported', 'excluded') AND NOT f.refund_only;

INSERT INTO rfm_refunds
SELECT f.refund_key, f.order_id, f.customer_id, f.ordered_at, f.refund_amount, $source_file, $import_id
FROM order_outcomes AS f
WHERE f.outcome IN ('imported', 'excluded') AND f.refund_only;
