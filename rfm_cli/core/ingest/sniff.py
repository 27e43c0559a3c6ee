"""Sniff an order export and load it, untouched, into DuckDB.

`sniff(path)` looks at the bytes, not the file name: what kind of file it is (delimited text, a
real workbook, an "Excel" file that is really HTML or TSV, Parquet), the text encoding, the
delimiter, and which row is the header (title rows above it are skipped). `to_duckdb(...)` then
creates a staging table of raw text with the physical line (or sheet row) of every row, and a
`{table}_bad` table for the lines that could not be split into the header's fields.

Nothing here cleans values: `="…"`, tabs, `¥` and the like are the cleaning step's job.

This module decides and dispatches; one module per kind of file reads it: read_text.py (delimited
text, with the exact physical line of every row), read_workbook.py (xlsx, xls, Parquet),
read_html.py (HTML saved as .xls), direct.py (a large clean UTF-8 file read in place). What they
share (the `Sniffed` description, header matching, SQL quoting) is in sniffed.py.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.ingest.encoding import detect as detect_encoding
from rfm_cli.core.ingest.profiles import normalize_header
from rfm_cli.core.ingest.read_html import _load_html, _sniff_html
from rfm_cli.core.ingest.read_text import _load_text
from rfm_cli.core.ingest.read_workbook import _load_parquet, _load_workbook, _sniff_parquet, _sniff_workbook
from rfm_cli.core.ingest.sniffed import (
    _HEAD_BYTES,
    DELIMITERS,
    HEADER_SEARCH_ROWS,
    KINDS,
    Sniffed,
    _choose_header,
    _create_bad_table,
    _decode_prefix,
    _delimiter_name,
    _fit_width,
    _records,
    _title_note,
    clean_header,
    column_names,
)


def sniff(path: Path, *, known_headers: set[str] | None = None) -> Sniffed:
    """What `path` is and where its header is. Raises InputError when the file cannot be read
    and DataError when it holds nothing that looks like a table."""
    path = Path(path)
    head = _read_head(path)
    known = {normalize_header(h) for h in known_headers} if known_headers else set()
    if not head:
        raise DataError(f"{path} is empty; export the orders again")
    if head.startswith(b"PK\x03\x04"):
        return _sniff_workbook(path, "xlsx", known)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _sniff_workbook(path, "xls", known)
    if head.startswith(b"PAR1"):
        return _sniff_parquet(path)
    detected = detect_encoding(path, head)
    encoding, notes = detected.codec, detected.notes
    prefix = _decode_prefix(path, encoding)
    if re.match(r"\s*<", prefix) and re.search(r"<table", prefix[:_HEAD_BYTES * 4], flags=re.IGNORECASE):
        return _sniff_html(path, encoding, notes, prefix, known)
    sniffed = _sniff_text(path, encoding, notes, prefix, known)
    return dataclasses.replace(sniffed, foreign_lines=detected.foreign_lines)


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_HEAD_BYTES)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; check the file name and folder") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a file; name the export file itself") from None
    except PermissionError:
        raise InputError(f"cannot read {path}: permission denied; check the file's permissions") from None
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}; check the file") from None


def _choose_delimiter(text: str) -> tuple[str, str]:
    best: tuple[int, int, int] | None = None
    chosen = ","
    detail = "one column"
    for rank, delimiter in enumerate(DELIMITERS):
        if delimiter not in text:
            continue
        counts = [len(r.fields) for r in _records(text, delimiter, limit=60) if len(r.fields) > 1]
        if not counts:
            continue
        mode, frequency = Counter(counts).most_common(1)[0]
        score = (frequency, mode, -rank)
        if best is None or score > best:
            best, chosen = score, delimiter
            detail = f"{mode} fields on {frequency} of the first {len(counts)} lines"
    return chosen, detail


def _sniff_text(path: Path, encoding: str, notes: list[str], text: str, known: set[str]) -> Sniffed:
    notes = list(notes)
    if path.suffix.lower() in (".xls", ".xlsx"):
        notes.append(f"named {path.suffix} but is delimited text: read as text")
    delimiter, detail = _choose_delimiter(text)
    notes.append(f"delimiter {_delimiter_name(delimiter)}: {detail}")
    records = _records(text, delimiter, limit=HEADER_SEARCH_ROWS + 40)
    candidates = records[:HEADER_SEARCH_ROWS]
    cleaned = [[clean_header(c) for c in r.fields] for r in candidates]
    index = _choose_header(cleaned, known)
    if index < 0:
        raise DataError(
            f"{path} has no header row in its first {HEADER_SEARCH_ROWS} lines; "
            "check that it is an order export")
    header_record = candidates[index]
    headers = cleaned[index]
    header_line = header_record.start_line
    notes.append(_title_note(header_line, "line"))
    headers = _fit_width(headers, [len(r.fields) for r in records[index + 1 :] if r.fields], notes)
    return Sniffed(path, "csv", encoding, delimiter, header_line, headers, [], notes)


def to_duckdb(con, sniffed: Sniffed, table: str, workdir: Path) -> int:
    """Create (replacing) `table` (`_line BIGINT`, one VARCHAR per header, `_sheet` for workbooks)
    and `{table}_bad` (`_line BIGINT, reason VARCHAR, raw VARCHAR, lines BIGINT`: the physical
    lines each entry stands for) from the sniffed file; for delimited text also `{table}_lines`
    (data_lines, empty_lines, continuation_lines: how every physical line after the header was
    read, checked against the count of the file's line breaks). Returns the number of rows loaded
    into `table`. Values are the file's raw text."""
    workdir = Path(workdir)
    if sniffed.kind == "csv":
        return _load_text(con, sniffed, table, workdir)
    _create_bad_table(con, table)
    if sniffed.kind in ("xlsx", "xls"):
        return _load_workbook(con, sniffed, table)
    if sniffed.kind == "html":
        return _load_html(con, sniffed, table)
    if sniffed.kind == "parquet":
        return _load_parquet(con, sniffed, table)
    raise ValueError(f"unknown kind {sniffed.kind!r}")


__all__ = ["DELIMITERS", "KINDS", "Sniffed", "clean_header", "column_names", "sniff", "to_duckdb"]
