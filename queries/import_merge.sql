-- import_merge: store one file's orders and refunds. Runs inside the import's transaction.
-- Input:  temp table order_outcomes (the file's orders with their outcome); parameters $import_id,
--         $source_file.
-- Effect: new orders inserted (rejected ones never); stored orders whose state changed are
--         updated (a later export's state of an order wins: a refund or cancellation after the
--         first import is applied); new refunds inserted, keyed by refund_key.
UPDATE rfm_orders AS o
SET customer_id = f.customer_id, ordered_at = f.ordered_at, amount = f.amount,
    refund_amount = f.refund_amount, status = f.status, raw_status = f.raw_status,
    currency = f.currency, customer_name = coalesce(f.customer_name, o.customer_name),
    phone = coalesce(f.phone, o.phone), email = coalesce(f.email, o.email), lines = f.lines,
    source_file = $source_file, import_id = $import_id,
    accepts_marketing = coalesce(f.accepts_marketing, o.accepts_marketing)
FROM (SELECT * FROM order_outcomes WHERE reason = 'updated') AS f
WHERE o.order_id = f.order_id;

INSERT INTO rfm_orders (order_id, customer_id, ordered_at, amount, refund_amount, status, raw_status,
                        currency, customer_name, phone, email, lines, source_file, import_id, accepts_marketing)
SELECT f.order_id, f.customer_id, f.ordered_at, f.amount, f.refund_amount, f.status, f.raw_status,
       f.currency, f.customer_name, f.phone, f.email, f.lines, $source_file, $import_id, f.accepts_marketing
FROM order_outcomes AS f
WHERE f.outcome IN ('imported', 'excluded') AND NOT f.refund_only;

INSERT INTO rfm_refunds
SELECT f.refund_key, f.order_id, f.customer_id, f.ordered_at, f.refund_amount, $source_file, $import_id
FROM order_outcomes AS f
WHERE f.outcome IN ('imported', 'excluded') AND f.refund_only;
