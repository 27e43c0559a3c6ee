-- import_lines: store the products of one file's orders (rfm_order_lines, schema 20). Runs inside
-- the import's transaction, after import_merge, only for a file with product columns.
-- Input:  temp table file_lines (the file's rows that name a product: order_id, line_no, sku, product,
--         category, quantity, unit_price, amount; ingest/staging.py LINES), temp table _lines_left_out
--         (import_lines_left_out.sql, or empty when no order of the file can be left out:
--         line_items.store_lines); parameter $import_id.
-- Effect: the lines of every stored order of the file (new, excluded, or already stored) whose
--         order has no lines yet: re-importing a file never doubles them, and a later export with
--         products gives them to orders an earlier export without products stored. A rejected order
--         stores nothing; a refund-only order (a credit note) has no lines. The amount is quantity x
--         unit price when the file has both (staging leaves it NULL for this), else the row's.
-- Grain:  one row per line; line_no is the row's position among the file's data rows, so the lines
--         of an order sort as exported.
INSERT INTO rfm_order_lines
SELECT $import_id, l.order_id, l.line_no, l.sku, l.product, l.category, l.quantity, l.unit_price,
       coalesce(l.amount, CAST(l.quantity * l.unit_price AS DECIMAL(18, 2)))
FROM file_lines AS l
WHERE l.order_id NOT IN (SELECT order_id FROM _lines_left_out);

DROP TABLE _lines_left_out;
