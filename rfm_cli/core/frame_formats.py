"""The bytes of a table in each output format (csv, parquet, json, xlsx), the same wherever they go:
a file (sinks.StagedFiles) or stdout (sinks.write_stdout).

Spreadsheet formats escape every text cell that would start a formula; json and xlsx carry timestamps
as the text the CSV carries; an xlsx of the same table is the same bytes every night.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from rfm_cli.core.errors import UsageError

FORMATS = ("csv", "parquet", "json", "xlsx")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_for(path: Path | None, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = path.suffix.lower().lstrip(".") if path else ""
    return suffix if suffix in FORMATS else "csv"


XLSX_CREATED = datetime(1980, 1, 1)


def _prepare(frame: pl.DataFrame, fmt: str, escaped: bool) -> pl.DataFrame:
    if fmt in ("csv", "xlsx") and not escaped:
        # Spreadsheet formats: no text cell may start a formula (a name "=HYPERLINK(…)" in a score
        # table opened in Excel), as every list is escaped (channels.safe_cells; idempotent).
        from rfm_cli.core.channels import safe_cells

        frame = safe_cells(frame)
    if fmt in ("json", "xlsx"):  # timestamps as the same text the CSV carries
        return frame.with_columns(pl.col(pl.Datetime).dt.strftime(DATETIME_FORMAT))
    return frame


def write_frame(frame: pl.DataFrame, fmt: str, sink: BinaryIO, *, encoding: str = "utf-8",
                float_precision: int | None = 2, escaped: bool = False) -> None:
    """`float_precision`: the decimals of CSV floats (money: 2); None writes each float's shortest
    text (tables whose floats are already rounded to their own decimals, such as rfm predict's).
    `escaped`: the caller's frame went through channels.safe_cells already (every list does where it
    is built), so the scan of every text cell for a formula is not made twice (0.5 s at 10M customers)."""
    frame = _prepare(frame, fmt, escaped)
    if fmt == "csv":
        if encoding == "utf-8-sig":
            sink.write("\ufeff".encode())
        frame.write_csv(sink, datetime_format=DATETIME_FORMAT, float_precision=float_precision)
    elif fmt == "parquet":
        frame.write_parquet(sink)
    elif fmt == "json":
        buffer = io.StringIO()
        frame.write_json(buffer)
        sink.write(buffer.getvalue().encode("utf-8"))
        sink.write(b"\n")
    elif fmt == "xlsx":
        import xlsxwriter

        buffer = io.BytesIO()
        # A fixed creation date (xlsxwriter's zip entries are already dated 1980-01-01): the same
        # table gives the same bytes every night, so a cron job's reruns compare equal. Text stays
        # text: by default xlsxwriter makes "{=...}" an array formula and "http://..." a hyperlink.
        options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        with xlsxwriter.Workbook(buffer, options) as workbook:
            workbook.set_properties({"created": XLSX_CREATED})
            frame.write_excel(workbook, autofit=True)
        sink.write(buffer.getvalue())
    else:  # format_for() validated it
        raise AssertionError(fmt)
