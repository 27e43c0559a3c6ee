"""rfm forget PHONE|EMAIL|CUSTOMER_ID: erase one person from the database, keep the totals."""

from __future__ import annotations

from typing import Annotated

import typer

from rfm_cli.commands._common import state

HELP = """Erase one person from the database (PIPL Art. 47, GDPR Art. 17) and keep them off every later
list (GDPR Art. 21, the MIIT SMS rules).

Every customer whose orders carry the phone or email given (or the customer id) is erased: names,
phones and emails are removed from orders, customer totals and rejected rows; their customer id
becomes a token (forgotten-…, not reversible) in orders, refunds, snapshots, the send ledger and
campaigns, so revenue and tier counts still add up. They go on the suppression list as keyed
hashes, so a later import of the same person is still left off every list. The database file is
then rewritten, so the erased bytes are gone from it. Counts of what changed go to stderr.

Not reached: list files already written (see `rfm audit`), rejects files, backups, and the
platform's export (a re-import stores their contacts again; they stay off every list).

\b
Example:
  rfm forget 13842145006"""


def command(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(metavar="PHONE|EMAIL|CUSTOMER_ID", help="The person to erase.",
                                       show_default=False)],
    region: Annotated[str, typer.Option("--region", metavar="CC",
                                        help="Country of a phone written without one.")] = "CN",
) -> None:
    from rfm_cli.commands._common import log
    from rfm_cli.core.compliance.forget import forget

    st = state(ctx)
    counts = forget(st.db, who, region=region.upper(), wait=st.wait)
    log(forgotten=counts)
    st.say(f"erased {counts['customers']} customer(s) from {st.db}:")
    for step, count in counts.items():
        if step not in ("customers", "database bytes"):
            st.say(f"  {step}: {count:,}")
    st.say(f"  database rewritten: {counts['database bytes']:,} bytes; list files written before are not "
           "touched (see `rfm audit`)")
