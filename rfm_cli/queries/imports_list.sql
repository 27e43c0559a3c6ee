-- imports_list: every file imported into the database, oldest first (`rfm imports list`, `rfm status`).
-- Output columns: import_id, source_file (the path as given), sha256 (of the file's bytes),
--   profile (the column map used), rows_read, imported, duplicates, excluded, rejected,
--   first_order_at, last_order_at (the orders the file carried: those whose state is its own, and
--   those it shared with another file, see migrate_v10.sql), imported_at.
-- Grain: one row per imported file.
WITH carried AS (
    SELECT import_id, ordered_at FROM rfm_orders
    UNION ALL
    SELECT import_id, ordered_at FROM rfm_order_versions
),
dated AS (
    SELECT import_id, min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at
    FROM carried
    GROUP BY import_id
)
SELECT i.import_id, i.source_file, i.file_sha256 AS sha256, i.profile, i.rows_read,
       i.rows_imported AS imported, i.rows_duplicate AS duplicates, i.rows_excluded AS excluded,
       i.rows_rejected AS rejected, d.first_order_at, d.last_order_at, i.imported_at
FROM rfm_imports AS i
LEFT JOIN dated AS d USING (import_id)
ORDER BY i.import_id;
