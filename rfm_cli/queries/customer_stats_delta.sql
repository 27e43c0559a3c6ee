-- customer_stats_delta: the new rfm_customers rows of the customers whose change is only new orders
-- and refunds of this file (_rfm_scope.by_delta): the old row plus the file's part, computed by
-- customer_rfm.sql's per-customer aggregates (macro rfm_per_customer) over the file's orders.
-- Input:  temp tables _rfm_scope (customer_stats_scope.sql, taken before the merge) and
--         order_outcomes (the file's orders); table rfm_customers, not yet refreshed.
-- Why the file alone is enough, for these customers (by_delta's conditions): every refund of one
--   of their new orders is in the file, none of their new refunds names a stored order (so one names
--   a new order of the file or no order: unmatched), and their new orders are later than every
--   stored one (so the latest order having a contact field is the file's, where it has one).
-- Output: temp table _rfm_delta, the columns of rfm_customers; one row per by_delta customer.
CREATE OR REPLACE TEMP TABLE _rfm_delta AS
WITH delta_customers AS (
    SELECT customer_id FROM _rfm_scope WHERE by_delta
),
new_orders AS (
    SELECT order_id, customer_id, ordered_at, amount, refund_amount, status, customer_name, phone, email
    FROM order_outcomes
    WHERE outcome IN ('imported', 'excluded') AND NOT refund_only
),
new_refunds AS (
    SELECT order_id, customer_id, refund_amount AS amount
    FROM order_outcomes
    WHERE outcome IN ('imported', 'excluded') AND refund_only
),
refunds_by_order AS (
    SELECT order_id, sum(amount) AS refunded
    FROM new_refunds
    GROUP BY order_id
),
orders_net AS (
    SELECT o.customer_id, o.ordered_at, o.status, o.customer_name, o.phone, o.email,
           rfm_pick_key(o.ordered_at, o.order_id) AS pick_key,
           o.amount - o.refund_amount - coalesce(r.refunded, 0) AS net_amount
    FROM new_orders AS o
    LEFT JOIN refunds_by_order AS r USING (order_id)
    WHERE o.customer_id IN (SELECT customer_id FROM delta_customers)
),
unmatched AS (
    SELECT f.customer_id, sum(f.amount) AS refunded
    FROM new_refunds AS f
    WHERE f.customer_id IN (SELECT customer_id FROM delta_customers)
      AND NOT EXISTS (SELECT 1 FROM new_orders AS o WHERE o.order_id = f.order_id)
    GROUP BY f.customer_id
),
per_customer AS (SELECT * FROM rfm_per_customer('orders_net'))  -- macros.sql, as customer_rfm.sql
SELECT c.customer_id,
       coalesce(p.customer_name, c.customer_name)                              AS customer_name,
       coalesce(p.phone, c.phone)                                              AS phone,
       coalesce(p.email, c.email)                                              AS email,
       least(c.first_order_at, p.first_order_at)                               AS first_order_at,
       greatest(c.last_order_at, p.last_order_at)                              AS last_order_at,
       c.frequency + coalesce(p.frequency, 0)                                  AS frequency,
       c.spend + coalesce(p.counted_spend, 0) - coalesce(u.refunded, 0)        AS spend,
       c.unmatched_refunds + coalesce(u.refunded, 0)                           AS unmatched_refunds,
       greatest(c.latest_key, p.latest_key)                                    AS latest_key
FROM rfm_customers AS c
SEMI JOIN delta_customers AS d USING (customer_id)
LEFT JOIN per_customer AS p USING (customer_id)
LEFT JOIN unmatched AS u USING (customer_id);
