"""rfm import FILE...: load order exports into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    Categories,
    DateFormat,
    MapOption,
    MaxRejects,
    RejectsDir,
    Source,
    import_options,
    print_import_reports,
    progress_on_terminal,
    state,
)

HELP = """Import order exports into the database: CSV, TSV, Excel (XLSX, XLS, and the "XLS" files
that are really HTML or TSV), Parquet; a folder means the files in it.

Re-importing orders already stored never counts them twice; a later export's state of an order
(refunded, cancelled) replaces the stored one. All files land in one transaction, or none.

Exports with product columns (SKU, title, category, quantity, unit price) keep each order's lines;
--categories FILE names the category of products whose export has none.

Example: rfm import orders-2026-10.csv orders-2026-11.xlsx --db shop.duckdb"""


def command(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE_OR_DIR", help="Export files or folders.",
                                                show_default=False)],
    maps: MapOption = None,
    max_rejects: MaxRejects = None,
    source: Source = None,
    date_format: DateFormat = None,
    rejects_dir: RejectsDir = Path("rejects"),
    categories: Categories = None,
) -> None:
    from rfm_cli.core import api

    st = state(ctx)
    progress_on_terminal(st)
    options = import_options(st, maps, max_rejects, source, date_format, rejects_dir, categories)
    reports = api.import_to_db(st.db, files, options, wait=st.wait)
    print_import_reports(st, reports)
    st.say(f"stored in {st.db}")
