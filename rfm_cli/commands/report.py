"""rfm report [FILE...]: the tier report on the terminal (stderr), as JSON (stdout) or as one HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    AsOf,
    DateFormat,
    MapOption,
    MaxRejects,
    RulesFile,
    Scheme,
    Source,
    TextOrJson,
    check_text_or_json,
    import_options,
    load_rules,
    progress_on_terminal,
    state,
)

HELP = """The tier report: per tier customers, revenue, average order value, recency and repurchase
rate; the R x F grid; revenue concentration; cut points; data quality.

On the terminal (stderr) by default; --format json puts the same numbers on stdout; --html FILE
writes one self-contained page (opens offline) with charts: tiers, revenue, R x F heatmap, new vs
returning customers per month, cohort retention, Pareto curve and tier moves between snapshots.
With FILE arguments the files are reported in memory; without, the database.

--with-predictions adds a look ahead (rfm predict's models, default settings): CLV over 90 days by
tier, P(alive) per tier and churn risk by tier; --holdout-from DATE also fits on the orders before
DATE and shows expected against actual repeat purchases from it on (a tracking chart in the HTML).
Without either the models are not fitted, so the report stays fast.

\b
Examples:
  rfm report
  rfm report --html report.html --lang zh
  rfm report --format json | jq .concentration"""


def command(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="FILE", help="Export files to report on in memory.", show_default=False)
    ] = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Write the HTML report to FILE.")
    ] = None,
    fmt: TextOrJson = "text",
    lang: Annotated[str, typer.Option("--lang", metavar="en|zh",
                                      help="zh: Chinese labels and tier names.")] = "en",
    as_of: AsOf = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
    maps: MapOption = None,
    max_rejects: MaxRejects = None,
    source: Source = None,
    date_format: DateFormat = None,
    with_predictions: Annotated[bool, typer.Option(
        "--with-predictions",
        help="Add CLV by tier, P(alive) per tier and churn risk (fits the models).")] = False,
    holdout_from: Annotated[str | None, typer.Option(
        "--holdout-from", metavar="YYYY-MM-DD",
        help="With predictions: check them against the orders from this day on (tracking chart).")] = None,
) -> None:
    from dataclasses import replace

    from rfm_cli.commands.report_render import show
    from rfm_cli.core import readouts
    from rfm_cli.core.specs import ReportOptions

    check_text_or_json(fmt)
    spec = ReportOptions(lang=lang, html=html_file, with_predictions=with_predictions,
                         holdout_from=holdout_from)  # refused now: a bad --lang, --html or --holdout-from
    st = state(ctx)
    progress_on_terminal(st)
    rules = load_rules(st, scheme, rules_file)
    options = import_options(st, maps, max_rejects, source, date_format)
    if spec.fits_predictions:  # rfm.toml [churn], read only when the models are fitted
        spec = replace(spec, churn_thresholds=st.settings.churn_thresholds())
    numbers, reports = readouts.report(st.db, files, rules, as_of, options, spec, wait=st.wait)
    show(st, numbers, reports, fmt, html_file, lang)
