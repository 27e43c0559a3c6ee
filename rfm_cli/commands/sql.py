"""rfm sql: the scoring plan as one statement; and `rfm score --engine`, which runs it where the data is."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    AsOf,
    RulesFile,
    Scheme,
    load_rules,
    print_cut_points,
    print_summary,
    state,
)

HELP = """Print the scoring plan as one self-contained SQL statement, for the engine your orders
already live in (or for dbt): one row per customer with rfm score's columns, the same numbers
as `rfm score` to the cent.

It reads one relation of order lines (--table, default order_lines) with columns order_id,
customer_id, order_ts (TIMESTAMP), amount (DECIMAL(18,2), or integer cents with --amount-cents;
negative = a refund line), and optionally status (paid/completed/shipped/delivered/success count;
no status = paid), refund_amount, customer_name, phone, email. --map FIELD=COLUMN reads a field
from another column; FIELD= says the table has no such column.

\b
Examples:
  rfm sql --dialect postgres > scores.sql
  rfm sql --dialect bigquery --table shop.order_lines --rules my-rules.toml
  rfm sql --dialect spark --map order_ts=created_at --map status="""

Dialect = Annotated[
    str,
    typer.Option(
        "--dialect",
        "-d",
        metavar="duckdb|postgres|spark|bigquery|snowflake",
        help="The SQL dialect to write.",
    ),
]
Table = Annotated[
    str | None,
    typer.Option("--table", metavar="NAME", help="The order lines: a table or view (default: order_lines)."),
]
ColumnMap = Annotated[
    list[str] | None,
    typer.Option(
        "--map", metavar="FIELD=COLUMN", help="Read FIELD of the order lines from COLUMN. Repeatable."
    ),
]
AmountCents = Annotated[
    bool, typer.Option("--amount-cents", help="amount and refund_amount are integer cents.")
]

# rfm score's options for scoring on an engine (declared here, used by commands/score.py).
Engine = Annotated[
    str | None,
    typer.Option(
        "--engine",
        metavar="URL",
        help="Score on this engine instead of the database: duckdb:PATH, "
        "postgresql://USER@HOST/DB, local[N], spark://HOST:PORT, sc://HOST:PORT, bigquery://PROJECT, "
        "snowflake://USER@ACCOUNT/DB/SCHEMA. Needs --table.",
        show_default=False,
    ),
]
Into = Annotated[
    str | None,
    typer.Option(
        "--into", metavar="TABLE", help="With --engine: write the scores to TABLE there (replaced)."
    ),
]


def command(
    ctx: typer.Context,
    dialect: Dialect = "duckdb",
    table: Table = None,
    maps: ColumnMap = None,
    amount_cents: AmountCents = False,
    as_of: AsOf = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
) -> None:
    from rfm_cli.core.plan import LineSource, describe, parse_column_map, scoring_sql
    from rfm_cli.core.scoring import parse_as_of

    st = state(ctx)
    rules = load_rules(st, scheme, rules_file)
    day = parse_as_of(as_of)
    source = LineSource(
        table=table or "order_lines", columns=parse_column_map(maps), amount_cents=amount_cents
    )
    statement = scoring_sql(rules, dialect, source=source, as_of=day)
    sys.stdout.write(describe(rules, dialect, source, day) + "\n" + statement + ";\n")


def score_on_engine(
    st,
    files: list[Path] | None,
    spec,
    output: str | None,
    fmt: str | None,
    rules_file: Path | None,
    scheme: str | None,
    as_of: str | None,
    maps: list[str] | None,
    amount_cents: bool,
    to_stdout: bool,
) -> None:
    """`rfm score --engine URL --table T [--into T2 | -o FILE]` (`spec`: core.specs.ScoreOptions on an
    engine, already checked)."""
    from rfm_cli.core import engines
    from rfm_cli.core.errors import UsageError
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.sinks import format_for, write_file, write_stdout

    engine, table, into = spec.engine, spec.table, spec.into
    if files:
        raise UsageError(
            "FILE arguments and --engine both given; score files here, or order lines on an engine"
        )
    if into and output:
        raise UsageError(
            "--into and -o both given; write the scores to a table there or bring them back, not both"
        )
    rules = load_rules(st, scheme, rules_file)
    day = parse_as_of(as_of)
    if into:
        rows = engines.score_into_table(
            engine, table, into, rules, as_of=day, maps=maps, amount_cents=amount_cents
        )
        st.say(f"wrote {rows:,} customers to {into}")
        return
    out_format = format_for(None if to_stdout or output is None else Path(output), fmt)
    result = engines.score_on_engine(engine, table, rules, as_of=day, maps=maps, amount_cents=amount_cents)
    print_cut_points(st, result)
    if to_stdout:
        write_stdout(result.customers, out_format)
    elif output is None:
        print_summary(st, result)
        st.say("for the per-customer table: rfm score --engine ... -o scores.parquet (or -o - for stdout)")
    else:
        write_file(result.customers, out_format, Path(output))
        st.say(f"wrote {result.customers.height:,} customers to {output}")
