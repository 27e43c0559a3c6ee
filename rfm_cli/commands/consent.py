"""rfm consent add|withdraw|list: the consent ledger, per channel."""

from __future__ import annotations

from typing import Annotated

import typer

from rfm_cli.commands._base import RfmCommand
from rfm_cli.commands._common import plural, state

HELP = """The consent ledger: who agreed to SMS, email or ads, when, where it was recorded and on what
legal basis. Imports fill it from per-channel consent columns (Shopify Accepts Email Marketing /
Accepts SMS Marketing, WooCommerce opt-in fields); these commands record consent kept elsewhere.
`rfm export|run --require-consent` lists only customers whose latest event for the list's channel
is a grant (an event for `any` counts for every channel).

\b
Examples:
  rfm consent add 13812345678 --channel sms --source "门店登记表"
  rfm consent withdraw a@example.com --channel email --source "by phone"

`rfm consent list` writes the ledger as CSV to stdout."""

app = typer.Typer(help=HELP, no_args_is_help=True)

Values = Annotated[list[str], typer.Argument(metavar="VALUE", help="Phones, emails or customer ids.",
                                             show_default=False)]
Channel = Annotated[str, typer.Option("--channel", metavar="sms|email|ads|any", help="Which channel.")]
Source = Annotated[str, typer.Option("--source", metavar="TEXT",
                                     help="Where it was given (form, register…).")]
Basis = Annotated[str, typer.Option("--basis",
                                    metavar="consent|contract|legitimate_interest|legal_obligation",
                                    help="The legal basis (PIPL Art. 13, GDPR Art. 6).")]


def _record(ctx: typer.Context, values: list[str], channel: str, source: str, basis: str,
            status: str) -> None:
    from rfm_cli.core.compliance import consent
    from rfm_cli.core.store import open_store

    st = state(ctx)
    with open_store(st.db, wait_seconds=st.wait) as store:
        added = consent.add(store, values, channel, status, source, basis)
    st.say(f"{plural(added, 'event')} ({status}, {channel}) added to the consent ledger of {st.db}")


@app.command("add", cls=RfmCommand, help="Record that these people gave consent for a channel.")
def add(ctx: typer.Context, values: Values, channel: Channel, source: Source,
        basis: Basis = "consent") -> None:
    _record(ctx, values, channel, source, basis, "granted")


@app.command("withdraw", cls=RfmCommand, help="Record that these people withdrew consent for a channel.")
def withdraw(ctx: typer.Context, values: Values, channel: Channel, source: Source,
             basis: Basis = "consent") -> None:
    _record(ctx, values, channel, source, basis, "withdrawn")


@app.command("list", cls=RfmCommand, help="Write the consent ledger as CSV to stdout.")
def listing(ctx: typer.Context) -> None:
    from rfm_cli.core.compliance import consent
    from rfm_cli.core.sinks import write_stdout
    from rfm_cli.core.store import open_store

    st = state(ctx)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        frame = consent.listing(store)
    write_stdout(frame, "csv")
