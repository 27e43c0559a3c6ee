-- find_customers: the customers whose orders carry a phone, email, name or id matching a search
-- (`rfm explain --find`): sellers know their customers by phone, not by id.
-- Parameters (each NULL when the search is not of that kind):
--   $phone         VARCHAR: the number searched, digits only (a leading 86 of a 13-digit number
--                  dropped), '*' where the search is masked (138****5678);
--   $phone_prefix, $phone_suffix VARCHAR: of a masked search, the digits before the first and after
--                  the last '*';
--   $email         VARCHAR: trimmed, lowercase;
--   $text          VARCHAR: lowercase; matched as a part of the name or of the customer id.
-- A stored phone is compared the same way: digits and '*' only, a leading 86 of 13 digits dropped.
-- It matches when equal, when it ends with a search of 4-10 digits (a tail: --find 5678), when it
-- is masked and agrees with the search on every digit it shows, or when a masked search agrees
-- with it on every digit the search shows.
-- Output columns: customer_id, customer_name, phone, email (of the latest order that has them),
--   orders (all stored orders, counted or not), last_order_at, matched_on (phone|email|name|id).
-- Grain: one row per matching customer, latest order first.
WITH keyed AS (
    SELECT customer_id, customer_name, phone, email, ordered_at, order_id,
           regexp_replace(phone, '[^0-9*]', '', 'g') AS digits
    FROM rfm_orders
    WHERE customer_id IS NOT NULL
),
normal AS (
    SELECT *,
           CASE WHEN length(digits) = 13 AND starts_with(digits, '86') THEN digits[3:] ELSE digits END AS phone_key
    FROM keyed
),
matched AS (
    SELECT *,
           CASE
               WHEN $phone IS NOT NULL AND phone_key <> '' AND (
                    phone_key = $phone
                    OR (NOT contains($phone, '*') AND length($phone) BETWEEN 4 AND 10
                        AND NOT contains(phone_key, '*') AND suffix(phone_key, $phone))
                    OR (contains(phone_key, '*') AND NOT contains($phone, '*')
                        AND length(phone_key) = length($phone)
                        AND starts_with($phone, regexp_extract(phone_key, '^[0-9]*'))
                        AND suffix($phone, regexp_extract(phone_key, '[0-9]*$')))
                    OR (contains($phone, '*') AND length(phone_key) = length($phone)
                        AND starts_with(phone_key, $phone_prefix) AND suffix(phone_key, $phone_suffix))
               ) THEN 'phone'
               WHEN $email IS NOT NULL AND lower(trim(email)) = $email THEN 'email'
               WHEN $text IS NOT NULL AND contains(lower(customer_name), $text) THEN 'name'
               WHEN $text IS NOT NULL AND contains(lower(customer_id), $text) THEN 'id'
           END AS matched_on
    FROM normal
)
SELECT customer_id,
       arg_max(customer_name, rfm_pick_key(ordered_at, order_id)) FILTER (WHERE customer_name IS NOT NULL)
           AS customer_name,
       arg_max(phone, rfm_pick_key(ordered_at, order_id)) FILTER (WHERE phone IS NOT NULL) AS phone,
       arg_max(email, rfm_pick_key(ordered_at, order_id)) FILTER (WHERE email IS NOT NULL) AS email,
       count(*) AS orders,
       max(ordered_at) AS last_order_at,
       min(matched_on) FILTER (WHERE matched_on IS NOT NULL) AS matched_on
FROM matched
GROUP BY customer_id
HAVING count(matched_on) > 0
ORDER BY last_order_at DESC NULLS LAST, customer_id;
