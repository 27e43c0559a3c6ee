WITH lines AS (
  SELECT
    NULLIF(TRIM(CAST(`order_id` AS STRING)), '') AS order_id,
    NULLIF(TRIM(CAST(`customer_id` AS STRING)), '') AS customer_id,
    CAST(`created_at` AS DATETIME) AS order_ts,
    CAST(CAST(`amount_cents` AS NUMERIC) * CAST(0.01 AS NUMERIC) AS NUMERIC) AS amount,
    CAST(NULL AS NUMERIC) AS refund_amount,
    LOWER(TRIM(CAST(`state` AS STRING))) AS status,
    NULLIF(TRIM(CAST(`customer_name` AS STRING)), '') AS customer_name,
    NULLIF(TRIM(CAST(`phone` AS STRING)), '') AS phone,
    NULLIF(TRIM(CAST(`email` AS STRING)), '') AS email
  FROM shop.sales_lines
), orders AS (
  SELECT
    order_id,
    MAX(customer_id) AS customer_id,
    MIN(order_ts) AS ordered_at,
    SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS amount,
    SUM(COALESCE(refund_amount, 0) + CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS refunded,
    MAX(
      CASE
        WHEN COALESCE(amount, 0) >= 0
        AND (
          status IS NULL
          OR status IN ('counted', 'paid', 'completed', 'complete', 'shipped', 'delivered', 'success')
        )
        THEN 1
        ELSE 0
      END
    ) AS paid,
    MIN(CASE WHEN amount < 0 THEN 1 ELSE 0 END) AS refund_only,
    MAX(
      CASE
        WHEN order_ts IS NULL
        OR (
          amount IS NULL
          AND (
            status IS NULL
            OR status IN ('counted', 'paid', 'completed', 'complete', 'shipped', 'delivered', 'success')
          )
        )
        THEN 1
        ELSE 0
      END
    ) AS unreadable,
    MAX(customer_name) AS customer_name,
    MAX(phone) AS phone,
    MAX(email) AS email
  FROM lines
  WHERE
    NOT order_id IS NULL
  GROUP BY
    order_id
), as_of_day AS (
  SELECT
    COALESCE(
      CAST('2026-03-31' AS DATE),
      CAST(MAX(
        CASE
          WHEN refund_only = 0
          AND unreadable = 0
          AND NOT customer_id IS NULL
          AND paid = 1
          AND amount - refunded > 0
          THEN ordered_at
        END
      ) AS DATE)
    ) AS as_of
  FROM orders
), flagged AS (
  SELECT
    o.customer_id,
    o.order_id,
    o.ordered_at,
    o.customer_name,
    o.phone,
    o.email,
    o.refund_only,
    a.as_of,
    o.amount - o.refunded AS net_amount,
    o.refund_only = 0 AND CAST(o.ordered_at AS DATE) <= a.as_of AS eligible,
    o.refund_only = 0
    AND CAST(o.ordered_at AS DATE) <= a.as_of
    AND o.paid = 1
    AND o.amount - o.refunded > 0 AS counted
  FROM orders AS o
  CROSS JOIN as_of_day AS a
  WHERE
    o.unreadable = 0 AND NOT o.customer_id IS NULL
), totals AS (
  SELECT
    customer_id,
    MAX(as_of) AS as_of,
    MIN(CASE WHEN counted THEN ordered_at END) AS first_order_at,
    MAX(CASE WHEN counted THEN ordered_at END) AS last_order_at,
    COUNT(CASE WHEN counted THEN 1 END) AS frequency,
    SUM(CASE WHEN counted OR refund_only = 1 THEN net_amount ELSE 0 END) AS spend, /* a refund row has no positive line: its net amount is minus its refund */
    MAX(CASE WHEN eligible AND NOT customer_name IS NULL THEN ordered_at END) AS name_at,
    MAX(CASE WHEN eligible AND NOT phone IS NULL THEN ordered_at END) AS phone_at,
    MAX(CASE WHEN eligible AND NOT email IS NULL THEN ordered_at END) AS email_at
  FROM flagged
  GROUP BY
    customer_id
  HAVING
    COUNT(CASE WHEN counted THEN 1 END) > 0
), latest_orders AS (
  SELECT
    t.customer_id,
    e.order_id,
    e.customer_name,
    e.phone,
    e.email,
    e.ordered_at = t.name_at AND NOT e.customer_name IS NULL AS gives_name,
    e.ordered_at = t.phone_at AND NOT e.phone IS NULL AS gives_phone,
    e.ordered_at = t.email_at AND NOT e.email IS NULL AS gives_email,
    TO_HEX(MD5(e.order_id)) AS id_md5
  FROM totals AS t
  JOIN flagged AS e
    ON e.customer_id = t.customer_id
  WHERE
    e.eligible
    AND (
      e.ordered_at = t.name_at OR e.ordered_at = t.phone_at OR e.ordered_at = t.email_at
    )
), keyed AS (
  SELECT
    customer_id,
    customer_name,
    phone,
    email,
    gives_name,
    gives_phone,
    gives_email,
    CASE
      WHEN LENGTH(order_id) BETWEEN 1 AND 20
      AND TRANSLATE(order_id, '0123456789', '') = ''
      AND (
        order_id = '0' OR SUBSTRING(order_id, 1, 1) <> '0'
      )
      AND LPAD(order_id, 20, '0') <= '18446744073709551615'
      THEN LPAD(order_id, 20, '0')
      ELSE LPAD(
        CAST(CAST((
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 17, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 18, 1)) - 1
        ) + (
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 19, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 20, 1)) - 1
        ) * CAST(256 AS NUMERIC) + (
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 21, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 22, 1)) - 1
        ) * CAST(65536 AS NUMERIC) + (
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 23, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 24, 1)) - 1
        ) * CAST(16777216 AS NUMERIC) + (
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 25, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 26, 1)) - 1
        ) * CAST(4294967296 AS NUMERIC) + (
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 27, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 28, 1)) - 1
        ) * CAST(1099511627776 AS NUMERIC) + (
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 29, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 30, 1)) - 1
        ) * CAST(281474976710656 AS NUMERIC) + (
          16 * (
            INSTR('0123456789abcdef', SUBSTRING(id_md5, 31, 1)) - 1
          ) + INSTR('0123456789abcdef', SUBSTRING(id_md5, 32, 1)) - 1
        ) * CAST(72057594037927936 AS NUMERIC) AS NUMERIC) AS STRING),
        20,
        '0'
      )
    END AS pick_key
  FROM latest_orders
), contacts AS (
  SELECT
    customer_id,
    SUBSTRING(MAX(CASE WHEN gives_name THEN pick_key || customer_name END), 21) AS customer_name,
    SUBSTRING(MAX(CASE WHEN gives_phone THEN pick_key || phone END), 21) AS phone,
    SUBSTRING(MAX(CASE WHEN gives_email THEN pick_key || email END), 21) AS email
  FROM keyed
  GROUP BY
    customer_id
), customers AS (
  SELECT
    t.customer_id,
    c.customer_name,
    c.phone,
    c.email,
    t.first_order_at,
    t.last_order_at,
    CAST(DATE_DIFF(t.as_of, CAST(t.last_order_at AS DATE), DAY) AS INT64) AS recency_days,
    CAST(t.frequency AS INT64) AS frequency,
    CAST(t.spend AS NUMERIC) AS monetary
  FROM totals AS t
  LEFT JOIN contacts AS c
    ON c.customer_id = t.customer_id
), f_distinct_values AS (
  SELECT
    frequency AS value,
    COUNT(*) AS customers
  FROM customers
  WHERE
    NOT frequency IS NULL
  GROUP BY
    frequency
), f_counted AS (
  SELECT
    value,
    CAST(SUM(customers) OVER (ORDER BY value ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INT64) AS at_or_below, /* NULLS FIRST on values that are never NULL: the order every target writes without a */ /* clause it may not support (BigQuery windows take no NULLS LAST). */
    CAST(customers AS INT64) AS here,
    CAST(SUM(customers) OVER () AS INT64) AS n
  FROM f_distinct_values
), f_cuts AS (
  SELECT
    MIN(CASE WHEN 5 * at_or_below >= 1 * n THEN value END) AS f_above_2,
    MIN(CASE WHEN 5 * at_or_below >= 2 * n THEN value END) AS f_above_3,
    MIN(CASE WHEN 5 * at_or_below >= 3 * n THEN value END) AS f_above_4,
    MIN(CASE WHEN 5 * at_or_below >= 4 * n THEN value END) AS f_above_5,
    MAX(CASE WHEN 5 * (
      n - at_or_below + here
    ) >= 1 * n THEN value END) AS f_below_2,
    MAX(CASE WHEN 5 * (
      n - at_or_below + here
    ) >= 2 * n THEN value END) AS f_below_3,
    MAX(CASE WHEN 5 * (
      n - at_or_below + here
    ) >= 3 * n THEN value END) AS f_below_4,
    MAX(CASE WHEN 5 * (
      n - at_or_below + here
    ) >= 4 * n THEN value END) AS f_below_5
  FROM f_counted
), cuts AS (
  SELECT
    *
  FROM f_cuts
)
SELECT
  customer_id,
  customer_name,
  phone,
  email,
  first_order_at,
  last_order_at,
  recency_days,
  frequency,
  monetary,
  r_score,
  f_score,
  m_score,
  CAST(r_score * 100 + f_score * 10 + m_score AS STRING) AS rfm_code,
  CASE
    WHEN (
      (
        (
          m_score = 5
        ) AND (
          1 <= r_score AND r_score < 4
        )
      )
      OR (
        frequency IN (7, 8)
      )
    )
    THEN 'vip'
    WHEN (
      NOT (
        monetary > -10.25
      )
    )
    THEN 'o-neil'
    WHEN TRUE
    THEN 'rest'
  END AS tier
FROM (
  SELECT
    c.*,
    CAST(CASE
      WHEN c.recency_days <= 30
      THEN 5
      WHEN c.recency_days <= 60
      THEN 4
      WHEN c.recency_days <= 90
      THEN 3
      WHEN c.recency_days <= 180
      THEN 2
      ELSE 1
    END AS INT64) AS r_score,
    CAST(CASE
      WHEN c.frequency > q.f_above_5
      THEN 5
      WHEN c.frequency > q.f_above_4
      THEN 4
      WHEN c.frequency > q.f_above_3
      THEN 3
      WHEN c.frequency > q.f_above_2
      THEN 2
      ELSE 1
    END AS INT64) AS f_score,
    CAST(CASE
      WHEN c.monetary >= 3000
      THEN 5
      WHEN c.monetary >= 1000
      THEN 4
      WHEN c.monetary >= 300.5
      THEN 3
      WHEN c.monetary >= 100
      THEN 2
      ELSE 1
    END AS INT64) AS m_score
  FROM customers AS c
  CROSS JOIN cuts AS q
) AS scored;
