-- import_group_orders: the rows of one file, as orders and refunds (BRIEF §3), in one pass.
-- Input:  view staged (one row per input row: order_id, customer_id, ordered_at, amount,
--         refund_amount, status, raw_status, currency, customer_name, phone, email,
--         is_refund_row, accepts_marketing, discount_code, accepts_email, accepts_sms, delivered_at, bad).
--         `bad` marks a row that cannot be read.
-- Output: temp table file_orders, one row per order_id (NULL order_id: the unreadable rows with
--         no id, all bad):
--           lines, bad_lines     rows of the order, and how many were unreadable: an order with a
--                                bad line is rejected whole, so no order is imported short;
--           refund_only          every line is a refund (negative amount or refund marker): it
--                                names an order that may be stored, or else reduces its customer;
--           amount               sum of the positive lines; refund_amount: the refund column plus
--                                the negative lines;
--           status               'counted' when a non-negative line counts, else the least status
--                                (in text order) of the non-negative lines, else of all lines;
--           raw_status           the least raw status of the counting non-negative lines, else of
--                                all lines;
--           order-level fields   a non-null value from the order's lines (any_value: the lines of
--                                one order repeat them, and it is cheaper than a string min()),
--                                through a macro per field, rfm_field_<name>(x), that the import
--                                defines for each file (ingest/grouping.py field_macros): any_value(x),
--                                or a typed NULL for a field the file has no column for (an
--                                any_value over a column of NULLs still visits every row);
--           delivered_at         the latest delivery of the order's lines (the order is received
--                                when its last parcel is).
-- Grain:  one row per order_id.
-- Cost: with ten million orders the aggregate states are most of the work (and what spills), so
-- each choice above is one small aggregate: status_key is one integer (0 counting line; 1-4 a
-- non-negative line's status, 11-14 any other line's, in text order); raw_status_key orders by
-- counting line first, then raw status, so one min() gives both (macros rfm_raw_status_key/_of).
CREATE OR REPLACE TEMP TABLE file_orders AS
WITH keyed AS (
    SELECT *,
           CASE WHEN amount >= 0 AND status = 'counted' THEN 0
                ELSE CASE WHEN amount >= 0 THEN 1 ELSE 11 END
                     + CASE status WHEN 'cancelled' THEN 0 WHEN 'counted' THEN 1
                                   WHEN 'refunded' THEN 2 WHEN 'unpaid' THEN 3 END END  AS status_key,
           rfm_raw_status_key(amount >= 0 AND status = 'counted', raw_status)               AS raw_status_key
    FROM staged
)
SELECT order_id,
       count(*)                                                      AS lines,
       count(*) FILTER (WHERE bad)                                   AS bad_lines,
       coalesce(bool_and(is_refund_row OR amount < 0), false)        AS refund_only,
       rfm_field_customer_id(customer_id)                            AS customer_id,
       min(ordered_at)                                               AS ordered_at,
       coalesce(sum(CASE WHEN amount > 0 THEN amount END), 0)        AS amount,
       CAST(sum(coalesce(refund_amount, 0) + CASE WHEN amount < 0 THEN -amount ELSE 0 END)
            AS DECIMAL(38, 2))                                       AS refund_amount,
       ['counted', 'cancelled', 'counted', 'refunded', 'unpaid'][min(status_key) % 10 + 1] AS status,
       rfm_raw_status_of(min(raw_status_key))                        AS raw_status,
       rfm_field_currency(currency)                                  AS currency,
       rfm_field_customer_name(customer_name)                        AS customer_name,
       rfm_field_phone(phone)                                        AS phone,
       rfm_field_email(email)                                        AS email,
       rfm_field_accepts_marketing(accepts_marketing)                AS accepts_marketing,
       rfm_field_discount_code(discount_code)                        AS discount_code,
       rfm_field_accepts_email(accepts_email)                        AS accepts_email,
       rfm_field_accepts_sms(accepts_sms)                            AS accepts_sms,
       max(delivered_at)                                             AS delivered_at
FROM keyed
GROUP BY order_id;
