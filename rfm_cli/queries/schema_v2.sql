-- schema_v2: the tables of an rfm database at schema version 2, where the migrations start:
-- migrate_v3.sql and later files upgrade a database of any older version. A new database is created
-- from schema_current.sql instead, which tools/schema_current.py writes from this file and the
-- migrations (tests/test_schema_current.py checks the two ways give the same database).
-- Grain: rfm_orders one row per order (its lines already summed); rfm_refunds one row per
-- order id of a file whose lines are all refunds (they name an order that may be stored); rfm_rejects one row per
-- unreadable input row; rfm_imports one row per imported file.

CREATE TABLE rfm_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE rfm_imports (
    import_id         INTEGER PRIMARY KEY,
    source_file       VARCHAR NOT NULL,   -- the path as given
    file_sha256       VARCHAR,
    profile           VARCHAR,            -- the column map used (canonical, taobao, ...)
    imported_at       TIMESTAMP NOT NULL,
    rows_read         BIGINT NOT NULL,
    rows_imported     BIGINT NOT NULL,    -- rows of new orders (and new refund rows)
    rows_duplicate    BIGINT NOT NULL,    -- rows of orders already stored
    rows_excluded     BIGINT NOT NULL,    -- rows of stored orders that do not count (by status) or lack a customer
    rows_rejected     BIGINT NOT NULL,    -- unreadable rows, kept in rfm_rejects
    excluded_by_reason VARCHAR NOT NULL,  -- JSON object: reason -> rows
    orders_new        BIGINT NOT NULL,
    orders_updated    BIGINT NOT NULL     -- stored orders whose state changed in this file
);

CREATE TABLE rfm_orders (
    order_id      VARCHAR NOT NULL,
    customer_id   VARCHAR,                -- NULL: no customer identity; stored, never scored
    ordered_at    TIMESTAMP NOT NULL,
    amount        DECIMAL(18, 2) NOT NULL, -- sum of the order's positive lines
    refund_amount DECIMAL(18, 2) NOT NULL, -- refund column plus negative lines of the order
    status        VARCHAR NOT NULL,        -- counted | cancelled | unpaid | refunded
    raw_status    VARCHAR,                 -- the export's own words, for `rfm explain`
    currency      VARCHAR,
    customer_name VARCHAR,
    phone         VARCHAR,
    email         VARCHAR,
    lines         INTEGER NOT NULL,
    source_file   VARCHAR NOT NULL,
    import_id     INTEGER NOT NULL,
    accepts_marketing BOOLEAN              -- the export's consent flag, when it has one (v2)
);

CREATE TABLE rfm_refunds (
    refund_key    VARCHAR NOT NULL,        -- order_id#time#amount: the same refund re-exported is the same refund
    order_id      VARCHAR NOT NULL,        -- the order it names (may not be a stored order: then it reduces the customer)
    customer_id   VARCHAR,
    refunded_at   TIMESTAMP NOT NULL,
    amount        DECIMAL(18, 2) NOT NULL, -- positive: money returned
    source_file   VARCHAR NOT NULL,
    import_id     INTEGER NOT NULL
);

CREATE TABLE rfm_rejects (
    import_id   INTEGER NOT NULL,
    source_file VARCHAR NOT NULL,
    line        BIGINT,
    column_name VARCHAR,
    reason      VARCHAR NOT NULL,
    raw         VARCHAR
);

-- v2: customers who must not receive lists (opt-outs), kept across runs.
CREATE TABLE rfm_suppressions (
    kind     VARCHAR NOT NULL,  -- phone | email | customer_id
    value    VARCHAR NOT NULL,  -- normalised: 11-digit mobile / E.164, lowercase email, id as stored
    added_at TIMESTAMP NOT NULL,
    note     VARCHAR,
    PRIMARY KEY (kind, value)
);
