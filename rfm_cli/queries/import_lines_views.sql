-- import_lines_views: rfm_order_lines of the in-memory store of `rfm score FILE` (see
-- import_views.sql), for a file with product columns: a view over the file's lines with exactly the
-- rows import_lines.sql would have inserted into an empty store (every order new: only a rejected
-- or refund-only order has none).
-- Input: temp tables file_lines, file_orders, _import_meta (import_views.sql).
-- Effect: table rfm_order_lines (empty) replaced by a temp view of the same columns.
DROP TABLE rfm_order_lines;

CREATE TEMP VIEW rfm_order_lines AS
SELECT m.import_id, l.order_id, l.line_no, l.sku, l.product, l.category, l.quantity, l.unit_price,
       coalesce(l.amount, CAST(l.quantity * l.unit_price AS DECIMAL(18, 2))) AS amount
FROM file_lines AS l, _import_meta AS m
WHERE l.order_id NOT IN (SELECT order_id FROM file_orders
                         WHERE order_id IS NOT NULL AND (bad_lines > 0 OR refund_only));
