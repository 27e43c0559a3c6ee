-- predict_holdout: for a hold-out check, each calibration customer's purchase days after the calibration.
-- Parameters: $calibration_end (DATE): the last day the model was fitted on; $holdout_end (DATE): the
--   last day of the hold-out period. Counted orders and purchase days as in predict_inputs.sql, with
--   orders after $holdout_end left out.
-- Output columns: customer_id, holdout_purchases (BIGINT: purchase days after $calibration_end, on or
--   before $holdout_end).
-- Grain: one row per customer whose first purchase day is on or before $calibration_end (the customers
--   predict_inputs.sql returns at $calibration_end), in no particular order.
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
)
SELECT customer_id, count(*) FILTER (WHERE day > $calibration_end) AS holdout_purchases
FROM purchase_days
GROUP BY customer_id
HAVING min(day) <= $calibration_end;
