-- migrate_v9: schema version 8 -> 9 (safe to run again). Campaigns with a hold-out (rfm campaign), one send history.
--   rfm_campaigns: one row per campaign: when its lists were written, what it selected, its arms,
--     hold-out share and seed, the attribution window and the costs the report weighs.
--   rfm_campaign_members: one row per customer drawn into a campaign: the arm (an arm name, or
--     'control': held back, sent nothing), the stratum it was drawn in (tier or segment), the
--     channels and coupon code it was written with, and whether it is on a written list.
--   rfm_send_lists gains list_name: '' for the lists of `rfm export` and `rfm run`, 'campaign NAME'
--     for a campaign's arm; writing a list again replaces only the record of the same name, and
--     --cooldown reads every name: one send history for the nightly lists and the campaigns.
--   rfm_order_net: every stored order with a customer, its net amount (refund column and refund rows
--     naming it taken off) and whether it counts (BRIEF §3); no date filter (callers add theirs).
CREATE TABLE IF NOT EXISTS rfm_campaigns (
    name             VARCHAR PRIMARY KEY,
    created_at       TIMESTAMP NOT NULL,
    sent_on          DATE NOT NULL,      -- the attribution window starts this day
    as_of            DATE NOT NULL,      -- the scores' as-of date
    scheme           VARCHAR NOT NULL,
    selection        VARCHAR NOT NULL,   -- JSON, as the manifest's selection
    channels         VARCHAR NOT NULL,   -- JSON list
    arms             VARCHAR NOT NULL,   -- JSON list of the arms that are sent
    holdout          DOUBLE NOT NULL,    -- share of each stratum held back
    seed             VARCHAR NOT NULL,
    window_days      INTEGER NOT NULL,
    cost_per_message DOUBLE,
    coupon_value     DOUBLE,
    margin           DOUBLE,
    out_dir          VARCHAR
);

CREATE TABLE IF NOT EXISTS rfm_campaign_members (
    campaign    VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    arm         VARCHAR NOT NULL,        -- an arm name, or 'control'
    stratum     VARCHAR NOT NULL,        -- the tier (or segment) the customer was drawn in
    assigned_at TIMESTAMP NOT NULL,
    channel     VARCHAR,                 -- the channels the customer was written to, comma-separated
    coupon_code VARCHAR,
    sent        BOOLEAN NOT NULL,        -- on a written list (control: never)
    PRIMARY KEY (campaign, customer_id)
);

-- Rebuilt (a primary key cannot be altered); BY NAME with a default, so running it on a table that
-- has list_name already keeps it.
CREATE TABLE rfm_send_lists_v9 (
    as_of        DATE NOT NULL,
    channel      VARCHAR NOT NULL,
    tier         VARCHAR NOT NULL,
    list_name    VARCHAR NOT NULL DEFAULT '',
    customers    BIGINT NOT NULL,
    customer_ids BLOB NOT NULL,
    sent_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (as_of, channel, tier, list_name)
);
INSERT INTO rfm_send_lists_v9 BY NAME SELECT * FROM rfm_send_lists;
DROP TABLE rfm_send_lists;
ALTER TABLE rfm_send_lists_v9 RENAME TO rfm_send_lists;

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
       o.customer_name, o.phone, o.email, o.source_file
FROM rfm_orders AS o
LEFT JOIN refunds_by_order AS r USING (order_id)
WHERE o.customer_id IS NOT NULL;

UPDATE rfm_meta SET value = '9' WHERE key = 'schema_version';
