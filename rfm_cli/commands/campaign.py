"""rfm campaign new|list|show|report: campaigns with a hold-out (core/campaigns)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._base import RfmCommand
from rfm_cli.commands._common import AsOf, RulesFile, Scheme, TextOrJson, check_text_or_json, state
from rfm_cli.commands._list_flags import CAMPAIGN_FLAGS, ListFlags, with_list_flags

HELP = """Campaigns with a hold-out: who got the coupon, who bought, what it earned.

`rfm campaign new NAME` selects customers exactly as `rfm export` does (the same options, opt-outs,
cooldown and contact rules), then holds a random share of each tier back (--holdout, default 10%)
and sends nothing to them: the control group. Everyone else is dealt into the arms (--arms A,B for
an A/B test). The draw is seeded (--seed, default the name): the same inputs give the same groups
and byte-identical files.

After the next nights' imports, `rfm campaign report NAME` compares each arm with the control
group over the attribution window: buyers, conversion, orders, revenue, the uplift and the
incremental revenue it caused, ROI, coupon redemption (from the export's discount-code column when
it has one), and whether the difference could be chance (in plain words).

\b
Examples:
  rfm campaign new winback-dec --tier dormant --recency-days 91:180 \\
    --channel sms --codes codes.txt --out-dir campaigns/winback-dec
  rfm campaign report winback-dec
  rfm campaign report winback-dec --format json"""

NEW_HELP = """Select customers as `rfm export` does, hold a random share of each tier back (sent
nothing), deal the rest into the arms, and write the arms' lists.

Files: DIR/send/<arm>/... (upload these; the channel layout of rfm export), DIR/control.csv (the
customers held back, kept for the record: do not upload) and DIR/campaign.json (groups per tier,
files, rows and why customers were left off). The database keeps the campaign, each customer's
group and coupon code, and the sends (so --cooldown of later lists sees them). With --codes every
customer sent gets a code never issued before (an SMS list carries it as the coupon column); a
codes file too short stops the campaign before anything is written.

\b
Examples:
  rfm campaign new winback-dec --tier dormant --recency-days 91:180 \\
    --channel sms --codes codes.txt --out-dir campaigns/winback-dec
  rfm campaign new vip-ab --tier diamond --channel sms --arms A,B \\
    --holdout 20% --cost-per-message 0.045 --out-dir campaigns/vip-ab"""

REPORT_HELP = """What the campaign earned: per group customers, buyers, conversion, orders, revenue and
revenue per customer; each arm against the control group (uplift, incremental orders and revenue,
ROI, coupon redemption) and the arms against each other, with Fisher's exact test, the chance an arm
truly does better and a bootstrap interval, and a verdict in plain words ("too small to tell" when
it is). A window that has not closed is reported as "partial, N days left". How each number is
counted is printed under it. --format json puts the report on stdout.

\b
Examples:
  rfm campaign report winback-dec
  rfm campaign report winback-dec --margin 30% --format json"""

app = typer.Typer(help=HELP, no_args_is_help=True)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The campaign's name.", show_default=False)]
Margin = Annotated[str | None, typer.Option("--margin", metavar="SHARE",
                                            help="Gross margin (e.g. 30%): ROI on margin, not revenue.")]


@app.command("new", help=NEW_HELP, cls=RfmCommand, short_help="Draw the groups and write the arms' lists.")
@with_list_flags(CAMPAIGN_FLAGS)
def new(
    ctx: typer.Context,
    name: Name,
    out_dir: Annotated[Path, typer.Option("--out-dir", "-d", metavar="DIR", help="Folder for the campaign.",
                                          show_default=False)],
    holdout: Annotated[str, typer.Option("--holdout", metavar="SHARE",
                                         help="Share of each tier held back (sent nothing).")] = "10%",
    arms: Annotated[str, typer.Option("--arms", metavar="A,B", help="Names of the arms that are sent.")]
    = "treatment",
    seed: Annotated[str | None, typer.Option("--seed", metavar="TEXT",
                                             help="Seed of the draw (default: the name).")] = None,
    window: Annotated[str, typer.Option("--window", metavar="DAYS", help="Attribution window, e.g. 14d.")]
    = "14d",
    sent_on: Annotated[str | None, typer.Option(
        "--sent-on", metavar="YYYY-MM-DD",
        help="The send day, the window's first (default: the day after the as-of date).")] = None,
    cost_per_message: Annotated[float | None, typer.Option("--cost-per-message", metavar="X",
                                                           help="Cost of one message.")] = None,
    coupon_value: Annotated[float | None, typer.Option("--coupon-value", metavar="X",
                                                       help="Cost of one coupon redeemed.")] = None,
    margin: Margin = None,
    lists: ListFlags = None,
    as_of: AsOf = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
) -> None:
    from rfm_cli.commands._common import load_rules, log
    from rfm_cli.commands.campaign_text import say_created
    from rfm_cli.core.shop import Shop

    st = state(ctx)
    rules = load_rules(st, scheme, rules_file)
    lists.check(rules)
    options = lists.options(st, with_exclude=True)
    created = Shop(st.db, wait=st.wait).campaigns.new(
        name, out_dir, holdout=holdout, arms=arms, seed=seed, window=window, sent_on=sent_on,
        cost_per_message=cost_per_message, coupon_value=coupon_value, margin=margin, as_of=as_of, rules=rules,
        lists=options)
    log(campaign=name, customers_by_arm=created.manifest["customers_by_arm"])
    say_created(st, name, created, out_dir)


@app.command("list", cls=RfmCommand, short_help="The campaigns, newest first.",
             help="The campaigns in the database, newest first: when, window, arms, customers, codes.")
def listing(ctx: typer.Context, fmt: TextOrJson = "text") -> None:
    from rfm_cli.commands.campaign_text import say_list, shown
    from rfm_cli.core.shop import Shop

    st = state(ctx)
    check_text_or_json(fmt)
    shown(st, Shop(st.db, wait=st.wait).campaigns.list(), fmt, say_list)


@app.command("show", cls=RfmCommand, short_help="One campaign as created: settings and groups.",
             help="One campaign as created: its selection, arms, hold-out, seed, window, costs, and per arm "
                  "and tier the customers drawn, codes issued and sent.")
def show(ctx: typer.Context, name: Name, fmt: TextOrJson = "text") -> None:
    from rfm_cli.commands.campaign_text import say_show, shown
    from rfm_cli.core.shop import Shop

    st = state(ctx)
    check_text_or_json(fmt)
    shown(st, Shop(st.db, wait=st.wait).campaigns.show(name), fmt, say_show)


@app.command("report", help=REPORT_HELP, cls=RfmCommand, short_help="What it earned, arm against control.")
def report(ctx: typer.Context, name: Name, margin: Margin = None, fmt: TextOrJson = "text") -> None:
    from rfm_cli.commands.campaign_text import say_report, shown
    from rfm_cli.core.shop import Shop

    st = state(ctx)
    check_text_or_json(fmt)
    shown(st, Shop(st.db, wait=st.wait).campaigns.report(name, margin=margin), fmt, say_report)
