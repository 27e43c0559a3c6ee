"""What every reader of an export shares: the `Sniffed` description of a file, header cleaning and
matching, the detection of the header row, and the SQL quoting and error wording of the loaders."""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest.profiles import normalize_header

KINDS = ("csv", "xlsx", "xls", "html", "parquet")


DELIMITERS = (",", "\t", ";", "|")


HEADER_SEARCH_ROWS = 20  # the header must be among the first rows of a file or sheet


# every table of raw rows has `_line`; a workbook's also `_sheet` and `_row` (read_workbook.SHEET_ROWS)
RESERVED_COLUMNS = ("_line", "_sheet", "_row")


_HEAD_BYTES = 64 * 1024


_PREFIX_BYTES = 1024 * 1024  # text decoded for delimiter and header detection


_CHUNK = 16 * 1024 * 1024


_MAX_PIECE_UPDATES = 2000  # above this many line-number pieces, rewrite the table instead


@dataclass(frozen=True)
class Sniffed:
    path: Path
    kind: str  # "csv" | "xlsx" | "xls" | "html" | "parquet"
    encoding: str | None  # Python codec of the text; None for binary kinds
    delimiter: str | None  # kind "csv" only
    header_line: int  # 1-based line (text), row (sheet, HTML table); 0 for Parquet (no header row)
    headers: list[str]  # cleaned header names, in file order ("" where the header cell is empty)
    sheets: list[str] = field(default_factory=list)  # workbook sheets sharing this header
    notes: list[str] = field(default_factory=list)  # decisions, for `rfm inspect`
    # text lines in another encoding than `encoding` that would decode into wrong characters (rejected)
    foreign_lines: tuple[int, ...] = ()


def clean_header(cell: Any) -> str:
    """A header cell as a name: BOM, surrounding whitespace/tabs, `="…"` and quotes removed."""
    if cell is None:
        return ""
    text = str(cell).replace("\ufeff", "").strip()
    match = re.fullmatch(r'=\s*"(.*)"', text, flags=re.DOTALL)
    if match:
        text = match.group(1).strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    if text.startswith("'"):  # Excel's "store as text" prefix
        text = text[1:].strip()
    return text


def column_names(headers: list[str]) -> list[str]:
    """The staging table's column names for `headers`, in order: unique (DuckDB compares names
    case-insensitively), an empty header named by its position ("Column 7"), a repeated one
    suffixed ("金额 2"). The first occurrence of a name keeps it, so a header matched by
    `match_profile` is also the column's name."""
    seen = {name.casefold() for name in RESERVED_COLUMNS}
    names = []
    for position, header in enumerate(headers, start=1):
        base = header if header else f"Column {position}"
        name, suffix = base, 2
        while name.casefold() in seen:
            name, suffix = f"{base} {suffix}", suffix + 1
        seen.add(name.casefold())
        names.append(name)
    return names


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_ident(table: str) -> str:
    return ".".join(_ident(part) for part in table.split("."))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, repr(delimiter))


def _decode_prefix(path: Path, encoding: str) -> str:
    """The first ~1 MB of the file as text, cut after the last complete line."""
    with path.open("rb") as handle:
        raw = handle.read(_PREFIX_BYTES)
        at_end = not handle.read(1)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw, final=at_end)
    if not at_end:
        cut = text.rfind("\n")
        if cut > 0:
            text = text[: cut + 1]
    return text


@dataclass
class _Record:
    start_line: int  # physical line where the record starts
    end_line: int  # physical line where it ends (> start_line when a quoted value spans lines)
    fields: list[str]


def _records(text: str, delimiter: str, limit: int | None = None) -> list[_Record]:
    """Split text into CSV records with their physical line numbers (blank lines are records
    with no fields, as DuckDB counts them)."""
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    records: list[_Record] = []
    consumed = 0
    try:
        for fields in reader:
            records.append(_Record(consumed + 1, reader.line_num, fields))
            consumed = reader.line_num
            if limit is not None and len(records) >= limit:
                break
    except csv.Error:
        pass  # a record cut off at the end of the sample
    return records


def _choose_header(rows: list[list[str]], known: set[str]) -> int:
    """Index of the header among rows (already cleaned cells)."""
    nonempty = [sum(1 for cell in row if cell) for row in rows]
    if not rows or max(nonempty) == 0:
        return -1
    if known:
        # two or more known names make a header; one could be a coincidence in a title or data row
        matches = [len({normalize_header(cell) for cell in row if cell} & known) for row in rows]
        if max(matches) >= 2:
            return matches.index(max(matches))
    # The first row about as wide as the typical row: title rows above the header are narrow,
    # and measuring against the typical (median) width rather than the widest keeps one ragged
    # data row from beating the header; a few empty header cells are tolerated.
    wide = sorted(count for count in nonempty if count >= 2)
    typical = wide[len(wide) // 2] if wide else max(nonempty)
    threshold = typical if typical <= 2 else math.ceil(0.8 * typical)
    return next(i for i, count in enumerate(nonempty) if count >= threshold)


def _title_note(header_line: int, unit: str) -> str:
    skipped = header_line - 1
    if skipped <= 0:
        return f"header on {unit} 1"
    return f"header on {unit} {header_line}: {skipped} title {'row' if skipped == 1 else 'rows'} skipped"


def _fit_width(headers: list[str], data_widths: list[int], notes: list[str]) -> list[str]:
    """Reconcile the header's width with the data rows' usual width: a trailing delimiter on
    every data line adds unnamed columns; one on the header line only drops empty ones."""
    if not data_widths:
        return headers
    usual = Counter(data_widths).most_common(1)[0][0]
    if usual > len(headers):
        notes.append(
            f"data rows have {usual} fields, the header {len(headers)}: extra columns get names like "
            f"'Column {len(headers) + 1}'")
        return headers + [""] * (usual - len(headers))
    if usual < len(headers) and not any(headers[usual:]):
        return headers[:usual]
    return headers


def _short(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def _trim(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def _strip_row(row: list[str]) -> list[str]:
    row = _trim(row)
    start = 0
    while start < len(row) and not row[start]:
        start += 1
    return row[start:]


def _find_header_row(rows: list[list[str]], headers: list[str]) -> int:
    target = _strip_row(headers)
    for index, row in enumerate(rows):
        if target and _strip_row([clean_header(c) for c in row]) == target:
            return index
    return -1


def _create_bad_table(con, table: str) -> None:
    # `lines`: physical lines the entry stands for (a record that swallowed several lines counts each)
    con.execute(f"CREATE OR REPLACE TABLE {_table_ident(table + '_bad')} "
                "(_line BIGINT, reason VARCHAR, raw VARCHAR, lines BIGINT DEFAULT 1)")


def duck_error(path: Path, error: Exception) -> DataError:
    return DataError(
        f"DuckDB could not read {path} ({_short(error)}); check the file or re-export it as UTF-8 CSV")


def _strip_newlines(raw: str | None) -> str:
    return (raw or "").strip("\r\n")


def _is_duckdb_error(error: Exception) -> bool:
    import duckdb

    return isinstance(error, duckdb.Error)


def _empty_table(con, target: str, names: list[str], *, with_sheet: bool) -> None:
    columns = ", ".join(f"{_ident(n)} VARCHAR" for n in names)
    sheet = ", _sheet VARCHAR, _row BIGINT" if with_sheet else ""
    con.execute(f"CREATE OR REPLACE TABLE {target} (_line BIGINT, {columns}{sheet})")
