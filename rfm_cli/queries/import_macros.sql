-- import_macros: the import's cell cleaning, defined when a file is staged (ingest/stage.py
-- stage_file; rfm inspect too): the commands that read a database need none of them, and defining
-- them costs ~9 ms. Written TEMP: store.define_import_macros runs them so on the first store of a
-- DuckDB instance, and once on the instance (not TEMP, in its own catalog: core/instances.py
-- `define`) for the stores after it; never in the store's database.
-- rfm_text(s)      VARCHAR -> VARCHAR: whitespace and tabs trimmed, `="…"` unwrapped, a value wrapped
--                  whole in quotes unwrapped (`"6920…"`, left by a tab before a CSV quote), a leading
--                  ' dropped; '' becomes NULL. A quote that belongs to the value stays: `say "hi"`.
-- rfm_id(s)        VARCHAR -> VARCHAR: rfm_text, and an integer that a spreadsheet turned into a
--                  float (`17850.0`) back to its digits. Ids stay text: leading zeros are kept.
-- rfm_id_text(t)   rfm_id of a cell already through rfm_text.
-- rfm_float_id(s)  VARCHAR -> BOOLEAN: an id a spreadsheet stored as a float in scientific form
--                  (`1.23457E+18`): its last digits are lost, so different orders would merge.
-- rfm_amount(s)    VARCHAR -> DECIMAL(18,2): currency signs/words (¥ ￥ $ 元 RMB CNY) and spaces
--                  removed; a decimal point, and commas only as thousands separators in groups of
--                  three (`1,234.50`): `12,50` or `1.234,56` is NULL (unreadable), never 1250 or 1.23.
-- rfm_amount_comma(s) the same for a file written with a decimal comma (`1.234,56`, `12,5`): dots
--                  only as thousands separators in groups of three.
-- rfm_timestamp(s) VARCHAR -> TIMESTAMP: ISO, slashed and Chinese dates, with or without time,
--                  a trailing time zone dropped (the seller's wall-clock time is kept), Excel serials.
-- rfm_flag(s)      VARCHAR -> BOOLEAN: yes/no words of consent columns (yes, true, 1, 是, subscribed …).
-- rfm_mask(s)      VARCHAR -> VARCHAR: a cell value as a reject reason (and so an error line or a log)
--                  may show it, when it may be personal data in the wrong column: an email as
--                  `s***@example.com`; a phone (7 or more digits, nothing but digits, spaces, + - ( ),
--                  not a date) with its first 3 and last 4 characters only (`138****5678`); else cut
--                  to 40 characters.
-- rfm_raw_status_key(counting, raw), rfm_raw_status_of(key): import_group_orders' one min() over an
--                  order's lines that gives its raw status: the least raw status (in text order) of its
--                  counting lines (`counting`: a non-negative line that counts), else of all lines.
--                  Here the raw text behind '0' (counting) or '1'; a file whose raw statuses are a few
--                  known words redefines both with integers (staging.raw_status_macros): a min over
--                  integers costs less than over text.
-- Each has a fast path for a clean cell (CASE and COALESCE only evaluate the slow branch for the
-- rows that need it): most cells of most exports are already clean.

-- Order matters: the exact Excel wrapper `="…"` is unwrapped before wrapping quotes, so a cell like
-- `=HYPERLINK("x")` stays as it is (and is escaped when written, never executed).
CREATE OR REPLACE TEMP MACRO rfm_text_slow(s) AS nullif(
    trim(
        regexp_replace(
            regexp_replace(
                trim(regexp_replace(trim(s, E' \t\r\n　'), '^="(.*)"$', '\1'), E' \t\r\n　'),
                '^"([^"]*)"$', '\1'),
            '^\s*''', ''),
        E' \t\r\n　'),
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

-- rfm_id of a cell already through rfm_text (rfm_text never adds or removes a '.'): the import
-- cleans an id's text once under the source (staging.Texts) instead of twice inside rfm_id.
CREATE OR REPLACE TEMP MACRO rfm_id_text(t) AS CASE
    WHEN contains(t, '.') THEN regexp_replace(t, '^(\d+)\.0+$', '\1')
    ELSE t END;

-- contains() first: one cheap scan of each id, the pattern only for the few with a '+'
CREATE OR REPLACE TEMP MACRO rfm_float_id(s) AS contains(s, '+') AND regexp_full_match(s, '\d(\.\d+)?[eE]\+\d+');

CREATE OR REPLACE TEMP MACRO rfm_amount_text(s) AS regexp_replace(rfm_text(s), '[¥￥$元\s]|RMB|CNY|USD', '', 'g');

CREATE OR REPLACE TEMP MACRO rfm_amount(s) AS coalesce(
    try_cast(s AS DECIMAL(18, 2)),
    CASE WHEN regexp_full_match(rfm_amount_text(s), '[-+]?(\d{1,3}(,\d{3})+|\d*)(\.\d*)?')
         THEN try_cast(replace(rfm_amount_text(s), ',', '') AS DECIMAL(18, 2)) END);

CREATE OR REPLACE TEMP MACRO rfm_amount_comma(s) AS
    CASE WHEN regexp_full_match(rfm_amount_text(s), '[-+]?(\d{1,3}(\.\d{3})+|\d*)(,\d*)?')
         THEN try_cast(replace(replace(rfm_amount_text(s), '.', ''), ',', '.') AS DECIMAL(18, 2)) END;

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

CREATE OR REPLACE TEMP MACRO rfm_mask(s) AS CASE
    WHEN regexp_full_match(s, '\s*[^@\s]+@[^@\s]+\s*') THEN regexp_replace(trim(s), '^(.)[^@]*@', '\1***@')
    WHEN regexp_full_match(s, '[\d\s+()-]+') AND length(regexp_replace(s, '\D', '', 'g')) >= 7
         AND NOT regexp_full_match(trim(s), '\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4}')  -- a date
        THEN left(s, 3) || repeat('*', length(s) - 7) || right(s, 4)
    WHEN length(s) > 40 THEN left(s, 40) || '…'
    ELSE s END;

CREATE OR REPLACE TEMP MACRO rfm_raw_status_key(counting, raw) AS CASE WHEN counting THEN '0' ELSE '1' END || raw;

CREATE OR REPLACE TEMP MACRO rfm_raw_status_of(k) AS substr(k, 2);
