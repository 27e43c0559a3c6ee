"""`rfm report --html`: one self-contained HTML file, charts drawn by Plotly.

The page carries plotly.js inline (no CDN: it opens offline) and only the aggregates of
`rfm_cli.core.report.build` — never a per-customer row — so it stays a few MB at any size.
The output is deterministic: the same numbers give the same bytes.
"""

from __future__ import annotations

import html
import json
from typing import Any

from rfm_cli.core.report_labels import excluded_text, labels, methods, pct, tier_label
from rfm_cli.core.rules_words import (
    DIMENSION_WORDS,
    METHOD_WORDS,
    band_words,
    condition_words,
    scheme_words,
    source_words,
)

TIER_COLOURS = {"diamond": "#3b6fd6", "gold": "#d9a400", "potential": "#2e9e6a", "dormant": "#8c8c8c"}
OTHER_COLOURS = ["#3b6fd6", "#d9a400", "#2e9e6a", "#c2453d", "#7a52c7", "#1f9bb3", "#e07b39", "#6b8e23",
                 "#b84d8a", "#4d6b8a", "#8c8c8c"]
# No toolbar (its English buttons and zoom tools confuse more than they help); hover still shows values.
PLOT_CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True}
FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, Helvetica, Arial, sans-serif"

CSS = """
body { font-family: FONT; margin: 0; background: #f6f7f9; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: .8; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; }
section { background: #fff; border-radius: 8px; padding: 16px 20px; margin: 16px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { font-size: 18px; margin: 0 0 12px 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; }
.kpi { background: #f0f3f8; border-radius: 6px; padding: 10px; }
.kpi b { display: block; font-size: 20px; }
.kpi span { font-size: 12px; color: #555; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 6px 8px; border-bottom: 1px solid #e3e6eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
th { background: #f0f3f8; }
.chart { width: 100%; min-height: 380px; }
.note { color: #555; font-size: 13px; }
dl dt { font-weight: bold; margin-top: 8px; }
dl dd { margin: 2px 0 0 0; color: #333; }
@media (max-width: 800px) { .grid { grid-template-columns: 1fr; } .kpis { grid-template-columns: repeat(2, 1fr); } }
""".replace("FONT", FONT)  # noqa: E501


def _num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return ""
    return f"{x:,.{digits}f}"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _table(head: list[str], rows: list[list[Any]], text_cols: tuple[int, ...] = ()) -> str:
    """An HTML table; numbers right-aligned, the first column and `text_cols` left-aligned."""

    def cls(i: int) -> str:
        return ' class="text"' if i in text_cols else ""

    out = ["<table><thead><tr>", *(f"<th{cls(i)}>{_esc(h)}</th>" for i, h in enumerate(head)),
           "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td{cls(i)}>{_esc(c)}</td>" for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class Charts:
    """Plotly figures as <div> fragments; remembers the ids so the page can list them."""

    def __init__(self, lang: str) -> None:
        import plotly.graph_objects as go

        self.go = go
        self.lang = lang
        self.ids: list[str] = []

    def layout(self, fig: Any, title: str, **extra: Any) -> None:
        fig.update_layout(**{
            "title": {"text": title, "x": 0.01, "font": {"size": 16}},
            "template": "plotly_white",
            "font": {"family": FONT, "size": 13},
            "margin": {"l": 60, "r": 30, "t": 60, "b": 60},
            "height": 400,
            **extra,
        })

    def div(self, fig: Any, chart_id: str) -> str:
        self.ids.append(chart_id)
        return fig.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id, config=PLOT_CONFIG,
                           default_width="100%", default_height="400px")


def _tier_colour(names: list[str]) -> list[str]:
    return [TIER_COLOURS.get(n, OTHER_COLOURS[i % len(OTHER_COLOURS)]) for i, n in enumerate(names)]


def _tier_charts(charts: Charts, numbers: dict[str, Any], words: dict[str, str]) -> tuple[str, str]:
    go, lang = charts.go, charts.lang
    tiers = numbers["tiers"]
    names = [tier_label(t["tier"], t["label_zh"], lang) for t in tiers]
    colours = _tier_colour([t["tier"] for t in tiers])
    dist = go.Figure(go.Bar(
        x=names, y=[t["customers"] for t in tiers], marker_color=colours,
        text=[f"{t['customers']:,}<br>{pct(t['customer_share'])}" for t in tiers], textposition="auto",
        hovertemplate="%{x}: %{y:,} " + words["customers"] + "<extra></extra>"))
    charts.layout(dist, words["tier_distribution"], yaxis_title=words["customers"])
    revenue = go.Figure(go.Bar(
        x=names, y=[t["revenue"] for t in tiers], marker_color=colours,
        text=[f"{t['revenue']:,.0f}<br>{pct(t['revenue_share'])}" for t in tiers], textposition="auto",
        hovertemplate="%{x}: %{y:,.2f}<extra></extra>"))
    charts.layout(revenue, words["revenue_by_tier"], yaxis_title=words["revenue"])
    return charts.div(dist, "chart-tiers"), charts.div(revenue, "chart-revenue")


def _rf_chart(charts: Charts, numbers: dict[str, Any], words: dict[str, str]) -> str:
    go = charts.go
    cells = {(c["r_score"], c["f_score"]): c for c in numbers["rf_grid"]}
    rs, fs = [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]
    z = [[cells[(r, f)]["customers"] for f in fs] for r in rs]
    text = [[f"{cells[(r, f)]['customers']:,}<br>{cells[(r, f)]['revenue']:,.0f}" for f in fs] for r in rs]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"F{f}" for f in fs], y=[f"R{r}" for r in rs], text=text, texttemplate="%{text}",
        colorscale="Blues", colorbar={"title": {"text": words["customers"]}},
        hovertemplate="%{y} %{x}: %{z:,} " + words["customers"] + "<extra></extra>"))
    charts.layout(fig, words["rf_grid"], xaxis_title=words["f_score"], yaxis_title=words["r_score"],
                  height=460)
    return charts.div(fig, "chart-rf")


def _monthly_chart(charts: Charts, numbers: dict[str, Any], words: dict[str, str]) -> str:
    go = charts.go
    months = numbers["monthly"]
    x = [m["month"] for m in months]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=[m["new_customers"] for m in months], name=words["new"],
                         marker_color="#3b6fd6"))
    fig.add_trace(go.Bar(x=x, y=[m["returning_customers"] for m in months], name=words["returning"],
                         marker_color="#2e9e6a"))
    fig.add_trace(go.Scatter(x=x, y=[m["repurchase_rate"] for m in months], name=words["repurchase_rate"],
                             yaxis="y2", mode="lines+markers", line={"color": "#c2453d"}))
    charts.layout(fig, words["monthly"], barmode="stack", height=460,
                  xaxis={"type": "category", "title": words["month"], "tickangle": -45, "automargin": True},
                  yaxis={"title": words["customers"]},
                  yaxis2={"title": words["repurchase"], "overlaying": "y", "side": "right",
                          "tickformat": ".0%", "range": [0, 1], "dtick": 0.25, "showgrid": False},
                  legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"})
    return charts.div(fig, "chart-monthly")


def _cohort_chart(charts: Charts, numbers: dict[str, Any], words: dict[str, str]) -> str:
    from rfm_cli.core.report import COHORT_MONTHS

    go = charts.go
    cohorts = numbers["cohorts"][-COHORT_MONTHS:]
    width = max((len(c["retention"]) for c in cohorts), default=1)
    z = [[c["retention"][k] if k < len(c["retention"]) else None for k in range(width)] for c in cohorts]
    text = [["" if v is None else f"{100 * v:.0f}%" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(width)), y=[f"{c['cohort']} ({c['customers']:,})" for c in cohorts],
        text=text, texttemplate="%{text}", colorscale="Greens", zmin=0, zmax=1,
        colorbar={"title": {"text": words["retained"]}, "tickformat": ".0%"},
        hovertemplate="%{y}, +%{x}: %{z:.1%}<extra></extra>"))
    charts.layout(fig, words["cohorts"], xaxis={"title": words["months_since"], "dtick": 1},
                  yaxis={"title": words["cohort"], "autorange": "reversed", "type": "category"},
                  height=max(420, 28 * len(cohorts) + 140))
    return charts.div(fig, "chart-cohorts")


def _pareto_chart(charts: Charts, numbers: dict[str, Any], words: dict[str, str]) -> str:
    go = charts.go
    curve = numbers["pareto"]
    c = numbers["concentration"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[p["customer_share"] for p in curve], y=[p["revenue_share"] for p in curve],
                             mode="lines", name=words["revenue_share_axis"],
                             line={"color": "#3b6fd6", "width": 3}))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=words["equality"],
                             line={"color": "#8c8c8c", "dash": "dot"}))
    fig.add_trace(go.Scatter(
        x=[0.1, 0.2], y=[c["top_10pct"]["revenue_share"], c["top_20pct"]["revenue_share"]],
        mode="markers+text", marker={"size": 10, "color": "#c2453d"}, showlegend=False,
        text=[f"{words['top10']}: {pct(c['top_10pct']['revenue_share'])}",
              f"{words['top20']}: {pct(c['top_20pct']['revenue_share'])}"],
        textposition="middle right"))
    charts.layout(fig, words["pareto"], xaxis={"title": words["customer_share_axis"], "tickformat": ".0%"},
                  yaxis={"title": words["revenue_share_axis"], "tickformat": ".0%", "range": [0, 1.02]},
                  legend={"orientation": "h", "y": -0.2})
    return charts.div(fig, "chart-pareto")


def _moves_chart(charts: Charts, numbers: dict[str, Any], words: dict[str, str]) -> str:
    go, lang = charts.go, charts.lang
    moves = numbers["moves"]
    if moves is None:
        return f'<h2>{_esc(words["moves"])}</h2><p class="note">{_esc(words["no_moves"])}</p>'
    zh = {t["tier"]: t["label_zh"] for t in numbers["tiers"]}
    rows = [tier_label(t, zh.get(t, ""), lang) for t in moves["rows"]]
    cols = [tier_label(t, zh.get(t, ""), lang) for t in moves["columns"]]
    fig = go.Figure(go.Heatmap(
        z=moves["customers"], x=cols, y=rows, text=[[f"{v:,}" for v in r] for r in moves["customers"]],
        texttemplate="%{text}", colorscale="Purples", colorbar={"title": {"text": words["customers"]}},
        hovertemplate="%{y} → %{x}: %{z:,}<extra></extra>"))
    charts.layout(fig, f"{words['moves']}: {moves['from']} → {moves['to']}",
                  xaxis={"title": f"{words['moves_to']} {moves['to']}", "side": "bottom"},
                  yaxis={"title": f"{words['moves_from']} {moves['from']}", "autorange": "reversed"})
    return charts.div(fig, "chart-moves")


def _kpis(numbers: dict[str, Any], words: dict[str, str]) -> str:
    t = numbers["totals"]
    items = [
        (words["customers"], _num(t["customers"])),
        (words["orders"], _num(t["orders"])),
        (words["revenue"], _num(t["revenue"], 2)),
        (words["aov"], _num(t["avg_order_value"], 2)),
        (words["avg_recency"], _num(t["avg_recency_days"], 1)),
        (words["repurchase"], pct(t["repurchase_rate"])),
    ]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><b>{_esc(v)}</b><span>{_esc(k)}</span></div>' for k, v in items) + "</div>"


def _tier_table(numbers: dict[str, Any], words: dict[str, str], lang: str) -> str:
    head = [words["tier"], words["customers"], words["share"], words["revenue"], words["revenue_share"],
            words["orders"], words["aov"], words["avg_recency"], words["repurchase"], words["rule"]]
    rows = [[tier_label(t["tier"], t["label_zh"], lang), _num(t["customers"]), pct(t["customer_share"]),
             _num(t["revenue"], 2), pct(t["revenue_share"]), _num(t["orders"]), _num(t["avg_order_value"], 2),
             _num(t["avg_recency_days"], 1), pct(t["repurchase_rate"]), condition_words(t["rule"], lang)]
            for t in numbers["tiers"]]
    return _table(head, rows, text_cols=(9,))


def _cut_table(numbers: dict[str, Any], words: dict[str, str], lang: str) -> str:
    head = [words["dimension"], words["score"], words["method"], words["rule"], words["customers"]]
    rows = [[DIMENSION_WORDS[lang][c["dimension"]], c["score"], METHOD_WORDS[lang][c["method"]],
             band_words(c, numbers["rules"], lang), _num(c["customers"])] for c in numbers["cut_points"]]
    return _table(head, rows, text_cols=(2, 3))


def _quality_table(numbers: dict[str, Any], words: dict[str, str], lang: str) -> str:
    q = numbers["data_quality"]
    excluded = excluded_text(q, lang)
    head = [words["files"], words["rows_read"], words["imported"], words["duplicates"], words["excluded"],
            words["rejected"]]
    return _table(head, [[_num(q["files"]), _num(q["rows_read"]), _num(q["imported"]), _num(q["duplicates"]),
                          excluded, _num(q["rejected"])]], text_cols=(4,))


def _concentration(numbers: dict[str, Any], words: dict[str, str]) -> str:
    c = numbers["concentration"]
    head = ["", words["customers"], words["revenue"], words["revenue_share"]]
    rows = [[words[key], _num(c[name]["customers"]), _num(c[name]["revenue"], 2),
             pct(c[name]["revenue_share"])]
            for key, name in (("top10", "top_10pct"), ("top20", "top_20pct"))]
    return _table(head, rows)


def _campaigns(numbers: dict[str, Any], lang: str) -> str:
    """The campaigns section, when the database has campaigns (core/campaigns/html.py)."""
    if not numbers.get("campaigns"):
        return ""
    from rfm_cli.core.campaigns.html import section

    return f'<section id="campaigns">{section(numbers["campaigns"], lang)}</section>\n'


def _products(numbers: dict[str, Any], lang: str) -> str:
    """What each tier buys (core/report_products.py), when the numbers have it."""
    if not numbers.get("products"):
        return ""
    from rfm_cli.core.report_products import section

    return f'<section id="products">{section(numbers["products"], lang)}</section>\n'


def render(numbers: dict[str, Any], lang: str = "en") -> str:
    """The whole page as text."""
    from plotly.offline import get_plotlyjs

    words = labels(lang)
    charts = Charts(lang)
    dist, revenue = _tier_charts(charts, numbers, words)
    rf = _rf_chart(charts, numbers, words)
    monthly = _monthly_chart(charts, numbers, words)
    cohorts = _cohort_chart(charts, numbers, words)
    pareto = _pareto_chart(charts, numbers, words)
    moves = _moves_chart(charts, numbers, words)
    from rfm_cli.core.report_html_clv import section as clv_section  # here: it imports this module

    clv = clv_section(charts, numbers, lang)
    clv = f'<section id="clv">{clv}</section>\n' if clv else ""
    method_items = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in methods(numbers, lang).items())
    subtitle = (f"{words['as_of']} {numbers['as_of']} · "
                f"{words['scheme']} {scheme_words(numbers['scheme'], lang)}"
                f" · {source_words(numbers['rules_source'], lang)}")
    data = json.dumps({k: numbers[k] for k in ("as_of", "scheme", "totals")}, ensure_ascii=False)
    data = data.replace("</", "<\\/")  # never close the script element early
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rfm">
<title>{_esc(words['title'])} · {_esc(numbers['as_of'])}</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<header><h1>{_esc(words['title'])}</h1><p>{_esc(subtitle)}</p></header>
<main data-charts="{' '.join(charts.ids)}">
<script type="application/json" id="rfm-summary">{data}</script>
<section id="totals">{_kpis(numbers, words)}</section>
<section id="tiers"><h2>{_esc(words['tiers_title'])}</h2>{_tier_table(numbers, words, lang)}
<div class="grid"><div>{dist}</div><div>{revenue}</div></div></section>
<section id="rf">{rf}</section>
<section id="concentration"><h2>{_esc(words['concentration'])}</h2>{_concentration(numbers, words)}{pareto}</section>
<section id="monthly">{monthly}</section>
<section id="cohorts">{cohorts}</section>
<section id="moves">{moves}</section>
{_products(numbers, lang)}{clv}<section id="cuts"><h2>{_esc(words['cut_points'])}</h2>{_cut_table(numbers, words, lang)}</section>
<section id="quality"><h2>{_esc(words['data_quality'])}</h2>{_quality_table(numbers, words, lang)}</section>
{_campaigns(numbers, lang)}<section id="methods"><h2>{_esc(words['methods'])}</h2><dl>{method_items}</dl></section>
<p class="note">{_esc(words['generated_by'])}</p>
</main>
</body>
</html>
"""  # noqa: E501
