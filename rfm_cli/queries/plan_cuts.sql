-- plan_cuts: the portable scoring plan, part 2 of 3: the quantile cut points of one dimension,
--   one row, computed over the dimension's DISTINCT values with integer arithmetic only, so no
--   engine's division, rounding or sort of the customers matters (plan.py renders it once per
--   quantile dimension, {{value}} being recency_days, frequency or monetary).
-- Why it equals rfm's score (scoring.py): score = 1 + floor(5 x L / N), L = customers with a
--   strictly worse value, N = customers. So score >= k  <=>  5 L >= (k-1) N  <=>  L >= q_k with
--   q_k = ceil((k-1) N / 5)  <=>  the q_k-th worst customer value is strictly worse than the
--   value. Over distinct values with their customer counts, the q_k-th lowest customer value is
--   the least distinct value d with 5 x (customers at or below d) >= (k-1) N (no division: the
--   count is an integer, so it is >= q_k exactly when it is >= (k-1) N / 5).
--   Higher is better (frequency, monetary): score >= k  <=>  value > above_k.
--   Lower is better (recency_days): score >= k  <=>  value < below_k, from the other end
--   (customers at or above d = N - customers below d).
-- Input: relation customers (plan_customers.sql). The one window runs over the distinct values
--   only (far fewer rows than customers: money in cents repeats), never over the customers.
-- Output columns: above_2 .. above_5, below_2 .. below_5 (the type of {{value}}; plan.py prefixes
--   them r_ / f_ / m_).
-- Grain: one row.
WITH distinct_values AS (
    SELECT {{value}} AS value, count(*) AS customers
    FROM customers
    WHERE {{value}} IS NOT NULL
    GROUP BY {{value}}
),
counted AS (
    SELECT value,
           -- NULLS FIRST on values that are never NULL: the order every target writes without a
           -- clause it may not support (BigQuery windows take no NULLS LAST).
           CAST(sum(customers) OVER (ORDER BY value NULLS FIRST
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS at_or_below,
           CAST(customers AS BIGINT)                                                          AS here,
           CAST(sum(customers) OVER () AS BIGINT)                                             AS n
    FROM distinct_values
)
SELECT min(CASE WHEN 5 * at_or_below >= 1 * n THEN value END)               AS above_2,
       min(CASE WHEN 5 * at_or_below >= 2 * n THEN value END)               AS above_3,
       min(CASE WHEN 5 * at_or_below >= 3 * n THEN value END)               AS above_4,
       min(CASE WHEN 5 * at_or_below >= 4 * n THEN value END)               AS above_5,
       max(CASE WHEN 5 * (n - at_or_below + here) >= 1 * n THEN value END)  AS below_2,
       max(CASE WHEN 5 * (n - at_or_below + here) >= 2 * n THEN value END)  AS below_3,
       max(CASE WHEN 5 * (n - at_or_below + here) >= 3 * n THEN value END)  AS below_4,
       max(CASE WHEN 5 * (n - at_or_below + here) >= 4 * n THEN value END)  AS below_5
FROM counted
