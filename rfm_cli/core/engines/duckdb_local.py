"""DuckDB as an engine of the plan: a database file (read-only unless writing scores into it), or
Parquet files. Useful to run the plan where rfm's own import is not wanted, and the reference the
other engines are tested against."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from rfm_cli.core.engines import is_file_table
from rfm_cli.core.errors import DataError, InputError

_VIEW = "rfm_order_lines"
T = TypeVar("T")


def _path(url: str) -> str:
    path = url[len("duckdb:") :] if url.lower().startswith("duckdb:") else url
    return path.removeprefix("//")


def connect(url: str, *, writable: bool = False) -> DuckDBEngine:
    path = _path(url)
    if path and path != ":memory:" and not Path(path).is_file():
        raise InputError(f"DuckDB database {path} does not exist; check the --engine URL (duckdb:PATH)")
    try:
        con = duckdb.connect(path or ":memory:", read_only=not writable and bool(path) and path != ":memory:")
    except duckdb.Error as exc:
        raise InputError(
            f"cannot open DuckDB database {path} ({type(exc).__name__}); check the path and "
            "that no other process writes it"
        ) from None
    return DuckDBEngine(con, path or ":memory:")


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        self.con = con
        self.label = f"duckdb {path}"

    def relation(self, table: str) -> str:
        if not is_file_table(table):
            return table
        pattern = str(Path(table) / "**" / "*.parquet") if Path(table).is_dir() else table
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {_VIEW} AS SELECT * FROM read_parquet("
            + "'"
            + pattern.replace("'", "''")
            + "')"
        )
        return _VIEW

    def columns(self, table: str) -> list[str]:
        try:
            return [d[0] for d in self.con.execute(f"SELECT * FROM {table} LIMIT 0").description]
        except duckdb.Error as exc:
            raise InputError(
                f"cannot read table {table} in {self.label} ({type(exc).__name__}); check --table"
            ) from None

    def fetch(self, sql: str) -> pl.DataFrame:
        return pl.from_arrow(self._run(lambda: self.con.sql(sql).to_arrow_table()))

    def create_table(self, name: str, sql: str) -> int:
        self.con.execute("BEGIN")
        try:
            self._run(lambda: self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}"))
            rows = self.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return rows

    def _run(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException) as exc:
            # The engine's message may quote a cell (a phone, a name): only its kind is shown.
            raise DataError(
                f"{self.label} could not read the order lines ({type(exc).__name__}); give "
                "order_ts a TIMESTAMP and amount a DECIMAL(18, 2) or integer-cents column"
            ) from None

    def close(self) -> None:
        self.con.close()
