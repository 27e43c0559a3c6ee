-- import_group_orders: the rows of one file, as orders and refunds (BRIEF §3), in one pass.
-- Input:  view staged (one row per input row: order_id, customer_id, ordered_at, amount,
--         refund_amount, status, raw_status, currency, customer_name, phone, email,
--         is_refund_row, accepts_marketing, bad). `bad` marks a row that cannot be read.
-- Output: temp table file_orders, one row per order_id (NULL order_id: the unreadable rows with
--         no id, all bad):
--           lines, bad_lines     rows of the order, and how many were unreadable: an order with a
--                                bad line is rejected whole, so no order is imported short;
--           refund_only          every line is a refund (negative amount or refund marker): it
--                                names an order that may be stored, or else reduces its customer;
--           amount               sum of the positive lines; refund_amount: the refund column plus
--                                the negative lines; status counted when any purchase line counts;
--           order-level fields   a non-null value from the order's lines (any_value: the lines of
--                                one order repeat them, and it is cheaper than a string min()).
-- Grain:  one row per order_id.
CREATE OR REPLACE TEMP TABLE file_orders AS
SELECT order_id,
       count(*)                                                      AS lines,
       count(*) FILTER (WHERE bad)                                   AS bad_lines,
       coalesce(bool_and(is_refund_row OR amount < 0), false)        AS refund_only,
       any_value(customer_id)                                              AS customer_id,
       min(ordered_at)                                               AS ordered_at,
       coalesce(sum(amount) FILTER (WHERE amount > 0), 0)            AS amount,
       coalesce(sum(refund_amount), 0)
         + coalesce(-sum(amount) FILTER (WHERE amount < 0), 0)       AS refund_amount,
       CASE WHEN bool_or(status = 'counted' AND amount >= 0) THEN 'counted'
            ELSE coalesce(min(status) FILTER (WHERE amount >= 0), min(status)) END AS status,

       coalesce(min(raw_status) FILTER (WHERE status = 'counted' AND amount >= 0),
                min(raw_status))                                     AS raw_status,
       any_value(currency)                                                 AS currency,
       any_value(customer_name)                                            AS customer_name,
       any_value(phone)                                                    AS phone,
       any_value(email)                                                    AS email,
       any_value(accepts_marketing)                                        AS accepts_marketing
FROM staged
GROUP BY order_id;
