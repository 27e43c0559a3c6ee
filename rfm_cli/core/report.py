"""The numbers of `rfm report`: every figure the terminal, JSON and HTML reports show, in one dict.

Everything here is an aggregate: per tier, per R x F cell, per month, per cohort, per percentile of
customers. No per-customer row leaves this module, so the report of ten million orders stays small.
The per-customer scores come from `score_store` (the same numbers `rfm score` writes); the order
history (months, cohorts) is aggregated in DuckDB from `order_facts`.
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import polars as pl

from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.scoring import ScoreResult
from rfm_cli.core.store import Store, sql, subquery

PARETO_POINTS = 100  # the Pareto curve: cumulative revenue share at every 1% of customers
COHORT_MONTHS = 24  # cohorts (first-order months) shown in the retention heatmap: the latest 24

METHODS = {
    "counted_order": "An order counts when its status is counted (paid, not cancelled, not fully refunded) "
                     "and its amount net of every refund is above zero, on or before the as-of day.",
    "revenue": "Revenue of a customer is their monetary value: net spend over counted orders, less refunds "
               "that name no stored order (with the average-order basis: monetary x frequency).",
    "customer_share": "Share = customers of the tier / customers scored; revenue share likewise "
                      "with revenue.",
    "avg_order_value": "Average order value = revenue of the tier / counted orders of the tier.",
    "avg_recency": "Average recency = mean of recency_days (as-of day minus the last counted order's day).",
    "repurchase_rate": "Repurchase rate = customers with two or more counted orders / customers.",
    "rf_grid": "R x F grid: customers and revenue per (r_score, f_score) cell; scores as in the cut points.",
    "concentration": "Top 10% / 20%: customers ranked by revenue (highest first), the first ceil(10% / 20% "
                     "of customers) of them; their revenue / all revenue.",
    "pareto": "Pareto curve: for k = 1..100, the revenue share of the top k% of customers by revenue.",
    "monthly": "Per calendar month of counted orders: active customers (one counted order or more), new "
               "(their first counted order is in that month), returning (first order earlier); "
               "repurchase rate of the month = returning / active. Revenue here is the net amount of the "
               "month's counted orders (refunds that name no stored order are not in it). The as-of month "
               "holds only the days up to the as-of day.",
    "cohorts": "Cohort retention: customers grouped by the month of their first counted order; the cell "
               "at month k is the share of the cohort with a counted order k months later (month 0 is 100%).",
    "moves": "Tier moves: customers by tier in the previous snapshot (rows; (new) = not in it) and in "
             "the latest (columns; (gone) = not in it), from the snapshots `rfm run` stores.",
    "data_quality": "Data quality sums every import stored in the database: rows read = imported + "
                    "duplicates + excluded + rejected.",
}


def scored(result: ScoreResult) -> pl.DataFrame:
    """The per-customer columns the aggregates need, with each customer's revenue; made once per report."""
    revenue = (pl.col("monetary") if result.rules.monetary.basis == "total"
               else pl.col("monetary") * pl.col("frequency"))
    return result.customers.select("tier", "r_score", "f_score", "frequency", "recency_days",
                                   revenue.alias("revenue"))


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def tiers(frame: pl.DataFrame, result: ScoreResult) -> list[dict[str, Any]]:
    total_customers = frame.height
    total_revenue = float(frame["revenue"].sum()) if frame.height else 0.0
    stats = {
        row["tier"]: row
        for row in frame.group_by("tier")
        .agg(
            customers=pl.len(),
            revenue=pl.col("revenue").sum(),
            orders=pl.col("frequency").sum(),
            avg_recency_days=pl.col("recency_days").mean(),
            repeat_customers=(pl.col("frequency") >= 2).sum(),
        )
        .iter_rows(named=True)
    }
    rows = []
    for tier in result.rules.tiers:
        s = stats.get(tier.name, {})
        customers, revenue, orders = (s.get("customers", 0), float(s.get("revenue") or 0.0),
                                      s.get("orders") or 0)
        rows.append(
            {
                "tier": tier.name,
                "label_zh": tier.label_zh,
                "customers": customers,
                "customer_share": _ratio(customers, total_customers),
                "revenue": round(revenue, 2),
                "revenue_share": _ratio(revenue, total_revenue),
                "orders": orders,
                "avg_order_value": round(_ratio(revenue, orders), 2),
                "avg_recency_days": round(s["avg_recency_days"], 1) if customers else None,
                "repurchase_rate": _ratio(s.get("repeat_customers", 0), customers),
                "rule": tier.when.text,
            }
        )
    return rows


def totals(frame: pl.DataFrame) -> dict[str, Any]:
    customers = frame.height
    revenue = float(frame["revenue"].sum()) if customers else 0.0
    orders = int(frame["frequency"].sum()) if customers else 0
    return {
        "customers": customers,
        "orders": orders,
        "revenue": round(revenue, 2),
        "avg_order_value": round(_ratio(revenue, orders), 2),
        "avg_recency_days": round(float(frame["recency_days"].mean()), 1) if customers else None,
        "repurchase_rate": _ratio(int((frame["frequency"] >= 2).sum()), customers),
    }


def rf_grid(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """All 25 cells, r_score 5..1 by f_score 1..5, empty cells included."""
    cells = {
        (row["r_score"], row["f_score"]): row
        for row in frame.group_by("r_score", "f_score")
        .agg(customers=pl.len(), revenue=pl.col("revenue").sum())
        .iter_rows(named=True)
    }
    return [
        {
            "r_score": r,
            "f_score": f,
            "customers": cells.get((r, f), {}).get("customers", 0),
            "revenue": round(float(cells.get((r, f), {}).get("revenue") or 0.0), 2),
        }
        for r in range(5, 0, -1)
        for f in range(1, 6)
    ]


def pareto(frame: pl.DataFrame) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """The revenue share of the top 10% / 20% of customers, and the curve at every 1%."""
    revenue = frame["revenue"].sort(descending=True)
    n = revenue.len()
    cumulative = revenue.cum_sum()
    total = float(cumulative[-1]) if n else 0.0

    def top(share: float) -> dict[str, Any]:
        k = math.ceil(n * share) if n else 0
        part = float(cumulative[k - 1]) if k else 0.0
        return {"customers": k, "revenue": round(part, 2), "revenue_share": _ratio(part, total)}

    concentration = {"top_10pct": top(0.10), "top_20pct": top(0.20)}
    curve = [{"customer_share": 0.0, "revenue_share": 0.0}]
    for k in range(1, PARETO_POINTS + 1):
        curve.append({"customer_share": k / PARETO_POINTS,
                      "revenue_share": top(k / PARETO_POINTS)["revenue_share"]})
    return concentration, curve


def activity(store: Store, as_of: date) -> pl.DataFrame:
    """(cohort, month, customers, orders, revenue) from the database: the aggregate in DuckDB."""
    facts = subquery("order_facts")
    query = f"WITH facts AS (\n{facts}\n),\n{sql('report_activity')}"
    return as_frame(store.con.sql(query, params={"as_of": as_of, "since": None}))


def monthly(active: pl.DataFrame) -> list[dict[str, Any]]:
    if active.is_empty():
        return []
    per_month = (
        active.group_by("month")
        .agg(
            active_customers=pl.col("customers").sum(),
            new_customers=pl.col("customers").filter(pl.col("cohort") == pl.col("month")).sum(),
            orders=pl.col("orders").sum(),
            revenue=pl.col("revenue").sum(),
        )
        .sort("month")
    )
    return [
        {
            "month": row["month"].strftime("%Y-%m"),
            "active_customers": row["active_customers"],
            "new_customers": row["new_customers"],
            "returning_customers": row["active_customers"] - row["new_customers"],
            "orders": row["orders"],
            "revenue": round(row["revenue"], 2),
            "repurchase_rate": _ratio(row["active_customers"] - row["new_customers"],
                                      row["active_customers"]),
        }
        for row in per_month.iter_rows(named=True)
    ]


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def cohorts(active: pl.DataFrame) -> list[dict[str, Any]]:
    """Per cohort: its size and, for each later month, the share of it that bought again."""
    if active.is_empty():
        return []
    out = []
    for cohort, group in active.group_by("cohort"):
        cohort_month = cohort[0]
        size = int(group.filter(pl.col("month") == cohort_month)["customers"].sum())
        retained = [0] * (_months_between(cohort_month, group["month"].max()) + 1)
        for month, customers in group.select("month", "customers").iter_rows():
            retained[_months_between(cohort_month, month)] = customers
        out.append(
            {
                "cohort": cohort_month.strftime("%Y-%m"),
                "customers": size,
                "retention": [_ratio(c, size) for c in retained],
            }
        )
    return sorted(out, key=lambda c: c["cohort"])


def data_quality(store: Store) -> dict[str, Any]:
    files, read, imported, duplicates, excluded, rejected = store.con.execute(
        "SELECT count(*), sum(rows_read), sum(rows_imported), sum(rows_duplicate), sum(rows_excluded), "
        "sum(rows_rejected) FROM rfm_imports"
    ).fetchone()
    by_reason: dict[str, int] = {}
    for (text,) in store.con.execute("SELECT excluded_by_reason FROM rfm_imports").fetchall():
        for reason, rows in json.loads(text or "{}").items():
            by_reason[reason] = by_reason.get(reason, 0) + int(rows)
    rejects = store.con.execute(
        "SELECT reason, count(*) AS n FROM rfm_rejects GROUP BY reason ORDER BY n DESC, reason LIMIT 10"
    ).fetchall()
    return {
        "files": files,
        "rows_read": int(read or 0),
        "imported": int(imported or 0),
        "duplicates": int(duplicates or 0),
        "excluded": int(excluded or 0),
        "excluded_by_reason": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "rejected": int(rejected or 0),
        "top_reject_reasons": [{"reason": reason, "rows": n} for reason, n in rejects],
    }


def moves(store: Store, result: ScoreResult) -> dict[str, Any] | None:
    """Tier moves between the last two snapshots of the scheme, or None with fewer than two."""
    from rfm_cli.core import history

    if len(history.snapshot_dates(store, result.rules.scheme)) < 2:
        return None
    frm, to = history.resolve_pair(store, result.rules.scheme, None, None)
    table = history.moves_table(store, result.rules.scheme, frm, to)
    matrix = history.moves_matrix(table, result.rules.tier_names())
    return {
        "from": frm.isoformat(),
        "to": to.isoformat(),
        "rows": matrix["from_tier"].to_list(),
        "columns": matrix.columns[1:],
        "customers": [list(row[1:]) for row in matrix.iter_rows()],
    }


def build(store: Store, result: ScoreResult, *, database: str | None = None) -> dict[str, Any]:
    """Every number of the report, JSON-ready."""
    from rfm_cli.core import report_products
    from rfm_cli.core.campaigns.report import recent_reports

    frame = scored(result)
    concentration, curve = pareto(frame)
    active = activity(store, result.as_of)
    campaigns = recent_reports(store)
    return {
        "as_of": result.as_of.isoformat(),
        "scheme": result.rules.scheme,
        "rules_source": result.rules.source,
        "rules": result.rules.to_dict(),  # the HTML report says the tier rules and cut points in words
        "database": database,
        "totals": totals(frame),
        "tiers": tiers(frame, result),
        "rf_grid": rf_grid(frame),
        "concentration": concentration,
        "pareto": curve,
        "cut_points": result.cut_points.to_dicts(),
        "monthly": monthly(active),
        "cohorts": cohorts(active),
        "moves": moves(store, result),
        "data_quality": data_quality(store),
        "products": report_products.numbers(store, result),  # category mix (core/report_products.py)
        "methods": METHODS,
    } | ({"campaigns": campaigns} if campaigns else {})
