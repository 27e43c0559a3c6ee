-- macros: functions used by the SQL of every command (the per-customer queries, their scope and the
-- analysis window). Written TEMP; store._ensure_macros defines them TEMP on the first store of a DuckDB
-- instance and once on the instance for the stores after it (core/instances.py): opening a
-- database writes nothing to it (a damaged file stays as it was). The import's cell cleaning is in
-- import_macros.sql, created when a file is staged.
-- rfm_pick_key(t, id) TIMESTAMP, VARCHAR -> HUGEINT: which of a customer's orders is the latest, for
--                  picking contact fields: by time, and at the same moment the greater order id: as
--                  a number when it is one (plain digits that fit 64 bits), else by a fixed hash
--                  (md5) of the id. One fixed-size number, where the pair (t, id) made DuckDB build a
--                  sort key per row: customer_rfm.sql at 10M orders took 4.6 s instead of 7.8 s.
--                  The time is multiplied by 2^64 rather than shifted: DuckDB refuses to shift a
--                  negative number, which a time before 1970 is (same keys for every other time).
-- rfm_in_window(t, since) TIMESTAMP, DATE -> BOOLEAN: an order (or refund row) at time t is inside
--                  the analysis window (--window / --since) that starts on the day `since`; NULL:
--                  no window, all history. The one rule: customer_rfm.sql (the scores) and
--                  order_facts.sql (rfm explain, the report) both ask it.

CREATE OR REPLACE TEMP MACRO rfm_pick_key(t, id) AS CAST(epoch_us(t) AS HUGEINT) * 18446744073709551616 + CASE
    WHEN CAST(try_cast(id AS UBIGINT) AS VARCHAR) = id THEN CAST(id AS UBIGINT)  -- digits only, as written
    ELSE md5_number_lower(id) END;

CREATE OR REPLACE TEMP MACRO rfm_in_window(t, since) AS (since IS NULL OR CAST(t AS DATE) >= since);

-- Which customers the per-customer queries cover: customer_rfm.sql (rfm_stats_scope) and
-- predict_inputs.sql (rfm_inputs_scope) take every order and refund with a customer id. An import's
-- refresh narrows one of them to the customers the file can change for one statement, and then
-- defines it back as here (store.narrowed; customer_stats.refresh, predict.stored.refresh_scope).
CREATE OR REPLACE TEMP MACRO rfm_stats_scope(c) AS c IS NOT NULL;

CREATE OR REPLACE TEMP MACRO rfm_inputs_scope(c) AS c IS NOT NULL;

-- rfm_per_customer(orders_net) TABLE: the aggregates of each customer's orders (contacts from the
--                  latest order having them, first/last counted order, frequency, counted spend,
--                  latest pick key), over the relation named `orders_net` (customer_id, ordered_at,
--                  status, customer_name, phone, email, pick_key, net_amount). customer_rfm.sql runs it
--                  over every stored order, customer_stats_delta.sql over a file's new orders: the two
--                  count with this one definition.
CREATE OR REPLACE TEMP MACRO rfm_per_customer(orders_net) AS TABLE
    SELECT customer_id,
           arg_max(customer_name, pick_key) FILTER (WHERE customer_name IS NOT NULL)     AS customer_name,
           arg_max(phone, pick_key) FILTER (WHERE phone IS NOT NULL)                     AS phone,
           arg_max(email, pick_key) FILTER (WHERE email IS NOT NULL)                     AS email,
           min(ordered_at) FILTER (WHERE status = 'counted' AND net_amount > 0)        AS first_order_at,
           max(ordered_at) FILTER (WHERE status = 'counted' AND net_amount > 0)        AS last_order_at,
           count(*) FILTER (WHERE status = 'counted' AND net_amount > 0)               AS frequency,
           coalesce(sum(net_amount) FILTER (WHERE status = 'counted' AND net_amount > 0), 0) AS counted_spend,
           max(pick_key)                                                               AS latest_key
    FROM query_table(orders_net)
    GROUP BY customer_id;
