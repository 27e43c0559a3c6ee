-- plan_scores: the portable scoring plan, part 3 of 3: each customer's scores, RFM code and tier,
--   row by row (no window, no sort). plan.py renders the score CASEs from the rules' dimensions
--   (fixed breakpoints, or the cut points of plan_cuts.sql) and the tier CASE from the rules
--   file's parsed conditions (rules_sql.py): the first rule that matches wins, and the rules were
--   proved to cover every customer when they were loaded.
-- Input: relations customers (plan_customers.sql) and, when a dimension is quantile, cuts (one
--   row: plan_cuts.sql's columns of each quantile dimension, prefixed r_ / f_ / m_).
-- Parameters: {{r_score}}, {{f_score}}, {{m_score}}, {{tier}}: CASE expressions; {{cuts}}: the
--   join of the cuts row, or nothing.
-- Output columns (rfm score's, in order): customer_id, customer_name, phone, email,
--   first_order_at, last_order_at, recency_days, frequency, monetary, r_score, f_score, m_score
--   (INTEGER), rfm_code (VARCHAR), tier (VARCHAR).
-- Grain: one row per customer; no order.
SELECT customer_id, customer_name, phone, email, first_order_at, last_order_at,
       recency_days, frequency, monetary, r_score, f_score, m_score,
       CAST(r_score * 100 + f_score * 10 + m_score AS VARCHAR) AS rfm_code,
       {{tier}} AS tier
FROM (
    SELECT c.*,
           CAST({{r_score}} AS INTEGER) AS r_score,
           CAST({{f_score}} AS INTEGER) AS f_score,
           CAST({{m_score}} AS INTEGER) AS m_score
    FROM customers AS c
    {{cuts}}
) AS scored
