"""rfm explain CUSTOMER_ID: every number behind one customer's tier."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    AsOf,
    DateFormat,
    MapOption,
    RulesFile,
    Scheme,
    Source,
    TextOrJson,
    Window,
    check_text_or_json,
    console,
    emit_table,
    import_options,
    load_rules,
    state,
    window_option,
)

HELP = """Show one customer's orders (counted or not, and why), raw values, scores, the cut points in
force and the rule that put them in their tier.

--find TEXT finds customers by phone (any written form, its last digits, or masked like
138****5678), email, or part of a name or id: one match is explained at once; several are listed
(a table here, CSV when piped). The account is shown on stderr; --format json writes it to stdout.

It ends with the customer's predictions (as rfm predict computes them, default model): the model's
inputs x, t_x and T in weeks, P(alive), expected orders, spend per order and CLV over 90 days, the
next order's due date and the churn risk, each with how it was computed. --no-predictions leaves
them out (the models are fitted on every customer, which takes a while on a large database).

\b
Examples:
  rfm explain C00042
  rfm explain --find '138 4214 5006'"""


def command(
    ctx: typer.Context,
    customer_id: Annotated[str | None, typer.Argument(
        metavar="CUSTOMER_ID", help="The customer's id as stored.", show_default=False)] = None,
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="FILE", help="Explain from these exports instead of the database.",
        show_default=False)] = None,
    find: Annotated[str | None, typer.Option(
        "--find", metavar="TEXT", help="Find the customer by phone, email, or part of a name or id.",
        show_default=False)] = None,
    fmt: TextOrJson = "text",
    as_of: AsOf = None,
    window: Window = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
    maps: MapOption = None,
    source: Source = None,
    date_format: DateFormat = None,
    no_predictions: Annotated[bool, typer.Option(
        "--no-predictions",
        help="Leave out P(alive), expected orders, CLV, due date and churn risk.")] = False,
) -> None:
    from rfm_cli.core import api
    from rfm_cli.core.errors import UsageError
    from rfm_cli.core.scoring import parse_as_of

    st = state(ctx)
    check_text_or_json(fmt)
    if find is not None and customer_id is not None:  # with --find every argument is an export
        files, customer_id = [Path(customer_id), *(files or [])], None
    if (find is None) == (customer_id is None):
        raise UsageError("say whose account to show; give a CUSTOMER_ID, or --find PHONE|EMAIL|NAME")
    rules = load_rules(st, scheme, rules_file)
    options = import_options(st, maps, None, source, date_format)
    window = window_option(window)
    predictions = None if no_predictions else {"churn_thresholds": st.settings.churn_thresholds()}
    if customer_id is not None:
        account = api.explain(st.db, files, customer_id, rules, parse_as_of(as_of), options, wait=st.wait,
                              predictions=predictions, window=window, tags=st.settings.tag_settings())
    else:
        found = api.find_and_explain(st.db, files, find, rules, parse_as_of(as_of), options,
                                     wait=st.wait, predictions=predictions, window=window,
                                     tags=st.settings.tag_settings())
        if found.account is None:
            _show_matches(st, found.matches, fmt)
            return
        account = found.account
        st.say(f"found customer {account['customer_id']} by {found.matches['matched_on'][0]}")
    if fmt == "json":
        sys.stdout.write(json.dumps(account, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        show(account)


def _show_matches(st, matches, fmt: str) -> None:
    from rfm_cli.core.errors import UsageError

    if matches.is_empty():
        raise UsageError("no customer has a phone, email, name or id matching that; check it, or list "
                         "customers with rfm score -o customers.csv")
    if fmt == "json":
        sys.stdout.write(json.dumps(matches.to_dicts(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    title = f"{matches.height:,} customers match; explain one with rfm explain CUSTOMER_ID"
    emit_table(st, matches, title, None)


def show(account: dict) -> None:
    from rich.markup import escape

    from rfm_cli.commands._tables import Col, fitted

    out = console()
    out.print(
        f"[bold]customer {escape(account['customer_id'])}[/bold] as of {account['as_of']} "
        f"({account['scheme']} scheme, rules: {escape(account['rules_source'])})"
    )
    # net: what the order adds to monetary; an order that does not count adds nothing, and says why.
    rows = [[o["order_id"], o["ordered_at"] or "(no date)", o["raw_status"] or o["status"],
             f"{o['amount']:,.2f}", f"{o['refund_amount'] + o['later_refunds']:,.2f}",
             f"{o['net_amount']:,.2f}" if o["counted"] else f"not counted: {o['not_counted_reason']}"]
            for o in account["orders"]]
    columns = [Col("order", min_text=12), Col("date", min_text=10), Col("status", min_text=8),
               Col("amount", True), Col("refunded", True),
               Col("net", min_text=max([11, *(len(r[3]) for r in rows)]))]
    if any(o.get("delivered_at") for o in account["orders"]):  # only when the exports give one
        rows = [[*r[:2], o["delivered_at"] or "-", *r[2:]] for r, o in zip(rows, account["orders"])]
        columns.insert(2, Col("delivered", drop=1, min_text=10))
    out.print(fitted("Orders", columns, rows, out.width))
    for r in account["refund_rows_without_order"]:
        out.print(
            f"refund {r['refund_key']} on {r['refunded_at']}: -{r['amount']:,.2f} names no stored order, "
            "so it reduces monetary"
        )
    if account.get("orders_after_as_of"):
        out.print(
            f"{account['orders_after_as_of']} orders after {account['as_of']} are left out (see --as-of)")
    if account.get("window_since"):
        out.print(f"analysis window: {account['window_since']} to {account['as_of']}; orders before it "
                  "do not count (see --window)")
    if not account["scored"]:
        out.print(f"not scored: {account['reason']}")
        return
    values = account["values"]
    out.print(f"recency_days = {values['recency_rule']}")
    out.print(f"frequency    = {values['frequency_rule']} = {values['frequency']}")
    out.print(f"monetary     = {values['monetary_rule']} = {values['monetary']:,.2f}")
    for name, score in account["scores"].items():
        out.print(escape(f"{name} = {score['score']}: {score['band']}  [{score['rule']}]"))
    out.print(f"rfm_code = {account['rfm_code']}")
    for check in account["rules_checked"]:
        verdict = "[green]matches[/green]" if check["matched"] else "no"
        out.print(f"  {check['tier']:<20} when {check['with_values']}: {verdict}")
    out.print(f"[bold]tier: {account['tier']}[/bold] {account['tier_label_zh']} ({account['tier_why']})")
    for line in account.get("level", []):
        out.print(escape(line))
    for which, about in (account.get("followups") or {}).items():
        if which != "counted_orders":  # what --days-since-first-order / -last-order count from
            out.print(escape(f"days since {which.replace('_', ' ')}: {about['days_since']} "
                             f"({about['order_id']} {about['basis']} {about['day']})"))
    for line in account.get("tags", []):
        out.print(escape(line))
    if "predictions" in account:
        from rfm_cli.core.predict.explain import describe

        for line in describe(account["predictions"]):
            out.print(escape(line))
