-- customer_stats_scope: the customers one file's import can change, taken before it is merged, and
-- for each whether its rfm_customers row can be updated from the file alone.
-- Input:  temp table order_outcomes (import_outcomes.sql); tables rfm_orders, rfm_refunds,
--         rfm_customers (as they were before this file).
-- Output: temp table _rfm_scope (customer_id, by_delta), every customer whose rfm_customers row
--         may change:
--           the customer a new or updated order (or refund) of the file names;
--           the customer the stored order of that order id had (an update may move an order, a
--           refund reduces the order's customer);
--           the customer of stored refunds naming that order id (an unmatched refund that a new
--           order now matches stops reducing its customer directly).
--         A plain duplicate (outcome duplicate, no reason) changes nothing and is left out.
--         by_delta: the file touches none of the customer's stored orders or refunds (no order or
--         refund of the file shares an order id with a stored order or refund on either side), the
--         customer has a row, and every new order of theirs is later than all their stored orders
--         (by rfm_pick_key, against the row's latest_key), so the latest contact fields are the
--         file's where it has them. Such a row is the old row plus the file's orders
--         (customer_stats_delta.sql); the others are recomputed from every order they have.
-- Grain:  one row per customer.
CREATE OR REPLACE TEMP TABLE _rfm_scope AS
WITH changing AS (
    SELECT order_id, customer_id, ordered_at, refund_only, outcome
    FROM order_outcomes
    WHERE outcome IN ('imported', 'excluded') OR reason = 'updated'
),
order_hits AS (  -- stored orders the file names: an update, or a refund of a stored order
    SELECT o.customer_id AS stored_customer, c.customer_id AS file_customer
    FROM rfm_orders AS o JOIN changing AS c USING (order_id)
),
refund_hits AS (  -- stored refunds naming an order id of the file
    SELECT r.customer_id AS stored_customer, c.customer_id AS file_customer
    FROM rfm_refunds AS r JOIN changing AS c USING (order_id)
),
tied AS (
    SELECT stored_customer AS customer_id FROM order_hits
    UNION SELECT file_customer FROM order_hits
    UNION SELECT stored_customer FROM refund_hits
    UNION SELECT file_customer FROM refund_hits
),
everyone AS (
    SELECT customer_id FROM changing
    UNION SELECT customer_id FROM tied
),
earliest_new AS (
    SELECT customer_id, min(rfm_pick_key(ordered_at, order_id)) AS first_key
    FROM changing
    WHERE outcome IN ('imported', 'excluded') AND NOT refund_only
    GROUP BY customer_id
)
SELECT e.customer_id,
       t.customer_id IS NULL AND k.latest_key IS NOT NULL
           AND coalesce(n.first_key > k.latest_key, true) AS by_delta
FROM everyone AS e
LEFT JOIN tied AS t USING (customer_id)
LEFT JOIN rfm_customers AS k USING (customer_id)
LEFT JOIN earliest_new AS n USING (customer_id)
WHERE e.customer_id IS NOT NULL;
