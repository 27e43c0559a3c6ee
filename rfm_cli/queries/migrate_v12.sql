-- migrate_v12: to schema version 12 (safe to run again; versions 10 and 11 may come before or after it).
-- Sending lawfully (issue 23, rfm_cli/core/compliance/):
--   rfm_suppressions gains where each entry came from (source: `rfm suppress add`, an SMS reply file
--     and its line, `rfm forget`) and when the person refused (opted_out_at: the reply's time; NULL
--     when not known). Entries of kind phone_hash / email_hash / customer_id_hash are people erased
--     by `rfm forget`: value = HMAC-SHA256 (hex) of the normalised value under the database's key
--     (rfm_meta 'forget_key'), so later imports of them are still suppressed without their contacts
--     being kept.
--   rfm_consent: the consent ledger, one row per recorded event (append-only; the latest per
--     person and channel is in force). kind/value as in rfm_suppressions; channel sms | email | ads |
--     any; status granted | withdrawn; source (an import's file, a command); legal_basis (consent,
--     contract, legitimate interest ...). Grain: one row per event.
--   rfm_audit: every list written (export, run, campaigns): when, by which command, a hash of the
--     selection and of the rules, counts, and per file its path, sha256, rows and the personal fields
--     it carries (JSON). No personal data: ids, phones and emails never enter it. Grain: one row per
--     export or run that wrote files or a stream.
ALTER TABLE rfm_suppressions ADD COLUMN IF NOT EXISTS source VARCHAR;
ALTER TABLE rfm_suppressions ADD COLUMN IF NOT EXISTS opted_out_at TIMESTAMP;

CREATE TABLE IF NOT EXISTS rfm_consent (
    kind         VARCHAR NOT NULL,   -- customer_id | phone | email (or *_hash after rfm forget)
    value        VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,   -- sms | email | ads | any
    status       VARCHAR NOT NULL,   -- granted | withdrawn
    recorded_at  TIMESTAMP NOT NULL, -- when the person gave or withdrew it (the order's time for an import)
    source       VARCHAR NOT NULL,
    legal_basis  VARCHAR NOT NULL,
    PRIMARY KEY (kind, value, channel, recorded_at, status)
);

CREATE SEQUENCE IF NOT EXISTS rfm_audit_ids;
CREATE TABLE IF NOT EXISTS rfm_audit (
    audit_id        BIGINT PRIMARY KEY DEFAULT nextval('rfm_audit_ids'),
    written_at      TIMESTAMP NOT NULL,
    command         VARCHAR NOT NULL,  -- export | run | campaign ... (-o - : 'export (stdout)')
    as_of           DATE,
    selection_sha256 VARCHAR NOT NULL, -- of the manifest's selection, channels and sending rules (JSON)
    rules_sha256    VARCHAR NOT NULL,  -- of the tier rules in force (JSON)
    customers_selected BIGINT NOT NULL,
    rows_written    BIGINT NOT NULL,   -- rows over every list file (entered/ included)
    files           VARCHAR NOT NULL,  -- JSON list: path, channel, tier, rows, sha256, personal_fields, hashed
    personal_fields VARCHAR NOT NULL,  -- JSON list: every personal field that left the machine
    out_dir         VARCHAR,
    detail          VARCHAR            -- JSON: template provider and check, send window, consent rule
);

UPDATE rfm_meta SET value = '12' WHERE key = 'schema_version' AND CAST(value AS INTEGER) < 12;
