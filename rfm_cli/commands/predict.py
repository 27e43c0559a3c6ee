"""rfm predict [FILE...]: expected purchases, P(alive), CLV, due dates and churn risk per customer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    AsOf,
    DateFormat,
    Format,
    MapOption,
    MaxRejects,
    Source,
    console,
    import_options,
    log,
    print_import_reports,
    progress_on_terminal,
    state,
    stdout_is_terminal,
)

HELP = """Predict each customer's purchases in the next --horizon days, P(alive), spend per order, CLV,
next order due date and churn risk.

Models (fitted by maximum likelihood, time unit weeks): MBG/NBD (default), Pareto/NBD or BG/NBD for
purchases, Gamma-Gamma for spend. The models, their parameters and log-likelihoods are shown on
stderr; --format json puts them on stdout beside the rows. With fewer than 200 repeat buyers, or a
fit that does not converge, the model columns stay empty and due dates and churn risk come from the
interval rule.

With FILE arguments the files are scored in memory; without, the database. --holdout-from DATE
fits on the orders before DATE and reports expected against actual purchases from DATE on.

Columns: customer_id, x_repeat_purchases, t_x_weeks, T_weeks, p_alive, expected_orders_<H>d,
expected_spend_per_order, clv_<H>d, typical_gap_days, next_order_due, days_overdue, due_basis,
churn_risk, churn_rule.

Example: rfm predict --horizon 90 -o predictions.csv"""


def command(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="FILE", help="Export files to predict from in memory.", show_default=False),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="PATH|-", help="Write the table to PATH, or - for stdout."),
    ] = None,
    fmt: Format = None,
    as_of: AsOf = None,
    horizon: Annotated[int, typer.Option("--horizon", metavar="DAYS", help="Days ahead to predict.")] = 90,
    discount_rate: Annotated[
        float | None,
        typer.Option("--discount-rate", metavar="RATE", help="Annual rate to discount CLV, e.g. 0.1."),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", metavar="mbg-nbd|pareto-nbd|bg-nbd", help="The purchase model.")
    ] = "mbg-nbd",
    holdout_from: Annotated[
        str | None,
        typer.Option(
            "--holdout-from",
            metavar="YYYY-MM-DD",
            help="Fit on the orders before this day; check the predictions against the orders from it on.",
        ),
    ] = None,
    maps: MapOption = None,
    max_rejects: MaxRejects = None,
    source: Source = None,
    date_format: DateFormat = None,
) -> None:
    from rfm_cli.core.predict import predict
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.sinks import format_for

    st = state(ctx)
    progress_on_terminal(st)
    to_stdout = output == "-" or (output is None and not stdout_is_terminal())
    out_format = format_for(None if to_stdout or output is None else Path(output), fmt)
    result, reports = predict(
        st.db,
        files,
        import_options(st, maps, max_rejects, source, date_format),
        wait=st.wait,
        as_of=parse_as_of(as_of),
        horizon_days=horizon,
        discount_rate=discount_rate,
        model=model,
        holdout_from=_day(holdout_from, "--holdout-from"),
        churn_thresholds=st.settings.churn_thresholds(),
    )
    _say(st, result, reports)
    if output is None and not to_stdout:
        st.say("for the per-customer table: rfm predict ... -o predictions.csv (or -o - for stdout)")
        return
    _write(st, result, out_format, None if to_stdout else Path(output))


def _say(st, result, reports) -> None:
    """The import reports, the --log-json record, the model's account and the hold-out check."""
    from rfm_cli.core.predict.output import describe, describe_holdout

    if reports:
        print_import_reports(st, reports)
    log(
        as_of=result.as_of.isoformat(), customers=result.customers.height, model_status=result.model["status"]
    )
    for line in [*result.notes, *describe(result), *describe_holdout(result)]:
        st.say(line)
    _print_frequency_table(st, result)


def _day(value: str | None, option: str):
    from datetime import date

    from rfm_cli.core.errors import UsageError

    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


def _write(st, result, out_format: str, path: Path | None) -> None:
    from rfm_cli.core.predict.output import FLOAT_PRECISION, json_document, table_for
    from rfm_cli.core.sinks import PipeClosed, StagedFiles, write_file, write_stdout

    if out_format == "json":
        document = json_document(result)
        if path is None:
            try:
                sys.stdout.buffer.write(document)
                sys.stdout.buffer.flush()
            except BrokenPipeError as exc:
                raise PipeClosed() from exc
            return
        with StagedFiles() as staged:
            staged.add_bytes(document, path)
    elif path is None:
        write_stdout(table_for(result, out_format), out_format, float_precision=FLOAT_PRECISION)
        return
    else:
        write_file(table_for(result, out_format), out_format, path, float_precision=FLOAT_PRECISION)
    st.say(f"wrote {result.customers.height:,} customers to {path}")


def _print_frequency_table(st, result) -> None:
    """The hold-out check by calibration frequency (the paper's conditional expectations)."""
    if st.quiet or result.holdout is None:
        return
    from rich.table import Table

    table = Table(
        title="Hold-out purchases per customer, by repeat purchases before it", title_justify="left"
    )
    for name in ("x", "customers", "actual", "expected"):
        table.add_column(name, justify="right")
    for row in result.holdout["by_frequency"]:
        mean = [("" if row[k] is None else f"{row[k]:.3f}") for k in ("actual_mean", "expected_mean")]
        table.add_row(row["x"], f"{row['customers']:,}", *mean)
    console().print(table)
