-- migrate_v7: schema version 6 -> 7. rfm_customers keeps each customer's latest_key (the greatest
-- rfm_pick_key of their orders), so an import of later orders updates a row from the file alone
-- (customer_stats_delta.sql) instead of reading every stored order of the customer. The rows
-- there have none: the table is marked stale, so the next export or run rebuilds it.
ALTER TABLE rfm_customers ADD COLUMN IF NOT EXISTS latest_key HUGEINT;
UPDATE rfm_meta SET value = 'stale' WHERE key = 'customer_stats';

UPDATE rfm_meta SET value = '7' WHERE key = 'schema_version';
