-- forget_person: erase one person (`rfm forget`, rfm_cli/core/compliance/forget.py) from every table
-- that holds them, keeping the money so that totals and reports still reconcile.
-- Inputs: TEMP table _rfm_forget (customer_id, token): each of the person's customer ids and the
--   token that replaces it (stable and not reversible: see forget.py).
-- Parameters: $digits VARCHAR[]: the person's phone numbers, digits only (national and with the
--   country code); $emails VARCHAR[]: their emails, trimmed and lowercase.
-- Each statement starts with `-- step: NAME`; the caller reports the rows each one changed.
-- Orders keep their id, date, amounts and status under the token; names, phones and emails go.
-- Orders with no customer id that carry the person's phone or email lose those fields too.

-- step: orders
UPDATE rfm_orders AS o SET customer_id = f.token FROM _rfm_forget AS f WHERE o.customer_id = f.customer_id;
-- step: order contacts
UPDATE rfm_orders SET customer_name = NULL, phone = NULL, email = NULL
WHERE customer_id IN (SELECT token FROM _rfm_forget)
   OR list_contains($digits, regexp_replace(phone, '[^0-9]', '', 'g'))
   OR list_contains($emails, lower(trim(email)));
-- step: order versions
UPDATE rfm_order_versions AS o SET customer_id = f.token FROM _rfm_forget AS f
WHERE o.customer_id = f.customer_id;
-- step: order version contacts
UPDATE rfm_order_versions SET customer_name = NULL, phone = NULL, email = NULL
WHERE customer_id IN (SELECT token FROM _rfm_forget)
   OR list_contains($digits, regexp_replace(phone, '[^0-9]', '', 'g'))
   OR list_contains($emails, lower(trim(email)));
-- step: refunds
UPDATE rfm_refunds AS r SET customer_id = f.token FROM _rfm_forget AS f WHERE r.customer_id = f.customer_id;
-- step: customer totals
UPDATE rfm_customers AS c SET customer_id = f.token, customer_name = NULL, phone = NULL, email = NULL
FROM _rfm_forget AS f WHERE c.customer_id = f.customer_id;
-- step: snapshots
UPDATE rfm_snapshots AS s SET customer_id = f.token FROM _rfm_forget AS f WHERE s.customer_id = f.customer_id;
-- step: sends
UPDATE rfm_sends AS s SET customer_id = f.token FROM _rfm_forget AS f WHERE s.customer_id = f.customer_id;
-- step: campaign members
UPDATE rfm_campaign_members AS m SET customer_id = f.token FROM _rfm_forget AS f
WHERE m.customer_id = f.customer_id;
-- step: coupon codes
UPDATE rfm_coupon_codes AS c SET customer_id = f.token FROM _rfm_forget AS f
WHERE c.customer_id = f.customer_id;
-- step: model inputs
UPDATE rfm_predict_inputs AS p SET customer_id = f.token FROM _rfm_forget AS f
WHERE p.customer_id = f.customer_id;
-- step: member levels
UPDATE rfm_levels AS l SET customer_id = f.token FROM _rfm_forget AS f WHERE l.customer_id = f.customer_id;
-- step: level changes
UPDATE rfm_level_changes AS l SET customer_id = f.token FROM _rfm_forget AS f
WHERE l.customer_id = f.customer_id;
-- step: follow-up sends
UPDATE rfm_followup_sends AS s SET customer_id = f.token FROM _rfm_forget AS f
WHERE s.customer_id = f.customer_id;
-- step: consent records
DELETE FROM rfm_consent
WHERE (kind = 'customer_id' AND value IN (SELECT customer_id FROM _rfm_forget))
   OR (kind = 'phone' AND list_contains($digits, regexp_replace(value, '[^0-9]', '', 'g')))
   OR (kind = 'email' AND list_contains($emails, value));
-- step: plain suppression entries
DELETE FROM rfm_suppressions
WHERE (kind = 'customer_id' AND value IN (SELECT customer_id FROM _rfm_forget))
   OR (kind = 'phone' AND list_contains($digits, regexp_replace(value, '[^0-9]', '', 'g')))
   OR (kind = 'email' AND list_contains($emails, value));
