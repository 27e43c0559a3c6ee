"""Real workbooks (xlsx, xls through fastexcel) and Parquet: detection and loading, one sheet row
per `_line` (with `_sheet`, and `_row`: its place in the workbook, see `sheet_row`)."""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.ingest.floats import mark_float_cells
from rfm_cli.core.ingest.sniffed import (
    HEADER_SEARCH_ROWS,
    RESERVED_COLUMNS,
    Sniffed,
    _choose_header,
    _empty_table,
    _find_header_row,
    _ident,
    _is_duckdb_error,
    _short,
    _table_ident,
    _title_note,
    _trim,
    clean_header,
    column_names,
    duck_error,
)


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
            sheets.append((element.get("name", ""), element.get("state", "visible") == "visible",
                           targets[rel_id]))
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
                row[column] = (strings[value] if kind == "s" and value < len(strings)
                               else str(value) if kind != "s" else "")
            grid.append(row)
        samples.append(_SheetSample(name, visible, grid))
    return samples


def _xlsx_sheet_rows(archive: zipfile.ZipFile, target: str,
                     limit: int) -> dict[int, dict[int, tuple[str, Any]]]:
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
            f"cannot read {path} as an Excel workbook ({_short(error)}); open it in Excel, remove any "
            "password and save it as .xlsx"
        ) from None


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
            raise InputError(
                f"cannot read sheet {name!r} of {path} ({_short(error)}); "
                "open it in Excel and save it as .xlsx") from None
        samples.append(_SheetSample(name, sheet.visible == "visible", _arrow_rows(batch)))
    return samples


def _sheet_samples(path: Path, kind: str, limit: int = HEADER_SEARCH_ROWS) -> list[_SheetSample]:
    if kind == "xlsx":
        try:
            return _xlsx_samples(path, limit)
        except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, ValueError, OSError):
            pass  # .xlsb, .ods or an unusual writer: let calamine do it
    return _fastexcel_samples(path, limit)


def _sniff_workbook(path: Path, kind: str, known: set[str]) -> Sniffed:
    samples = _sheet_samples(path, kind)
    notes = [(f"{'an Excel 2007+ workbook' if kind == 'xlsx' else 'a legacy Excel (BIFF) workbook'}: "
              f"{len(samples)} sheet(s)")]
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
        raise DataError(
            f"{path} has no sheet with a header row in its first {HEADER_SEARCH_ROWS} rows; "
            "check that it holds the orders")
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
    return Sniffed(path, "parquet", None, None, 0, list(schema.names), [],
                   ["Parquet: columns from the schema, no header row"])


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
        nonempty = " OR ".join(f"coalesce({_ident(c)}, '') <> ''"
                               for c in columns if c not in RESERVED_COLUMNS) or "true"
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {view} WHERE {nonempty}")
    finally:
        con.unregister(view)


def _held_numbers(reader, sheet: str, skip: int, index: int):
    """A question for mark_float_cells: does the sheet store this column's cells as numbers? Read
    again, typed by the reader, only when asked (a column of long values it cannot judge by chance)."""
    import pyarrow as pa

    def ask() -> bool:
        try:
            probe = reader.load_sheet(sheet, header_row=None, skip_rows=skip, use_columns=[index]).to_arrow()
        except _excel_errors():
            return False
        kind = probe.schema.field(0).type if probe.num_columns else pa.string()
        return pa.types.is_floating(kind) or pa.types.is_integer(kind)

    return ask


# Sheet k (0, 1 … in the workbook's order) row n is row k * 2^32 + n of the file: unique, and in the
# order Excel shows the rows (a sheet holds at most 1,048,576 rows). `_line` stays the sheet row, the
# number the seller finds the row by; `_row` orders the file's rows (an order's lines that run on to
# the next sheet, whose rows start again at 2).
SHEET_ROWS = 1 << 32


def _load_workbook(con, sniffed: Sniffed, table: str) -> int:
    import pyarrow as pa

    target = _table_ident(table)
    names = column_names(sniffed.headers)
    reader = _fastexcel_reader(sniffed.path)
    samples = {s.name: s for s in _sheet_samples(sniffed.path, sniffed.kind)}
    created = False
    for sheet_no, sheet in enumerate(sniffed.sheets):
        sample = samples.get(sheet)
        header_index = _find_header_row(sample.rows, sniffed.headers) if sample else -1
        if header_index < 0:
            raise DataError(
                f"sheet {sheet!r} of {sniffed.path} no longer has the header it had; read the file again")
        try:
            loaded = reader.load_sheet(sheet, header_row=None, skip_rows=header_index, dtypes="string")
            batch = loaded.to_arrow()
        except _excel_errors() as error:
            raise InputError(
                f"cannot read sheet {sheet!r} of {sniffed.path} ({_short(error)}); "
                "open it in Excel and save it as .xlsx") from None
        width = batch.num_columns
        header_cells = [clean_header(v)
                        for v in (batch.column(i)[0].as_py() if batch.num_rows else None
                                  for i in range(width))]
        # calamine starts a sheet at its first used column: find where the header sits
        offset = next(
            (o for o in range(max(1, width - len(sniffed.headers) + 1))
             if _trim(header_cells[o : o + len(sniffed.headers)]) == _trim(sniffed.headers)),
            0,
        )
        body = batch.slice(1)
        count = body.num_rows
        data: dict[str, Any] = {"_line": pa.array(range(header_index + 2, header_index + 2 + count),
                                                  pa.int64())}
        columns = ["_line"]
        for position, name in enumerate(names):
            index = offset + position
            # a long number stored as a float lost its last digits: put it in float form, rejected as an id
            data[name] = (mark_float_cells(body.column(index),
                                           _held_numbers(reader, sheet, header_index + 1, index))
                          if index < width else pa.nulls(count, pa.string()))
            columns.append(name)
        for index in list(range(offset)) + list(range(offset + len(names), width)):
            column = body.column(index)
            if column.null_count == count or not any(v for v in column.to_pylist()):
                continue
            name = f"Column {index - offset + 1}" if index >= offset else f"Column before {offset - index}"
            data[name] = column
            columns.append(name)
        data["_sheet"] = pa.array([sheet] * count, pa.string())
        first_row = sheet_no * SHEET_ROWS + header_index + 2
        data["_row"] = pa.array(range(first_row, first_row + count), pa.int64())
        columns += ["_sheet", "_row"]
        _insert_arrow(con, target, columns, data, created)
        created = True
    if not created:
        _empty_table(con, target, names, with_sheet=True)
    return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]


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
            f"CREATE OR REPLACE TABLE {target} AS SELECT (file_row_number + 1)::BIGINT AS _line, "
            f"{', '.join(selects)} "
            "FROM read_parquet(?, file_row_number=true) ORDER BY file_row_number",
            [str(sniffed.path)],
        )
    except Exception as error:
        if _is_duckdb_error(error):
            raise duck_error(sniffed.path, error) from None
        raise
    return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
