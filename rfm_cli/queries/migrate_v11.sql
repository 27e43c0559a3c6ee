-- migrate_v11: schema version 10 (or 9) -> 11 (safe to run again). Coupon codes and discount codes.
--   rfm_coupon_codes: the code ledger. One row per coupon code ever written to a list (by
--     `rfm export --codes`, `rfm run --codes` or `rfm campaign new --codes`): the code, who got it,
--     the as-of date and list name ('' for export/run, 'campaign NAME') it went out with. A code in
--     the ledger is never written to a list again, so a codes file can be given night after night
--     and "codes left" counts the codes never issued. Writing the same night's list again (same
--     as-of date and list name) gives that night's codes of the lists' tiers back first, as it replaces their send
--     records, so a re-run writes the same codes to the same customers.
--   rfm_order_codes: the discount/coupon code text an export gave an order (Taobao 优惠信息 /
--     店铺优惠, Shopify Discount Code, WooCommerce coupon), one row per order and file that carried
--     it (a file removed by `rfm imports rm` takes its rows with it).
--   rfm_code_columns: the imports whose file had a discount-code column (even if every cell of it
--     was empty), and the column's header: the campaign report reads redemption only from these.
CREATE TABLE IF NOT EXISTS rfm_coupon_codes (
    code        VARCHAR PRIMARY KEY,
    customer_id VARCHAR NOT NULL,
    as_of       DATE NOT NULL,
    list_name   VARCHAR NOT NULL,        -- '' for export and run, 'campaign NAME' for a campaign
    tier        VARCHAR NOT NULL,        -- the tier of the list it went out on
    issued_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS rfm_order_codes (
    order_id  VARCHAR NOT NULL,
    import_id INTEGER NOT NULL,
    code      VARCHAR NOT NULL           -- the cell as exported (may hold several codes and words)
);

CREATE TABLE IF NOT EXISTS rfm_code_columns (
    import_id INTEGER PRIMARY KEY,
    header    VARCHAR NOT NULL
);

UPDATE rfm_meta SET value = '11' WHERE key = 'schema_version';
