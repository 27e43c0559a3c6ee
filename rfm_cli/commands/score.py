"""rfm score [FILE...]: the per-customer table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands import sql
from rfm_cli.commands._common import (
    AsOf,
    DateFormat,
    Format,
    MapOption,
    MaxRejects,
    RejectsDirIfAsked,
    RulesFile,
    Scheme,
    Source,
    Window,
    import_options,
    load_rules,
    progress_on_terminal,
    state,
    stdout_is_terminal,
    window_option,
)

HELP = """Score every customer: recency, frequency, monetary, their 1-5 scores and tier.

With FILE arguments the files are scored in memory: nothing is written to disk unless asked
(--rejects DIR keeps the unreadable rows). Without, the database is scored. The table goes to
stdout when stdout is a pipe or with -o -; on a terminal without -o you get the tier summary.

Columns: customer_id, customer_name, phone, email, first_order_at, last_order_at, recency_days,
frequency, monetary, r_score, f_score, m_score, rfm_code, tier.

With --engine URL --table NAME the order lines are scored where they live (PostgreSQL, Spark,
BigQuery, Snowflake, DuckDB) by the plan `rfm sql` prints; --into TABLE writes the scores to a
table there, -o brings them back (then `rfm export --from-scores FILE` writes the lists).

--with-predictions adds the columns of `rfm predict` (default model and 90-day horizon) after
the tier: x_repeat_purchases ... churn_rule; the fitted models are shown on stderr.

--with-tags adds categories (the top 3 by spend, |-joined), aov_band (low/mid/high: tertiles of
the average order value, or rfm.toml [tags] aov_bands), favourite_weekday and favourite_hour.

Example: rfm score orders.csv -o - | head"""


WithPredictions = Annotated[bool, typer.Option(
    "--with-predictions", help="Add rfm predict's columns (P(alive), expected orders, CLV, due date, "
                               "churn risk).")]
WithTags = Annotated[bool, typer.Option(
    "--with-tags", help="Add the tag columns after the tier: categories (top by spend), aov_band "
                        "(low/mid/high), favourite_weekday, favourite_hour.")]

def command(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="FILE", help="Export files to score in memory.", show_default=False)
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="PATH|-", help="Write the table to PATH, or - for stdout."),
    ] = None,
    fmt: Format = None,
    as_of: AsOf = None,
    window: Window = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
    maps: MapOption = None,
    max_rejects: MaxRejects = None,
    source: Source = None,
    date_format: DateFormat = None,
    rejects_dir: RejectsDirIfAsked = None,
    engine: sql.Engine = None,
    table: sql.Table = None,
    into: sql.Into = None,
    amount_cents: sql.AmountCents = False,
    with_predictions: WithPredictions = False,
    with_tags: WithTags = False,
) -> None:
    from rfm_cli.commands.score_render import show
    from rfm_cli.core import readouts
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.sinks import format_for
    from rfm_cli.core.specs import ScoreOptions

    st = state(ctx)
    spec = ScoreOptions(window=window, with_predictions=with_predictions, with_tags=with_tags, engine=engine,
                        table=table, into=into)  # refused now: the options that cannot go together
    to_stdout = output == "-" or (output is None and not stdout_is_terminal())
    if spec.on_engine:  # scored where the data lives (commands/sql.py, core/engines)
        return sql.score_on_engine(st, files, spec, output, fmt, rules_file, scheme, as_of, maps,
                                   amount_cents, to_stdout)
    progress_on_terminal(st)
    out_format = format_for(None if to_stdout or output is None else Path(output), fmt)  # refused now
    rules = load_rules(st, scheme, rules_file)
    options = import_options(st, maps, max_rejects, source, date_format, rejects_dir)
    day, wait = parse_as_of(as_of), st.wait
    scored = readouts.score_table(st.db, files, rules, day, options, _with_settings(st, spec), wait=wait)
    show(st, scored, out_format, output, to_stdout=to_stdout)


def _with_settings(st, spec):
    """The spec with --window checked and rfm.toml's [tags] or [churn] (read only when asked for)."""
    from dataclasses import replace

    return replace(spec, window=window_option(spec.window),
                   tag_settings=st.settings.tag_settings() if spec.with_tags else None,
                   churn_thresholds=st.settings.churn_thresholds() if spec.with_predictions else None)
