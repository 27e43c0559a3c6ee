"""The direct path for a large clean UTF-8 file: DuckDB reads the file itself in the import's
statement (no staging copy), checked against an independent count of its lines."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from rfm_cli.core.ingest.lines import LineScan, count_lines, scan_text
from rfm_cli.core.ingest.read_text import _as_utf8, _header_span, _read_csv_sql
from rfm_cli.core.ingest.sniffed import Sniffed, _ident, _literal, _table_ident, column_names


@dataclass
class DirectText:
    """A delimited text file read straight from disk by a `read_csv(...)` table expression (every
    column VARCHAR, named like the staging table's columns), with no staging table and no line
    numbers: the import's fast path. Lines DuckDB cannot split land in `rejects_table`; a caller
    that finds any (`direct_rejects`) goes back to `to_duckdb`, which places them."""

    read: str
    names: list[str]
    source: Path
    skip: int
    rejects_table: str
    rejects_scan: str
    converted: Path | None = None
    data_start: int = 2  # physical line of the first data line in `source`


def open_direct(sniffed: Sniffed, workdir: Path) -> DirectText:
    """The `read_csv` expression for `sniffed` (kind "csv"); a non-UTF-8 file is transcoded first."""
    token = uuid.uuid4().hex[:12]
    source, converted = _as_utf8(sniffed, workdir, f"direct-{token}")
    skip, data_start = _header_span(source, sniffed)
    names = column_names(sniffed.headers)
    rejects_table, rejects_scan = f"_rfm_rejects_{token}", f"_rfm_reject_scans_{token}"
    return DirectText(
        read=_read_csv_sql(source, sniffed, names, skip,
                           f"store_rejects=true, rejects_table={_literal(rejects_table)}, "
                           f"rejects_scan={_literal(rejects_scan)}"),
        names=names, source=source, skip=skip, rejects_table=rejects_table, rejects_scan=rejects_scan,
        converted=converted, data_start=data_start,
    )


def direct_line_count(direct: DirectText) -> LineScan:
    """The physical lines of `direct.source` (one `count` of its line breaks), while the reader reads."""
    return count_lines(direct.source, direct.data_start)


def direct_rows_add_up(direct: DirectText, rows: int, counted: LineScan) -> tuple[int, int, int] | None:
    """Whether the reader's `rows` account for every physical data line of `direct.source`: the
    data lines less the empty ones and the line breaks inside quoted values. The line count alone
    settles the usual file (no empty line inside, no line break in a value); otherwise a second
    pass counts those by quote parity (a lone quote inside an unquoted value makes the count
    differ, and the caller takes the slow path, which places every line). Returns (data lines,
    empty lines, line breaks inside values), or None when the rows do not add up."""
    one_column = len(direct.names) == 1  # DuckDB reads an empty line of a one-column file as a row
    empty = 0 if one_column else counted.trailing_blanks
    if rows == counted.data_lines - empty:
        return counted.data_lines, empty, 0
    exact = scan_text(direct.source, direct.data_start, parity=True)
    empty = 0 if one_column else exact.blank_outside
    if rows == exact.data_lines - empty - exact.quoted_newlines:
        return exact.data_lines, empty, exact.quoted_newlines
    return None


def direct_read(direct: DirectText, sniffed: Sniffed, types: dict[str, str]) -> str:
    """`direct.read` with some columns typed by the reader ({name: DuckDB type}; the rest VARCHAR):
    a cell it cannot convert makes its line a reject (see `direct_rejects`)."""
    return _read_csv_sql(direct.source, sniffed, direct.names, direct.skip,
                         f"store_rejects=true, rejects_table={_literal(direct.rejects_table)}, "
                         f"rejects_scan={_literal(direct.rejects_scan)}", types)


def direct_rejects(con, direct: DirectText) -> int:
    """Lines of the file DuckDB could not split (0 when the table was never created)."""
    import duckdb

    try:
        return con.execute(f"SELECT count(*) FROM {_ident(direct.rejects_table)}").fetchall()[0][0]
    except duckdb.CatalogException:
        return 0


def close_direct(con, direct: DirectText) -> None:
    import duckdb

    for name in (direct.rejects_table, direct.rejects_scan):
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS {_ident(name)}")
    if direct.converted is not None:
        direct.converted.unlink(missing_ok=True)


_SAMPLE_HEAD_ROWS = 50_000


_SAMPLE_TAIL_BYTES = 1024 * 1024


def load_direct_sample(con, direct: DirectText, sniffed: Sniffed, table: str, workdir: Path) -> None:
    """`table`: the first rows and the complete lines of the last megabyte of the file, raw text, for
    decisions taken before the one pass over the file (the status words, the day/month order).
    A sample that misses something only costs time: the pass then finds rows it cannot read and
    the caller redoes the file the slow way."""
    target = _table_ident(table)
    head = _read_csv_sql(direct.source, sniffed, direct.names, direct.skip, "ignore_errors=true")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM {head} LIMIT {_SAMPLE_HEAD_ROWS}")
    size = direct.source.stat().st_size
    if size <= _SAMPLE_TAIL_BYTES * 2:
        return
    with direct.source.open("rb") as handle:
        handle.seek(size - _SAMPLE_TAIL_BYTES)
        tail = handle.read()
    start = tail.find(b"\n")
    if start < 0:
        return
    workdir.mkdir(parents=True, exist_ok=True)
    tail_path = workdir / f".tail-{uuid.uuid4().hex[:12]}.csv"
    tail_path.write_bytes(tail[start + 1:])
    try:
        read = _read_csv_sql(tail_path, sniffed, direct.names, 0, "ignore_errors=true")
        con.execute(f"INSERT INTO {target} SELECT * FROM {read}")
    finally:
        tail_path.unlink(missing_ok=True)
