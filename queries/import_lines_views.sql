-- import_lines_views: rfm_order_lines of the in-memory store of `rfm score FILE` (see
-- import_views.sql), for a file with product columns: a view over the file's grouped orders with
-- exactly the rows import_lines.sql would have inserted into an empty store.
-- Input: temp table file_orders (with line_items), temp table _import_meta (import_views.sql).
-- Effect: table rfm_order_lines (empty) replaced by a temp view of the same columns.
DROP TABLE rfm_order_lines;

CREATE TEMP VIEW rfm_order_lines AS
SELECT import_id, order_id, line_no, sku, product, category, quantity, unit_price,
       coalesce(amount, CAST(quantity * unit_price AS DECIMAL(18, 2))) AS amount
FROM (
    SELECT m.import_id, f.order_id, CAST(generate_subscripts(f.line_items, 1) AS INTEGER) AS line_no,
           unnest(f.line_items, recursive := true)
    FROM file_orders AS f, _import_meta AS m
    WHERE f.bad_lines = 0 AND f.order_id IS NOT NULL AND NOT f.refund_only AND len(f.line_items) > 0
);
