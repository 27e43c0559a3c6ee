"""What `rfm report` shows: the HTML page, the JSON on stdout, or the report on the terminal (stderr)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rfm_cli.commands._common import console, log, print_import_reports


def show(st, numbers: dict[str, Any], reports, fmt: str, html_file: Path | None, lang: str) -> None:
    """The import reports and the --log-json record, then the report where it was asked for."""
    if reports:
        print_import_reports(st, reports)
    log(as_of=numbers["as_of"], customers=numbers["totals"]["customers"])
    _show(st, numbers, fmt, html_file, lang)


def _show(st, numbers: dict[str, Any], fmt: str, html_file: Path | None, lang: str) -> None:
    """The report where it was asked for: an HTML file, JSON on stdout, or the terminal (stderr)."""
    if html_file is not None:
        from rfm_cli.core.readouts import write_report_page

        size = write_report_page(numbers, html_file, lang)
        st.say(f"wrote {html_file} ({size / 1e6:.1f} MB)")
    if fmt == "json":
        import json
        import sys

        sys.stdout.write(json.dumps(numbers, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    elif html_file is None and not st.quiet:
        print_report(numbers, lang)
        print_predictions(numbers.get("predictions"))


def print_predictions(block: dict[str, Any] | None) -> None:
    """CLV and churn risk by tier, and the hold-out line, under the terminal report."""
    if not block:
        return
    from rfm_cli.commands._tables import Col, fitted

    out = console()
    for note in block["notes"]:
        out.print(note, highlight=False, markup=False)
    names = ("tier", "customers", f"CLV {block['horizon_days']}d", "CLV share", "mean P(alive)", "high risk")
    columns = [Col(name, numeric=name != "tier", min_text=9) for name in names]
    rows = [[t["tier"], f"{t['customers']:,}", "" if t["clv_total"] is None else f"{t['clv_total']:,.2f}",
             "" if t["clv_share"] is None else f"{100 * t['clv_share']:.1f}%",
             "" if t["p_alive_mean"] is None else f"{t['p_alive_mean']:.3f}", f"{t['churn_risk']['high']:,}"]
            for t in block["tiers"]]
    out.print(fitted("Looking ahead", columns, rows, out.width))
    if block["holdout"]:
        overall = block["holdout"]["overall"]
        out.print(f"hold-out from {block['holdout']['holdout_start']}: expected "
                  f"{overall['expected_repeat_purchases']:,.1f} repeat purchases, actual "
                  f"{overall['actual_repeat_purchases']:,}", highlight=False)


# ------------------------------------------------------------------ the terminal report


def _heat(value: float, top: float) -> str:
    """A background from pale to deep blue for value / top, and a text colour that reads on it."""
    share = 0.0 if not top else min(value / top, 1.0)
    r, g, b = (int(235 - share * (235 - 30)), int(242 - share * (242 - 80)), int(250 - share * (250 - 170)))
    fg = "white" if share > 0.45 else "black"
    return f"{fg} on #{r:02x}{g:02x}{b:02x}"


def print_report(numbers: dict[str, Any], lang: str = "en") -> None:
    from rfm_cli.core.report_labels import labels

    w = labels(lang)
    out = console()
    _print_title(out, numbers, w, lang)
    _print_tiers(out, numbers, w, lang)
    _print_rf_grid(out, numbers, w)
    _print_concentration(out, numbers, w)
    _print_cut_points(out, numbers, w, lang)
    _print_data_quality(out, numbers, w, lang)


def _print_title(out, numbers: dict[str, Any], w: dict[str, str], lang: str) -> None:
    from rich.markup import escape

    from rfm_cli.core.rules_words import scheme_words, source_words

    scheme, source = numbers["scheme"], numbers["rules_source"]
    if lang == "zh":  # the Chinese report in Chinese words; the English one keeps the rules' own names
        scheme, source = scheme_words(scheme, lang), source_words(source, lang)
    out.print(f"[bold]{w['title']}[/bold]  {w['as_of']} {numbers['as_of']} · {w['scheme']} {scheme} "
              f"({escape(source)})", highlight=False)


def _print_tiers(out, numbers: dict[str, Any], w: dict[str, str], lang: str) -> None:
    from rfm_cli.commands._tables import Col, fitted
    from rfm_cli.core.report_labels import pct, tier_label

    t = numbers["totals"]
    # Left out first on a narrow terminal: average recency, then average order value (--format json has all).
    drops = {"aov": 2, "avg_recency": 3}
    names = ("tier", "customers", "share", "revenue", "revenue_share", "aov", "avg_recency", "repurchase")
    columns = [Col(w[name], numeric=name != "tier", drop=drops.get(name, 0), min_text=9) for name in names]
    rows: list = [[
        tier_label(row["tier"], row["label_zh"], lang) + ("" if lang == "zh" else f" {row['label_zh']}"),
        f"{row['customers']:,}", pct(row["customer_share"]), f"{row['revenue']:,.2f}",
        pct(row["revenue_share"]), f"{row['avg_order_value']:,.2f}",
        "" if row["avg_recency_days"] is None else f"{row['avg_recency_days']:,.1f}",
        pct(row["repurchase_rate"]),
    ] for row in numbers["tiers"]]
    rows += [None, [w["total"], f"{t['customers']:,}", pct(1.0 if t["customers"] else 0.0),
                    f"{t['revenue']:,.2f}", pct(1.0 if t["revenue"] else 0.0), f"{t['avg_order_value']:,.2f}",
                    "" if t["avg_recency_days"] is None else f"{t['avg_recency_days']:,.1f}",
                    pct(t["repurchase_rate"])]]
    out.print(fitted(w["tiers_title"], columns, rows, out.width))


def _print_rf_grid(out, numbers: dict[str, Any], w: dict[str, str]) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=w["rf_grid"], title_justify="left", show_lines=True, padding=0)
    grid.add_column(" R \\ F ", justify="center")
    for f in range(1, 6):
        grid.add_column(f"F{f}", justify="center", min_width=12)
    cells = {(c["r_score"], c["f_score"]): c for c in numbers["rf_grid"]}
    top = max((c["customers"] for c in numbers["rf_grid"]), default=0)
    for r in range(5, 0, -1):
        row = []
        for f in range(1, 6):
            c = cells[(r, f)]
            text = Text(f"{c['customers']:,}\n{c['revenue']:,.0f}", justify="right")
            row.append(Padding(text, (0, 1), style=_heat(c["customers"], top), expand=True))
        grid.add_row(f"R{r}", *row)
    out.print(grid)


def _print_concentration(out, numbers: dict[str, Any], w: dict[str, str]) -> None:
    from rfm_cli.core.report_labels import pct

    c = numbers["concentration"]
    out.print(f"[bold]{w['concentration']}[/bold]: {w['top10']} ({c['top_10pct']['customers']:,}) "
              f"{pct(c['top_10pct']['revenue_share'])} {w['of_revenue']}; {w['top20']} "
              f"({c['top_20pct']['customers']:,}) {pct(c['top_20pct']['revenue_share'])} {w['of_revenue']}",
              highlight=False)


def _print_cut_points(out, numbers: dict[str, Any], w: dict[str, str], lang: str) -> None:
    from rfm_cli.commands._tables import Col, fitted
    from rfm_cli.core.rules_words import DIMENSION_WORDS, METHOD_WORDS, band_words

    columns = [Col(w[name], numeric=name in ("score", "customers"), drop=1 if name == "method" else 0)
               for name in ("dimension", "score", "method", "rule", "customers")]
    rows = [[row["dimension"], str(row["score"]), row["method"], row["rule"], f"{row['customers']:,}"]
            if lang != "zh" else
            [DIMENSION_WORDS[lang][row["dimension"]], str(row["score"]), METHOD_WORDS[lang][row["method"]],
             band_words(row, numbers["rules"], lang), f"{row['customers']:,}"]
             for row in numbers["cut_points"]]
    out.print(fitted(w["cut_points"], columns, rows, out.width))


def _print_data_quality(out, numbers: dict[str, Any], w: dict[str, str], lang: str) -> None:
    from rich.markup import escape

    from rfm_cli.core.report_labels import excluded_text

    q = numbers["data_quality"]
    excluded = escape(excluded_text(q, lang))
    out.print(f"[bold]{w['data_quality']}[/bold]: {w['files']} {q['files']:,}; "
              f"{w['rows_read']} {q['rows_read']:,} = {w['imported']} {q['imported']:,} + "
              f"{w['duplicates']} {q['duplicates']:,} + {w['excluded']} {excluded}"
              f" + {w['rejected']} {q['rejected']:,}", highlight=False)
    for reject in q["top_reject_reasons"][:3]:
        out.print(f"  {w['rejected']}: {reject['reason']} ({reject['rows']:,})", highlight=False,
                  markup=False)
