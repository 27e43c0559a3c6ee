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


def command(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None, typer.Argument(metavar="FILE", help="Export files to score in memory.", show_default=False)
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
    with_predictions: Annotated[bool, typer.Option(
        "--with-predictions", help="Add rfm predict's columns (P(alive), expected orders, CLV, due date, "
                                   "churn risk).")] = False,
    with_tags: Annotated[bool, typer.Option(
        "--with-tags", help="Add the tag columns after the tier: categories (top by spend), aov_band "
                            "(low/mid/high), favourite_weekday, favourite_hour.")] = False,
) -> None:
    from rfm_cli.core import api
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.sinks import format_for, write_file, write_stdout

    st = state(ctx)
    if with_tags and (engine or table or into or with_predictions):
        from rfm_cli.core.errors import UsageError

        raise UsageError("--with-tags reads the orders' lines here, not on an --engine nor with --with-predictions; "
                         "leave out one of them")
    if with_predictions and (engine or table or into):
        from rfm_cli.core.errors import UsageError

        raise UsageError("--with-predictions reads the orders here, not on an --engine; score here, or run "
                         "rfm predict on the database")
    if (engine or table or into) and window:
        from rfm_cli.core.errors import UsageError

        raise UsageError("--window is not part of the scoring plan of --engine yet; score the database or "
                         "files without --engine, or leave out --window")
    if engine or table or into:  # scored where the data lives (commands/sql.py, core/engines)
        to_stdout = output == "-" or (output is None and not stdout_is_terminal())
        return sql.score_on_engine(st, files, engine, table, into, output, fmt, rules_file, scheme, as_of,
                                   maps, amount_cents, to_stdout)
    progress_on_terminal(st)
    to_stdout = output == "-" or (output is None and not stdout_is_terminal())
    out_format = format_for(None if to_stdout or output is None else Path(output), fmt)  # refuse a bad one now
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
    if with_predictions:
        from rfm_cli.core.predict.output import describe

        for line in [*predicted.notes, *describe(predicted)]:
            st.say(line)
    table = result.customers
    if with_predictions and out_format == "csv":  # P(alive) and expected orders keep 4 decimals
        import polars as pl

        floats = [c for c, kind in predicted.customers.schema.items() if kind == pl.Float64]
        table = table.with_columns(pl.col(floats).cast(pl.String))
    if to_stdout:
        write_stdout(table, out_format)
    elif output is None:
        print_summary(st, result)
        st.say("for the per-customer table: rfm score ... -o scores.csv (or -o - for stdout)")
    else:
        path = Path(output)
        write_file(table, out_format, path)

        st.say(f"wrote {result.customers.height:,} customers to {path}")
