-- report_activity: counted orders by first-order month (cohort) and order month, for the report's monthly
-- new-vs-returning chart and its cohort retention heatmap.
-- Input: a relation `facts` with the columns of order_facts.sql (the caller puts it in a WITH).
-- Output columns: cohort (DATE, first day of the customer's first counted month), month (DATE),
--   customers (customers of the cohort with a counted order that month), orders, revenue (net).
-- Grain: one row per (cohort, month) with at least one counted order; a few hundred rows at most.
counted AS (
    SELECT customer_id, CAST(date_trunc('month', ordered_at) AS DATE) AS month, net_amount
    FROM facts
    WHERE counted
),
firsts AS (
    SELECT customer_id, min(month) AS cohort
    FROM counted
    GROUP BY customer_id
),
active AS (
    SELECT customer_id, month, count(*) AS orders, sum(net_amount) AS revenue
    FROM counted
    GROUP BY customer_id, month
)
SELECT f.cohort, a.month, count(*) AS customers, CAST(sum(a.orders) AS BIGINT) AS orders,
       CAST(sum(a.revenue) AS DOUBLE) AS revenue
FROM active AS a
JOIN firsts AS f USING (customer_id)
GROUP BY f.cohort, a.month
ORDER BY f.cohort, a.month
