-- levels_night: each customer's member level on one night (core/levels.py has the rule in words).
-- Parameters: $as_of (DATE), $window_start (DATE: the first day of the rolling window),
--   $hold_days (INTEGER), $match_all (BOOLEAN: every threshold a level gives must be met).
-- Input: temp table level_rules (rank INTEGER, name VARCHAR, min_spend DECIMAL(18,2),
--   min_orders BIGINT): the rules' levels, lowest (rank 0, no thresholds) first; rfm_order_net for
--   the counted rule (BRIEF §3); rfm_levels for the state of the night before.
-- Output: temp table level_night, one row per customer with a counted order on or before $as_of:
--   spend, orders (counted orders placed in the window, and their net), qualified (the highest
--   rank whose thresholds are met), the state before the night (prev_*: a night run again starts
--   from the state before it) and the new one (rank, reached_on, qualified_on).
CREATE OR REPLACE TEMP TABLE level_night AS
WITH totals AS (
    SELECT customer_id,
           CAST(coalesce(sum(net_amount) FILTER (WHERE counted AND CAST(ordered_at AS DATE) >= $window_start), 0)
                AS DECIMAL(18, 2))                                                   AS spend,
           count(*) FILTER (WHERE counted AND CAST(ordered_at AS DATE) >= $window_start) AS orders
    FROM rfm_order_net
    WHERE CAST(ordered_at AS DATE) <= $as_of
    GROUP BY customer_id
    HAVING count(*) FILTER (WHERE counted) > 0
),
qualified AS (
    SELECT t.customer_id, t.spend, t.orders, max(r.rank) AS qualified
    FROM totals AS t
    JOIN level_rules AS r
      ON r.rank = 0
      OR CASE WHEN $match_all
              THEN coalesce(t.spend >= r.min_spend, true) AND coalesce(t.orders >= r.min_orders, true)
              ELSE coalesce(t.spend >= r.min_spend, false) OR coalesce(t.orders >= r.min_orders, false) END
    GROUP BY ALL
),
before AS (  -- the state the night starts from
    SELECT customer_id,
           CASE WHEN as_of = $as_of THEN prev_level ELSE level END               AS level,
           CASE WHEN as_of = $as_of THEN prev_reached_on ELSE reached_on END     AS reached_on,
           CASE WHEN as_of = $as_of THEN prev_qualified_on ELSE qualified_on END AS qualified_on,
           CASE WHEN as_of = $as_of THEN prev_as_of ELSE as_of END               AS as_of
    FROM rfm_levels
),
joined AS (  -- a level the rules no longer have is no state: the customer starts again
    SELECT q.*, b.level AS prev_level, r.rank AS prev_rank, b.reached_on AS prev_reached_on,
           b.qualified_on AS prev_qualified_on, b.as_of AS prev_as_of
    FROM qualified AS q
    LEFT JOIN before AS b USING (customer_id)
    LEFT JOIN level_rules AS r ON r.name = b.level
)
SELECT customer_id, spend, orders, qualified, prev_level, prev_reached_on, prev_qualified_on, prev_as_of,
       CASE WHEN prev_rank IS NULL OR qualified >= prev_rank THEN qualified
            WHEN $as_of - prev_qualified_on < $hold_days THEN prev_rank
            ELSE qualified END                                                  AS rank,
       CASE WHEN prev_rank IS NULL OR qualified > prev_rank THEN $as_of
            WHEN qualified = prev_rank THEN prev_reached_on
            WHEN $as_of - prev_qualified_on < $hold_days THEN prev_reached_on
            ELSE $as_of END                                                     AS reached_on,
       CASE WHEN prev_rank IS NULL OR qualified >= prev_rank THEN $as_of
            WHEN $as_of - prev_qualified_on < $hold_days THEN prev_qualified_on
            ELSE $as_of END                                                     AS qualified_on
FROM joined;
