"""What `rfm explain` shows: the account on stderr (or JSON on stdout), or the customers a search matched."""

from __future__ import annotations

import json
import sys

from rfm_cli.commands._common import console, emit_table


def show(st, found, fmt: str) -> None:
    """`found`: core.api.Found: an account, or the matches of a search that found none or several."""
    if found.account is None:
        _show_matches(st, found.matches, fmt)
        return
    account = found.account
    if found.matches is not None:
        st.say(f"found customer {account['customer_id']} by {found.matches['matched_on'][0]}")
    if fmt == "json":
        sys.stdout.write(json.dumps(account, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        print_account(account)


def _show_matches(st, matches, fmt: str) -> None:
    """None, or several customers matched (core/readouts.py refuses a search that matched none)."""
    if fmt == "json":
        sys.stdout.write(json.dumps(matches.to_dicts(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    title = f"{matches.height:,} customers match; explain one with rfm explain CUSTOMER_ID"
    emit_table(st, matches, title, None)


def print_account(account: dict) -> None:
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
