-- migrate_v21: schema version 20 (or earlier) -> 21 (safe to run again). The sheet of a rejected row
--   of a workbook (issue 21: a workbook of several sheets is read as one file, in sheet order, and its
--   rows are numbered again from 2 on each sheet, so `line` alone does not say which row it was).
--   NULL for a text file's rows and for rows rejected before this version.
ALTER TABLE rfm_rejects ADD COLUMN IF NOT EXISTS sheet VARCHAR;

UPDATE rfm_meta SET value = '21' WHERE key = 'schema_version';
