-- migrate_v19: schema version 15 (or 16-18) -> 19 (safe to run again). rfm_levels and
--   rfm_level_changes rebuilt without primary keys. Every night replaces all of rfm_levels, and
--   DuckDB keeps a primary key as an ART index that the commit rewrites row by row: at 564k
--   customers the commit of `rfm run` spent 21 CPU seconds on it (1.9 s for the insert itself).
--   The one-row-per-customer and one-change-per-night rules hold by construction
--   (levels_night.sql groups by customer; a night's changes are deleted before they are written)
--   and tests/test_levels.py checks them.
CREATE TABLE rfm_levels_v19 (
    customer_id       VARCHAR NOT NULL,
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
INSERT INTO rfm_levels_v19 BY NAME SELECT * FROM rfm_levels;
DROP TABLE rfm_levels;
ALTER TABLE rfm_levels_v19 RENAME TO rfm_levels;

CREATE TABLE rfm_level_changes_v19 (
    as_of       DATE NOT NULL,
    customer_id VARCHAR NOT NULL,
    from_level  VARCHAR,            -- NULL: the customer's first level
    to_level    VARCHAR NOT NULL
);
INSERT INTO rfm_level_changes_v19 BY NAME SELECT * FROM rfm_level_changes;
DROP TABLE rfm_level_changes;
ALTER TABLE rfm_level_changes_v19 RENAME TO rfm_level_changes;

UPDATE rfm_meta SET value = '19' WHERE key = 'schema_version';
