"""HTML tables saved as `.xls` (Taobao, JD and ERP "Excel" exports): detection and loading."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.ingest import encoding as encoding_module
from rfm_cli.core.ingest.read_workbook import _insert_arrow
from rfm_cli.core.ingest.sniffed import (
    HEADER_SEARCH_ROWS,
    Sniffed,
    _choose_header,
    _decode_prefix,
    _find_header_row,
    _fit_width,
    _table_ident,
    _title_note,
    clean_header,
    column_names,
)


class _TableParser(HTMLParser):
    """Collects the rows of every top-level <table> as lists of cell texts."""

    def __init__(self, row_limit: int | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.row_limit = row_limit
        self._depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._colspan = 1
        self.rows_seen = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif self._depth != 1:
            return
        elif tag == "tr":
            self._close_row()
            self._row = []
        elif tag in ("td", "th"):
            self._close_cell()
            if self._row is None:
                self._row = []
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._colspan = int(span) if span.isdigit() and 0 < int(span) < 1000 else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            if self._depth == 1:
                self._close_row()
            self._depth = max(0, self._depth - 1)
        elif self._depth != 1:
            return
        elif tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self._depth == 1:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            text = "".join(self._cell).strip()
            self._row.append(text)
            self._row.extend([""] * (self._colspan - 1))
        self._cell = None
        self._colspan = 1

    def _close_row(self) -> None:
        self._close_cell()
        if self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self.rows_seen += 1
        self._row = None

    def close(self) -> None:
        super().close()
        self._close_row()


def _html_encoding(path: Path, encoding: str, text: str) -> str | None:
    """The codec a page's <meta charset> declares, when the bytes did not settle it (a valid
    UTF-8 or UTF-16 file keeps its encoding whatever the page claims) and it decodes the file."""
    if encoding.startswith(("utf-8", "utf-16")):
        return None
    match = re.search(r"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", text[:8192], flags=re.IGNORECASE)
    if not match:
        return None
    declared = match.group(1).lower()
    if declared in ("gb2312", "gbk", "x-gbk", "gb18030"):
        declared = "gb18030"
    try:
        if codecs.lookup(declared).name == codecs.lookup(encoding).name:
            return None
        with path.open("rb") as handle:
            codecs.getincrementaldecoder(declared)().decode(handle.read(encoding_module.SAMPLE), final=False)
    except (LookupError, UnicodeDecodeError):
        return None
    return declared


def _sniff_html(path: Path, encoding: str, notes: list[str], text: str, known: set[str]) -> Sniffed:
    declared = _html_encoding(path, encoding, text)
    if declared:
        encoding, notes = declared, [f"encoding {declared}: declared by the page's <meta charset>"]
        text = _decode_prefix(path, encoding)
    notes = list(notes)
    notes.append(f"an HTML table{' named ' + path.suffix if path.suffix else ''}: read the table's rows")
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    for table in parser.tables:
        rows = [[clean_header(c) for c in row] for row in table[:HEADER_SEARCH_ROWS]]
        index = _choose_header(rows, known)
        if index >= 0:
            headers = _fit_width(rows[index], [len(r) for r in table[index + 1 :] if any(r)], notes)
            notes.append(_title_note(index + 1, "table row"))
            return Sniffed(path, "html", encoding, None, index + 1, headers, [], notes)
    raise DataError(f"{path} is an HTML page without a table of orders; export the orders as CSV or Excel")


_MARK = "\x00"  # what an undecodable byte becomes: no HTML export holds a NUL in a cell
_UNDECODABLE = "rfm-html-undecodable"
codecs.register_error(_UNDECODABLE, lambda error: (_MARK, error.end))


def _load_html(con, sniffed: Sniffed, table: str) -> int:
    import pyarrow as pa

    target = _table_ident(table)
    names = column_names(sniffed.headers)
    encoding = sniffed.encoding or "utf-8"
    try:
        # Bytes that are not `encoding` become a mark, never a replacement character in a name: the
        # rows holding one are kept with their reason (the `_bad` table), the others load as they are.
        text = sniffed.path.read_bytes().decode(encoding, errors=_UNDECODABLE)
    except OSError as error:
        raise InputError(f"cannot read {sniffed.path}: {error.strerror or error}; check the file") from None
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    for rows in parser.tables:
        header_index = _find_header_row(rows[:HEADER_SEARCH_ROWS], sniffed.headers)
        if header_index < 0:
            continue
        numbered = list(enumerate(rows[header_index + 1 :], start=header_index + 2))
        bad = [(line, row) for line, row in numbered if any(_MARK in cell for cell in row)]
        if bad:
            reason = f"bytes that are not {encoding} text; save the export again as UTF-8"
            con.executemany(
                f"INSERT INTO {_table_ident(table + '_bad')} (_line, reason, raw) VALUES (?, ?, ?)",
                [(line, reason, "\t".join(row).replace(_MARK, "?")) for line, row in bad])
            numbered = [(line, row) for line, row in numbered if not any(_MARK in cell for cell in row)]
        body = [row for _, row in numbered]
        data: dict[str, Any] = {"_line": pa.array([line for line, _ in numbered], pa.int64())}
        for position, name in enumerate(names):
            data[name] = pa.array([row[position] if position < len(row) and row[position] != "" else None
                                   for row in body], pa.string())
        columns = ["_line", *names]
        _insert_arrow(con, target, columns, data, created=False)
        return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    raise DataError(f"{sniffed.path} no longer has the table it had; read the file again")
