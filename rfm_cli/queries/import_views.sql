-- import_views: the in-memory store of `rfm score FILE` (one file, nothing stored before it), where
-- copying every order into rfm_orders would only be read once and thrown away. rfm_orders and
-- rfm_refunds become views over the file's grouped orders, holding exactly the rows that
-- import_merge would have inserted: into an empty store every readable order is new, so it is
-- stored (imported or excluded) and none is a duplicate or an update; a refund-only order is a refund.
-- Input:  temp table file_orders; parameters $import_id, $source_file.
-- Effect: tables rfm_orders and rfm_refunds (empty) replaced by temp views of the same columns.
CREATE OR REPLACE TEMP TABLE _import_meta AS
SELECT CAST($source_file AS VARCHAR) AS source_file, CAST($import_id AS INTEGER) AS import_id;

DROP TABLE rfm_orders;

DROP TABLE rfm_refunds;

CREATE TEMP VIEW rfm_orders AS
SELECT f.order_id, f.customer_id, f.ordered_at, CAST(f.amount AS DECIMAL(18, 2)) AS amount,
       CAST(f.refund_amount AS DECIMAL(18, 2)) AS refund_amount, f.status, f.raw_status, f.currency,
       f.customer_name, f.phone, f.email, CAST(f.lines AS INTEGER) AS lines, m.source_file, m.import_id,
       f.accepts_marketing, f.delivered_at
FROM file_orders AS f, _import_meta AS m
WHERE f.bad_lines = 0 AND f.order_id IS NOT NULL AND NOT f.refund_only;

CREATE TEMP VIEW rfm_refunds AS
SELECT f.order_id || '#' || strftime(f.ordered_at, '%Y%m%d%H%M%S') || '#' || CAST(f.refund_amount AS VARCHAR)
           AS refund_key,
       f.order_id, f.customer_id, f.ordered_at AS refunded_at, CAST(f.refund_amount AS DECIMAL(18, 2)) AS amount,
       m.source_file, m.import_id
FROM file_orders AS f, _import_meta AS m
WHERE f.bad_lines = 0 AND f.order_id IS NOT NULL AND f.refund_only;
