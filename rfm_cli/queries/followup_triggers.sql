-- followup_triggers: per customer, the orders a day-N follow-up counts from (core/followups.py).
-- Parameters: $as_of (DATE): orders after this day are left out, as customer_rfm.sql does;
--   $since (DATE or NULL): the analysis window's first day (rfm_in_window); NULL: all history.
-- Only counted orders trigger (the counted rule of the view rfm_order_net, migrate_v17.sql): a
--   refunded or cancelled first order is no first order, so a customer whose only order went back
--   is on no follow-up list.
-- The trigger day of an order is the day it was delivered (delivered_at, when the export gave one),
--   else the day it was placed. First and last are by placing time, ties by order id (rfm_pick_key).
-- Output columns: customer_id, counted_orders (BIGINT),
--   first_order_id, first_order_day (DATE), first_order_basis ('delivered' | 'ordered'),
--   last_order_id, last_order_day (DATE), last_order_basis.
-- Grain: one row per customer with a counted order on or before $as_of.
WITH counted AS (
    SELECT customer_id, order_id,
           CAST(coalesce(delivered_at, ordered_at) AS DATE)                       AS trigger_day,
           CASE WHEN delivered_at IS NULL THEN 'ordered' ELSE 'delivered' END     AS basis,
           rfm_pick_key(ordered_at, order_id)                                     AS pick_key
    FROM rfm_order_net
    WHERE counted AND CAST(ordered_at AS DATE) <= $as_of AND rfm_in_window(ordered_at, $since)
)
SELECT customer_id,
       count(*)                          AS counted_orders,
       arg_min(order_id, pick_key)       AS first_order_id,
       arg_min(trigger_day, pick_key)    AS first_order_day,
       arg_min(basis, pick_key)          AS first_order_basis,
       arg_max(order_id, pick_key)       AS last_order_id,
       arg_max(trigger_day, pick_key)    AS last_order_day,
       arg_max(basis, pick_key)          AS last_order_basis
FROM counted
GROUP BY customer_id;
