-- imports_rm: take one file's import back (`rfm imports rm`), inside the caller's transaction.
-- Parameter: $import_id. Rules (see migrate_v10.sql for what is recorded):
-- - An order whose state is this file's goes back to the state of the latest other file that
--   carried it (rfm_order_versions); an order no other file carried is removed.
-- - A refund this file stored stays when another file carried it too (it then names that file),
--   else it is removed.
-- - This file's own records go: its versions and refund carriers, its rejected rows, its row of
--   rfm_imports (so the same bytes can be imported again).
-- - Its discount codes (rfm_order_codes, rfm_code_columns; schema 11) go with it.
-- - Its order lines (rfm_order_lines; schema 20) go with it, except those of an order that stays
--   stored because another file carried it too: they are kept as that file's lines.
-- rfm_customers is rebuilt by the caller (core/imports.py).
CREATE OR REPLACE TEMP TABLE _rm_restore AS
SELECT * EXCLUDE (latest)
FROM (
    SELECT v.*, row_number() OVER (PARTITION BY v.order_id ORDER BY v.import_id DESC) AS latest
    FROM rfm_order_versions AS v
    WHERE v.import_id <> $import_id
      AND v.order_id IN (SELECT order_id FROM rfm_orders WHERE import_id = $import_id)
)
WHERE latest = 1;

CREATE OR REPLACE TEMP TABLE _rm_refunds AS
SELECT c.refund_key, max(c.import_id) AS import_id
FROM rfm_refund_carriers AS c
WHERE c.import_id <> $import_id
  AND c.refund_key IN (SELECT refund_key FROM rfm_refunds WHERE import_id = $import_id)
GROUP BY c.refund_key;

-- The lines this file gave to an order that stays stored (its state goes back to another file's, or
-- is already a later file's that found the lines stored and added none) become the lines of the
-- latest other file that carried the order.
CREATE OR REPLACE TEMP TABLE _rm_lines_to AS
SELECT order_id, max(import_id) AS import_id
FROM (SELECT order_id, import_id FROM rfm_order_versions
      UNION ALL
      SELECT order_id, import_id FROM rfm_orders)
WHERE import_id <> $import_id
  AND order_id IN (SELECT order_id FROM rfm_order_lines WHERE import_id = $import_id)
GROUP BY order_id;

UPDATE rfm_order_lines AS l
SET import_id = t.import_id
FROM _rm_lines_to AS t
WHERE l.order_id = t.order_id AND l.import_id = $import_id;

DROP TABLE _rm_lines_to;

DELETE FROM rfm_order_lines WHERE import_id = $import_id;

DELETE FROM rfm_orders WHERE import_id = $import_id;

INSERT INTO rfm_orders (order_id, customer_id, ordered_at, amount, refund_amount, status, raw_status, currency,
                        customer_name, phone, email, lines, source_file, import_id, accepts_marketing,
                        delivered_at)
SELECT order_id, customer_id, ordered_at, amount, refund_amount, status, raw_status, currency,
       customer_name, phone, email, lines, source_file, import_id, accepts_marketing, delivered_at
FROM _rm_restore;

DELETE FROM rfm_order_versions AS v
WHERE v.import_id = $import_id
   OR EXISTS (SELECT 1 FROM _rm_restore AS r WHERE r.order_id = v.order_id AND r.import_id = v.import_id);

UPDATE rfm_refunds AS f
SET import_id = r.import_id, source_file = i.source_file
FROM _rm_refunds AS r, rfm_imports AS i
WHERE f.refund_key = r.refund_key AND f.import_id = $import_id AND i.import_id = r.import_id;

DELETE FROM rfm_refunds WHERE import_id = $import_id;

DELETE FROM rfm_refund_carriers AS c
WHERE c.import_id = $import_id
   OR EXISTS (SELECT 1 FROM _rm_refunds AS r WHERE r.refund_key = c.refund_key AND r.import_id = c.import_id);

DELETE FROM rfm_rejects WHERE import_id = $import_id;

DELETE FROM rfm_imports WHERE import_id = $import_id;

DROP TABLE _rm_restore;

DROP TABLE _rm_refunds;

DELETE FROM rfm_order_codes WHERE import_id = $import_id;

DELETE FROM rfm_code_columns WHERE import_id = $import_id;
