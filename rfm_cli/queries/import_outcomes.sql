-- import_outcomes: what happens to each order (and so to each of its rows) of a file.
-- Input:  temp table file_orders; tables rfm_orders, rfm_refunds.
-- Output: temp view file_outcomes: every column of file_orders, and outcome, reason, refund_key
--         (carrying the order's columns spares import_merge a join of the file's orders with this).
--         The import makes order_outcomes of it: a view when nothing is stored yet (nothing to join,
--         so no second copy of every order), else a table (pipeline._outcomes):
--           outcome 'rejected'  the order has an unreadable row (its rows go to rfm_rejects);
--                   'imported'  a new counted order, or a new refund;
--                   'duplicate' an order (or refund) already stored; reason 'updated' when this
--                               file changes its stored state (the later export wins; a file
--                               without a delivered date leaves the stored one, as import_update);
--                   'excluded'  a new order that does not count; reason: its status,
--                               'fully refunded', 'zero amount' or 'no customer id'.
--         refund_key identifies a refund-only order's refund: the same refund re-exported has the
--         same key, so re-importing never applies it twice.
-- Grain:  one row per order_id of the file.
CREATE OR REPLACE TEMP VIEW file_outcomes AS
WITH keyed AS (
    SELECT f.*,
           CASE WHEN f.refund_only THEN f.order_id || '#' || strftime(f.ordered_at, '%Y%m%d%H%M%S')
                                        || '#' || CAST(f.refund_amount AS VARCHAR) END AS refund_key
    FROM file_orders AS f
)
SELECT k.*,
       CASE WHEN k.bad_lines > 0 OR k.order_id IS NULL THEN 'rejected'
            WHEN k.refund_only THEN
                 CASE WHEN s.refund_key IS NOT NULL THEN 'duplicate'
                      WHEN k.customer_id IS NULL AND o.order_id IS NULL THEN 'excluded'
                      ELSE 'imported' END
            WHEN o.order_id IS NOT NULL THEN 'duplicate'
            WHEN k.customer_id IS NULL THEN 'excluded'
            WHEN k.status <> 'counted' THEN 'excluded'
            WHEN k.amount = 0 THEN 'excluded'
            WHEN k.amount - k.refund_amount <= 0 THEN 'excluded'
            ELSE 'imported' END AS outcome,
       CASE WHEN k.bad_lines > 0 OR k.order_id IS NULL THEN NULL
            WHEN k.refund_only THEN
                 CASE WHEN s.refund_key IS NULL AND k.customer_id IS NULL AND o.order_id IS NULL
                      THEN 'no customer id' END
            WHEN o.order_id IS NOT NULL THEN
                 CASE WHEN (o.status, o.amount, o.refund_amount, o.customer_id, o.ordered_at)
                           IS DISTINCT FROM (k.status, k.amount, k.refund_amount, k.customer_id, k.ordered_at)
                        OR k.delivered_at IS NOT NULL AND k.delivered_at IS DISTINCT FROM o.delivered_at
                      THEN 'updated' END
            WHEN k.customer_id IS NULL THEN 'no customer id'
            WHEN k.status <> 'counted' THEN k.status
            WHEN k.amount = 0 THEN 'zero amount'
            WHEN k.amount - k.refund_amount <= 0 THEN 'fully refunded' END AS reason
FROM keyed AS k
LEFT JOIN rfm_orders AS o ON o.order_id = k.order_id AND NOT k.refund_only
LEFT JOIN rfm_refunds AS s ON s.refund_key = k.refund_key;
