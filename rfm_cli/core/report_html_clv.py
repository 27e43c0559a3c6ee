"""The HTML report's look-ahead section (`rfm report --html FILE --with-predictions`): CLV by tier,
P(alive) per tier, churn risk by tier and, with --holdout-from, the tracking chart and the table of
hold-out purchases by calibration frequency. Drawn from numbers["predictions"]
(core/predict/report.py); report_html.render adds it when it is there.
"""

from __future__ import annotations

from typing import Any

from rfm_cli.core.report_html import Charts, _esc, _num, _table, _tier_colour
from rfm_cli.core.report_labels import pct, tier_label

WORDS = {
    "en": {
        "title": "Looking ahead: customer lifetime value and churn risk",
        "clv_by_tier": "CLV over the next {h} days by tier",
        "tier": "tier", "customers": "customers", "clv_total": "CLV total", "clv_share": "CLV share",
        "clv_mean": "CLV per customer", "expected": "expected orders", "p_alive_mean": "mean P(alive)",
        "p_alive_median": "median P(alive)", "high": "high risk", "medium": "medium risk", "low": "low risk",
        "p_alive_chart": "P(alive) by tier: share of the tier's customers in each band",
        "p_alive_axis": "P(alive)", "share_axis": "share of the tier",
        "tracking_chart": "Tracking: cumulative repeat purchases, actual and expected",
        "week": "week ending", "actual": "actual", "expected_line": "expected",
        "holdout_start": "hold-out starts",
        "by_frequency": "Hold-out purchases per customer, by repeat purchases before it",
        "x": "repeat purchases before", "actual_mean": "actual (mean)", "expected_mean": "expected (mean)",
        "holdout_line": "Hold-out {start} to {end}: expected {expected:,.1f} repeat purchases, actual "
                        "{actual:,} ({error}).",
        "model_line": "Model: {model}; spend: {spend}; as of {as_of}.",
        "no_model": "No model was fitted, so CLV and P(alive) are empty; churn risk is by the interval rule.",
    },
    "zh": {
        "title": "前瞻：客户终身价值与流失风险",
        "clv_by_tier": "各等级未来 {h} 天的客户终身价值",
        "tier": "等级", "customers": "客户数", "clv_total": "终身价值合计", "clv_share": "终身价值占比",
        "clv_mean": "人均终身价值", "expected": "预计订单数", "p_alive_mean": "平均仍活跃概率",
        "p_alive_median": "仍活跃概率中位数", "high": "高风险", "medium": "中风险", "low": "低风险",
        "p_alive_chart": "各等级仍活跃概率分布（占该等级客户的比例）",
        "p_alive_axis": "仍活跃概率", "share_axis": "占该等级比例",
        "tracking_chart": "跟踪：累计复购次数，实际与预计",
        "week": "周末日期", "actual": "实际", "expected_line": "预计", "holdout_start": "验证期开始",
        "by_frequency": "验证期人均购买次数，按此前复购次数分组",
        "x": "此前复购次数", "actual_mean": "实际（平均）", "expected_mean": "预计（平均）",
        "holdout_line": "验证期 {start} 至 {end}：预计复购 {expected:,.1f} 次，实际 {actual:,} "
                        "次（{error}）。",
        "model_line": "模型：{model}；客单价：{spend}；截至 {as_of}。",
        "no_model": "未拟合模型：终身价值与仍活跃概率为空，流失风险按购买周期规则。",
    },
}


def _fit_text(fit: dict[str, Any] | None) -> str:
    if fit is None:
        return "-"
    params = ", ".join(f"{k} {v:.4g}" for k, v in fit["params"].items())
    return f"{fit['title']} ({params}; LL {fit['log_likelihood']:,.2f})"


def _tier_table(block: dict[str, Any], labels_zh: dict[str, str], lang: str, w: dict[str, str]) -> str:
    head = [w[k] for k in ("tier", "customers", "clv_total", "clv_share", "clv_mean", "expected",
                           "p_alive_mean", "p_alive_median", "high", "medium", "low")]
    rows = [[tier_label(t["tier"], labels_zh.get(t["tier"], ""), lang), _num(t["customers"]),
             _num(t["clv_total"], 2), "" if t["clv_share"] is None else pct(t["clv_share"]),
             _num(t["clv_mean"], 2), _num(t["expected_orders"], 1), _num(t["p_alive_mean"], 3),
             _num(t["p_alive_median"], 3), *(_num(t["churn_risk"][r]) for r in ("high", "medium", "low"))]
            for t in block["tiers"]]
    return _table(head, rows)


def _p_alive_chart(charts: Charts, block: dict[str, Any], labels_zh: dict[str, str],
                   w: dict[str, str]) -> str:
    go, lang = charts.go, charts.lang
    edges = block["p_alive_bins"]
    bands = [f"{edges[i]:.1f}-{edges[i + 1]:.1f}" for i in range(len(edges) - 1)]
    fig = go.Figure()
    rows = block["p_alive_distribution"]
    for row, colour in zip(rows, _tier_colour([r["tier"] for r in rows]), strict=True):
        total = sum(row["counts"]) or 1
        fig.add_trace(go.Bar(x=bands, y=[c / total for c in row["counts"]], marker_color=colour,
                             name=tier_label(row["tier"], labels_zh.get(row["tier"], ""), lang),
                             customdata=row["counts"],
                             hovertemplate="%{x}: %{y:.1%} (%{customdata:,})<extra></extra>"))
    charts.layout(fig, w["p_alive_chart"], barmode="group",
                  xaxis={"title": w["p_alive_axis"], "type": "category"},
                  yaxis={"title": w["share_axis"], "tickformat": ".0%"},
                  legend={"orientation": "h", "y": -0.2})
    return charts.div(fig, "chart-p-alive")


def _tracking(charts: Charts, holdout: dict[str, Any], w: dict[str, str]) -> str:
    go = charts.go
    weeks = holdout["tracking"]
    x = [row["week_end"] for row in weeks]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=[r["actual_cumulative"] for r in weeks], name=w["actual"], mode="lines",
                             line={"color": "#1d2330", "width": 3}))
    fig.add_trace(go.Scatter(x=x, y=[r["expected_cumulative"] for r in weeks], name=w["expected_line"],
                             mode="lines", line={"color": "#c2453d", "dash": "dash", "width": 3}))
    charts.layout(fig, w["tracking_chart"], xaxis={"title": w["week"]},
                  legend={"orientation": "h", "y": -0.2},
                  shapes=[{"type": "line", "x0": holdout["holdout_start"], "x1": holdout["holdout_start"],
                           "yref": "paper", "y0": 0, "y1": 1, "line": {"color": "#8c8c8c", "dash": "dot"}}],
                  annotations=[{"x": holdout["holdout_start"], "yref": "paper", "y": 1,
                                "text": w["holdout_start"], "showarrow": False, "xanchor": "left"}])
    overall = holdout["overall"]
    error = "" if overall["error_pct"] is None else f"{overall['error_pct']:+.1f}%"
    line = w["holdout_line"].format(start=holdout["holdout_start"], end=holdout["holdout_end"],
                                    expected=overall["expected_repeat_purchases"],
                                    actual=overall["actual_repeat_purchases"], error=error)
    head = [w["x"], w["customers"], w["actual_mean"], w["expected_mean"]]
    rows = [[r["x"], _num(r["customers"]), _num(r["actual_mean"], 3), _num(r["expected_mean"], 3)]
            for r in holdout["by_frequency"]]
    return (f'<p class="note">{_esc(line)}</p>{charts.div(fig, "chart-tracking")}'
            f"<h2>{_esc(w['by_frequency'])}</h2>{_table(head, rows)}")


def section(charts: Charts, numbers: dict[str, Any], lang: str) -> str:
    """The section's inner HTML, or "" when the report has no predictions."""
    block = numbers.get("predictions")
    if not block:
        return ""
    w = WORDS[lang]
    labels_zh = {t["tier"]: t["label_zh"] for t in numbers["tiers"]}
    model = block["model"]
    parts = [f"<h2>{_esc(w['title'])}</h2>"]
    parts += [f'<p class="note">{_esc(note)}</p>' for note in block["notes"]]
    if model["status"] == "fitted":
        parts.append('<p class="note">' + _esc(w["model_line"].format(
            model=_fit_text(model["purchases"]), spend=_fit_text(model["spend"]),
            as_of=block["as_of"])) + "</p>")
    else:
        parts.append(f'<p class="note">{_esc(w["no_model"])}</p>')
    parts.append(f"<h2>{_esc(w['clv_by_tier'].format(h=block['horizon_days']))}</h2>")
    parts.append(_tier_table(block, labels_zh, lang, w))
    if block["p_alive_distribution"]:
        parts.append(_p_alive_chart(charts, block, labels_zh, w))
    if block.get("holdout"):
        parts.append(_tracking(charts, block["holdout"], w))
    return "".join(parts)
