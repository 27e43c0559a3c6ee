"""Sniff an order export and load it, untouched, into DuckDB.

`sniff(path)` looks at the bytes, not the file name: what kind of file it is (delimited text, a
real workbook, an "Excel" file that is really HTML or TSV, Parquet), the text encoding, the
delimiter, and which row is the header (title rows above it are skipped). `to_duckdb(...)` then
creates a staging table of raw text with the physical line (or sheet row) of every row, and a
`{table}_bad` table for the lines that could not be split into the header's fields.

Nothing here cleans values: `="…"`, tabs, `¥` and the like are the cleaning step's job.

`_line` of a delimited text file is exact: DuckDB parses (in parallel, with `store_rejects`), and
the physical line of each row is rebuilt from DuckDB's record numbers of the rejected lines, the
blank lines (found by byte scanning) and the newlines inside quoted values (see `_line_pieces`).
Limitation: lines are counted by "\n"; a file with bare-CR line endings (classic Mac) gets
approximate numbers.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import io
import math
import re
import uuid
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.ingest import encoding as encoding_module
from rfm_cli.core.ingest.encoding import detect as detect_encoding
from rfm_cli.core.ingest.floats import mark_float_cells
from rfm_cli.core.ingest.lines import LineScan, count_lines, scan_text
from rfm_cli.core.ingest.profiles import normalize_header

KINDS = ("csv", "xlsx", "xls", "html", "parquet")
DELIMITERS = (",", "\t", ";", "|")
HEADER_SEARCH_ROWS = 20  # the header must be among the first rows of a file or sheet
RESERVED_COLUMNS = ("_line", "_sheet")

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


# --------------------------------------------------------------------------------------------
# names


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


# --------------------------------------------------------------------------------------------
# sniff


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
        raise DataError(f"{path} has no header row in its first {HEADER_SEARCH_ROWS} lines; check that it is an order export")
    header_record = candidates[index]
    headers = cleaned[index]
    header_line = header_record.start_line
    notes.append(_title_note(header_line, "line"))
    headers = _fit_width(headers, [len(r.fields) for r in records[index + 1 :] if r.fields], notes)
    return Sniffed(path, "csv", encoding, delimiter, header_line, headers, [], notes)


def _fit_width(headers: list[str], data_widths: list[int], notes: list[str]) -> list[str]:
    """Reconcile the header's width with the data rows' usual width: a trailing delimiter on
    every data line adds unnamed columns; one on the header line only drops empty ones."""
    if not data_widths:
        return headers
    usual = Counter(data_widths).most_common(1)[0][0]
    if usual > len(headers):
        notes.append(f"data rows have {usual} fields, the header {len(headers)}: extra columns get names like 'Column {len(headers) + 1}'")
        return headers + [""] * (usual - len(headers))
    if usual < len(headers) and not any(headers[usual:]):
        return headers[:usual]
    return headers


# --------------------------------------------------------------------------------------------
# HTML tables (.xls files written by old web back-ends)


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


# --------------------------------------------------------------------------------------------
# workbooks


@dataclass
class _SheetSample:
    name: str
    visible: bool
    rows: list[list[str]]  # the first rows of the sheet; rows[i] is sheet row i + 1


def _col_index(ref: str) -> int:
    index = 0
    for char in ref:
        if "A" <= char <= "Z":
            index = index * 26 + (ord(char) - 64)
        else:
            break
    return index - 1


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xlsx_samples(path: Path, limit: int) -> list[_SheetSample]:
    """The first rows of every sheet, read straight from the xlsx XML: calamine parses a whole
    sheet even for 20 rows, which costs seconds on a million-row workbook."""
    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {}
        for rel in rels:
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id")] = target
        sheets = []
        for element in workbook.iter():
            if _local(element.tag) != "sheet":
                continue
            rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
            sheets.append((element.get("name", ""), element.get("state", "visible") == "visible", targets[rel_id]))
        raw_samples = []
        wanted_strings: set[int] = set()
        for name, visible, target in sheets:
            rows = _xlsx_sheet_rows(archive, target, limit)
            for cells in rows.values():
                wanted_strings.update(v for kind, v in cells.values() if kind == "s")
            raw_samples.append((name, visible, rows))
        strings = _xlsx_shared_strings(archive, max(wanted_strings, default=-1))
    samples = []
    for name, visible, rows in raw_samples:
        grid = []
        for row_number in range(1, limit + 1):
            cells = rows.get(row_number, {})
            width = max(cells, default=-1) + 1
            row = [""] * width
            for column, (kind, value) in cells.items():
                row[column] = strings[value] if kind == "s" and value < len(strings) else str(value) if kind != "s" else ""
            grid.append(row)
        samples.append(_SheetSample(name, visible, grid))
    return samples


def _xlsx_sheet_rows(archive: zipfile.ZipFile, target: str, limit: int) -> dict[int, dict[int, tuple[str, Any]]]:
    rows: dict[int, dict[int, tuple[str, Any]]] = {}
    row_number = 0
    with archive.open(target) as stream:
        for _event, element in ElementTree.iterparse(stream, events=("end",)):
            tag = _local(element.tag)
            if tag != "row":
                continue
            row_number = int(element.get("r") or row_number + 1)
            if row_number > limit:
                break
            cells: dict[int, tuple[str, Any]] = {}
            column = -1
            for cell in element:
                if _local(cell.tag) != "c":
                    continue
                ref = cell.get("r")
                column = _col_index(ref) if ref else column + 1
                kind = cell.get("t", "n")
                value = None
                text_parts = []
                for child in cell:
                    child_tag = _local(child.tag)
                    if child_tag == "v":
                        value = child.text or ""
                    elif child_tag == "is":
                        text_parts.extend(t.text or "" for t in child.iter() if _local(t.tag) == "t")
                if kind == "s" and value not in (None, ""):
                    cells[column] = ("s", int(value))
                elif kind == "inlineStr":
                    cells[column] = ("t", "".join(text_parts))
                elif kind == "e" or value is None:
                    continue
                elif kind == "b":
                    cells[column] = ("t", "true" if value == "1" else "false")
                else:
                    cells[column] = ("t", value)
            rows[row_number] = cells
            element.clear()
    return rows


def _xlsx_shared_strings(archive: zipfile.ZipFile, last_index: int) -> list[str]:
    """Shared strings up to last_index (the header rows rarely need more than the first few)."""
    strings: list[str] = []
    if last_index < 0 or "xl/sharedStrings.xml" not in archive.namelist():
        return strings
    with archive.open("xl/sharedStrings.xml") as stream:
        for _event, element in ElementTree.iterparse(stream, events=("end",)):
            if _local(element.tag) != "si":
                continue
            parts = []
            for child in element:
                if _local(child.tag) == "t":
                    parts.append(child.text or "")
                elif _local(child.tag) == "r":  # rich text run; <rPh> (phonetic guide) is skipped
                    parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
            strings.append("".join(parts))
            element.clear()
            if len(strings) > last_index:
                break
    return strings


def _excel_errors() -> tuple[type[Exception], ...]:
    """What reading a workbook can raise (fastexcel imported only when a workbook is read)."""
    import fastexcel

    return (fastexcel.FastExcelError, OSError, ValueError)


def _fastexcel_reader(path: Path):
    import fastexcel

    try:
        return fastexcel.read_excel(path)
    except (fastexcel.FastExcelError, OSError, ValueError) as error:
        raise InputError(
            f"cannot read {path} as an Excel workbook ({_short(error)}); open it in Excel, remove any password and save it as .xlsx"
        ) from None


def _short(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def _arrow_rows(batch, limit: int | None = None) -> list[list[str]]:
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    count = batch.num_rows if limit is None else min(limit, batch.num_rows)
    return [["" if col[r] is None else col[r] for col in columns] for r in range(count)]


def _fastexcel_samples(path: Path, limit: int) -> list[_SheetSample]:
    reader = _fastexcel_reader(path)
    samples = []
    for index, name in enumerate(reader.sheet_names):
        try:
            sheet = reader.load_sheet(index, header_row=None, skip_rows=0, n_rows=limit, dtypes="string")
            batch = sheet.to_arrow()
        except _excel_errors() as error:
            raise InputError(f"cannot read sheet {name!r} of {path} ({_short(error)}); open it in Excel and save it as .xlsx") from None
        samples.append(_SheetSample(name, sheet.visible == "visible", _arrow_rows(batch)))
    return samples


def _sheet_samples(path: Path, kind: str, limit: int = HEADER_SEARCH_ROWS) -> list[_SheetSample]:
    if kind == "xlsx":
        try:
            return _xlsx_samples(path, limit)
        except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, ValueError, OSError):
            pass  # .xlsb, .ods or an unusual writer: let calamine do it
    return _fastexcel_samples(path, limit)


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


def _sniff_workbook(path: Path, kind: str, known: set[str]) -> Sniffed:
    samples = _sheet_samples(path, kind)
    notes = [f"{'an Excel 2007+ workbook' if kind == 'xlsx' else 'a legacy Excel (BIFF) workbook'}: {len(samples)} sheet(s)"]
    first: tuple[_SheetSample, int, list[str]] | None = None
    for sample in samples:
        if not sample.visible:
            continue
        cleaned = [[clean_header(c) for c in row] for row in sample.rows]
        index = _choose_header(cleaned, known)
        if index >= 0:
            first = (sample, index, _trim(cleaned[index]))
            break
    if first is None:
        raise DataError(f"{path} has no sheet with a header row in its first {HEADER_SEARCH_ROWS} rows; check that it holds the orders")
    sample, index, headers = first
    # keep the columns in use from the header down (the XML reports absolute columns, including
    # an empty column A that calamine would skip)
    below = [[clean_header(c) for c in row] for row in sample.rows[index:]]
    used = [i for row in below for i, cell in enumerate(row) if cell]
    headers = [clean_header(c) for c in sample.rows[index]]
    headers = (headers + [""] * (max(used) + 1))[min(used) : max(used) + 1] if used else headers
    headers = _trim(headers)
    sheets = [sample.name]
    for other in samples:
        if other is sample:
            continue
        if _find_header_row(other.rows, headers) >= 0:
            if other.visible:
                sheets.append(other.name)
            else:
                notes.append(f"hidden sheet {other.name!r} has the same header: not read")
    order = [s.name for s in samples]
    sheets.sort(key=order.index)
    if len(sheets) > 1:
        notes.append(f"sheets {', '.join(sheets)} share the header: all read")
    else:
        notes.append(f"sheet {sample.name!r}")
    notes.append(_title_note(index + 1, "row"))
    return Sniffed(path, kind, None, None, index + 1, headers, sheets, notes)


def _sniff_parquet(path: Path) -> Sniffed:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(f"cannot read {path} as Parquet ({_short(error)}); write the file again") from None
    return Sniffed(path, "parquet", None, None, 0, list(schema.names), [], ["Parquet: columns from the schema, no header row"])


# --------------------------------------------------------------------------------------------
# to_duckdb


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


def _create_bad_table(con, table: str) -> None:
    # `lines`: physical lines the entry stands for (a record that swallowed several lines counts each)
    con.execute(f"CREATE OR REPLACE TABLE {_table_ident(table + '_bad')} "
                "(_line BIGINT, reason VARCHAR, raw VARCHAR, lines BIGINT DEFAULT 1)")


def duck_error(path: Path, error: Exception) -> DataError:
    return DataError(f"DuckDB could not read {path} ({_short(error)}); check the file or re-export it as UTF-8 CSV")


# ---- delimited text


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
                        f"{sniffed.path} is not valid {sniffed.encoding} at line {line} (byte {offset + error.start}); "
                        "fix that line or save the file as UTF-8"
                    ) from None
                sink.write(text.encode("utf-8", errors="surrogateescape"))
                if not chunk:
                    break
                lines_before += text.count("\n")
                offset += len(chunk)
    except OSError as error:
        raise InputError(f"cannot convert {sniffed.path} to UTF-8 in {target.parent}: {error.strerror or error}; check free disk space") from None


def _header_span(source: Path, sniffed: Sniffed) -> tuple[int, int]:
    """(records up to and including the header, first physical line after it) in the UTF-8 source.
    DuckDB's `skip` counts records, and a header can span lines when a quoted name holds one."""
    text = _decode_prefix(source, "utf-8-sig")
    for number, record in enumerate(_records(text, sniffed.delimiter or ",", limit=HEADER_SEARCH_ROWS + 5), start=1):
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
        bad = []
        foreign = _physical_lines(sniffed.path, set(sniffed.foreign_lines)) if sniffed.foreign_lines else {}
        for line, error_type, message, raw, byte_position in rejected:
            raw = _strip_newlines(raw) or _raw_at(source, byte_position)
            if not raw.strip():
                continue  # a whitespace-only line is an empty line, not data
            start, span = placed.rejected[line]
            reason = _reason(error_type, message, len(names), sniffed.encoding)
            if start in foreign:  # its bytes are UTF-8: say so, and keep its text as it was
                reason, raw = _foreign_reason(sniffed), foreign[start]
            if span > 1:
                reason += f" (lines {start}-{start + span - 1} read as one record)"
            bad.append((start, reason, raw, span))
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


def _read_csv_sql(source: Path, sniffed: Sniffed, names: list[str], skip: int, extra: str,
                  types: dict[str, str] | None = None) -> str:
    types = types or {}
    struct = "{" + ", ".join(f"{_literal(n)}: {_literal(types.get(n, 'VARCHAR'))}" for n in names) + "}"
    return (f"read_csv({_literal(str(source))}, auto_detect=false, header=false, skip={skip}, "
            f"delim={_literal(sniffed.delimiter or ',')}, quote='\"', escape='\"', columns={struct}, {extra})")


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


def _strip_newlines(raw: str | None) -> str:
    return (raw or "").strip("\r\n")


def _is_duckdb_error(error: Exception) -> bool:
    import duckdb

    return isinstance(error, duckdb.Error)


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


# ---- workbooks, HTML, Parquet (all small enough to pass through Arrow)


def _insert_arrow(con, target: str, columns: list[str], data: dict[str, list | Any], created: bool) -> None:
    import pyarrow as pa

    arrow = pa.table(data)
    view = f"_rfm_arrow_{uuid.uuid4().hex[:12]}"
    con.register(view, arrow)
    try:
        if not created:
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {view} LIMIT 0")
        else:
            existing = {row[0].casefold() for row in con.execute(f"DESCRIBE {target}").fetchall()}
            for name in columns:
                if name.casefold() not in existing:
                    con.execute(f"ALTER TABLE {target} ADD COLUMN {_ident(name)} VARCHAR")
        nonempty = " OR ".join(f"coalesce({_ident(c)}, '') <> ''" for c in columns if c not in RESERVED_COLUMNS) or "true"
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {view} WHERE {nonempty}")
    finally:
        con.unregister(view)


def _load_workbook(con, sniffed: Sniffed, table: str) -> int:
    import pyarrow as pa

    target = _table_ident(table)
    names = column_names(sniffed.headers)
    reader = _fastexcel_reader(sniffed.path)
    samples = {s.name: s for s in _sheet_samples(sniffed.path, sniffed.kind)}
    created = False
    for sheet in sniffed.sheets:
        sample = samples.get(sheet)
        header_index = _find_header_row(sample.rows, sniffed.headers) if sample else -1
        if header_index < 0:
            raise DataError(f"sheet {sheet!r} of {sniffed.path} no longer has the header it had; read the file again")
        try:
            loaded = reader.load_sheet(sheet, header_row=None, skip_rows=header_index, dtypes="string")
            batch = loaded.to_arrow()
        except _excel_errors() as error:
            raise InputError(f"cannot read sheet {sheet!r} of {sniffed.path} ({_short(error)}); open it in Excel and save it as .xlsx") from None
        width = batch.num_columns
        header_cells = [clean_header(v) for v in (batch.column(i)[0].as_py() if batch.num_rows else None for i in range(width))]
        # calamine starts a sheet at its first used column: find where the header sits
        offset = next(
            (o for o in range(max(1, width - len(sniffed.headers) + 1)) if _trim(header_cells[o : o + len(sniffed.headers)]) == _trim(sniffed.headers)),
            0,
        )
        body = batch.slice(1)
        count = body.num_rows
        data: dict[str, Any] = {"_line": pa.array(range(header_index + 2, header_index + 2 + count), pa.int64())}
        columns = ["_line"]
        for position, name in enumerate(names):
            index = offset + position
            # a long number stored as a float lost its last digits: put it in float form, rejected as an id
            data[name] = (mark_float_cells(body.column(index)) if index < width
                          else pa.nulls(count, pa.string()))
            columns.append(name)
        for index in list(range(offset)) + list(range(offset + len(names), width)):
            column = body.column(index)
            if column.null_count == count or not any(v for v in column.to_pylist()):
                continue
            name = f"Column {index - offset + 1}" if index >= offset else f"Column before {offset - index}"
            data[name] = column
            columns.append(name)
        data["_sheet"] = pa.array([sheet] * count, pa.string())
        columns.append("_sheet")
        _insert_arrow(con, target, columns, data, created)
        created = True
    if not created:
        _empty_table(con, target, names, with_sheet=True)
    return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]


def _empty_table(con, target: str, names: list[str], *, with_sheet: bool) -> None:
    columns = ", ".join(f"{_ident(n)} VARCHAR" for n in names)
    sheet = ", _sheet VARCHAR" if with_sheet else ""
    con.execute(f"CREATE OR REPLACE TABLE {target} (_line BIGINT, {columns}{sheet})")


def _load_html(con, sniffed: Sniffed, table: str) -> int:
    import pyarrow as pa

    target = _table_ident(table)
    names = column_names(sniffed.headers)
    try:
        text = sniffed.path.read_bytes().decode(sniffed.encoding or "utf-8", errors="replace")
    except OSError as error:
        raise InputError(f"cannot read {sniffed.path}: {error.strerror or error}; check the file") from None
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    for rows in parser.tables:
        header_index = _find_header_row(rows[:HEADER_SEARCH_ROWS], sniffed.headers)
        if header_index < 0:
            continue
        body = rows[header_index + 1 :]
        data: dict[str, Any] = {"_line": pa.array(range(header_index + 2, header_index + 2 + len(body)), pa.int64())}
        for position, name in enumerate(names):
            data[name] = pa.array([row[position] if position < len(row) and row[position] != "" else None for row in body], pa.string())
        columns = ["_line", *names]
        _insert_arrow(con, target, columns, data, created=False)
        return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    raise DataError(f"{sniffed.path} no longer has the table it had; read the file again")


def _load_parquet(con, sniffed: Sniffed, table: str) -> int:
    target = _table_ident(table)
    names = column_names(sniffed.headers)
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(sniffed.path)]).fetchall()
        selects = []
        for (column, column_type, *_rest), name in zip(described, names):
            ref = _ident(column)
            if column_type in ("DOUBLE", "FLOAT", "REAL"):
                # an integer-valued float is an id or a count: 17850, not 17850.0
                expression = (
                    f"CASE WHEN isfinite({ref}) AND {ref} = trunc({ref}) AND abs({ref}) < 1e15 "
                    f"THEN CAST(CAST({ref} AS BIGINT) AS VARCHAR) ELSE CAST({ref} AS VARCHAR) END"
                )
            else:
                expression = f"CAST({ref} AS VARCHAR)"
            selects.append(f"{expression} AS {_ident(name)}")
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT (file_row_number + 1)::BIGINT AS _line, {', '.join(selects)} "
            "FROM read_parquet(?, file_row_number=true) ORDER BY file_row_number",
            [str(sniffed.path)],
        )
    except Exception as error:
        if _is_duckdb_error(error):
            raise duck_error(sniffed.path, error) from None
        raise
    return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]


__all__ = ["DELIMITERS", "KINDS", "Sniffed", "clean_header", "column_names", "sniff", "to_duckdb"]
