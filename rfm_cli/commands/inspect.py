"""rfm inspect FILE: what the import would decide, without importing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    DateFormat,
    MapOption,
    Source,
    TextOrJson,
    check_text_or_json,
    console,
    import_options,
    state,
)

HELP = """Show how a file would be read, without importing it: type, encoding, sheet, header row,
platform and why, each column's mapping with sample values, the status words and what they mean,
the date format, and the rows that would be rejected with their reasons.

Text goes to stderr; --format json writes it to stdout.

Example: rfm inspect ExportOrderList2026.csv"""


def command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="An order export.", show_default=False)],
    fmt: TextOrJson = "text",
    maps: MapOption = None,
    source: Source = None,
    date_format: DateFormat = None,
) -> None:
    from rfm_cli.core.inspect import inspect_file

    st = state(ctx)
    check_text_or_json(fmt)
    options = import_options(st, maps, "100%", source, date_format)  # rejects: shown, never written
    report = inspect_file(file, options)
    if fmt == "json":
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    show(report)


def show(r: dict) -> None:
    from rich.markup import escape

    from rfm_cli.commands._tables import Col, fitted
    from rfm_cli.core.ingest.stage import reject_place

    out = console()
    out.print(escape(f"{r['file']}: {r['type']}, encoding {r['encoding']}, delimiter {r['delimiter']!r}, "
                     f"header on line {r['header_line']}"
                     + (f", sheets {', '.join(r['sheets'])}" if r["sheets"] else "")))
    for note in r["sniffing"]:
        out.print(escape(f"  {note}"))
    out.print(escape(f"platform: {r['platform_title']} ({r['platform']}): {r['why_this_platform']}"))
    rows = [[c["field"], c["header"], " | ".join(str(v) for v in c["samples"])] for c in r["columns"]]
    columns = [Col("field"), Col("header"), Col("sample values", min_text=20)]
    out.print(fitted("Columns", columns, rows, out.width))
    if r["columns_not_read"]:
        out.print(escape(f"not read: {', '.join(r['columns_not_read'])} (no field reads them; "
                         "--map FIELD=HEADER reads one, e.g. --map accepts_sms=HEADER)"))
    out.print(escape(f"dates: {', '.join(r['date_columns'])} as {r['date_format']}"))
    if r["statuses"]:
        rows = [[s["column"], str(s["value"]), s["status"], f"{s['rows']:,}"] for s in r["statuses"]]
        columns = [Col("column"), Col("value"), Col("means"), Col("rows", True)]
        out.print(fitted("Status words", columns, rows, out.width))
    out.print(f"{r['rows']:,} rows: {r['orders']:,} orders of {r['customers']:,} customers, "
              f"{r['refund_only_orders']:,} refund-only order ids, "
              f"{r['rows_rejected']:,} rows would be rejected")
    for rej in r["rejects"]:
        out.print(escape(f"  {reject_place(rej)}: {rej['column'] or '-'}: {rej['reason']}"))
    for w in r["warnings"]:
        out.print(escape(f"warning: {w}"))
