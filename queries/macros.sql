-- macros: functions used by the SQL (cell cleaning for the import, and rfm_pick_key). Created on every connection,
-- TEMP: they belong to the connection, so opening a database writes nothing to it (a damaged file stays as it was).
-- rfm_text(s)      VARCHAR -> VARCHAR: whitespace, tabs and stray quotes trimmed, `="…"` unwrapped,
--                  a leading ' dropped; '' becomes NULL.
-- rfm_id(s)        VARCHAR -> VARCHAR: rfm_text, and an integer that a spreadsheet turned into a
--                  float (`17850.0`) back to its digits. Ids stay text: leading zeros are kept.
-- rfm_amount(s)    VARCHAR -> DECIMAL(18,2): currency signs/words (¥ ￥ $ 元 RMB CNY), thousands
--                  separators and spaces removed; NULL when unreadable.
-- rfm_timestamp(s) VARCHAR -> TIMESTAMP: ISO, slashed and Chinese dates, with or without time,
--                  a trailing time zone dropped (the seller's wall-clock time is kept), Excel serials.
-- rfm_flag(s)      VARCHAR -> BOOLEAN: yes/no words of consent columns (yes, true, 1, 是, subscribed …).
-- rfm_pick_key(t, id) TIMESTAMP, VARCHAR -> HUGEINT: which of a customer's orders is the latest, for
--                  picking contact fields: by time, and at the same moment the greater order id: as
--                  a number when it is one (plain digits that fit 64 bits), else by a fixed hash
--                  (md5) of the id. One fixed-size number, where the pair (t, id) made DuckDB build a
--                  sort key per row: customer_rfm.sql at 10M orders took 4.6 s instead of 7.8 s.
-- Each has a fast path for a clean cell (CASE and COALESCE only evaluate the slow branch for the
-- rows that need it): most cells of most exports are already clean.

-- Order matters: the exact Excel wrapper `="…"` is unwrapped before stray quotes are trimmed, so a
-- cell like `=HYPERLINK("x")` stays as it is (and is escaped when written, never executed).
CREATE OR REPLACE TEMP MACRO rfm_text_slow(s) AS nullif(
    regexp_replace(
        trim(
            regexp_replace(trim(s, E' \t\r\n　'), '^="(.*)"$', '\1'),
            E' \t\r\n　"'),
        '^''', ''),
    '');

-- The first/last character tests use contains() on a constant string, not IN (...): DuckDB plans an
-- IN list as a join, and a join per macro call made the staging plan 20x slower.
CREATE OR REPLACE TEMP MACRO rfm_text(s) AS CASE
    WHEN s IS NULL OR s = '' THEN NULL
    WHEN contains(E' \t"=''　\r\n', left(s, 1)) OR contains(E' \t"　\r\n', right(s, 1)) THEN rfm_text_slow(s)
    ELSE s END;

CREATE OR REPLACE TEMP MACRO rfm_id(s) AS CASE
    WHEN contains(s, '.') THEN regexp_replace(rfm_text(s), '^(\d+)\.0+$', '\1')
    ELSE rfm_text(s) END;

CREATE OR REPLACE TEMP MACRO rfm_amount(s) AS coalesce(
    try_cast(s AS DECIMAL(18, 2)),
    try_cast(regexp_replace(rfm_text(s), '[¥￥$元,\s]|RMB|CNY|USD', '', 'g') AS DECIMAL(18, 2)));

CREATE OR REPLACE TEMP MACRO rfm_excel_serial(t) AS
    TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(CAST(t AS DOUBLE) * 86400000000) AS BIGINT));

CREATE OR REPLACE TEMP MACRO rfm_timestamp_slow(t) AS CASE
    WHEN regexp_full_match(t, '[2-7]\d{4}(\.\d+)?') THEN rfm_excel_serial(t)
    ELSE try_strptime(
        regexp_replace(replace(t, 'T', ' '), '\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})$', ''),
        ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M', '%Y-%m-%d',
         '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d', '%Y.%m.%d %H:%M:%S', '%Y.%m.%d',
         '%Y%m%d', '%Y年%m月%d日 %H:%M:%S', '%Y年%m月%d日 %H:%M', '%Y年%m月%d日'])
    END;

CREATE OR REPLACE TEMP MACRO rfm_timestamp(s) AS coalesce(
    try_cast(s AS TIMESTAMP),
    rfm_timestamp_slow(rfm_text(s)));

CREATE OR REPLACE TEMP MACRO rfm_flag(s) AS CASE
    WHEN list_contains(['yes', 'y', 'true', 't', '1', '是', 'subscribed', 'opted_in', 'opt-in'], lower(rfm_text(s)))
        THEN true
    WHEN list_contains(['no', 'n', 'false', 'f', '0', '否', 'unsubscribed', 'not_subscribed', 'opted_out', 'opt-out'],
                       lower(rfm_text(s))) THEN false
    END;

CREATE OR REPLACE TEMP MACRO rfm_pick_key(t, id) AS (CAST(epoch_us(t) AS HUGEINT) << 64) + CASE
    WHEN CAST(try_cast(id AS UBIGINT) AS VARCHAR) = id THEN CAST(id AS UBIGINT)  -- digits only, as written
    ELSE md5_number_lower(id) END;
