"""rfm explain CUSTOMER_ID: every number behind one customer's tier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    AsOf,
    DateFormat,
    MapOption,
    RulesFile,
    Scheme,
    Source,
    TextOrJson,
    Window,
    check_text_or_json,
    import_options,
    load_rules,
    state,
    window_option,
)

HELP = """Show one customer's orders (counted or not, and why), raw values, scores, the cut points in
force and the rule that put them in their tier.

--find TEXT finds customers by phone (any written form, its last digits, or masked like
138****5678), email, or part of a name or id: one match is explained at once; several are listed
(a table here, CSV when piped). The account is shown on stderr; --format json writes it to stdout.

It ends with the customer's predictions (as rfm predict computes them, default model): the model's
inputs x, t_x and T in weeks, P(alive), expected orders, spend per order and CLV over 90 days, the
next order's due date and the churn risk, each with how it was computed. --no-predictions leaves
them out (the models are fitted on every customer, which takes a while on a large database).

\b
Examples:
  rfm explain C00042
  rfm explain --find '138 4214 5006'"""


def command(
    ctx: typer.Context,
    customer_id: Annotated[str | None, typer.Argument(
        metavar="CUSTOMER_ID", help="The customer's id as stored.", show_default=False)] = None,
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="FILE", help="Explain from these exports instead of the database.",
        show_default=False)] = None,
    find: Annotated[str | None, typer.Option(
        "--find", metavar="TEXT", help="Find the customer by phone, email, or part of a name or id.",
        show_default=False)] = None,
    fmt: TextOrJson = "text",
    as_of: AsOf = None,
    window: Window = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
    maps: MapOption = None,
    source: Source = None,
    date_format: DateFormat = None,
    no_predictions: Annotated[bool, typer.Option(
        "--no-predictions",
        help="Leave out P(alive), expected orders, CLV, due date and churn risk.")] = False,
) -> None:
    from rfm_cli.commands.explain_render import show
    from rfm_cli.core import readouts
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.specs import ExplainOptions

    st = state(ctx)
    check_text_or_json(fmt)
    if find is not None and customer_id is not None:  # with --find every argument is an export
        files, customer_id = [Path(customer_id), *(files or [])], None
    spec = ExplainOptions(customer_id=customer_id, find=find, with_predictions=not no_predictions)
    rules = load_rules(st, scheme, rules_file)
    options = import_options(st, maps, None, source, date_format)
    found = readouts.account(st.db, files, rules, parse_as_of(as_of), options,
                             _with_settings(st, spec, window), wait=st.wait)
    show(st, found, fmt)


def _with_settings(st, spec, window: str | None):
    """The spec with --window checked, and rfm.toml's [churn] (when predicting) and [tags]."""
    from dataclasses import replace

    return replace(spec, window=window_option(window), tag_settings=st.settings.tag_settings(),
                   churn_thresholds=st.settings.churn_thresholds() if spec.with_predictions else None)
