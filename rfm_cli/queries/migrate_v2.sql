-- migrate_v2: schema version 1 -> 2. Adds the consent flag on orders and the suppression list.
ALTER TABLE rfm_orders ADD COLUMN accepts_marketing BOOLEAN;

CREATE TABLE rfm_suppressions (
    kind     VARCHAR NOT NULL,
    value    VARCHAR NOT NULL,
    added_at TIMESTAMP NOT NULL,
    note     VARCHAR,
    PRIMARY KEY (kind, value)
);

UPDATE rfm_meta SET value = '2' WHERE key = 'schema_version';
