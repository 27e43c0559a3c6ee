-- import_codes: the discount/coupon codes of one file's orders (schema 11), for campaign redemption.
-- Runs inside the import's transaction, after import_merge, only for a file with a discount-code
-- column. Input: temp table (or view) order_outcomes (carries file_orders' discount_code);
-- parameters $import_id, $header (the file's discount-code column).
-- Effect: one row per order of the file that is stored (new, updated or a duplicate: the order
--         was in this file too) and has a code; the file's column recorded even when every cell
--         was empty, so the report knows redemption was readable and none was used.
INSERT INTO rfm_order_codes
SELECT order_id, $import_id, discount_code
FROM order_outcomes
WHERE outcome <> 'rejected' AND NOT refund_only AND discount_code IS NOT NULL;

INSERT OR REPLACE INTO rfm_code_columns VALUES ($import_id, $header);
