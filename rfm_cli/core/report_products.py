"""What each tier buys, for `rfm report` (issue 21): the category mix per tier and the top categories
of repeat buyers, from the stored order lines; and their section of the HTML report.

Aggregates only, like the rest of the report. Spend here is line spend: the amounts of the lines of
the scored customers' counted orders (queries/customer_lines.sql), before order-level discounts,
shipping and refunds, so per tier it adds up to the tier's line spend, not to its revenue. Lines
without a category (and none from the --categories map) are the "(no category)" row, so every
line is in exactly one row.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.products import NO_PRODUCTS, has_lines
from rfm_cli.core.scoring import ScoreResult
from rfm_cli.core.store import Store, sql

NO_CATEGORY = "(no category)"
REPEAT_TOP = 10  # categories shown for repeat buyers

METHODS = {
    "category_mix": "Category mix per tier: the lines of the tier's customers' counted orders, grouped by "
                    "category (the export's, else the --categories map's; lines with neither are "
                    "'(no category)', in Chinese （无品类）): customers and orders with such a line, and "
                    "line spend (the lines' amounts as exported, before order discounts, shipping and "
                    "refunds); share = the "
                    "category's line spend / the tier's line spend.",
    "repeat_categories": "Top categories of repeat buyers: customers with two or more counted orders, their "
                         f"lines grouped by category as above, the {REPEAT_TOP} with the most line spend.",
}
METHODS_ZH = {
    "category_mix": "各层级品类构成：该层级客户计入订单的商品行，按品类（导出表的品类，"
                    "否则 --categories 对照表的品类；"
                    "都没有的记为（无品类））分组：含该品类的客户数、订单数，以及商品行金额（导出的行金额，"
                    "未扣订单优惠、运费和退款）；占比 = 该品类行金额 / 该层级行金额。",
    "repeat_categories": "复购客户的热门品类：有两笔及以上计入订单的客户，其商品行按品类分组，"
                         f"取行金额最高的 {REPEAT_TOP} 个。",
}
WORDS = {
    "en": {"title": "What each tier buys", "mix": "Category mix per tier", "repeat": "Top categories of "
           "repeat buyers", "tier": "tier", "category": "category", "customers": "customers",
           "orders": "orders", "spend": "line spend", "share": "share of the tier's line spend",
           "repeat_share": "share of repeat buyers' line spend", "no_products": NO_PRODUCTS,
           "no_category": NO_CATEGORY},
    "zh": {"title": "各层级买什么", "mix": "各层级品类构成", "repeat": "复购客户的热门品类", "tier": "层级",
           "category": "品类", "customers": "客户数", "orders": "订单数", "spend": "商品行金额",
           "share": "占该层级行金额", "repeat_share": "占复购客户行金额",
           "no_products": "导入的订单中没有商品数据", "no_category": "（无品类）"},
}


def _lines(store: Store, result: ScoreResult) -> pl.DataFrame:
    """Every line of the scored customers' counted orders, with the customer's tier and frequency."""
    query = ("SELECT customer_id, order_id, category, coalesce(amount, 0) AS amount "
             f"FROM ({sql('customer_lines')})")
    lines = as_frame(store.con.sql(query, params={"as_of": result.as_of, "since": result.since}))
    scored = result.customers.select("customer_id", "tier", "frequency")
    return lines.with_columns(pl.col("customer_id").cast(pl.String),
                              pl.col("category").fill_null(NO_CATEGORY),
                              pl.col("amount").cast(pl.Float64)).join(scored, on="customer_id", how="inner")


def _mix(lines: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return lines.group_by([*by, "category"]).agg(
        customers=pl.col("customer_id").n_unique(), orders=pl.col("order_id").n_unique(),
        spend=pl.col("amount").sum())


def numbers(store: Store, result: ScoreResult) -> dict[str, Any]:
    """{"category_mix": [...], "repeat_buyers": [...]}, or {"note": "no product data in these imports"}."""
    if not has_lines(store.con):
        return {"note": NO_PRODUCTS}
    lines = _lines(store, result)
    order = {t.name: i for i, t in enumerate(result.rules.tiers)}
    label_zh = {t.name: t.label_zh for t in result.rules.tiers}
    mix = _mix(lines, ["tier"])
    totals = dict(mix.group_by("tier").agg(pl.col("spend").sum()).iter_rows())
    rows = sorted(mix.iter_rows(named=True), key=lambda r: (order.get(r["tier"], len(order)), -r["spend"],
                                                          r["category"]))
    category_mix = [{**r, "label_zh": label_zh.get(r["tier"]) or "", "spend": round(r["spend"], 2),
                     "share": r["spend"] / totals[r["tier"]] if totals[r["tier"]] else 0.0} for r in rows]
    repeat = _mix(lines.filter(pl.col("frequency") >= 2), [])
    repeat_total = float(repeat["spend"].sum()) if repeat.height else 0.0
    top = sorted(repeat.iter_rows(named=True), key=lambda r: (-r["spend"], r["category"]))[:REPEAT_TOP]
    return {"category_mix": category_mix,
            "repeat_buyers": [{**r, "spend": round(r["spend"], 2),
                               "share": r["spend"] / repeat_total if repeat_total else 0.0} for r in top],
            "methods": METHODS}


def section(numbers: dict[str, Any], lang: str) -> str:
    """The HTML section (inside <section id="products">)."""
    from rfm_cli.core.report_html import _esc, _num, _table
    from rfm_cli.core.report_labels import pct, tier_label

    words = WORDS[lang]

    def shown(category: str) -> str:
        return words["no_category"] if category == NO_CATEGORY else category

    if "note" in numbers:
        return f"<h2>{_esc(words['title'])}</h2><p class=\"note\">{_esc(words['no_products'])}</p>"
    mix = _table([words["tier"], words["category"], words["customers"], words["orders"], words["spend"],
                  words["share"]],
                 [[tier_label(r["tier"], r["label_zh"], lang), shown(r["category"]), _num(r["customers"]),
                   _num(r["orders"]), _num(r["spend"], 2), pct(r["share"])] for r in numbers["category_mix"]],
                 text_cols=(1,))
    repeat = _table([words["category"], words["customers"], words["orders"], words["spend"],
                     words["repeat_share"]],
                    [[shown(r["category"]), _num(r["customers"]), _num(r["orders"]), _num(r["spend"], 2),
                      pct(r["share"])] for r in numbers["repeat_buyers"]], text_cols=(0,))
    texts = METHODS_ZH if lang == "zh" else METHODS
    how = "".join(f"<p class=\"note\">{_esc(texts[key])}</p>"
                  for key in ("category_mix", "repeat_categories"))
    return (f"<h2>{_esc(words['title'])}</h2><h3>{_esc(words['mix'])}</h3>{mix}"
            f"<h3>{_esc(words['repeat'])}</h3>{repeat}{how}")
