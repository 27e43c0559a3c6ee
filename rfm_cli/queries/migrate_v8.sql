-- migrate_v8: schema version 7 -> 8. The send ledger (for --cooldown) keeps one row per list
-- written: the list's customer ids as one compressed Arrow IPC blob (a single column
-- customer_id, zstd), written and read by rfm_cli/core/history.py. One row per customer and list
-- (rfm_sends) cost about 1 s of every export at 2M customers (inserting and checkpointing 2M ids)
-- and ~9 MB of database a night; a blob costs ~0.15 s and ~3 MB.
-- rfm_sends stays: the rows written before this version are still read for the cooldown, and a
-- rerun of their as-of date replaces them.
CREATE TABLE IF NOT EXISTS rfm_send_lists (
    as_of        DATE NOT NULL,     -- the as-of date of the run that wrote the list
    channel      VARCHAR NOT NULL,
    tier         VARCHAR NOT NULL,
    customers    BIGINT NOT NULL,   -- how many ids the blob holds
    customer_ids BLOB NOT NULL,     -- Arrow IPC file, one String column customer_id, zstd
    sent_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (as_of, channel, tier)
);

UPDATE rfm_meta SET value = '8' WHERE key = 'schema_version';
