-- migrate_v3: schema version 2 -> 3. Snapshots of every run's scores, frozen cut points, and the
-- ledger of what was exported to whom (for --cooldown).
CREATE TABLE rfm_snapshots (
    as_of        DATE NOT NULL,
    scheme       VARCHAR NOT NULL,
    customer_id  VARCHAR NOT NULL,
    recency_days BIGINT NOT NULL,
    frequency    BIGINT NOT NULL,
    monetary     DOUBLE NOT NULL,
    r_score      INTEGER NOT NULL,
    f_score      INTEGER NOT NULL,
    m_score      INTEGER NOT NULL,
    tier         VARCHAR NOT NULL
);

CREATE TABLE rfm_snapshot_runs (
    as_of      DATE NOT NULL,
    scheme     VARCHAR NOT NULL,
    taken_at   TIMESTAMP NOT NULL,
    customers  BIGINT NOT NULL,
    rules      VARCHAR NOT NULL,   -- JSON: the rules in force
    cut_points VARCHAR NOT NULL,   -- JSON: the cut points used
    PRIMARY KEY (as_of, scheme)
);

CREATE TABLE rfm_frozen_cuts (
    dimension   VARCHAR PRIMARY KEY,  -- recency | frequency | monetary
    breakpoints VARCHAR NOT NULL,     -- JSON list of 4 numbers, used as fixed breakpoints
    as_of       DATE NOT NULL,        -- the data they were computed from
    frozen_at   TIMESTAMP NOT NULL
);

CREATE TABLE rfm_sends (
    as_of       DATE NOT NULL,     -- the as-of date of the run that wrote the list
    channel     VARCHAR NOT NULL,
    tier        VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    sent_at     TIMESTAMP NOT NULL
);

UPDATE rfm_meta SET value = '3' WHERE key = 'schema_version';
