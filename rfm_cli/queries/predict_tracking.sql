-- predict_tracking: repeat purchases per day by the customers a hold-out check follows (the paper's
--   tracking plot: cumulative repeat purchases, actual against the model's).
-- Parameters: $calibration_end (DATE): customers whose first purchase day is on or before it are
--   followed; $holdout_end (DATE): the last day counted. Counted orders and purchase days as in
--   predict_inputs.sql, with orders after $holdout_end left out.
-- Output columns: day (DATE), repeat_purchases (BIGINT: purchase days of followed customers that are not
--   their first).
-- Grain: one row per day with at least one such repeat purchase, in no particular order.
WITH refunds_by_order AS (
    SELECT order_id, sum(amount) AS refunded
    FROM rfm_refunds
    GROUP BY order_id
),
purchase_days AS (
    SELECT DISTINCT o.customer_id, CAST(o.ordered_at AS DATE) AS day
    FROM rfm_orders AS o
    LEFT JOIN refunds_by_order AS r USING (order_id)
    WHERE o.customer_id IS NOT NULL
      AND o.status = 'counted'
      AND CAST(o.ordered_at AS DATE) <= $holdout_end
      AND o.amount - o.refund_amount - coalesce(r.refunded, 0) > 0
),
with_first AS (
    SELECT day, min(day) OVER (PARTITION BY customer_id) AS first_day
    FROM purchase_days
)
SELECT day, count(*) AS repeat_purchases
FROM with_first
WHERE day > first_day AND first_day <= $calibration_end
GROUP BY day;
