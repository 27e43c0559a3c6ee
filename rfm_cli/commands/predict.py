"""rfm predict [FILE...]: expected purchases, P(alive), CLV, due dates and churn risk per customer."""

from __future__ import annotations

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
    import_options,
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
    from rfm_cli.commands.predict_render import show
    from rfm_cli.core.predict import predict
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.sinks import format_for
    from rfm_cli.core.specs import PredictOptions

    st = state(ctx)
    progress_on_terminal(st)
    to_stdout = output == "-" or (output is None and not stdout_is_terminal())
    out_format = format_for(None if to_stdout or output is None else Path(output), fmt)
    options = import_options(st, maps, max_rejects, source, date_format)
    wait, day = st.wait, parse_as_of(as_of)
    spec = PredictOptions(horizon_days=horizon, discount_rate=discount_rate, model=model,
                          holdout_from=holdout_from, churn_thresholds=st.settings.churn_thresholds())
    result, reports = predict(st.db, files, options, wait=wait, as_of=day, **spec.settings())
    show(st, result, reports, out_format, output, to_stdout=to_stdout)
