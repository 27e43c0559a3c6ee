-- plan_customers: the portable scoring plan, part 1 of 3: recency, frequency and monetary per
--   customer from order lines, exactly as rfm's import and customer_rfm.sql compute them (BRIEF §3).
--   Written in DuckDB's dialect with only functions every target has; rfm_cli/core/plan.py renders
--   the {{...}} parts and translates the whole with sqlglot (duckdb, postgres, spark, bigquery,
--   snowflake). No window and no sort: every step is a GROUP BY or a join on customer or order.
-- Input: relation lines (plan.py's typed projection of the user's table), one row per order line:
--   order_id, customer_id (VARCHAR, '' read as missing), order_ts (TIMESTAMP, the seller's wall
--   clock), amount (DECIMAL(18,2): negative = a refund line), refund_amount (DECIMAL(18,2)),
--   status (lower case: NULL or a counted word = paid), customer_name, phone, email.
-- Parameters: {{as_of}} a DATE, or NULL for the date of the latest counted order;
--   {{counted_words}} the status words that mean paid.
-- Rules (as the import, import_group_orders.sql, and customer_rfm.sql):
--   lines sharing an order_id are one order: amount = its positive lines, refunded = its refund
--   column plus its negative lines; it is paid when a non-negative line is; an order with a line
--   lacking a time, or a paid line lacking an amount, is left out whole (the import rejects it);
--   an order whose lines are all negative is a refund row: it names no order with a purchase
--   line, so it reduces its customer's monetary, whatever its date;
--   counted = paid and net (amount - refunded) > 0, placed on or before the as-of date;
--   contacts come from the customer's latest order that has them; of orders placed at the same
--   moment, the greatest pick key: the order id as a number when it is one (plain digits that fit
--   64 bits, no leading zero), else the low 64 bits of its md5 read little-endian, which is
--   DuckDB's md5_number_lower (macros.sql rfm_pick_key), both as 20 zero-padded digits so
--   max(key || value) picks the value (a portable arg_max).
-- Output columns: customer_id, customer_name, phone, email, first_order_at, last_order_at,
--   recency_days (BIGINT), frequency (BIGINT), monetary (DECIMAL(18,2)).
-- Grain: one row per customer with at least one counted order; no order.
WITH orders AS (
    SELECT order_id,
           max(customer_id)                                                         AS customer_id,
           min(order_ts)                                                            AS ordered_at,
           sum(CASE WHEN amount > 0 THEN amount ELSE 0 END)                         AS amount,
           sum(coalesce(refund_amount, 0) + CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS refunded,
           max(CASE WHEN coalesce(amount, 0) >= 0 AND (status IS NULL OR status IN ({{counted_words}}))
                    THEN 1 ELSE 0 END)                                              AS paid,
           min(CASE WHEN amount < 0 THEN 1 ELSE 0 END)                              AS refund_only,
           max(CASE WHEN order_ts IS NULL
                      OR (amount IS NULL AND (status IS NULL OR status IN ({{counted_words}})))
                    THEN 1 ELSE 0 END)                                              AS unreadable,
           max(customer_name)                                                       AS customer_name,
           max(phone)                                                               AS phone,
           max(email)                                                               AS email
    FROM lines
    WHERE order_id IS NOT NULL
    GROUP BY order_id
),
as_of_day AS (
    SELECT coalesce({{as_of}}, CAST(max(CASE WHEN refund_only = 0 AND unreadable = 0 AND customer_id IS NOT NULL
                                             AND paid = 1 AND amount - refunded > 0
                                        THEN ordered_at END) AS DATE)) AS as_of
    FROM orders
),
flagged AS (  -- a customer's orders and refund rows; an order's refund lines are netted within it
    SELECT o.customer_id, o.order_id, o.ordered_at, o.customer_name, o.phone, o.email, o.refund_only, a.as_of,
           o.amount - o.refunded                                                     AS net_amount,
           o.refund_only = 0 AND CAST(o.ordered_at AS DATE) <= a.as_of               AS eligible,
           o.refund_only = 0 AND CAST(o.ordered_at AS DATE) <= a.as_of
               AND o.paid = 1 AND o.amount - o.refunded > 0                          AS counted
    FROM orders AS o
    CROSS JOIN as_of_day AS a
    WHERE o.unreadable = 0 AND o.customer_id IS NOT NULL
),
totals AS (
    SELECT customer_id,
           max(as_of)                                                             AS as_of,
           min(CASE WHEN counted THEN ordered_at END)                             AS first_order_at,
           max(CASE WHEN counted THEN ordered_at END)                             AS last_order_at,
           count(CASE WHEN counted THEN 1 END)                                    AS frequency,
           -- a refund row has no positive line: its net amount is minus its refund
           sum(CASE WHEN counted OR refund_only = 1 THEN net_amount ELSE 0 END)   AS spend,
           max(CASE WHEN eligible AND customer_name IS NOT NULL THEN ordered_at END) AS name_at,
           max(CASE WHEN eligible AND phone IS NOT NULL THEN ordered_at END)      AS phone_at,
           max(CASE WHEN eligible AND email IS NOT NULL THEN ordered_at END)      AS email_at
    FROM flagged
    GROUP BY customer_id
    HAVING count(CASE WHEN counted THEN 1 END) > 0
),
latest_orders AS (  -- the orders that can give a contact: those placed at a field's latest moment
    SELECT t.customer_id, e.order_id, e.customer_name, e.phone, e.email,
           e.ordered_at = t.name_at AND e.customer_name IS NOT NULL AS gives_name,
           e.ordered_at = t.phone_at AND e.phone IS NOT NULL        AS gives_phone,
           e.ordered_at = t.email_at AND e.email IS NOT NULL        AS gives_email,
           md5(e.order_id)                                          AS id_md5
    FROM totals AS t
    JOIN flagged AS e ON e.customer_id = t.customer_id
    WHERE e.eligible AND (e.ordered_at = t.name_at OR e.ordered_at = t.phone_at OR e.ordered_at = t.email_at)
),
keyed AS (
    SELECT customer_id, customer_name, phone, email, gives_name, gives_phone, gives_email,
           CASE WHEN length(order_id) BETWEEN 1 AND 20
                 AND translate(order_id, '0123456789', '') = ''
                 AND (order_id = '0' OR substr(order_id, 1, 1) <> '0')
                 AND lpad(order_id, 20, '0') <= '18446744073709551615'
                THEN lpad(order_id, 20, '0')
                ELSE lpad(CAST(CAST(
                       (16 * (strpos('0123456789abcdef', substr(id_md5, 17, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 18, 1)) - 1)
                     + (16 * (strpos('0123456789abcdef', substr(id_md5, 19, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 20, 1)) - 1)
                       * CAST(256 AS DECIMAL(20, 0))
                     + (16 * (strpos('0123456789abcdef', substr(id_md5, 21, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 22, 1)) - 1)
                       * CAST(65536 AS DECIMAL(20, 0))
                     + (16 * (strpos('0123456789abcdef', substr(id_md5, 23, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 24, 1)) - 1)
                       * CAST(16777216 AS DECIMAL(20, 0))
                     + (16 * (strpos('0123456789abcdef', substr(id_md5, 25, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 26, 1)) - 1)
                       * CAST(4294967296 AS DECIMAL(20, 0))
                     + (16 * (strpos('0123456789abcdef', substr(id_md5, 27, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 28, 1)) - 1)
                       * CAST(1099511627776 AS DECIMAL(20, 0))
                     + (16 * (strpos('0123456789abcdef', substr(id_md5, 29, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 30, 1)) - 1)
                       * CAST(281474976710656 AS DECIMAL(20, 0))
                     + (16 * (strpos('0123456789abcdef', substr(id_md5, 31, 1)) - 1)
                           + strpos('0123456789abcdef', substr(id_md5, 32, 1)) - 1)
                       * CAST(72057594037927936 AS DECIMAL(20, 0))
                     AS DECIMAL(20, 0)) AS VARCHAR), 20, '0')
           END AS pick_key
    FROM latest_orders
),
contacts AS (
    SELECT customer_id,
           substr(max(CASE WHEN gives_name THEN pick_key || customer_name END), 21)  AS customer_name,
           substr(max(CASE WHEN gives_phone THEN pick_key || phone END), 21)         AS phone,
           substr(max(CASE WHEN gives_email THEN pick_key || email END), 21)         AS email
    FROM keyed
    GROUP BY customer_id
)
SELECT t.customer_id, c.customer_name, c.phone, c.email, t.first_order_at, t.last_order_at,
       CAST(date_diff('day', CAST(t.last_order_at AS DATE), t.as_of) AS BIGINT)   AS recency_days,
       CAST(t.frequency AS BIGINT)                                                AS frequency,
       CAST(t.spend AS DECIMAL(18, 2))                                            AS monetary
FROM totals AS t
LEFT JOIN contacts AS c ON c.customer_id = t.customer_id
