-- migrate_v5: schema version 4 -> 5. rfm_customers keeps each customer's scoring inputs, so that
-- rescoring a database (rfm export, rfm run, rfm score) reads one row per customer instead of
-- every order. It holds exactly what customer_rfm.sql returns with no as-of cut (every order
-- counts): rfm_cli/core/customer_stats.py fills it on the first export or run, marks it current
-- in rfm_meta, and from then on each import recomputes the rows of the customers it changes.
-- Grain: one row per customer with at least one counted order.
CREATE TABLE rfm_customers (
    customer_id       VARCHAR NOT NULL,
    customer_name     VARCHAR,
    phone             VARCHAR,
    email             VARCHAR,
    first_order_at    TIMESTAMP,
    last_order_at     TIMESTAMP,
    frequency         BIGINT NOT NULL,
    spend             DECIMAL(38, 2) NOT NULL,
    unmatched_refunds DECIMAL(38, 2) NOT NULL
);

UPDATE rfm_meta SET value = '5' WHERE key = 'schema_version';
