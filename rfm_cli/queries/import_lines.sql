-- import_lines: store the products of one file's orders (rfm_order_lines, schema 20). Runs inside
-- the import's transaction, after import_merge, only for a file with product columns.
-- Input:  temp table file_lines (the file's rows that name a product: order_id, line_no, sku, product,
--         category, quantity, unit_price, amount; ingest/staging.py LINES), temp table (or view)
--         order_outcomes; parameter $import_id.
-- Effect: the lines of every stored order of the file (new, excluded, or already stored) whose
--         order has no lines yet: re-importing a file never doubles them, and a later export with
--         products gives them to orders an earlier export without products stored. A rejected order
--         stores nothing; a refund-only order (a credit note) has no lines. The amount is quantity x
--         unit price when the file has both (staging leaves it NULL for this), else the row's.
-- Grain:  one row per line; line_no is the row's position among the file's data rows, so the lines
--         of an order sort as exported.
-- Cost: the orders left out are few (none on a first import), so the lines are matched against them,
--         never joined with every order of the file.
CREATE OR REPLACE TEMP TABLE _lines_left_out AS
SELECT o.order_id
FROM order_outcomes AS o
WHERE o.order_id IS NOT NULL
  AND (o.outcome NOT IN ('imported', 'excluded', 'duplicate') OR o.refund_only
       OR (o.outcome = 'duplicate' AND o.order_id IN (SELECT order_id FROM rfm_order_lines)));

INSERT INTO rfm_order_lines
SELECT $import_id, l.order_id, l.line_no, l.sku, l.product, l.category, l.quantity, l.unit_price,
       coalesce(l.amount, CAST(l.quantity * l.unit_price AS DECIMAL(18, 2)))
FROM file_lines AS l
WHERE l.order_id NOT IN (SELECT order_id FROM _lines_left_out);

DROP TABLE _lines_left_out;
