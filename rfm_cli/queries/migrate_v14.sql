-- migrate_v14: schema version 10..13 -> 14 (safe to run again). rfm_predict_inputs: each customer's
-- inputs to the purchase models and the interval rule (queries/predict_inputs.sql's columns with no
-- as-of cut, less T_days, which is as_of - first_day at reading), so `rfm predict` on a database that
-- `rfm export` or `rfm run` keeps reads one row per customer instead of grouping every order again.
-- rfm_meta 'predict_inputs' holds the stamp of the orders the rows were computed from
-- (core/predict/stored.py): rows whose stamp no longer matches are not read.
-- Grain: one row per customer with a counted order, in customer_id order as built.
CREATE TABLE IF NOT EXISTS rfm_predict_inputs (
    customer_id     VARCHAR NOT NULL,
    first_day       DATE NOT NULL,
    last_day        DATE NOT NULL,
    x               BIGINT NOT NULL,
    t_x_days        BIGINT NOT NULL,
    repeat_spend    DOUBLE NOT NULL,
    median_gap_days DOUBLE
);

UPDATE rfm_meta SET value = '14' WHERE key = 'schema_version';
