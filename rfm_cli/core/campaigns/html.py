"""The campaigns section of `rfm report --html`: per campaign its groups, each arm against the
control group and the verdict in words, with the window's state (the numbers of campaign report)."""

from __future__ import annotations

from typing import Any

WORDS = {
    "en": {"title": "Campaigns with a hold-out", "group": "group", "customers": "customers",
           "buyers": "buyers", "conversion": "conversion", "orders": "orders", "revenue": "revenue",
           "per_customer": "revenue per customer", "codes": "codes used", "window": "window",
           "uplift": "uplift", "incremental": "incremental revenue", "roi": "ROI", "p_better": "P(better)",
           "verdict": "verdict", "versus": "against", "points": "points"},
    "zh": {"title": "营销活动（对照组）", "group": "分组", "customers": "客户数", "buyers": "购买人数",
           "conversion": "转化率", "orders": "订单数", "revenue": "收入", "per_customer": "人均收入",
           "codes": "核销", "window": "归因窗口", "uplift": "提升", "incremental": "增量收入", "roi": "ROI",
           "p_better": "优于对照的概率", "verdict": "结论", "versus": "对比", "points": "个百分点"},
}


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def section(reports: list[dict[str, Any]], lang: str = "en") -> str:
    """The section's HTML (headings, one table of groups and one of comparisons per campaign)."""
    from rfm_cli.core.report_html import _esc, _num, _table

    words = WORDS["zh" if lang == "zh" else "en"]
    parts = [f"<h2>{_esc(words['title'])}</h2>"]
    for report in reports:
        window = report["window"]
        parts.append(f"<h3>{_esc(report['campaign'])}</h3><p class=\"note\">{_esc(words['window'])} "
                     f"{_esc(window['from'])} – {_esc(window['to'])} ({_esc(window['status'])})</p>")
        groups = [[a["arm"], f"{a['customers']:,}", f"{a['buyers']:,}", _pct(a["conversion"]),
                   f"{a['orders']:,}", _num(a["revenue"], 2), _num(a["revenue_per_customer"], 2),
                   "" if a["codes_redeemed"] is None else f"{a['codes_redeemed']:,} / {a['codes_issued']:,}"]
                  for a in report["arms"]]
        parts.append(_table([words[k] for k in ("group", "customers", "buyers", "conversion", "orders",
                                                "revenue", "per_customer", "codes")], groups))
        compared = [[f"{c['arm']} – {c['against']}", f"{c['uplift'] * 100:+.1f} {words['points']}",
                     _num(c["incremental_revenue"], 2),
                     "" if c.get("roi") is None else f"{c['roi'] * 100:+.0f}%",
                     f"{c['p_better'] * 100:.0f}%", c["verdict"]]
                    for c in report["against_control"] + report["between_arms"]]
        parts.append(_table([words[k]
                             for k in ("versus", "uplift", "incremental", "roi", "p_better", "verdict")],
                            compared, text_cols=(5,)))
    return "".join(parts)
