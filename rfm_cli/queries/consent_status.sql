-- consent_status: each customer's latest consent event for one channel, granted or withdrawn
-- (the Google list's ad_user_data / ad_personalization columns: rfm_cli/core/compliance/eea.py).
-- Parameters: $channel VARCHAR (sms | email | ads). Events for 'any' count; at the same moment a
--   channel's own event beats an 'any' one and a withdrawal beats a grant (as consent_in_force.sql).
-- Only customer_id events (imports and `rfm consent add CUSTOMER_ID`) and phone/email events reached
--   through the orders carrying them.
-- Output columns: customer_id, status. Grain: one row per customer with an event.
WITH order_keys AS (
    SELECT DISTINCT customer_id,
           CASE WHEN length(d) = 13 AND starts_with(d, '86') THEN d[3:] ELSE d END AS phone_key,
           lower(trim(email)) AS email_key
    FROM (SELECT customer_id, regexp_replace(phone, '[^0-9]', '', 'g') AS d, email FROM rfm_orders
          WHERE customer_id IS NOT NULL AND EXISTS (SELECT 1 FROM rfm_consent WHERE kind <> 'customer_id'))
),
events AS (
    SELECT value AS customer_id, channel, status, recorded_at FROM rfm_consent WHERE kind = 'customer_id'
    UNION ALL
    SELECT k.customer_id, c.channel, c.status, c.recorded_at
    FROM rfm_consent AS c JOIN order_keys AS k ON c.kind = 'phone' AND k.phone_key = c.value
    UNION ALL
    SELECT k.customer_id, c.channel, c.status, c.recorded_at
    FROM rfm_consent AS c JOIN order_keys AS k ON c.kind = 'email' AND k.email_key = c.value
)
SELECT customer_id,
       arg_max(status, epoch_us(recorded_at) * 4 + CASE WHEN channel = 'any' THEN 0 ELSE 2 END
                       + CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END) AS status
FROM events
WHERE channel IN ($channel, 'any')
GROUP BY customer_id;
