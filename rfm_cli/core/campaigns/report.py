"""`rfm campaign list|show|report`: the campaigns in the database, and what one earned.

The report joins the campaign's ledger (rfm_campaign_members) to the orders of its attribution
window (queries/campaign_outcomes.sql), sums each arm (stats.ArmOutcome) and compares every
treatment arm with the control group, and the arms with each other (stats.compare). What it
counts and how is said in the report itself (`methods`), in words a seller can check.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

from rfm_cli.core.campaigns.assign import CONTROL
from rfm_cli.core.campaigns.stats import BOOTSTRAP_ROUNDS, ArmOutcome, Costs, compare
from rfm_cli.core.errors import UsageError
from rfm_cli.core.store import Store, sql

CAMPAIGN_COLUMNS = ("name", "created_at", "sent_on", "as_of", "scheme", "selection", "channels", "arms",
                    "holdout", "seed", "window_days", "cost_per_message", "coupon_value", "margin", "out_dir")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def campaign(store: Store, name: str) -> dict[str, Any]:
    """The campaign's row (selection, channels and arms decoded), or a usage error naming the others."""
    row = store.con.execute(f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM rfm_campaigns WHERE name = ?",
                            [name]).fetchone()
    if row is None:
        names = [r[0] for r in store.con.execute(
            "SELECT name FROM rfm_campaigns ORDER BY created_at DESC, name LIMIT 5").fetchall()]
        known = f"campaigns: {', '.join(names)}" if names else "there are none yet"
        raise UsageError(f"no campaign named {name!r} in {store.label} ({known}); "
                         "see rfm campaign list, or create it with rfm campaign new")
    record = dict(zip(CAMPAIGN_COLUMNS, row))
    for key in ("selection", "channels", "arms"):
        record[key] = json.loads(record[key])
    return record


def listing(store: Store) -> list[dict[str, Any]]:
    """Every campaign, newest first: name, dates, arms and how many customers each group holds."""
    rows = store.con.execute(
        "SELECT c.name, c.created_at, c.sent_on, c.window_days, c.arms, c.holdout, c.channels, "
        "count(m.customer_id) AS customers, "
        "count(m.customer_id) FILTER (WHERE m.arm = 'control') AS control, "
        "count(m.coupon_code) AS codes FROM rfm_campaigns AS c "
        "LEFT JOIN rfm_campaign_members AS m ON m.campaign = c.name GROUP BY ALL "
        "ORDER BY c.created_at DESC, c.name").fetchall()
    keys = ("name", "created_at", "sent_on", "window_days", "arms", "holdout", "channels", "customers",
            "control", "codes")
    out = []
    for row in rows:
        record = {k: _jsonable(v) for k, v in zip(keys, row)}
        record["arms"], record["channels"] = json.loads(record["arms"]), json.loads(record["channels"])
        out.append(record)
    return out


def show(store: Store, name: str) -> dict[str, Any]:
    """The campaign as created: its settings and, per arm and tier, the customers drawn."""
    record = {k: _jsonable(v) for k, v in campaign(store, name).items()}
    groups = store.con.execute(
        "SELECT arm, stratum, count(*), count(coupon_code), count(*) FILTER (WHERE sent) "
        "FROM rfm_campaign_members WHERE campaign = ? GROUP BY ALL ORDER BY ALL", [name]).fetchall()
    record["groups"] = [{"arm": arm, "tier": tier, "customers": n, "codes": codes, "sent": sent}
                        for arm, tier, n, codes, sent in groups]
    return record


def _window(record: dict[str, Any], store: Store) -> dict[str, Any]:
    start: date = record["sent_on"]
    end = start + timedelta(days=record["window_days"] - 1)
    latest = store.con.execute("SELECT max(ordered_at) FROM rfm_orders").fetchone()[0]
    through = latest.date() if latest is not None else record["as_of"]
    days_left = max(0, (end - through).days)
    status = "closed" if not days_left else f"partial, {days_left} day{'s' if days_left != 1 else ''} left"
    return {"from": start.isoformat(), "to": end.isoformat(), "days": record["window_days"],
            "orders_through": through.isoformat(), "days_left": days_left, "status": status}


def _redemption_column(store: Store, start: date, end: date) -> str | None:
    """The header of the discount-code column of the files that hold the window's orders, if any had one."""
    row = store.con.execute(
        "SELECT string_agg(DISTINCT c.header, ', ' ORDER BY c.header) FROM rfm_code_columns AS c "
        "WHERE c.import_id IN (SELECT import_id FROM rfm_orders WHERE ordered_at >= ? AND ordered_at < ?)",
        [start, end + timedelta(days=1)]).fetchone()
    return row[0] if row else None


def outcomes(store: Store, record: dict[str, Any]) -> tuple[list[Any], str | None]:
    """Per customer drawn: the columns of campaign_outcomes.sql; and the discount-code column read."""
    start: date = record["sent_on"]
    end = start + timedelta(days=record["window_days"])
    rows = store.con.execute(sql("campaign_outcomes"), {
        "campaign": record["name"], "selected_after": record["as_of"] + timedelta(days=1),
        "window_from": start, "window_to": end}).fetchall()
    return rows, _redemption_column(store, start, end - timedelta(days=1))


def control_sent_elsewhere(store: Store, record: dict[str, Any]) -> int:
    """Held-back customers written to any other list (a nightly list, another campaign) after the
    campaign's scores and up to the window's end: a message from those reaches the control group."""
    from rfm_cli.core.history import _blob_ids

    end = record["sent_on"] + timedelta(days=record["window_days"] - 1)
    held = {r[0] for r in store.con.execute("SELECT customer_id FROM rfm_campaign_members WHERE campaign = ? "
                                            "AND arm = ?", [record["name"], CONTROL]).fetchall()}
    reached: set[str] = set()
    for (blob,) in store.con.execute("SELECT customer_ids FROM rfm_send_lists WHERE list_name <> ? "
                                     "AND as_of > ? AND as_of <= ?",
                                     [f"campaign {record['name']}", record["as_of"], end]).fetchall():
        reached |= held & set(_blob_ids(blob).to_list())
    return len(reached)


def arm_outcomes(rows: list[Any], arms: list[str], redemption_read: bool) -> dict[str, ArmOutcome]:
    by_arm: dict[str, ArmOutcome] = {}
    for arm in (*arms, CONTROL):
        mine = [r for r in rows if r[1] == arm]
        coded = [r for r in mine if r[2] is not None]
        by_arm[arm] = ArmOutcome(
            arm=arm, customers=len(mine), buyers=sum(1 for r in mine if r[3]), orders=sum(r[3] for r in mine),
            revenue=round(sum(r[4] for r in mine), 2), revenue_by_customer=tuple(r[4] for r in mine if r[3]),
            codes_redeemed=sum(1 for r in coded if r[9]) if coded and redemption_read else None)
    return by_arm


def _finite(value: Any) -> Any:
    """NaN (an interval with an empty group) as None, so the report is valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def build(store: Store, name: str, *, margin: float | None = None) -> dict[str, Any]:
    """The campaign report as plain data (what --format json prints). `margin` overrides the campaign's."""
    record = campaign(store, name)
    window = _window(record, store)
    rows, column = outcomes(store, record)
    arms = record["arms"]
    by_arm = arm_outcomes(rows, arms, column is not None)
    margin = margin if margin is not None else record["margin"]
    costs = None
    if record["cost_per_message"] is not None or record["coupon_value"] is not None:
        costs = Costs(record["cost_per_message"] or 0.0, record["coupon_value"] or 0.0, margin)
    elif margin is not None:
        costs = Costs(0.0, 0.0, margin)
    vs_control = [_finite(compare(by_arm[arm], by_arm[CONTROL], costs).row()) for arm in arms]
    pairwise = [_finite(compare(by_arm[a], by_arm[b]).row()) for a, b in combinations(arms, 2)]
    codes_issued = {arm: sum(1 for r in rows if r[1] == arm and r[2] is not None) for arm in arms}
    arm_rows = []
    for arm in (*arms, CONTROL):
        row = by_arm[arm].row()
        issued = codes_issued.get(arm, 0)
        row["codes_issued"] = issued
        row["redemption_rate"] = (round(row["codes_redeemed"] / issued, 6)
                                  if issued and row["codes_redeemed"] is not None else None)
        arm_rows.append(row)
    counts = {key: sum(r[i] for r in rows) for key, i in (("refunded_orders", 5), ("later_orders", 7),
                                                          ("pre_send_orders", 8))}
    counts["refunds"] = round(sum(r[6] for r in rows), 2)
    counts["pre_send_buyers"] = sum(1 for r in rows if r[8])
    counts["control_sent_other_lists"] = control_sent_elsewhere(store, record)
    return {
         "campaign": name, "sent_on": record["sent_on"].isoformat(), "as_of": record["as_of"].isoformat(),
        "window": window, "arms": arm_rows, "against_control": vs_control, "between_arms": pairwise,
        "costs": None if costs is None else {"per_message": costs.per_message,
                                             "coupon_value": costs.coupon_value, "margin": costs.margin},
        "redemption": {"read_from": column} if column and any(codes_issued.values()) else None,
        "not_attributed": counts,
        "methods": methods(record, window, column, counts, any(codes_issued.values()), margin),
    }


def methods(record: dict[str, Any], window: dict[str, Any], column: str | None, counts: dict[str, Any],
            has_codes: bool, margin: float | None) -> list[str]:
    """How every number was counted, in words (the report prints them under the numbers)."""
    lines = [
        (f"Who: every customer drawn, in the group the draw put them in, whether or not the message reached "
         f"them; {record['holdout']:.0%} of each tier held back at random (seed {record['seed']!r}) and sent "
         "nothing."),
        (f"Window: counted orders (paid, not fully refunded) placed {window['from']} to {window['to']} "
         f"({window['days']} days from the send day); revenue is their net amount, refunds taken off."),
        f"Orders after the window are not counted ({counts['later_orders']:,}).",
        (f"Window orders refunded in full do not count ({counts['refunded_orders']:,}); partial refunds are "
         f"taken off revenue ({counts['refunds']:,.2f})."),
        (f"Bought after selection and before the send day: {counts['pre_send_buyers']:,} customers "
         f"({counts['pre_send_orders']:,} orders); they stay in their group and those orders do not count."),
    ]
    if has_codes and column:
        lines.append(f"Redemption: an issued code found as a word of the window orders' discount-code column "
                     f"({column}), whoever used it.")
    elif has_codes:
        lines.append(
            "Redemption: no imported export of the window had a discount-code column, so redemption is "
            "estimated as \"bought in the window\".")
    else:
        lines.append("Redemption: no codes were issued; a coupon is counted as used by every buyer.")
    lines += [
        ("Uplift: an arm's conversion (buyers / customers) minus the control group's, in points, and "
         "relative to the control's. Incremental orders and revenue: the per-customer difference times the "
         "arm's customers."),
        "ROI: (incremental " + (f"gross margin at {margin:.0%} of revenue" if margin is not None
                                else "revenue") + " - message cost - coupon cost) / cost; coupons counted as "
        "codes redeemed, or buyers when redemption is not read.",
        ("Chance: Fisher's exact test (two-sided) on buyers and non-buyers; P(better) is the chance the arm "
         "truly converts better, from Beta(1,1) priors; revenue per customer with a 95% bootstrap interval "
         f"({BOOTSTRAP_ROUNDS:,} resamples, seeded)."),
    ]
    if counts["control_sent_other_lists"]:
        lines.append(
            f"{counts['control_sent_other_lists']:,} held-back customers were put on other lists after "
            "the campaign: what those lists sent them makes the uplift look smaller than it is.")
    if window["days_left"]:
        lines.append(f"The window has not closed: {window['status']} (orders imported through "
                     f"{window['orders_through']}); the numbers will change.")
    return lines


def recent_reports(store: Store, limit: int = 10) -> list[dict[str, Any]]:
    """The reports of the newest campaigns (for `rfm report`); none when there are none."""
    names = [r[0] for r in store.con.execute(
        "SELECT name FROM rfm_campaigns ORDER BY created_at DESC, name LIMIT ?", [limit]).fetchall()]
    return [build(store, name) for name in names]
