-- migrate_v15: schema version 14 -> 15 (safe to run again). Member levels (core/levels.py).
--   rfm_levels: one row per customer with a counted order: the level (its name in the rules in force
--     when it was saved), when it was reached and when the customer last qualified for it, the night
--     it was saved (as_of) with the window's spend and orders, and the same state from the night
--     before (prev_*), so a night run again starts from where it started the first time.
--   rfm_level_changes: every change of level, the night it happened (`rfm levels`, levels/entered/).
CREATE TABLE IF NOT EXISTS rfm_levels (
    customer_id       VARCHAR PRIMARY KEY,
    level             VARCHAR NOT NULL,
    reached_on        DATE NOT NULL,
    qualified_on      DATE NOT NULL,
    as_of             DATE NOT NULL,
    spend             DECIMAL(18, 2) NOT NULL,
    orders            BIGINT NOT NULL,
    prev_level        VARCHAR,
    prev_reached_on   DATE,
    prev_qualified_on DATE,
    prev_as_of        DATE
);

CREATE TABLE IF NOT EXISTS rfm_level_changes (
    as_of       DATE NOT NULL,
    customer_id VARCHAR NOT NULL,
    from_level  VARCHAR,            -- NULL: the customer's first level
    to_level    VARCHAR NOT NULL,
    PRIMARY KEY (as_of, customer_id)
);

UPDATE rfm_meta SET value = '15' WHERE key = 'schema_version';
