-- migrate_v10: schema version 8 or 9 -> 10 (version 9 is another change's). Every file that carried
-- an order keeps its state of it, so `rfm imports rm FILE` can take one file's import back and
-- leave each order as the other files that carried it say (queries/imports_rm.sql):
--   rfm_order_versions: an order's state as a file other than the one that last set it gave it: a
--     stored order that a later file carried unchanged (a duplicate: that file's row), and the state
--     a later file replaced (the stored row, kept before import_update.sql overwrites it).
--     rfm_orders holds the state of the file that last set each order; together they hold every
--     file's state of every order it carried. Grain: one row per order and file (import_id).
--   rfm_refund_carriers: the other files that carried a stored refund (the same refund_key).
--     Grain: one row per refund and file.
-- rfm_meta 'versions_since_import': the first import_id recorded this way. Imports before it did not
-- record what they shared: removing a file then removes the orders it last set even when an
-- earlier file also held them (`rfm imports rm` says how many).
CREATE TABLE IF NOT EXISTS rfm_order_versions (
    order_id      VARCHAR NOT NULL,
    customer_id   VARCHAR,
    ordered_at    TIMESTAMP,
    amount        DECIMAL(18, 2) NOT NULL,
    refund_amount DECIMAL(18, 2) NOT NULL,
    status        VARCHAR NOT NULL,
    raw_status    VARCHAR,
    currency      VARCHAR,
    customer_name VARCHAR,
    phone         VARCHAR,
    email         VARCHAR,
    lines         INTEGER NOT NULL,
    source_file   VARCHAR NOT NULL,
    import_id     INTEGER NOT NULL,
    accepts_marketing BOOLEAN
);

CREATE TABLE IF NOT EXISTS rfm_refund_carriers (
    refund_key VARCHAR NOT NULL,
    import_id  INTEGER NOT NULL
);

INSERT OR REPLACE INTO rfm_meta
SELECT 'versions_since_import', CAST(coalesce(max(import_id), 0) + 1 AS VARCHAR) FROM rfm_imports;

UPDATE rfm_meta SET value = '10' WHERE key = 'schema_version';
