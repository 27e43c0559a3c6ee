-- migrate_v4: schema version 3 -> 4. An order that does not count (cancelled, unpaid) may have no
-- date in its export: it is stored undated rather than rejected.
ALTER TABLE rfm_orders ALTER COLUMN ordered_at DROP NOT NULL;

UPDATE rfm_meta SET value = '4' WHERE key = 'schema_version';
