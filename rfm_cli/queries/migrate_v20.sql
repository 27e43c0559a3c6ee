-- migrate_v20: schema version 19 (or earlier) -> 20 (safe to run again). Line items (issue 21).
--   rfm_order_lines: the products of each stored order, when its export had product columns
--     (sku, product title, category, quantity, unit price): one row per line of the order.
--     line_no sorts an order's lines as exported (the row's position among its file's data rows:
--     unique within the file, not 1, 2, 3 within each order); amount is quantity x
--     unit_price when the export has both, else the row's own amount (a file with one row per line,
--     or one row per order: the order's amount), else NULL. import_id is the file that gave the
--     lines (`rfm imports rm` takes them back; see imports_rm.sql). Refund-only rows (UCI credit
--     notes) carry no lines. No customer id: `rfm forget` leaves products alone.
--   rfm_category_map: the product -> category map of `rfm import --categories FILE` (pattern,
--     category), applied to lines whose export has no category (core/products.py): the pattern is
--     a SKU (exact) or a piece of the title (substring; with * or ? a glob over the whole title).
--     position: the row of the file, the first matching row wins. Replaced whole by the next file.
CREATE TABLE IF NOT EXISTS rfm_order_lines (
    import_id  INTEGER,
    order_id   VARCHAR,
    line_no    INTEGER,
    sku        VARCHAR,
    product    VARCHAR,
    category   VARCHAR,
    quantity   DOUBLE,
    unit_price DECIMAL(18, 2),
    amount     DECIMAL(18, 2)
);

CREATE TABLE IF NOT EXISTS rfm_category_map (
    position    INTEGER NOT NULL,
    pattern     VARCHAR NOT NULL,
    category    VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);

UPDATE rfm_meta SET value = '20' WHERE key = 'schema_version';
