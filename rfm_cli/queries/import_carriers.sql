-- import_carriers: record that one file also carries orders and refunds already stored, unchanged
-- (outcome 'duplicate' without an update), so removing the file that stored them leaves them in
-- place (see migrate_v10.sql and imports_rm.sql). Runs inside the import's transaction, after
-- import_merge.sql, and only when the file has duplicates.
-- Input:  temp table order_outcomes; parameters $import_id, $source_file.
-- Effect: one rfm_order_versions row per duplicate order (this file's state of it), one
--         rfm_refund_carriers row per duplicate refund.
INSERT INTO rfm_order_versions
SELECT f.order_id, f.customer_id, f.ordered_at, f.amount, f.refund_amount, f.status, f.raw_status,
       f.currency, f.customer_name, f.phone, f.email, f.lines, $source_file, $import_id, f.accepts_marketing,
       f.delivered_at
FROM order_outcomes AS f
WHERE f.outcome = 'duplicate' AND f.reason IS NULL AND NOT f.refund_only;

INSERT INTO rfm_refund_carriers
SELECT f.refund_key, $import_id
FROM order_outcomes AS f
WHERE f.outcome = 'duplicate' AND f.refund_only;
