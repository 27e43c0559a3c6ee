"""rfm status: what the database holds."""

from __future__ import annotations

import json
import sys

import typer

from rfm_cli.commands._common import TextOrJson, check_text_or_json, console, plural, state

HELP = """What the database holds: the files imported (name, sha256 of the bytes, rows, the dates of
their orders, when), the orders' date range, the customers, the last run and its snapshot, the
last lists written, the suppression list and frozen cut points.

Text goes to stderr; --format json writes it to stdout.

Example: rfm status"""


def command(ctx: typer.Context, fmt: TextOrJson = "text") -> None:
    from rfm_cli.core import imports
    from rfm_cli.core.store import open_store

    st = state(ctx)
    check_text_or_json(fmt)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        facts = imports.status(store)
        files = imports.list_imports(store)
    if fmt == "json":
        payload = facts | {"imports": files.to_dicts()}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if not st.quiet:
        show(facts, files)


def _day(value) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d}"


def show(facts: dict, files) -> None:
    from rfm_cli.commands.imports import show_imports

    out = console()

    def say(text: str) -> None:
        out.print(text, highlight=False, markup=False, overflow="fold")

    size = f", {facts['bytes'] / 1e6:,.1f} MB" if facts["bytes"] is not None else ""
    say(f"database {facts['database']} (schema {facts['schema_version']}{size})")
    say(f"orders: {facts['orders']:,} stored, {facts['counted_orders']:,} counted, dated "
        f"{_day(facts['first_order_at'])} to {_day(facts['last_order_at'])}")
    say(f"customers: {facts['customers']:,} with a counted order")
    if facts["last_run_at"] is None:
        say("last run: none yet (rfm run stores a snapshot of every customer's tier)")
    else:
        say(f"last run: {facts['last_run_at']:%Y-%m-%d %H:%M}, as of {facts['last_run_as_of']} "
            f"({facts['last_run_scheme']} scheme, {facts['last_run_customers']:,} customers); "
            f"latest snapshot as of {facts['latest_snapshot_as_of']}")
    say("lists last written: " + ("never" if facts["lists_written_at"] is None
                                  else f"{facts['lists_written_at']:%Y-%m-%d %H:%M}"))
    say(f"suppression list: {plural(facts['suppressions'], 'entry', 'entries')}; frozen cut points: "
        + (", ".join(facts["frozen_cut_points"]) or "none"))
    if files.height:
        show_imports(files, f"{plural(files.height, 'file')} imported")
    else:
        say("no file imported yet: rfm import FILE or rfm run FILE")
