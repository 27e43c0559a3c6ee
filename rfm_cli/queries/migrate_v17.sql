-- migrate_v17: schema version 10..16 -> 17 (safe to run again). Day-N follow-ups (core/followups.py).
--   rfm_orders.delivered_at, rfm_order_versions.delivered_at: when the buyer received the order, as
--     the export says it (签收时间 / 确认收货时间, Shopify `Fulfilled at`, WooCommerce completed date);
--     NULL when the export has no such column or the order is not delivered yet. A day-N follow-up
--     counts its days from it, else from ordered_at.
--   rfm_order_net (migrate_v9.sql) again, carrying delivered_at.
--   rfm_followup_sends: who each follow-up was sent to, for which trigger order, on which night: a
--     follow-up never goes twice to the same customer for the same trigger order, whatever its window.
--     Grain: one row per night (as_of), follow-up, channel and customer.
ALTER TABLE rfm_orders ADD COLUMN IF NOT EXISTS delivered_at TIMESTAMP;

ALTER TABLE rfm_order_versions ADD COLUMN IF NOT EXISTS delivered_at TIMESTAMP;

CREATE OR REPLACE VIEW rfm_order_net AS
WITH refunds_by_order AS (
    SELECT order_id, sum(amount) AS refunded
    FROM rfm_refunds
    GROUP BY order_id
)
SELECT o.order_id, o.customer_id, o.ordered_at, o.status, o.raw_status, o.amount, o.refund_amount,
       coalesce(r.refunded, 0)                                    AS later_refunds,
       o.amount - o.refund_amount - coalesce(r.refunded, 0)       AS net_amount,
       o.status = 'counted' AND o.amount - o.refund_amount - coalesce(r.refunded, 0) > 0 AS counted,
       CASE WHEN o.status <> 'counted' THEN o.status
            WHEN o.amount = 0 THEN 'zero amount'
            WHEN o.amount - o.refund_amount - coalesce(r.refunded, 0) <= 0 THEN 'fully refunded' END
                                                                  AS not_counted_reason,
       o.customer_name, o.phone, o.email, o.source_file, o.delivered_at
FROM rfm_orders AS o
LEFT JOIN refunds_by_order AS r USING (order_id)
WHERE o.customer_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS rfm_followup_sends (
    as_of       DATE NOT NULL,
    followup    VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    order_id    VARCHAR NOT NULL
);

UPDATE rfm_meta SET value = '17' WHERE key = 'schema_version';
