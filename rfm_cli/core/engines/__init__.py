"""Engines that run the scoring plan where the orders live: one thin adapter per engine, each
imported only when its URL is used, each library an optional extra (rfm[spark], rfm[postgres] ...).

An adapter does four things and nothing else: name the input's columns, run the plan's one
statement and hand the rows back (`fetch`), or write them to a table there (`create_table`), and
close what it opened. Every number comes from rfm_cli/core/plan.py's SQL; nothing is computed here.

URLs:
  duckdb:PATH | PATH.duckdb            a DuckDB database file (read-only unless --into)
  postgresql://USER@HOST:PORT/DB       PostgreSQL via psycopg 3 (libpq URL; password from PGPASSWORD
                                       or ~/.pgpass, never from the command line)
  local[N] | spark://HOST:PORT         Spark (PySpark) in local mode or on a standalone master
  sc://HOST:PORT                       Spark Connect
  bigquery://PROJECT                   BigQuery (google-cloud-bigquery; application default credentials)
  snowflake://USER@ACCOUNT/DB/SCHEMA?warehouse=WH   Snowflake (password from SNOWFLAKE_PASSWORD)
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rfm_cli.core.errors import ConfigError, DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from rfm_cli.core.rules import RuleSet
    from rfm_cli.core.scoring import ScoreResult

# engine -> (module of its adapter, the library it needs, the pip extra that installs it)
ADAPTERS = {
    "duckdb": ("duckdb_local", "duckdb", None),
    "postgres": ("postgres", "psycopg", "postgres"),
    "spark": ("spark", "pyspark", "spark"),
    "bigquery": ("bigquery", "google.cloud.bigquery", "bigquery"),
    "snowflake": ("snowflake", "snowflake.connector", "snowflake"),
}


class Engine(Protocol):
    dialect: str
    label: str  # for messages: the engine and where, never a password

    def relation(self, table: str) -> str:
        """The table name the plan reads: `table` itself, or a view the adapter made over a file."""

    def columns(self, table: str) -> list[str]: ...

    def fetch(self, sql: str) -> pl.DataFrame: ...

    def create_table(self, name: str, sql: str) -> int: ...

    def close(self) -> None: ...


def engine_kind(url: str) -> str:
    lowered = url.strip().lower()
    if lowered.startswith("duckdb:") or lowered.endswith((".duckdb", ".db")):
        return "duckdb"
    if lowered.startswith(("postgres://", "postgresql://")):
        return "postgres"
    if lowered.startswith(("local", "spark://", "sc://")):
        return "spark"
    if lowered.startswith("bigquery://"):
        return "bigquery"
    if lowered.startswith("snowflake://"):
        return "snowflake"
    raise UsageError(
        f"--engine {url.split('@')[-1]!r} is not an engine URL; use duckdb:PATH, postgresql://..., "
        "local[2], spark://HOST:PORT, sc://HOST:PORT, bigquery://PROJECT or snowflake://..."
    )


@contextlib.contextmanager
def open_engine(url: str, *, writable: bool = False) -> Iterator[Engine]:
    kind = engine_kind(url)
    module_name, library, extra = ADAPTERS[kind]
    try:
        importlib.import_module(library)
    except ImportError:
        raise ConfigError(
            f"the {kind} engine needs the Python package {library.split('.')[0]}, which is not "
            f"installed; pip install 'rfm-cli[{extra}]'"
        ) from None
    adapter = importlib.import_module(f"rfm_cli.core.engines.{module_name}")
    engine = adapter.connect(url, writable=writable)
    try:
        yield engine
    finally:
        engine.close()


def plan_for(
    engine: Engine,
    table: str,
    rules: RuleSet,
    *,
    as_of: date | None,
    maps: list[str] | None,
    amount_cents: bool,
) -> str:
    """The plan's statement for `engine`, reading `table` with its columns mapped."""
    from rfm_cli.core.plan import LineSource, _table, parse_column_map, scoring_sql

    relation = engine.relation(table)
    columns = parse_column_map(
        maps, engine.columns(_table(relation, engine.dialect).sql(dialect=engine.dialect))
    )
    source = LineSource(table=relation, columns=columns, amount_cents=amount_cents)
    return scoring_sql(rules, engine.dialect, source=source, as_of=as_of, pretty=False)


def score_on_engine(
    url: str,
    table: str,
    rules: RuleSet,
    *,
    as_of: date | None = None,
    maps: list[str] | None = None,
    amount_cents: bool = False,
) -> ScoreResult:
    """Score the order lines in `table` on the engine at `url` and bring the scores back."""
    from rfm_cli.core.plan import check_rules
    from rfm_cli.core.plan_results import score_result

    check_rules(rules)
    with open_engine(url) as engine:
        frame = engine.fetch(
            plan_for(engine, table, rules, as_of=as_of, maps=maps, amount_cents=amount_cents)
        )
        where = engine.label
    if frame.is_empty() and as_of is not None:  # as rfm score --as-of: nobody counted yet, an empty table
        from rfm_cli.core.plan_results import empty_result

        return empty_result(frame, rules, f"scores from {where}", as_of)
    if frame.is_empty():
        raise DataError(
            f"{table} on {where} has no counted orders"
            + (f" on or before {as_of}" if as_of else "")
            + "; check the table and its status column"
        )
    return score_result(frame, rules, f"scores from {where}", as_of)


def score_into_table(
    url: str,
    table: str,
    into: str,
    rules: RuleSet,
    *,
    as_of: date | None = None,
    maps: list[str] | None = None,
    amount_cents: bool = False,
) -> int:
    """Score on the engine and write the scores to table `into` there (replaced); the rows written."""
    from rfm_cli.core.plan import _table, check_rules

    check_rules(rules)
    with open_engine(url, writable=True) as engine:
        sql = plan_for(engine, table, rules, as_of=as_of, maps=maps, amount_cents=amount_cents)
        return engine.create_table(_table(into, engine.dialect).sql(dialect=engine.dialect), sql)


def is_file_table(table: str) -> bool:
    """A --table that names Parquet files (a file, a folder, partitioned or not, or a lake URL such
    as s3a://bucket/lines/) rather than a table of the engine."""
    return (table.lower().endswith(".parquet") or Path(table).is_dir()
            or re.match(r"^[a-z][a-z0-9+]*://", table) is not None)
