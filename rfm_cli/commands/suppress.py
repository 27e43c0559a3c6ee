"""rfm suppress add|remove|list: the opt-out list kept in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._base import RfmCommand
from rfm_cli.commands._common import plural, state

HELP = """The suppression list: phones, emails or customer ids that no exported list may contain.

\b
Examples:
  rfm suppress add 13812345678 someone@example.com --note "asked by phone"
  rfm suppress add --file optouts.xlsx
  rfm suppress list > suppressed.csv"""

app = typer.Typer(help=HELP)

Values = Annotated[list[str] | None, typer.Argument(metavar="VALUE", help="Phones, emails or customer ids.",
                                                    show_default=False)]
FromFile = Annotated[Path | None, typer.Option("--file", metavar="FILE",
                                               help="Read values from every cell of FILE.")]
Kind = Annotated[str, typer.Option("--kind", metavar="auto|phone|email|customer_id",
                                   help="What the values are (default: by their shape).")]


def _values(values: list[str] | None, from_file: Path | None) -> list[str]:
    from rfm_cli.core.errors import UsageError
    from rfm_cli.core.suppression import read_exclude_file

    collected = list(values or []) + (read_exclude_file(from_file) if from_file else [])
    if not collected:
        raise UsageError("no values given; pass phones, emails or ids, or --file FILE")
    return collected


@app.command("add", help="Add values to the suppression list.", cls=RfmCommand)
def add(ctx: typer.Context, values: Values = None, from_file: FromFile = None, kind: Kind = "auto",
        note: Annotated[str | None, typer.Option("--note", metavar="TEXT",
                                                 help="Why (kept with each value).")] = None) -> None:
    from rfm_cli.core import suppression
    from rfm_cli.core.store import open_store

    st = state(ctx)
    collected = _values(values, from_file)
    with open_store(st.db, wait_seconds=st.wait) as store:
        added = suppression.add(store, collected, kind, note)
    st.say(f"{plural(added, 'entry', 'entries')} added to the suppression list of {st.db}")


@app.command("remove", help="Remove values from the suppression list.", cls=RfmCommand)
def remove(ctx: typer.Context, values: Values = None, from_file: FromFile = None,
           kind: Kind = "auto") -> None:
    from rfm_cli.core import suppression
    from rfm_cli.core.store import open_store

    st = state(ctx)
    collected = _values(values, from_file)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        removed = suppression.remove(store, collected, kind)
    st.say(f"{plural(removed, 'entry', 'entries')} removed from the suppression list of {st.db}")


@app.command("list", help="Write the suppression list as CSV to stdout.", cls=RfmCommand)
def listing(ctx: typer.Context) -> None:
    from rfm_cli.core import suppression
    from rfm_cli.core.sinks import write_stdout
    from rfm_cli.core.store import open_store

    st = state(ctx)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        frame = suppression.listing(store)
    write_stdout(frame, "csv")


REPLIES_HELP = """Add the numbers that refused further messages in an SMS provider's reply (上行) export to
the suppression list, with the time of each reply and the file and line it came from.

A refusal is a reply that is R, T, TD, N, Q, 退, 退订, 拒收, STOP or UNSUBSCRIBE on its own (any case,
full- or half-width, punctuation around it ignored), or that contains 退订, 拒收, 取消订阅, 不要再发 or
the word STOP/UNSUBSCRIBE ("请帮我退订"). Other replies are counted, not stored. The file is a
CSV, TSV or Excel export with a mobile, a content and a time column (Aliyun, Tencent Cloud,
Huawei Cloud), in UTF-8, UTF-16 or GBK.

\b
Example:
  rfm suppress import-replies aliyun-replies.csv --provider aliyun"""


@app.command("import-replies", help=REPLIES_HELP, cls=RfmCommand,
             short_help="Add numbers that replied R/T/退订/STOP to the list.")
def import_replies(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The provider's reply export.",
                                         show_default=False)],
    provider: Annotated[str, typer.Option(
        "--provider", metavar="auto|aliyun|tencent|huawei",
        help="Whose export it is (its header words are tried first).")] = "auto",
    region: Annotated[str, typer.Option("--region", metavar="CC",
                                        help="Country of numbers written without one.")] = "CN",
) -> None:
    from rfm_cli.commands._common import log
    from rfm_cli.core.compliance.replies import import_replies as read_into
    from rfm_cli.core.store import open_store

    st = state(ctx)
    with open_store(st.db, wait_seconds=st.wait) as store:
        counts = read_into(store, path, provider, region.upper())
    log(opt_outs=counts["opt_outs"], numbers_added=counts["numbers_added"],
        other_replies=counts["other_replies"])
    st.say(f"{path}: {plural(counts['opt_outs'], 'refusal')} ({plural(counts['numbers_added'], 'number')} "
           f"new to the suppression list of {st.db}); "
           f"{plural(counts['other_replies'], 'other reply', 'other replies')}"
           " counted, not stored")
    if counts["unusable"]:
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(counts["unusable"].items()))
        st.say(f"  refusals without a usable number: {reasons} "
               f"(first at line {counts['first_unusable_line']}); "
               "suppress those customers by id with `rfm suppress add`")
