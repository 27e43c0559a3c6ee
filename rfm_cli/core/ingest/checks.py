"""Checks on a whole file, after its columns are mapped and its rows grouped: what rfm refuses to
guess (two columns with the name it reads) and what it tells the reader (ids that lost digits,
order dates far from the rest of the file)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest.mapping import ColumnMap
from rfm_cli.core.ingest.profiles import normalize_header
from rfm_cli.core.ingest.sniffed import column_names
from rfm_cli.core.store import fetch_one


def used_headers(colmap: ColumnMap) -> set[str]:
    """Every column the import reads."""
    used = set(colmap.columns.values()) | set(colmap.date_columns) | set(colmap.status_columns)
    return used | set(colmap.cancelled_columns) | set(colmap.amount_from)


def refuse_duplicate_headers(headers: list[str], colmap: ColumnMap, overrides: dict[str, str],
                             label: str) -> None:
    """Stop when two columns share a name the import reads: taking the first would be a guess (a
    file with `amount,amount` may hold the price and the total). A --map naming one of them by its
    position name (`amount 2`) settles it. Duplicates of columns rfm does not read are harmless."""
    names = column_names(headers)
    groups: dict[str, list[int]] = defaultdict(list)
    for position, header in enumerate(headers):
        if header:
            groups[normalize_header(header)].append(position)
    used, chosen = used_headers(colmap), set(overrides.values())
    for positions in groups.values():
        same = [names[p] for p in positions]
        if len(positions) < 2 or not used & set(same) or chosen & set(same):
            continue
        field = next((f for f, h in colmap.columns.items() if h in same), "a field")
        columns = " and ".join(f"{p + 1} ({names[p]!r})" for p in positions)
        raise DataError(
            f"{label}: columns {columns} are both named {headers[positions[0]]!r}, and rfm reads {field} "
            f"from that name; rename one in the file, or choose with --map {field}=\"{names[positions[1]]}\"")


def lost_digits_warning(con) -> list[str]:
    """Ids of 16 digits or more ending in 000: what a spreadsheet writes for a long number it kept
    as a float (15 significant digits). A real order number can end in 000 too, so this warns; ids
    in scientific form (`1.23457E+18`) are rejected row by row instead (see staging)."""
    # The cheap test first (16 digits need a length of 16): the patterns then run on a few ids.
    count, example = fetch_one(
        con, "SELECT count(*), rfm_mask(any_value(order_id)) FROM file_orders "
             "WHERE length(order_id) >= 16 AND regexp_matches(order_id, '^[0-9]{16,}$') "
             "AND regexp_matches(order_id, '0{3}$')")
    if count:
        return [(f"{count} order ids like {example!r} look like long numbers a spreadsheet stored as "
                 "floating point: their last digits may be lost; export ids as text")]
    return []


def date_range_warnings(con) -> list[str]:
    """Order dates that stand alone far from the rest of the file (dates in the future are rejected
    row by row). The latest order sets the default as-of date, so one stray date a year or more
    after every other order would make every customer dormant: say so, never let it pass unseen.
    Two cheap aggregates (max/min, then the next day with orders), no sort of the dates."""
    latest, earliest = fetch_one(con, "SELECT max(ordered_at), min(ordered_at) FROM file_orders "
                                      "WHERE bad_lines = 0 AND order_id IS NOT NULL")
    if latest is None:
        return []
    last_day = datetime.combine(latest.date(), time())
    next_day = datetime.combine(earliest.date(), time()) + timedelta(days=1)
    before, after, late, early = fetch_one(
        con, "SELECT max(ordered_at) FILTER (WHERE ordered_at < $last_day), "
             "min(ordered_at) FILTER (WHERE ordered_at >= $next_day), "
             "count(*) FILTER (WHERE ordered_at >= $last_day), "
             "count(*) FILTER (WHERE ordered_at < $next_day) "
             "FROM file_orders WHERE bad_lines = 0 AND order_id IS NOT NULL",
        {"last_day": last_day, "next_day": next_day})
    warnings = []
    if before is not None and (latest - before).days > 365:
        warnings.append(f"{late} orders dated {latest.date()}, more than a year after every other order of "
                        f"the file (the one before: {before.date()}): the latest order sets the default "
                        "as-of date; check that date, or pass --as-of")
    if after is not None and (after - earliest).days > 20 * 365:
        warnings.append(f"{early} orders dated {earliest.date()}, decades before every other order of the "
                        f"file (the next: {after.date()}): check that date")
    return warnings
