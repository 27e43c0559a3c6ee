-- order_top_category: the category of each named order, for the follow-up lists (core/followups.py):
-- the category with the greatest line amount among the order's lines (ties: the first by name).
-- Run only when rfm_order_lines has lines (a store with product data: products.has_lines).
-- Input:  temp table (or view) _rfm_trigger_orders (order_id); table rfm_order_lines (import_id,
--         order_id, line_no, sku, product, category, quantity, unit_price, amount).
-- The lines are those of the latest import that carried the order: a later export's lines of the
--   same order replace an earlier one's, as its state does. Lines without a category are left out.
-- Output columns: order_id, category. Grain: one row per named order with a categorised line.
WITH lines AS (
    SELECT l.order_id, l.import_id, l.category, coalesce(l.amount, 0) AS amount
    FROM rfm_order_lines AS l
    WHERE l.order_id IN (SELECT order_id FROM _rfm_trigger_orders)
),
latest AS (
    SELECT order_id, max(import_id) AS import_id
    FROM lines
    GROUP BY order_id
),
per_category AS (
    SELECT l.order_id, l.category, sum(l.amount) AS spent
    FROM lines AS l
    JOIN latest AS t ON t.order_id = l.order_id AND t.import_id = l.import_id
    WHERE l.category IS NOT NULL AND trim(l.category) <> ''
    GROUP BY l.order_id, l.category
)
SELECT order_id, category
FROM (
    SELECT order_id, category,
           row_number() OVER (PARTITION BY order_id ORDER BY spent DESC, category) AS rank
    FROM per_category
)
WHERE rank = 1;
