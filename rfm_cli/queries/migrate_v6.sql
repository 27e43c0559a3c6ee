-- migrate_v6: schema version 5 -> 6. Of a customer's orders placed at the same moment, the one
-- whose contact fields are kept is now chosen by rfm_pick_key (the order id as a number when it is
-- one, else by its md5), not by the order id as text: rows of rfm_customers totalled before may
-- hold the other order's fields. The table is marked stale, so the next export or run rebuilds it.
UPDATE rfm_meta SET value = 'stale' WHERE key = 'customer_stats';

UPDATE rfm_meta SET value = '6' WHERE key = 'schema_version';
