"""rfm moves / rfm history: tiers over time, from the snapshots `rfm run` stores."""

from __future__ import annotations

from typing import Annotated

import typer

from rfm_cli.commands._common import OutputOption, Scheme, emit_table, state

MOVES_HELP = """Who moved between tiers: the from-tier x to-tier matrix between two snapshots
(default: the last two), or with --list FROM:TO the customers who made that move.

\b
Examples:
  rfm moves
  rfm moves --from 2026-10-01 --to 2026-11-20
  rfm moves --list potential:dormant -o slipping.csv"""

HISTORY_HELP = """One customer's tier and scores in every snapshot.

Example: rfm history C00053"""


def moves(
    ctx: typer.Context,
    date_from: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD",
                                                  help="Earlier snapshot.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Later snapshot.")] = None,
    list_move: Annotated[str | None, typer.Option("--list", metavar="FROM:TO",
                                                     help="List the customers who moved FROM:TO "
                                                          "(tier names, '(new)', '(gone)' or '*').")] = None,
    scheme: Scheme = None,
    output: OutputOption = None,
) -> None:
    import polars as pl

    from rfm_cli.core import history
    from rfm_cli.core.errors import UsageError
    from rfm_cli.core.rules import load_rules
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.store import open_store

    st = state(ctx)
    scheme_name = st.settings.get("scheme", scheme)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        frm, to = history.resolve_pair(store, scheme_name, parse_as_of(date_from), parse_as_of(date_to))
        table = history.moves_table(store, scheme_name, frm, to)
    st.say(f"moves from {frm} to {to} ({scheme_name} scheme)")
    if list_move is None:
        tiers = load_rules(scheme_name).tier_names()
        emit_table(st, history.moves_matrix(table, tiers), f"Tier moves {frm} -> {to}", output)
        return
    source, sep, target = list_move.partition(":")
    if not sep:
        raise UsageError(f"--list {list_move!r} is not FROM:TO; e.g. --list gold:dormant")
    chosen = table
    if source.strip() != "*":
        chosen = chosen.filter(pl.col("from_tier") == source.strip())
    if target.strip() != "*":
        chosen = chosen.filter(pl.col("to_tier") == target.strip())
    emit_table(st, chosen.filter(pl.col("from_tier") != pl.col("to_tier")), f"Moves {list_move}", output)


def customer_history(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(metavar="CUSTOMER_ID", help="The customer's id as stored.",
                                               show_default=False)],
    scheme: Scheme = None,
    output: OutputOption = None,
) -> None:
    from rfm_cli.core import history
    from rfm_cli.core.store import open_store

    st = state(ctx)
    scheme_name = st.settings.get("scheme", scheme)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        frame = history.history(store, customer_id, scheme_name)
    emit_table(st, frame, f"History of {customer_id}", output)
