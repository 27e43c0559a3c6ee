"""Delimited text: transcoding to UTF-8 and the parallel load with the exact physical line of
every row.

`_line` of a delimited text file is exact: DuckDB parses (in parallel, with `store_rejects`), and
the physical line of each row is rebuilt from DuckDB's record numbers of the rejected lines, the
blank lines (found by byte scanning) and the newlines inside quoted values (see `_line_pieces`).
Limitation: lines are counted by "\n"; a file with bare-CR line endings (classic Mac) gets
approximate numbers.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.ingest.lines import LineScan, scan_text
from rfm_cli.core.ingest.sniffed import (
    _CHUNK,
    _MAX_PIECE_UPDATES,
    HEADER_SEARCH_ROWS,
    Sniffed,
    _create_bad_table,
    _decode_prefix,
    _ident,
    _is_duckdb_error,
    _literal,
    _records,
    _strip_newlines,
    _table_ident,
    column_names,
    duck_error,
)


def _as_utf8(sniffed: Sniffed, workdir: Path, stem: str) -> tuple[Path, Path | None]:
    """The file to read as UTF-8 and the transcoded copy to delete afterwards (None: the export
    itself is UTF-8). A failed transcode leaves no partial copy behind."""
    if sniffed.encoding in ("utf-8", "utf-8-sig"):
        return sniffed.path, None
    workdir.mkdir(parents=True, exist_ok=True)
    converted = workdir / f".{stem}.utf8.csv"
    try:
        _transcode(sniffed, converted)
    except BaseException:
        converted.unlink(missing_ok=True)
        raise
    return converted, converted


def _transcode(sniffed: Sniffed, target: Path) -> None:
    """Write a UTF-8 copy, streaming: the line structure (and so every line number) is kept. Bytes
    that do not decode are copied as they are: invalid UTF-8 in the copy, so the reader rejects
    their line ("not valid <encoding>") and the rest of the file is read (never the whole file
    re-decoded, never a line dropped)."""
    decoder = codecs.getincrementaldecoder(sniffed.encoding)(errors="surrogateescape")
    lines_before = 0
    offset = 0
    try:
        with sniffed.path.open("rb") as source, target.open("wb") as sink:
            while True:
                chunk = source.read(_CHUNK)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as error:  # a byte surrogateescape cannot carry (UTF-16)
                    done = chunk[: max(0, error.start)].decode(sniffed.encoding, errors="replace")
                    line = lines_before + done.count("\n") + 1
                    raise DataError(
                        f"{sniffed.path} is not valid {sniffed.encoding} at line {line} (byte "
                        f"{offset + error.start}); "
                        "fix that line or save the file as UTF-8"
                    ) from None
                sink.write(text.encode("utf-8", errors="surrogateescape"))
                if not chunk:
                    break
                lines_before += text.count("\n")
                offset += len(chunk)
    except OSError as error:
        raise InputError(
            f"cannot convert {sniffed.path} to UTF-8 in {target.parent}: {error.strerror or error}; "
            "check free disk space") from None


def _header_span(source: Path, sniffed: Sniffed) -> tuple[int, int]:
    """(records up to and including the header, first physical line after it) in the UTF-8 source.
    DuckDB's `skip` counts records, and a header can span lines when a quoted name holds one."""
    text = _decode_prefix(source, "utf-8-sig")
    for number, record in enumerate(_records(text, sniffed.delimiter or ",", limit=HEADER_SEARCH_ROWS + 5),
                                    start=1):
        if record.start_line == sniffed.header_line:
            return number, record.end_line + 1
    return sniffed.header_line, sniffed.header_line + 1


@dataclass
class _Placed:
    """Where the records DuckDB read sit in the file, in physical lines."""

    pieces: list[tuple[int, int]]  # (first_row, add): `_line = row + add` from first_row on
    rejected: dict[int, tuple[int, int]]  # rejected D-line -> (physical line, physical lines it spans)
    blank_records: int  # empty lines read as no record


def _line_pieces(
    rows: int,
    first_record: int,
    delta: int,
    blanks: list[int],
    rejected: list[tuple[int, int]],
    multiline: list[tuple[int, int]],
    last_line: int | None = None,
) -> _Placed:
    """Map loaded rows (0-based, file order) to physical lines.

    DuckDB numbers records ("D-lines"): every record and every blank line counts one, a newline
    inside a quoted value does not. `delta` = physical line - D-line so far. Good rows fill the
    D-lines after the header except blank lines (known by physical line) and rejected records
    (known by D-line, with their own embedded newlines); a good row with n embedded newlines pushes
    everything after it n physical lines down.

    `last_line`: the file's last line with text. A rejected record with no row after it spans to
    that line: a quote that never closes swallows the rest of the file, and DuckDB keeps only the
    first few thousand characters of such a record, so its own text undercounts the lines.
    """
    pieces: list[tuple[int, int]] = []
    placed: dict[int, tuple[int, int]] = {}
    blank_records = 0
    row, record = 0, first_record
    b = r = m = 0
    never = float("inf")
    while True:
        while b < len(blanks) and blanks[b] < record + delta:
            b += 1  # a blank line inside a quoted value: part of a record already placed
        add = record + delta - row
        if row < rows:
            if pieces and pieces[-1][0] == row:
                pieces[-1] = (row, add)
            elif not pieces or pieces[-1][1] != add:
                pieces.append((row, add))
        next_blank = blanks[b] - delta if b < len(blanks) else never
        next_rejected = rejected[r][0] if r < len(rejected) else never
        next_multi = record + (multiline[m][0] - row) if m < len(multiline) else never
        event = min(next_blank, next_rejected, next_multi)
        if event == never:
            break
        if event == next_blank:
            row += max(0, next_blank - record)
            record = next_blank + 1
            b += 1
            blank_records += 1
        elif event == next_rejected:
            at, embedded = rejected[r]
            row += max(0, at - record)
            start = at + delta
            if last_line is not None and r == len(rejected) - 1 and row >= rows:
                embedded = max(embedded, last_line - start)
            placed[at] = (start, embedded + 1)
            delta += embedded
            record = max(record, at + 1)
            r += 1
        else:
            at_row, embedded = multiline[m]
            record = next_multi + 1
            row = at_row + 1
            delta += embedded
            m += 1
    return _Placed(pieces, placed, blank_records)


_REASONS = {
    "TOO MANY COLUMNS": "more fields than the header",
    "MISSING COLUMNS": "fewer fields than the header",
    "UNQUOTED VALUE": "unbalanced quotes",
    "LINE SIZE OVER MAXIMUM": "line too long",
    "INVALID ENCODING": "not valid UTF-8",
    "INVALID STATE": "unreadable CSV",
}


def _reason(error_type: str, message: str, width: int, encoding: str | None = None) -> str:
    if error_type == "INVALID ENCODING" and encoding and not encoding.startswith("utf-8"):
        return f"not valid {encoding}"  # the undecodable bytes were carried into the UTF-8 copy as they were
    base = _REASONS.get(error_type, (error_type or "unreadable").lower())
    found = re.search(r"Found:\s*(\d+)", message or "")
    if error_type in ("TOO MANY COLUMNS", "MISSING COLUMNS") and found:
        return f"{base}: {found.group(1)} fields, expected {width}"
    return base


def _bad_rows(sniffed: Sniffed, source: Path, rejected: list, placed: _Placed,
              width: int) -> list[tuple[int, str, str, int]]:
    """(first physical line, reason, text, lines spanned) of each record DuckDB could not read; a
    whitespace-only line is an empty line, not data, and is left out."""
    bad = []
    foreign = _physical_lines(sniffed.path, set(sniffed.foreign_lines)) if sniffed.foreign_lines else {}
    for line, error_type, message, raw, byte_position in rejected:
        raw = _strip_newlines(raw) or _raw_at(source, byte_position)
        if not raw.strip():
            continue
        start, span = placed.rejected[line]
        reason = _reason(error_type, message, width, sniffed.encoding)
        if start in foreign:  # its bytes are UTF-8: say so, and keep its text as it was
            reason, raw = _foreign_reason(sniffed), foreign[start]
        if span > 1:
            reason += f" (lines {start}-{start + span - 1} read as one record)"
        bad.append((start, reason, raw, span))
    return bad


def _load_text(con, sniffed: Sniffed, table: str, workdir: Path) -> int:
    converted: Path | None = None
    token = uuid.uuid4().hex[:12]
    rejects_table, rejects_scan = f"_rfm_rejects_{token}", f"_rfm_reject_scans_{token}"
    names = column_names(sniffed.headers)
    target = _table_ident(table)
    restore_order = False
    try:
        source, converted = _as_utf8(sniffed, workdir, f"{re.sub(r'[^A-Za-z0-9_.-]', '_', table)}-{token}")
        skip, data_start = _header_span(source, sniffed)
        # rowid order = file order relies on DuckDB keeping insertion order
        if not con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]:
            con.execute("SET preserve_insertion_order = true")
            restore_order = True
        columns_sql = ", ".join(f"{_ident(n)} VARCHAR" for n in names)
        con.execute(f"CREATE OR REPLACE TABLE {target} (_line BIGINT, {columns_sql})")
        read = _read_csv_sql(source, sniffed, names, skip,
                             f"store_rejects=true, rejects_table={_literal(rejects_table)}, "
                             f"rejects_scan={_literal(rejects_scan)}")
        with ThreadPoolExecutor(max_workers=1) as pool:
            # count lines and find blank ones while DuckDB parses (it releases the GIL); with one
            # column DuckDB reads an empty line as a row, so there are no blank lines to place
            scan = pool.submit(scan_text, source, data_start, blank_lines=len(names) > 1)
            try:
                con.execute(f"INSERT INTO {target} SELECT NULL, * FROM {read}")
            except Exception as error:
                scan.result()
                if _is_duckdb_error(error):
                    raise duck_error(sniffed.path, error) from None
                raise
            lines = scan.result()
        rows = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
        rejected = _rejected_records(con, rejects_table)
        newline = lines.newline.decode()
        records = [(line, _strip_newlines(raw).count(newline)) for line, _t, _m, raw, _b in rejected]
        multiline = _multiline_rows(con, target, names, newline) if lines.has_quotes else []
        placed = _line_pieces(rows, skip + 1, data_start - (skip + 1), lines.blanks, records, multiline,
                              lines.last_nonblank if len(names) > 1 else lines.lines)
        _check_every_line_placed(sniffed.path, lines, data_start, rows, multiline, placed)
        _apply_pieces(con, target, placed.pieces, rows)
        _create_bad_table(con, table)
        bad = _bad_rows(sniffed, source, rejected, placed, len(names))
        if bad:
            con.executemany(f"INSERT INTO {_table_ident(table + '_bad')} VALUES (?, ?, ?, ?)", bad)
        if sniffed.foreign_lines:
            _reject_foreign_lines(con, sniffed, table)
        empty = placed.blank_records + len(rejected) - len(bad)  # whitespace-only lines are empty lines
        _store_line_account(con, table, max(0, lines.lines - data_start + 1), empty,
                            sum(e for _, e in multiline))
        return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    finally:
        import duckdb

        for name in (rejects_table, rejects_scan):
            with contextlib.suppress(duckdb.Error):  # never mask the error that got us here
                con.execute(f"DROP TABLE IF EXISTS {_ident(name)}")
        if restore_order:
            con.execute("SET preserve_insertion_order = false")
        if converted is not None:
            converted.unlink(missing_ok=True)


def _store_line_account(con, table: str, data_lines: int, empty_lines: int, continuation_lines: int) -> None:
    """`{table}_lines`: how the physical lines after the header were read: every one is in a row
    (first line, or a line break inside a quoted value), in a rejected record, or empty."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_table_ident(table + '_lines')} AS SELECT "
                f"{data_lines}::BIGINT AS data_lines, {empty_lines}::BIGINT AS empty_lines, "
                f"{continuation_lines}::BIGINT AS continuation_lines")


def _rejected_records(con, rejects_table: str) -> list[tuple[int, str, str, str | None, int]]:
    """One row per record DuckDB could not read: (D-line, error type, message, text, byte offset).
    A record can fail on several columns: the first column's error is the one shown. Some errors
    (a line too long) name no column: they must not lose their record (NULLs sort first)."""
    return [(int(line), kind, message, raw, int(position or 0)) for line, kind, message, raw, position
            in con.execute(
                f"""SELECT line, arg_min(error_type::VARCHAR, coalesce(column_idx, -1)),
                           arg_min(error_message, coalesce(column_idx, -1)),
                           arg_min(csv_line, coalesce(column_idx, -1)), min(byte_position)
                    FROM {_ident(rejects_table)} GROUP BY line ORDER BY line""").fetchall()]


def _multiline_rows(con, target: str, names: list[str], newline: str) -> list[tuple[int, int]]:
    """(row, line breaks inside its quoted values) of every row that has any, in file order."""
    char = f"chr({ord(newline)})"
    counts = " + ".join(
        f"coalesce(length({_ident(n)}) - length(replace({_ident(n)}, {char}, '')), 0)" for n in names)
    return [(int(rid), int(e)) for rid, e in con.execute(
        f"SELECT rowid, e FROM (SELECT rowid, {counts} AS e FROM {target}) WHERE e > 0 ORDER BY rowid"
    ).fetchall()]


def _check_every_line_placed(path: Path, lines: LineScan, data_start: int, rows: int,
                             multiline: list[tuple[int, int]], placed: _Placed) -> None:
    """The reader's account of the file (rows and the line breaks inside them, rejected records,
    empty lines) must add up to the physical lines counted from the bytes: a line it swallowed or
    dropped without saying so fails the import instead of vanishing."""
    data_lines = max(0, lines.lines - data_start + 1)
    accounted = (rows + sum(e for _, e in multiline) + sum(span for _, span in placed.rejected.values())
                 + placed.blank_records)
    if accounted != data_lines:
        raise DataError(
            f"{path}: the CSV reader accounts for {accounted:,} of the {data_lines:,} lines after the header "
            "(a quote that never closes, or line breaks inside cells the reader does not see); "
            "check the quotes in the file or save it again as CSV UTF-8 and import it again")


def _raw_at(source: Path, byte_position: int, limit: int = 10_000) -> str:
    """The start of the physical line at byte_position, for a reject DuckDB kept no text of."""
    with source.open("rb") as handle:
        handle.seek(byte_position)
        data = handle.read(limit)
    return data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")


def _reject_foreign_lines(con, sniffed: Sniffed, table: str) -> None:
    """Rows on lines in another encoding than the file's (UTF-8 lines of a GB18030 file): their
    text decodes into wrong characters, so they are rejected, kept with their own (UTF-8) text."""
    target, foreign = _table_ident(table), set(sniffed.foreign_lines)
    found = [line for (line,) in con.execute(f"SELECT _line FROM {target} WHERE _line IN "
                                             f"({', '.join(map(str, sorted(foreign)))})").fetchall()]
    if not found:
        return
    texts = _physical_lines(sniffed.path, set(found))
    con.executemany(f"INSERT INTO {_table_ident(table + '_bad')} VALUES (?, ?, ?, 1)",
                    [(line, _foreign_reason(sniffed), texts.get(line, "")) for line in found])
    con.execute(f"DELETE FROM {target} WHERE _line IN ({', '.join(map(str, found))})")


def _foreign_reason(sniffed: Sniffed) -> str:
    return f"UTF-8 text in a {sniffed.encoding} file"


def _physical_lines(path: Path, wanted: set[int]) -> dict[int, str]:
    texts = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number in wanted:
                texts[number] = line.rstrip(b"\r\n").decode("utf-8", errors="replace")
                if len(texts) == len(wanted):
                    break
    return texts


def _read_csv_sql(source: Path, sniffed: Sniffed, names: list[str], skip: int, extra: str,
                  types: dict[str, str] | None = None) -> str:
    types = types or {}
    struct = "{" + ", ".join(f"{_literal(n)}: {_literal(types.get(n, 'VARCHAR'))}" for n in names) + "}"
    return (f"read_csv({_literal(str(source))}, auto_detect=false, header=false, skip={skip}, "
            f"delim={_literal(sniffed.delimiter or ',')}, quote='\"', escape='\"', "
            f"columns={struct}, {extra})")


def _apply_pieces(con, target: str, pieces: list[tuple[int, int]], rows: int) -> None:
    if rows == 0:
        return
    # Inside an open transaction DuckDB numbers new rows from 2**55, not 0: count from the first rowid.
    base = con.execute(f"SELECT min(rowid) FROM {target}").fetchall()[0][0]
    if len(pieces) <= _MAX_PIECE_UPDATES:
        bounds = [p[0] for p in pieces[1:]] + [rows]
        for (start, add), end in zip(pieces, bounds):
            where = "" if len(pieces) == 1 else f" WHERE rowid >= {start + base} AND rowid < {end + base}"
            con.execute(f"UPDATE {target} SET _line = rowid - {base} + {add}{where}")
        return
    # very ragged files: one pass with an ASOF join beats thousands of range updates
    import pyarrow as pa

    pieces_table = pa.table({"lo": [p[0] for p in pieces], "add": [p[1] for p in pieces]})
    view = f"_rfm_pieces_{uuid.uuid4().hex[:12]}"
    con.register(view, pieces_table)
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE {target} AS
                SELECT (t.rowid - {base} + p."add")::BIGINT AS _line, t.* EXCLUDE (_line)
                FROM {target} t ASOF JOIN {view} p ON t.rowid - {base} >= p.lo ORDER BY t.rowid"""

        )
    finally:
        con.unregister(view)
