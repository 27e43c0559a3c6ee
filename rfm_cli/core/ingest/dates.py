"""The dates of an import's SQL: the typed order date of a row (`date_sql`), the delivered date
(`delivered_sql`), the day/month order settled by the data (`detect_date_format`), --date-format
checked (`normalise_date_format`), and the last plausible day (`plausible_until`).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb

from rfm_cli.core.errors import DataError, UsageError
from rfm_cli.core.ingest.mapping import ColumnMap
from rfm_cli.core.ingest.sql_names import cell as _cell
from rfm_cli.core.ingest.sql_names import lit, q

SLASHED_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(\s.*)?$"


def date_sql(colmap: ColumnMap, date_format: str | None, forced: bool) -> tuple[str, str]:
    """(raw date text, typed date expression): the first present date column with a value wins."""
    cols = colmap.date_columns or ([colmap.columns["order_date"]] if "order_date" in colmap.columns else [])
    raw = ("coalesce(" + ", ".join(f"rfm_text(r.{q(c)})" for c in cols) + ")"
           if cols else "CAST(NULL AS VARCHAR)")
    if date_format is None:
        return raw, f"rfm_timestamp({raw})"
    formats = [date_format, date_format + " %H:%M", date_format + " %H:%M:%S"]
    fmt_list = "[" + ", ".join(lit(f) for f in formats) + "]"
    slashed = f"try_strptime(regexp_replace({raw}, '[.-]', '/', 'g'), {fmt_list})"
    if forced:  # the user's format first: it decides ambiguous cells
        return raw, f"coalesce(try_strptime({raw}, {fmt_list}), {slashed}, rfm_timestamp({raw}))"
    return raw, f"coalesce(rfm_timestamp({raw}), {slashed})"


def delivered_sql(colmap: ColumnMap, date_format: str | None) -> str:
    """When the buyer received the order (day-N follow-ups count from it). A cell that is no date
    ("-", "未签收") is an order not delivered yet: NULL, never a reject."""
    if "delivered_date" not in colmap.columns:
        return "CAST(NULL AS TIMESTAMP)"
    cell = _cell(colmap, "delivered_date")
    if date_format is None:
        return f"rfm_timestamp({cell})"
    formats = "[" + ", ".join(lit(date_format + t) for t in ("", " %H:%M", " %H:%M:%S")) + "]"
    return f"coalesce(rfm_timestamp({cell}), try_strptime(rfm_text({cell}), {formats}))"


def detect_date_format(con: duckdb.DuckDBPyConnection, colmap: ColumnMap, source: str,
                       label: str) -> str | None:
    """Day/month order of dates like 03/04/2024, settled by the data when a day above 12 shows it."""
    raw, _ = date_sql(colmap, None, False)
    first, second, count, example = con.execute(
        f"SELECT max(CAST(regexp_extract(t, '{SLASHED_DATE}', 1) AS INTEGER)), "
        f"max(CAST(regexp_extract(t, '{SLASHED_DATE}', 2) AS INTEGER)), count(*), rfm_mask(any_value(t)) "
        f"FROM (SELECT {raw} AS t FROM {source} AS r) WHERE regexp_matches(t, '{SLASHED_DATE}') "
        f"AND rfm_timestamp(t) IS NULL"
    ).fetchall()[0]
    if not count:
        return None
    if first > 12 and second <= 12:
        return "%d/%m/%Y"
    if second > 12 and first <= 12:
        return "%m/%d/%Y"
    if first > 12 and second > 12:
        return None  # not dates at all: the rows are rejected as unreadable
    raise DataError(
        f"{label}: dates like {example!r} could be day/month or month/day and no date in the file "
        "settles it; pass --date-format %d/%m/%Y (day first) or --date-format %m/%d/%Y"
    )


def normalise_date_format(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.search(r"%[dmY]", value):
        raise UsageError(f"--date-format {value!r} has no %d, %m or %Y; write it like %d/%m/%Y")
    return value


def plausible_until(today: date | None = None) -> date:
    """Order dates on or after this day are in the future: rejected. Two days of slack for a shop
    whose clock is ahead of this machine's (time zones reach +14 hours)."""
    return (today or date.today()) + timedelta(days=2)
