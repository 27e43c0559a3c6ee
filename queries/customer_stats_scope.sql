-- customer_stats_scope: the customers one file's import can change, taken before it is merged.
-- Input:  temp table order_outcomes (import_outcomes.sql); tables rfm_orders, rfm_refunds.
-- Output: temp table _rfm_scope (customer_id), every customer whose rfm_customers row may change:
--           the customer a new or updated order (or refund) of the file names;
--           the customer the stored order of that order id had (an update may move an order, a
--           refund reduces the order's customer);
--           the customer of stored refunds naming that order id (an unmatched refund that a new
--           order now matches stops reducing its customer directly).
--         A plain duplicate (outcome duplicate, no reason) changes nothing and is left out.
-- Grain:  one row per customer.
CREATE OR REPLACE TEMP TABLE _rfm_scope AS
WITH changing AS (
    SELECT order_id, customer_id
    FROM order_outcomes
    WHERE outcome IN ('imported', 'excluded') OR reason = 'updated'
)
SELECT customer_id FROM changing WHERE customer_id IS NOT NULL
UNION
SELECT o.customer_id FROM rfm_orders AS o SEMI JOIN changing AS c USING (order_id)
WHERE o.customer_id IS NOT NULL
UNION
SELECT r.customer_id FROM rfm_refunds AS r SEMI JOIN changing AS c USING (order_id)
WHERE r.customer_id IS NOT NULL;
