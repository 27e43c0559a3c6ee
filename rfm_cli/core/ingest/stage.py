"""Staging one file: read it (the direct path for delimited text, else the general one), map its
headers, clean and check every row, and group the rows into the file's orders (temp tables
file_orders, file_rejects, and file_lines when it has product columns), inside the caller's
transaction. pipeline.import_file then merges them into the store.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest import dates, grouping, line_items
from rfm_cli.core.ingest import staging as staging_sql
from rfm_cli.core.ingest.checks import date_range_warnings, lost_digits_warning, refuse_duplicate_headers
from rfm_cli.core.ingest.direct import (
    close_direct,
    direct_line_count,
    direct_read,
    direct_rejects,
    direct_rows_add_up,
    load_direct_sample,
    open_direct,
)
from rfm_cli.core.ingest.lines import LineScan
from rfm_cli.core.ingest.mapping import ColumnMap, resolve
from rfm_cli.core.ingest.profile_match import known_headers
from rfm_cli.core.ingest.profiles import load_profiles
from rfm_cli.core.ingest.sniff import Sniffed, sniff, to_duckdb
from rfm_cli.core.ingest.sniffed import RESERVED_COLUMNS, duck_error
from rfm_cli.core.ingest.staging import Staging
from rfm_cli.core.store import define_import_macros, fetch_one, progress


@dataclass
class ImportOptions:
    overrides: dict[str, str] = field(default_factory=dict)  # --map field=Header
    max_rejects: str = "1%"  # N rows or P% of the file's rows
    source: str | None = None  # --source NAME: force a platform profile
    date_format: str | None = None  # --date-format, e.g. %d/%m/%Y
    user_profiles: dict | None = None  # [profiles.NAME] tables of rfm.toml
    # Where <file>-<timestamp>.csv of the rejected rows goes; None (the default): nowhere, so scoring
    # in memory or from a notebook writes nothing unless asked. `rfm import` and `rfm run` set rejects/.
    rejects_dir: Path | None = None
    # --categories FILE: a product -> category map (core/products.py), stored with the imports
    categories: Path | None = None


def _create_staged_view(con, st: Staging) -> None:
    # Consumers name the columns they need, so the _raw_* helpers cost nothing unless a check reads them.
    con.execute(f"""
CREATE OR REPLACE TEMP VIEW staged AS
SELECT *, {st.bad} AS bad
FROM {st.rows()}
""")


def _collect_rejects(con, st: Staging) -> None:
    """Second pass, only when some row is bad: sheet (a workbook's, else NULL), line, column, reason and
    raw text of every rejected row (the unreadable ones, the other lines of their orders, and lines that
    could not be split into cells), in the file's row order."""
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE file_rejects AS
WITH detail AS (
    SELECT _line, _sheet, _row_key, order_id, {st.reject_column} AS reject_column,
           {st.reject_reason} AS reject_reason, raw
    FROM {st.rows(detail=True)}
),
rejected AS (
    SELECT * FROM detail
    WHERE reject_reason IS NOT NULL
       OR order_id IN (SELECT order_id FROM file_orders WHERE bad_lines > 0 AND order_id IS NOT NULL)
),
first_bad AS (
    SELECT order_id,
           arg_min(CASE WHEN _sheet IS NULL THEN 'line ' || _line
                        ELSE 'sheet ' || chr(39) || _sheet || chr(39) || ' row ' || _line END,
                   _row_key) AS place
    FROM rejected WHERE reject_reason IS NOT NULL GROUP BY order_id
)
SELECT sheet, line, column_name, reason, raw FROM (
    SELECT r._sheet AS sheet, r._line AS line, r._row_key,
           coalesce(r.reject_column, 'order_id') AS column_name,
           coalesce(r.reject_reason, f.place || ' of the same order was rejected') AS reason,
           r.raw
    FROM rejected AS r
    LEFT JOIN first_bad AS f USING (order_id)
    UNION ALL
    SELECT NULL, _line, _line, NULL, reason, raw FROM raw_rows_bad
)
ORDER BY _row_key
""")


@dataclass
class StagedFile:
    sniffed: Sniffed
    colmap: ColumnMap
    staging: Staging
    rows_read: int
    rejected: int
    unsplit: int  # lines that could not be split into cells (kept in raw_rows_bad)
    first_rejects: list[dict]
    warnings: list[str]
    line_account: tuple[int, int, int] | None = None  # text files: see FileReport.data_lines


def reject_columns(st: Staging) -> list[str]:
    """The columns of file_rejects a reader is shown: a workbook's rows are named by sheet and row."""
    return (["sheet"] if st.sheets else []) + ["line", "column_name", "reason", "raw"]


def reject_place(reject: dict) -> str:
    """Where a rejected row (a first_rejects entry) is: `line 18` of a text file, `sheet 'Orders 2'
    row 5` of a workbook (whose rows start again at 2 on each sheet)."""
    sheet = reject.get("sheet")
    return f"line {reject['line']}" if sheet is None else f"sheet {sheet!r} row {reject['line']}"


# The file's data rows and those of its rejected orders, from its grouped orders.
_ROWS_AND_REJECTED = ("SELECT coalesce(sum(lines), 0), "
                      "coalesce(sum(lines) FILTER (WHERE bad_lines > 0 OR order_id IS NULL), 0) "
                      "FROM file_orders")


def drop_staging(con, *, keep_orders: bool = False) -> None:
    # order_outcomes is a view when nothing was stored before the file (see import_file).
    # Only what exists is dropped (a DROP IF EXISTS of nothing still cost ~0.25 ms, 12 of them a file):
    # TEMP tables and views, and the raw_rows tables the general path writes into the store's own
    # database (read_text, read_workbook, sniffed), which must never outlive the import.
    present = dict(con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary UNION ALL "
        "SELECT table_name, 'TABLE' FROM duckdb_tables() "
        "WHERE temporary OR (database_name = current_database() AND schema_name = current_schema())"
    ).fetchall())
    for name in ("staged", "raw_rows", "raw_rows_bad", "raw_rows_lines", "raw_sample", "file_orders",
                 "order_outcomes", "file_outcomes", "file_rejects", "_status_map", "file_lines", "file_rows"):
        if name in present and not (keep_orders and name in ("file_orders", "file_lines", "file_rows")):
            con.execute(f"DROP {present[name]} {name}")


def _status_map(con, colmap: ColumnMap, source: str) -> list[tuple[int, str, str]]:
    """Table _status_map: each status column's raw words as read in `source`, with the canonical
    status the profile gives them (staging.status_map_rows); the rows are returned as well."""
    status_rows = staging_sql.status_map_rows(con, colmap, source)
    # one statement, the rows as parameters (executemany cost a statement a row)
    if not status_rows:
        con.execute("CREATE OR REPLACE TEMP TABLE _status_map (col INTEGER, raw VARCHAR, status VARCHAR)")
        return status_rows
    values = ", ".join(["(?::INTEGER, ?::VARCHAR, ?::VARCHAR)"] * len(status_rows))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _status_map AS SELECT * FROM (VALUES {values}) "
                "AS t(col, raw, status)", [cell for row in status_rows for cell in row])
    return status_rows


def _stage_direct(con, path: Path, sniffed: Sniffed, options: ImportOptions,
                  workdir: Path) -> StagedFile | None:
    """The fast path for delimited text: one pass of `read_csv` straight into the cleaning SELECT and
    the GROUP BY, with no staging table of raw text (which costs a copy of the file in memory and
    line numbers for every row). Decisions that need the data (status words, day/month order) are
    taken on a sample. Returns None, having dropped what it made, whenever the result could differ
    from the slow path's or a row needs its line number (an unreadable row, a line DuckDB cannot
    split, a status or date form the sample missed, order-level fields to fill down): the caller
    then stages the file the slow way, which places and explains every such row."""
    label = str(path)
    direct = open_direct(sniffed, workdir)
    try:
        headers = direct.names
        colmap = resolve(headers, overrides=options.overrides, source=options.source,
                         user_profiles=options.user_profiles, label=label)
        if colmap.options.get("fill_order_fields") or sniffed.foreign_lines:
            return None
        refuse_duplicate_headers(sniffed.headers, colmap, options.overrides, label)
        try:
            load_direct_sample(con, direct, sniffed, "raw_sample", workdir)
        except duckdb.InterruptException:
            raise
        except duckdb.Error as error:  # the transaction is aborted now: no second try, say what failed
            raise duck_error(path, error) from None
        forced = dates.normalise_date_format(options.date_format or colmap.options.get("date_format"))
        status_rows = _status_map(con, colmap, "raw_sample")
        decimal_comma, decimal_note = staging_sql.detect_decimal_comma(con, colmap, "raw_sample")
        typed = _typed_on_sample(con, colmap, forced, decimal_comma)
        # A date column the sample reads as TIMESTAMP has no day/month order to settle (rfm_timestamp
        # is try_cast for such a cell): the detection's query (~6 ms) is left out.
        date_headers = set(colmap.date_columns or [colmap.columns.get("order_date")])
        if forced is None and not date_headers <= typed.keys():
            try:
                if dates.detect_date_format(con, colmap, "raw_sample", label) is not None:
                    return None
            except DataError:
                return None
        source = direct_read(direct, sniffed, typed) if typed else direct.read
        st = staging_sql.build(colmap, headers, source, forced, forced is not None, typed, status_rows,
                               decimal_comma=decimal_comma, rank_statuses=True)
        _create_staged_view(con, st)
        counted = _group_counting_lines(con, path, direct, st)
        rows_read, rejected = fetch_one(con, _ROWS_AND_REJECTED)
        if rejected or rows_read == 0 or direct_rejects(con, direct):
            return None
        line_account = direct_rows_add_up(direct, rows_read, counted)
        if line_account is None:
            return None  # the slow path places every line, and fails the import if one is missing
        con.execute("DROP VIEW IF EXISTS staged")  # it reads a file that may be gone once we return
        warnings = lost_digits_warning(con) + date_range_warnings(con) + [n for n in [decimal_note] if n]
        return StagedFile(sniffed=sniffed, colmap=colmap, staging=st, rows_read=rows_read, rejected=0,
                          unsplit=0, first_rejects=[], warnings=warnings, line_account=line_account)
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # never mask the error that got us here
            drop_staging(con)
        raise
    finally:
        close_direct(con, direct)
        with contextlib.suppress(duckdb.Error):
            con.execute("DROP TABLE IF EXISTS raw_sample")


def file_state(path: Path) -> tuple[int, int]:
    """Size and modification time: a file read twice is the same file both times when they match."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _typed_on_sample(con, colmap, forced: str | None, decimal_comma: bool) -> dict[str, str]:
    """Columns clean on the sample, to be parsed by the CSV reader itself, not by the cleaning
    macros (amounts only with a decimal point: the reader's DECIMAL reads `1.234` as 1.23)."""
    candidates = {header: type_ for header, type_ in staging_sql.typed_candidates(colmap, forced).items()
                  if not (decimal_comma and (type_.startswith("DECIMAL") or type_ == "DOUBLE"))}
    if not candidates:
        return {}
    # one scan of the sample for every column (a query a column cost ~0.8 ms each)
    q = staging_sql.q
    failed = fetch_one(con, "SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {q(h)} IS NOT NULL AND try_cast({q(h)} AS {t}) IS NULL)"
        for h, t in candidates.items()) + " FROM raw_sample")
    return {header: type_ for (header, type_), bad in zip(candidates.items(), failed, strict=True) if not bad}


def _group(con, st: Staging) -> None:
    """import_group_orders over the staged rows, for this file (see grouping.group_orders_statements,
    raw_status_macros). A file with product columns is read a second time for its lines alone
    (line_items.ROWS: temp table file_rows, which view file_lines reads); reading every staged row
    into file_rows and grouping the orders from it cost more CPU and ~1.6x the memory, and gathering
    the lines in the GROUP BY (a list per order) more again."""
    for statement in grouping.raw_status_macros(st) + grouping.group_orders_statements(st):
        con.execute(statement)
    if st.has_lines:
        con.execute(line_items.ROWS)
        con.execute(st.lines_sql())


def _group_counting_lines(con, path: Path, direct, st: Staging) -> LineScan:
    """The one pass (import_group_orders), with the file's physical lines counted from its bytes
    meanwhile (DuckDB releases the GIL): the count the rows must add up to. A file with product
    columns is read twice (the lines, see _group): it must be the same file both times."""
    before = file_state(direct.source)
    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(direct_line_count, direct)
        try:
            with progress(con, f"reading {path.name}"):
                _group(con, st)
        except duckdb.InterruptException:
            raise
        except duckdb.Error as error:  # the transaction is aborted now: no second try, say what failed
            raise duck_error(path, error) from None
        finally:
            counted = counting.result()
    if st.has_lines and file_state(direct.source) != before:  # the lines come from a second read
        raise DataError(f"{path} changed while it was imported (its orders and their lines are read one "
                        "after the other); import it again once the export is written")
    return counted


def stage_file(con, path: Path, options: ImportOptions, *, direct: bool = False) -> StagedFile:
    """Read, map and check one file into temp table file_orders (and file_rejects when rows are bad),
    without touching the stored orders: `rfm inspect` stops here, an import goes on to merge.

    `direct`: try the one-pass fast path for delimited text first (no raw_rows table is left for
    the caller to look at, so `rfm inspect` does not ask for it)."""
    import tempfile

    label = str(path)
    define_import_macros(con)
    profiles = load_profiles(options.user_profiles)
    sniffed = sniff(path, known_headers=known_headers(profiles))
    if direct and sniffed.kind == "csv":
        with tempfile.TemporaryDirectory(prefix="rfm-direct-") as workdir:
            fast = _stage_direct(con, path, sniffed, options, Path(workdir))
        if fast is not None:
            return fast
        drop_staging(con)
    with tempfile.TemporaryDirectory(prefix="rfm-decode-") as workdir, progress(con, f"loading {path.name}"):
        to_duckdb(con, sniffed, "raw_rows", Path(workdir))
    headers = [c for c in con.table("raw_rows").columns if c not in RESERVED_COLUMNS]
    sheets = sniffed.kind in ("xlsx", "xls")  # the rows have _sheet and _row (read_workbook.SHEET_ROWS)
    unsplit = fetch_one(con, "SELECT coalesce(sum(lines), 0) FROM raw_rows_bad")[0]
    colmap = resolve(headers, overrides=options.overrides, source=options.source,
                     user_profiles=options.user_profiles, label=label)
    refuse_duplicate_headers(sniffed.headers, colmap, options.overrides, label)
    source = staging_sql.fill_source(colmap, "raw_rows", headers, sheets=sheets)
    forced = dates.normalise_date_format(options.date_format or colmap.options.get("date_format"))
    date_format = forced or dates.detect_date_format(con, colmap, source, label)
    status_rows = _status_map(con, colmap, source)
    decimal_comma, decimal_note = staging_sql.detect_decimal_comma(con, colmap, source)
    st = staging_sql.build(colmap, headers, source, date_format, forced is not None, status_map=status_rows,
                           decimal_comma=decimal_comma, numbered=True, sheets=sheets)
    _create_staged_view(con, st)
    with progress(con, f"reading {path.name}"):
        _group(con, st)
    rows_read, rejected = fetch_one(con, _ROWS_AND_REJECTED)
    rows_read += unsplit
    rejected += unsplit
    if rows_read == 0:
        raise DataError(f"{label} has no order rows (only a header or nothing); export the orders again")
    first_rejects: list[dict] = []
    if rejected:
        _collect_rejects(con, st)
        keys = ("sheet", "line", "column", "reason") if sheets else ("line", "column", "reason")
        first_rejects = [dict(zip(keys, row)) for row in con.execute(
            f"SELECT {', '.join(reject_columns(st)[:-1])} FROM file_rejects LIMIT 5").fetchall()]
    warnings = lost_digits_warning(con) + date_range_warnings(con) + [n for n in [decimal_note] if n]
    if date_format and not forced:
        warnings.append(f"dates read as {date_format} (the data settles the day/month order)")
    line_account = None
    if sniffed.kind == "csv":
        line_account = fetch_one(con, "SELECT data_lines, empty_lines, continuation_lines "
                                      "FROM raw_rows_lines")
    return StagedFile(sniffed=sniffed, colmap=colmap, staging=st, rows_read=rows_read, rejected=rejected,
                      unsplit=unsplit, first_rejects=first_rejects, warnings=warnings,
                      line_account=line_account)
