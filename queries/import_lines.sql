-- import_lines: store the products of one file's orders (rfm_order_lines, schema 16). Runs inside
-- the import's transaction, after import_merge, only for a file with product columns.
-- Input:  temp table (or view) order_outcomes (carries file_orders' line_items: the order's lines as
--         read); parameter $import_id.
-- Effect: the lines of every stored order of the file (new, excluded, or already stored) whose
--         order has no lines yet: re-importing a file never doubles them, and a later export with
--         products gives them to orders an earlier export without products stored. A rejected order
--         stores nothing; a refund-only order (a credit note) has no lines.
-- Grain:  one row per line: line_no is the line's position among its order's lines as read; the
--         amount quantity x unit price when the file has both (staging leaves it NULL for this).
INSERT INTO rfm_order_lines
SELECT $import_id, order_id, line_no, sku, product, category, quantity, unit_price,
       coalesce(amount, CAST(quantity * unit_price AS DECIMAL(18, 2)))
FROM (
SELECT o.order_id, CAST(generate_subscripts(o.line_items, 1) AS INTEGER) AS line_no,
       unnest(o.line_items, recursive := true)
FROM order_outcomes AS o
WHERE o.outcome IN ('imported', 'excluded', 'duplicate') AND NOT o.refund_only AND len(o.line_items) > 0
  AND NOT EXISTS (SELECT 1 FROM rfm_order_lines AS l WHERE l.order_id = o.order_id)
);
