"""PostgreSQL as an engine of the plan, through psycopg 3 (`pip install 'rfm-cli[postgres]'`).

The scores come back through COPY ... TO STDOUT as CSV: money arrives as the exact text of its
NUMERIC (parsed by plan_results, never through a float), and no row is held twice in Python.
`create_table` replaces the table inside one transaction: readers see the old scores or the new.
"""

from __future__ import annotations

import io

import polars as pl
import psycopg

from rfm_cli.core.errors import DataError, InputError


def connect(url: str, *, writable: bool = False) -> PostgresEngine:
    try:
        con = psycopg.connect(url, autocommit=False)
    except psycopg.Error as exc:
        raise InputError(
            f"cannot connect to PostgreSQL ({_kind(exc)}); check the --engine URL, that the "
            "server runs, and PGPASSWORD or ~/.pgpass"
        ) from None
    if not writable:
        con.read_only = True
    return PostgresEngine(con)


def _kind(exc: psycopg.Error) -> str:
    """What went wrong without the server's message, which may quote a cell (a phone, a name)."""
    state = getattr(exc, "sqlstate", None)
    return f"{type(exc).__name__}, SQLSTATE {state}" if state else type(exc).__name__


class PostgresEngine:
    dialect = "postgres"

    def __init__(self, con: psycopg.Connection) -> None:
        self.con = con
        info = con.info
        self.label = f"postgres {info.host}:{info.port}/{info.dbname}"

    def relation(self, table: str) -> str:
        return table

    def columns(self, table: str) -> list[str]:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {table} LIMIT 0")
                names = [d.name for d in cursor.description]
            self.con.rollback()
            return names
        except psycopg.Error as exc:
            self.con.rollback()
            raise InputError(
                f"cannot read table {table} on {self.label} ({_kind(exc)}); check --table"
            ) from None

    def fetch(self, sql: str) -> pl.DataFrame:
        buffer = io.BytesIO()
        try:
            with (
                self.con.cursor() as cursor,
                cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy,
            ):
                for block in copy:
                    buffer.write(block)
            self.con.rollback()
        except psycopg.errors.DataError as exc:
            self.con.rollback()
            raise self._data_error(exc) from None
        return pl.read_csv(buffer.getvalue(), infer_schema=False)

    def create_table(self, name: str, sql: str) -> int:
        try:
            with self.con.transaction(), self.con.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
                cursor.execute(f"CREATE TABLE {name} AS {sql}")
                rows = cursor.rowcount
            return rows
        except psycopg.errors.DataError as exc:
            raise self._data_error(exc) from None

    def _data_error(self, exc: psycopg.Error) -> DataError:
        return DataError(
            f"{self.label} could not read the order lines ({_kind(exc)}); give order_ts a "
            "timestamp and amount a numeric(18, 2) or integer-cents column"
        )

    def close(self) -> None:
        self.con.close()
