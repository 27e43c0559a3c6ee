"""rfm levels: member levels (会员等级) by spend and orders over a rolling window, held once reached."""

from __future__ import annotations

from typing import Annotated

import typer

from rfm_cli.commands._common import AsOf, OutputOption, RulesFile, Scheme, emit_table, load_rules, state

HELP = """Member levels: each customer's level by counted spend and/or orders over a rolling
window (default 365 days), kept for a hold period once reached (default 90 days) so it does
not flap, with the built-in levels regular 普通会员, silver 白银会员 (spend 500 or 3 orders),
gold 黄金会员 (2,000 or 6) and diamond 钻石会员 (5,000 or 12), or [levels] of a rules file.

Shows the customers per level and who changed level since the levels were last saved; --save
keeps tonight's levels (rfm run does it each night), --list LEVEL lists the customers at a
level, --changes lists who changed.

\b
Examples:
  rfm levels
  rfm levels --save
  rfm levels --list gold -o gold_members.csv"""


def command(
    ctx: typer.Context,
    save: Annotated[
        bool,
        typer.Option(
            "--save", help="Keep tonight's levels: the next night starts from them and changes are recorded."
        ),
    ] = False,
    list_level: Annotated[
        str | None,
        typer.Option("--list", metavar="LEVEL", help="List the customers at LEVEL (a level name)."),
    ] = None,
    changes: Annotated[
        bool, typer.Option("--changes", help="List the customers whose level changed.")
    ] = False,
    as_of: AsOf = None,
    rules_file: RulesFile = None,
    scheme: Scheme = None,
    output: OutputOption = None,
) -> None:
    from rfm_cli.core import levels_store
    from rfm_cli.core.errors import UsageError
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.store import open_store

    st = state(ctx)
    rules = load_rules(st, scheme, rules_file).levels
    if list_level is not None and list_level not in rules.names():
        raise UsageError(f"--list {list_level!r} is not a level; use one of {', '.join(rules.names())}")
    with open_store(st.db, create=False, wait_seconds=st.wait) as store, store.transaction():
        night = levels_store.compute(store, rules, parse_as_of(as_of), save=save)
    moved = night.changes()
    st.say(
        f"levels as of {night.as_of} ({rules.source}; window {rules.window_days} days, hold "
        f"{rules.hold_days} days){': saved' if save else ''}; {moved.height:,} changed level"
    )
    _show(st, night, rules, list_level, changes, moved, output)


# The columns of a list of members (--list) and of level changes (--changes, with prev_level).
MEMBER_COLUMNS = ["customer_id", "level", "label_zh", "reached_on", "qualified_on", "spend", "orders",
                  "qualifies_for"]


def _show(st, night, rules, list_level: str | None, changes: bool, moved, output) -> None:
    """The members at one level, the changes, or the customers per level (the default)."""
    import polars as pl

    if list_level is not None:
        chosen = night.customers.filter(pl.col("level") == list_level).select(MEMBER_COLUMNS)
        emit_table(st, chosen, f"Members at {list_level} on {night.as_of}", output)
    elif changes:
        emit_table(
            st,
            moved.select("customer_id", "prev_level", *MEMBER_COLUMNS[1:]),
            f"Level changes on {night.as_of}",
            output,
        )
    else:
        counts = pl.DataFrame(
            [
                (name, label, count, rules.describe(level))
                for (name, label, count), level in zip(night.counts(), rules.levels)
            ],
            schema=["level", "label_zh", "customers", "rule"],
            orient="row",
        )
        emit_table(st, counts, f"Member levels on {night.as_of}", output)
