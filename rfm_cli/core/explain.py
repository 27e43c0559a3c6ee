"""Everything behind one customer's tier: orders, values, cut points and the deciding rule."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl

from rfm_cli.core.errors import UsageError
from rfm_cli.core.followups import describe_customer as followup_days
from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.levels_store import describe_customer
from rfm_cli.core.rules import render
from rfm_cli.core.scoring import RAW_OF, SCORE_OF, ScoreResult
from rfm_cli.core.store import Store, sql


def _orders(store: Store, customer_id: str, as_of: date, since: date | None) -> pl.DataFrame:
    facts = store.con.sql(sql("order_facts"), params={"as_of": as_of, "since": since})
    return as_frame(facts.filter(f"customer_id = '{customer_id.replace(chr(39), chr(39) * 2)}'")
                    .order("ordered_at, order_id"))


def _refund_rows(store: Store, customer_id: str) -> pl.DataFrame:
    rel = store.con.sql(
        "SELECT f.refund_key, f.order_id, f.refunded_at, f.amount, f.source_file, "
        "EXISTS (SELECT 1 FROM rfm_orders o WHERE o.order_id = f.order_id) AS names_stored_order "
        "FROM rfm_refunds f WHERE (f.customer_id = $c OR f.order_id IN "
        "(SELECT order_id FROM rfm_orders WHERE customer_id = $c)) "
        "ORDER BY f.refunded_at, f.refund_key",
        params={"c": customer_id},
    )
    return as_frame(rel)


_ORDER_COLUMNS = ("order_id", "ordered_at", "delivered_at", "raw_status", "status", "amount", "refund_amount",
                  "later_refunds", "net_amount", "counted", "not_counted_reason", "source_file")


def _order_rows(orders: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            **o,
            "ordered_at": o["ordered_at"].strftime("%Y-%m-%d %H:%M:%S") if o["ordered_at"] else None,
            # When the buyer received it, as the export said (day-N follow-ups count from it).
            "delivered_at": o["delivered_at"].strftime("%Y-%m-%d %H:%M:%S") if o["delivered_at"] else None,
            "amount": float(o["amount"]),
            "refund_amount": float(o["refund_amount"]),
            "later_refunds": float(o["later_refunds"]),
            "net_amount": float(o["net_amount"]),
            # What the order adds to monetary: its net when it counts, else nothing.
            "counted_net": float(o["net_amount"]) if o["counted"] else 0.0,
        }
        for o in orders.select(*_ORDER_COLUMNS).iter_rows(named=True)
    ]


def _refunds_without_order(refunds: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "refund_key": r["refund_key"],
            "order_id": r["order_id"],
            "refunded_at": r["refunded_at"].strftime("%Y-%m-%d %H:%M:%S"),
            "amount": float(r["amount"]),
            "source_file": r["source_file"],
        }
        for r in refunds.iter_rows(named=True)
        if not r["names_stored_order"]
    ]


def _unscored_reason(account: dict[str, Any], result: ScoreResult, later: int) -> str:
    """Why a customer with orders has no scores: none counted in the window, or none by the as-of date."""
    before = [o for o in account["orders"] if o["not_counted_reason"] == "before the analysis window"]
    if before:
        return (f"no counted order in the analysis window ({result.since} to {result.as_of}): "
                f"left out of the scores and the lists; {len(before)} counted "
                f"order{'s' if len(before) != 1 else ''} before it, the last on "
                f"{before[-1]['ordered_at'][:10]} (widen --window to include them)")
    return f"no counted order on or before {result.as_of}" + (
        f" ({later} order{'s' if later != 1 else ''} after that date left out)" if later else "")


def _value_rules(account: dict[str, Any], result: ScoreResult, values: dict[str, Any]) -> dict[str, Any]:
    """Recency, frequency and monetary, each with the sum or difference that gives it."""
    counted = [o for o in account["orders"] if o["counted"]]
    unmatched = sum(r["amount"] for r in account["refund_rows_without_order"])
    return {
        "recency_days": values["recency_days"],
        "recency_rule": f"{result.as_of} - last counted order {values['last_order_at']:%Y-%m-%d} "
        f"= {values['recency_days']} days",
        "frequency": values["frequency"],
        "frequency_rule": f"{len(counted)} counted orders"
        + (f" since {result.since} (the analysis window)" if result.since else ""),
        "monetary": values["monetary"],
        "monetary_rule": (
            f"{result.rules.monetary.basis} of counted net amounts "
            f"({sum(o['net_amount'] for o in counted):,.2f})"
            + (f" less refunds naming no order ({unmatched:,.2f})" if unmatched else "")
        ),
    }


def _scores(result: ScoreResult, values: dict[str, Any]) -> dict[str, Any]:
    """Each score with its value, the band of the cut points it falls in, and the rule that set them."""
    scores = {}
    for dimension in ("recency", "frequency", "monetary"):
        score = values[SCORE_OF[dimension]]
        band = result.cut_points.filter((pl.col("dimension") == dimension) & (pl.col("score") == score)).row(
            0, named=True
        )
        scores[SCORE_OF[dimension]] = {
            "score": score,
            "value": values[RAW_OF[dimension]],
            "method": band["method"],
            "band": band["rule"],
            "rule": result.rules.dimension(dimension).describe(),
        }
    return scores


def _check_tiers(account: dict[str, Any], result: ScoreResult,
                 values: dict[str, Any]) -> list[dict[str, Any]]:
    """The tier rules in order, each with the customer's values put in, up to the first that matches
    (whose tier, label and why go into `account`)."""
    checked = []
    for tier in result.rules.tiers:
        matched = tier.when.evaluate(values)
        checked.append(
            {
                "tier": tier.name,
                "when": tier.when.text,
                "with_values": render(tier.when, values),
                "matched": matched,
            }
        )
        if matched:
            account["tier"] = tier.name
            account["tier_label_zh"] = tier.label_zh
            account["tier_why"] = tier.why
            break
    return checked


def explain_customer(store: Store, result: ScoreResult, customer_id: str,
                     tag_settings: Any = None) -> dict[str, Any]:
    """A JSON-ready account of every number of one customer. `tag_settings`: core.tags.TagSettings
    for the account's tags (None: the defaults)."""
    orders = _orders(store, customer_id, result.as_of, result.since)
    refunds = _refund_rows(store, customer_id)
    later = store.con.execute(
        "SELECT count(*) FROM rfm_orders WHERE customer_id = ? AND CAST(ordered_at AS DATE) > ?",
        [customer_id, result.as_of]).fetchall()[0][0]
    if orders.is_empty() and refunds.is_empty() and not later:
        # The id is echoed unless it looks like a phone or an email (which are kept out of messages).
        named = "with the id given" if re.search(r"@|\d{7}", customer_id) else repr(customer_id)
        raise UsageError(
            f"no customer {named} in {store.label}; check the id (ids are exact text), or find them by "
            "phone, email or name with rfm explain --find PHONE|EMAIL|NAME"
        )
    row = result.customers.filter(pl.col("customer_id") == customer_id)
    rules = result.rules
    account: dict[str, Any] = {
        "customer_id": customer_id,
        "as_of": result.as_of.isoformat(),
        "scheme": rules.scheme,
        "rules_source": rules.source,
        "orders_after_as_of": later,
        # The analysis window (--window): orders before its first day do not count.
        "window_since": result.since.isoformat() if result.since else None,
        "orders": _order_rows(orders),
        "refund_rows_without_order": _refunds_without_order(refunds),
    }
    if row.is_empty():
        account["scored"] = False
        account["reason"] = _unscored_reason(account, result, later)
        return account
    values = row.row(0, named=True)
    account["scored"] = True
    account["values"] = _value_rules(account, result, values)
    account["scores"] = _scores(result, values)
    account["rfm_code"] = values["rfm_code"]
    account["rules_checked"] = _check_tiers(account, result, values)
    account["cut_points"] = result.cut_points.to_dicts()
    account["level"] = describe_customer(store, result.rules.levels, customer_id)
    account["followups"] = followup_days(store, customer_id, result.as_of, result.since)
    from rfm_cli.core.tags import explain_lines

    account["tags"] = explain_lines(store, result, customer_id, tag_settings)
    return account
