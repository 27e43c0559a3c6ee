-- campaign_outcomes: what each customer drawn into a campaign bought around its send (rfm campaign report).
-- Input:  rfm_campaign_members, view rfm_order_net (net amount and counted rule of every order,
--         BRIEF §3), rfm_order_codes (discount codes per order, schema 11).
-- Parameters: $campaign; $selected_after (the day after the scores' as-of date), $window_from (the
--         send day: the window's first), $window_to (the day after the window's last day): timestamps.
-- Output columns: customer_id, arm, coupon_code,
--         orders, revenue         counted orders placed in the window, their net amount (refunds off);
--         refunded_orders         orders placed in the window that were refunded in full (not counted);
--         refunds                 what partial refunds took off the window's counted orders;
--         later_orders            counted orders after the window (not attributed);
--         pre_send_orders         counted orders after the scores' date and before the send day:
--                                 bought before the message went out;
--         redeemed                the customer's code appears as a word of the discount-code cell of a
--                                 counted window order (anyone's: a forwarded code counts), or NULL
--                                 when the customer had no code.
-- Grain:  one row per customer drawn.
WITH members AS (
    SELECT customer_id, arm, coupon_code
    FROM rfm_campaign_members
    WHERE campaign = $campaign
),
orders AS (
    SELECT n.*
    FROM rfm_order_net AS n
    WHERE n.customer_id IN (SELECT customer_id FROM members) AND n.ordered_at >= $selected_after
),
window_codes AS (
    SELECT DISTINCT unnest(regexp_split_to_array(upper(c.code), '[^0-9A-Z_-]+')) AS word
    FROM rfm_order_codes AS c
    JOIN rfm_order_net AS n USING (order_id)
    WHERE n.counted AND n.ordered_at >= $window_from AND n.ordered_at < $window_to
),
per_customer AS (
    SELECT customer_id,
           count(*) FILTER (WHERE counted AND ordered_at >= $window_from AND ordered_at < $window_to)  AS orders,
           sum(net_amount) FILTER (WHERE counted AND ordered_at >= $window_from AND ordered_at < $window_to)
                                                                                                   AS revenue,
           count(*) FILTER (WHERE NOT counted AND ordered_at >= $window_from AND ordered_at < $window_to
                              AND (status = 'refunded' OR not_counted_reason = 'fully refunded')) AS refunded_orders,
           sum(refund_amount + later_refunds) FILTER (WHERE counted AND ordered_at >= $window_from
                                                        AND ordered_at < $window_to)           AS refunds,
           count(*) FILTER (WHERE counted AND ordered_at >= $window_to)                          AS later_orders,
           count(*) FILTER (WHERE counted AND ordered_at < $window_from)                         AS pre_send_orders
    FROM orders
    GROUP BY customer_id
)
SELECT m.customer_id, m.arm, m.coupon_code,
       coalesce(p.orders, 0)                          AS orders,
       CAST(coalesce(p.revenue, 0) AS DOUBLE)         AS revenue,
       coalesce(p.refunded_orders, 0)                 AS refunded_orders,
       CAST(coalesce(p.refunds, 0) AS DOUBLE)         AS refunds,
       coalesce(p.later_orders, 0)                    AS later_orders,
       coalesce(p.pre_send_orders, 0)                 AS pre_send_orders,
       CASE WHEN m.coupon_code IS NOT NULL
            THEN upper(m.coupon_code) IN (SELECT word FROM window_codes) END AS redeemed
FROM members AS m
LEFT JOIN per_customer AS p USING (customer_id)
ORDER BY m.arm, m.customer_id;
