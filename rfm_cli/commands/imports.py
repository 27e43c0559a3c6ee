"""rfm imports list|rm: the files imported into the database, and taking one back."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from rfm_cli.commands._base import RfmCommand
from rfm_cli.commands._common import OutputOption, plural, state

HELP = """The files imported into the database: list them, or take one file's import back.

`rfm imports rm FILE|ID` removes what one file brought: each order it last set goes back to the
state of the latest other file that carried it (the same order in an overlapping export), an
order no other file carried is removed, and so are the file's rejected rows and its record (so
the same bytes can be imported again). The customers' totals are rebuilt; snapshots of past
runs stay as they were.

\b
Examples:
  rfm imports list
  rfm imports rm orders-2026-11.xlsx"""

app = typer.Typer(help=HELP)


def _import_rows(frame) -> list[list[str]]:
    def day(value) -> str:
        return "" if value is None else f"{value:%Y-%m-%d}"

    return [[str(r["import_id"]), r["source_file"], (r["sha256"] or "")[:12], f"{r['rows_read']:,}",
             f"{r['imported']:,}", f"{day(r['first_order_at'])} to {day(r['last_order_at'])}",
             f"{r['imported_at']:%Y-%m-%d %H:%M}"] for r in frame.iter_rows(named=True)]


def show_imports(frame, title: str) -> None:
    """The imports as a table on the terminal (stderr), fitted to its width."""
    from rfm_cli.commands._common import print_table
    from rfm_cli.commands._tables import Col

    columns = [Col("id", True), Col("file", min_text=14), Col("sha256", drop=2), Col("rows read", True),
               Col("imported", True, drop=1), Col("orders dated", min_text=10), Col("imported at", drop=3)]
    print_table(title, columns, _import_rows(frame))


ListFormat = Annotated[str, typer.Option("--format", "-f", metavar="text|json",
                                         help="text (a table, or CSV when piped) or json (stdout).")]


@app.command("list", cls=RfmCommand, short_help="The imported files (CSV when piped).",
             help="The imported files: id, path, sha256 of the bytes, rows by "
                                          "outcome, the dates of their orders, when. CSV when piped.")
def listing(ctx: typer.Context, output: OutputOption = None, fmt: ListFormat = "text") -> None:
    from rfm_cli.commands._common import check_text_or_json, emit_table, stdout_is_terminal
    from rfm_cli.core.imports import list_imports
    from rfm_cli.core.store import open_store

    st = state(ctx)
    check_text_or_json(fmt)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        frame = list_imports(store)
    if fmt == "json":
        sys.stdout.write(json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2, default=str) + "\n")
    elif output is None and stdout_is_terminal():
        if not st.quiet:
            show_imports(frame, f"Imports in {st.db}")
    else:
        emit_table(st, frame, "Imports", output)


@app.command("rm", cls=RfmCommand, short_help="Take one file's import back; totals rebuilt.",
             help="Take one file's import back (by path, file name, or id); "
                                        "the customers' totals are rebuilt.")
def remove(ctx: typer.Context, ref: Annotated[str, typer.Argument(
        metavar="FILE|ID", help="The file as imported (path or name), a file with the same bytes, or its id.",
        show_default=False)]) -> None:
    from rfm_cli.commands._common import log
    from rfm_cli.core import imports
    from rfm_cli.core.store import open_store

    st = state(ctx)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store, store.transaction():
        import_id, source_file = imports.resolve(store, ref)
        done = imports.remove(store, import_id)
    log(removed=done)
    st.say(f"removed import {import_id} ({source_file}): {plural(done['orders_removed'], 'order')} removed, "
           f"{plural(done['orders_restored'], 'order')} back to another file's state, "
           f"{plural(done['refunds_set'] - done['refunds_kept'], 'refund')} removed, "
           f"{plural(done['rejects'], 'rejected row')} forgotten"
           + ("; customer totals rebuilt" if done["totals_rebuilt"] else ""))
    if done["maybe_in_older_files"]:
        st.say(f"note: files imported before rfm recorded shared orders may also hold "
               f"{plural(done['maybe_in_older_files'], 'of the removed orders', 'of the removed orders')}; "
               "to get them back, rfm imports rm those files and import them again")
