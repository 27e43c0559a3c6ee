"""rfm rules: the rules and cut points in force; --check validates a rules file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._base import RfmCommand
from rfm_cli.commands._common import (
    AsOf,
    RulesFile,
    Scheme,
    TextOrJson,
    check_text_or_json,
    console,
    load_rules,
    state,
)

HELP = """Show the scoring rules and tier rules in force, with the cut points the database gives them.

--check FILE validates a rules file (valid fields; every possible customer falls in a tier)
without scoring anything: exit 0 when it is good, 78 when it is not.
Text goes to stderr; --format json writes the rules to stdout.

`rfm rules freeze` fixes the quantile cut points at today's values, so tiers stay stable night
to night; run it again to recalibrate, or `rfm rules freeze --clear` to go back to quantiles.

Example: rfm rules --check my-rules.toml"""

app = typer.Typer(help=HELP, invoke_without_command=True)


@app.callback(invoke_without_command=True)
def command(
    ctx: typer.Context,
    check: Annotated[
        Path | None, typer.Option("--check", metavar="FILE", help="Validate this rules file.")
    ] = None,
    fmt: TextOrJson = "text",
    as_of: AsOf = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    st = state(ctx)
    check_text_or_json(fmt)
    rules = load_rules(st, scheme, check or rules_file)
    if check is not None:
        st.say(f"{check}: valid; {len(rules.tiers)} tiers, every customer falls in exactly one")
        return
    cuts, rules = _cut_points_if_db(st, rules, as_of)
    if fmt == "json":
        payload = rules.to_dict() | {"cut_points": cuts}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    out = console()
    out.print(f"[bold]{rules.scheme}[/bold] scheme, from {rules.source}")
    for dimension in ("recency", "frequency", "monetary"):
        out.print(f"  {rules.dimension(dimension).describe()}")
    for i, tier in enumerate(rules.tiers, 1):
        out.print(
            f"  {i}. {tier.name} {tier.label_zh}: when {tier.when.text}"
            + (f"  ({tier.why})" if tier.why else "")
        )
    if cuts:
        out.print(f"cut points in {st.db} as of {cuts[0]['as_of']}:")
        for row in cuts:
            if row["customers"]:
                out.print(
                    f"  {row['dimension']:<9} {row['score']}: {row['rule']} ({row['customers']:,} customers)"
                )


def _cut_points_if_db(st, rules, as_of: str | None):
    """The database's cut points, and the rules as scoring applies them (frozen cut points in place)."""
    if not Path(st.db).exists():
        return [], rules

    from rfm_cli.core import api
    from rfm_cli.core.ingest.pipeline import ImportOptions
    from rfm_cli.core.scoring import parse_as_of

    result, _ = api.score(st.db, None, rules, parse_as_of(as_of), ImportOptions(), wait=st.wait)
    return [row | {"as_of": result.as_of.isoformat()} for row in result.cut_points.to_dicts()], result.rules



@app.command("freeze", cls=RfmCommand, short_help="Freeze the quantile cut points at today's values.",
             help="Freeze the quantile cut points at the values the data gives them now "
                  "(run again to recalibrate; --clear to go back to quantiles).")
def freeze(
    ctx: typer.Context,
    clear: Annotated[bool, typer.Option("--clear", help="Forget frozen cut points.")] = False,
    as_of: AsOf = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
) -> None:
    from rfm_cli.core import frozen_cuts
    from rfm_cli.core.scoring import parse_as_of, score_store
    from rfm_cli.core.store import open_store

    st = state(ctx)
    rules = load_rules(st, scheme, rules_file)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store, store.transaction():
        if clear:
            st.say(f"{frozen_cuts.unfreeze(store)} frozen dimensions cleared; quantile scoring is back")
            return
        frozen_cuts.unfreeze(store)  # recalibrate from the quantiles, not from the previous freeze
        result = score_store(store, rules, parse_as_of(as_of))
        frozen = frozen_cuts.freeze(store, result)
    if not frozen:
        st.say("no dimension is scored by quantile; nothing to freeze")
    for dimension, points in frozen.items():
        st.say(f"{dimension}: frozen at {', '.join(f'{p:,.2f}' for p in points)} (data as of {result.as_of})")
