"""The campaigns as `rfm campaign` shows them: text on the terminal (stderr), fitted to its width, or JSON
on stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rfm_cli.commands._common import State, print_table
from rfm_cli.commands._tables import Col


def shown(st: State, data: Any, fmt: str, say: Callable[[State, Any], None]) -> None:
    """--format json: the data on stdout; text: `say` puts it on the terminal (stderr)."""
    if fmt == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        say(st, data)


def say_list(st: State, found: list[dict[str, Any]]) -> None:
    if not found:
        st.say("no campaigns yet; start one with rfm campaign new NAME ... --out-dir DIR")
        return
    if st.quiet:
        return
    rows = [[c["name"], c["sent_on"], f"{c['window_days']}d", ",".join(c["arms"]), f"{c['customers']:,}",
             f"{c['control']:,}", f"{c['codes']:,}"] for c in found]
    print_table("Campaigns", [Col("name", min_text=12), Col("sent on"), Col("window", True), Col("arms"),
                              Col("customers", True), Col("held back", True), Col("codes", True, drop=1)],
                              rows)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def say_show(st: State, record: dict[str, Any]) -> None:
    if st.quiet:
        return
    st.say(f"campaign {record['name']}: created {record['created_at'][:16].replace('T', ' ')}, "
           f"scores as of {record['as_of']}, sent on {record['sent_on']}, "
           f"window {record['window_days']} days")
    selection = ", ".join(f"{k} {v}" for k, v in record["selection"].items()) or "every customer"
    st.say(f"  selection: {selection}; channels {', '.join(record['channels'])}; arms "
           f"{', '.join(record['arms'])}; held back {record['holdout']:.0%} of each tier; "
           f"seed {record['seed']!r}")
    costs = [f"{label} {record[key]:g}" for key, label in (("cost_per_message", "cost per message"),
                                                           ("coupon_value", "coupon value"),
                                                           ("margin", "margin"))
             if record[key] is not None]
    if costs:
        st.say("  " + ", ".join(costs))
    if record["out_dir"]:
        st.say(f"  files: {record['out_dir']}")
    rows = [[g["arm"], g["tier"], f"{g['customers']:,}", f"{g['sent']:,}", f"{g['codes']:,}"]
            for g in record["groups"]]
    print_table("Groups", [Col("group"), Col("tier"), Col("customers", True), Col("sent", True),
                           Col("codes", True)], rows)


def say_report(st: State, built: dict[str, Any]) -> None:
    if st.quiet:
        return
    window = built["window"]
    st.say(f"campaign {built['campaign']}: window {window['from']} to {window['to']} ({window['status']}; "
           f"orders imported through {window['orders_through']})")
    rows = [[a["arm"], f"{a['customers']:,}", f"{a['buyers']:,}", _pct(a["conversion"]), f"{a['orders']:,}",
             _money(a["revenue"]), _money(a["revenue_per_customer"]),
             "" if a["codes_redeemed"] is None else f"{a['codes_redeemed']:,}/{a['codes_issued']:,}"]
            for a in built["arms"]]
    print_table("Per group", [Col("group"), Col("customers", True), Col("buyers", True),
                              Col("conversion", True), Col("orders", True, drop=2), Col("revenue", True),
                              Col("per customer", True, drop=1), Col("codes used", True, drop=3)], rows)
    for c in built["against_control"] + built["between_arms"]:
        relative = "" if c["relative_uplift"] is None else f" ({c['relative_uplift'] * 100:+.0f}%)"
        interval = ("" if c["revenue_diff_low"] is None
                    else f" (revenue per customer {c['revenue_diff_low']:+,.2f} "
                    f"to {c['revenue_diff_high']:+,.2f}, 95%)")
        st.say(f"{c['arm']} vs {c['against']}: uplift {c['uplift'] * 100:+.1f} points{relative}; "
               f"incremental orders {c['incremental_orders']:+,.1f}, revenue {c['incremental_revenue']:+,.2f}"
               + interval)
        extra = f"; cost {c['cost']:,.2f}" if c.get("cost") is not None else ""
        if c.get("roi") is not None:
            extra += f", ROI {c['roi'] * 100:+.0f}%"
        st.say(f"  P(better) {c['p_better'] * 100:.0f}%, Fisher p = {c['fisher_p']:.3g}{extra}")
        st.say(f"  {c['verdict']}")
    st.say("How this was counted:")
    for line in built["methods"]:
        st.say(f"  - {line}")


def say_created(st, name: str, created, out_dir: Path) -> None:
    """What `rfm campaign new` drew and wrote, on stderr."""
    manifest = created.manifest
    groups = ", ".join(f"{arm} {n:,}" for arm, n in manifest["customers_by_arm"].items())
    st.say(f"campaign {name}: {manifest['customers_drawn']:,} of {manifest['customers_selected']:,} selected "
           f"customers drawn ({groups}); window {manifest['window']['from']} to {manifest['window']['to']}")
    for entry in manifest["files"]:
        dropped = ", ".join(f"{k} {v:,}" for k, v in entry["dropped"].items())
        st.say(f"  {entry['path']}: {entry['rows']:,} rows" + (f" (left off: {dropped})" if dropped else ""))
    st.say(f"  {manifest['control_file']['path']}: {manifest['control_file']['rows']:,} customers held back "
           "(kept for the record: do not upload)")
    if manifest["coupon_codes_left"] is not None:
        st.say(f"  coupon codes issued {manifest['coupon_codes_issued']:,}, never issued left "
               f"{manifest['coupon_codes_left']:,}")
    st.say(f"wrote {len(created.written)} files to {out_dir}; after the next imports: "
           f"rfm campaign report {name}")
