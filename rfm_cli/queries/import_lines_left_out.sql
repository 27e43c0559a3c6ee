-- import_lines_left_out: the orders of one file whose lines import_lines.sql does not store. Runs
-- inside the import's transaction, after import_merge, only for a file with product columns and only
-- when the counts of its outcomes show such an order may exist (line_items.store_lines; otherwise
-- the table is created empty).
-- Input:  temp table (or view) order_outcomes; table rfm_order_lines.
-- Output: temp table _lines_left_out (order_id): a rejected order (it stores nothing), a refund-only
--         order (a credit note has no lines), an order stored before whose lines are stored (a
--         re-import never doubles them). A duplicate stored without lines (from an export without
--         products) is not left out: this file gives it its lines.
-- Grain:  one row per order_id left out.
-- Cost: the orders left out are few (none on a first import), so import_lines matches the lines
--         against them, never joins the lines with every order of the file.
CREATE OR REPLACE TEMP TABLE _lines_left_out AS
SELECT o.order_id
FROM order_outcomes AS o
WHERE o.order_id IS NOT NULL
  AND (o.outcome NOT IN ('imported', 'excluded', 'duplicate') OR o.refund_only
       OR (o.outcome = 'duplicate' AND o.order_id IN (SELECT order_id FROM rfm_order_lines)));
