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
    print_cut_points,
    print_import_reports,
    print_summary,
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
    from rfm_cli.core import api
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.sinks import format_for

    st = state(ctx)
    _refuse_mixed(engine or table or into, with_predictions=with_predictions, with_tags=with_tags,
                  window=window)
    to_stdout = output == "-" or (output is None and not stdout_is_terminal())
    if engine or table or into:  # scored where the data lives (commands/sql.py, core/engines)
        return sql.score_on_engine(st, files, engine, table, into, output, fmt, rules_file, scheme, as_of,
                                   maps, amount_cents, to_stdout)
    progress_on_terminal(st)
    out_format = format_for(None if to_stdout or output is None else Path(output), fmt)  # refused now
    rules = load_rules(st, scheme, rules_file)
    options = import_options(st, maps, max_rejects, source, date_format, rejects_dir)
    notes: list[str] = []  # --with-tags without product data says so
    if with_predictions:
        result, predicted, reports = api.score_with_predictions(
            st.db, files, rules, parse_as_of(as_of), options, wait=st.wait, window=window_option(window),
            churn_thresholds=st.settings.churn_thresholds())
    else:
        result, reports = api.score(st.db, files, rules, parse_as_of(as_of), options, wait=st.wait,
                                    window=window_option(window),
                                    tags=st.settings.tag_settings() if with_tags else None, notes=notes)
    if reports:
        print_import_reports(st, reports)
    for note in notes:
        st.say(note)
    print_cut_points(st, result)
    table = result.customers
    if with_predictions:
        table = _say_predictions(st, predicted, table, out_format)
    _write(st, result, table, out_format, output, to_stdout=to_stdout)


def _refuse_mixed(on_engine: object, *, with_predictions: bool, with_tags: bool, window: str | None) -> None:
    """The options that read the orders here cannot go with --engine (nor tags with predictions)."""
    from rfm_cli.core.errors import UsageError

    if with_tags and (on_engine or with_predictions):
        raise UsageError("--with-tags reads the orders' lines here, not on an --engine nor with "
                         "--with-predictions; leave out one of them")
    if with_predictions and on_engine:
        raise UsageError("--with-predictions reads the orders here, not on an --engine; score here, or run "
                         "rfm predict on the database")
    if on_engine and window:
        raise UsageError("--window is not part of the scoring plan of --engine yet; score the database or "
                         "files without --engine, or leave out --window")


def _say_predictions(st, predicted, table, out_format: str):
    """The fitted models on stderr; the table with the prediction columns that are floats as the text
    Polars writes for them in a csv (P(alive) and expected orders keep 4 decimals)."""
    import polars as pl

    from rfm_cli.core.predict.output import describe

    for line in [*predicted.notes, *describe(predicted)]:
        st.say(line)
    if out_format != "csv":
        return table
    floats = [c for c, kind in predicted.customers.schema.items() if kind == pl.Float64]
    return table.with_columns(pl.col(floats).cast(pl.String))


def _write(st, result, table, out_format: str, output: str | None, *, to_stdout: bool) -> None:
    """The table to stdout (-o -, or piped with no -o), to the file -o names, or, on a terminal
    with no -o, the summary and a hint."""
    from rfm_cli.core.sinks import write_file, write_stdout

    if to_stdout:
        write_stdout(table, out_format)
    elif output is None:
        print_summary(st, result)
        st.say("for the per-customer table: rfm score ... -o scores.csv (or -o - for stdout)")
    else:
        path = Path(output)
        write_file(table, out_format, path)

        st.say(f"wrote {result.customers.height:,} customers to {path}")
