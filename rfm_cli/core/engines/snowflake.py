"""Snowflake as an engine of the plan (`pip install 'rfm-cli[snowflake]'`):
`snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE`, the password from
SNOWFLAKE_PASSWORD (or `authenticator=externalbrowser` in the URL). Thin and not run here (no
server): its SQL is pinned by tests/test_plan_sql.py's snapshot and lint."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlparse

import polars as pl
import snowflake.connector

from rfm_cli.core.errors import DataError, InputError


def connect(url: str, *, writable: bool = False) -> SnowflakeEngine:
    parts = urlparse(url)
    path = [p for p in parts.path.split("/") if p]
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    params = {
        "user": unquote(parts.username or ""),
        "account": parts.hostname,
        "database": path[0] if path else None,
        "schema": path[1] if len(path) > 1 else None,
        **options,
    }
    if "authenticator" not in options:
        params["password"] = os.environ.get("SNOWFLAKE_PASSWORD")
    try:
        con = snowflake.connector.connect(**{k: v for k, v in params.items() if v})
    except snowflake.connector.errors.Error as exc:
        raise InputError(
            f"cannot connect to Snowflake ({type(exc).__name__}); check the --engine URL and "
            "SNOWFLAKE_PASSWORD"
        ) from None
    return SnowflakeEngine(con, f"{parts.hostname}/{'/'.join(path)}")


class SnowflakeEngine:
    dialect = "snowflake"

    def __init__(self, con, where: str) -> None:
        self.con = con
        self.label = f"snowflake {where}"

    def relation(self, table: str) -> str:
        return table

    def columns(self, table: str) -> list[str]:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {table} LIMIT 0")
                return [d[0] for d in cursor.description]
        except snowflake.connector.errors.Error as exc:
            raise InputError(
                f"cannot read table {table} on {self.label} ({type(exc).__name__}); check --table"
            ) from None

    def fetch(self, sql: str) -> pl.DataFrame:
        try:
            with self.con.cursor() as cursor:
                cursor.execute(sql)
                table = cursor.fetch_arrow_all()  # None when the query returns no rows
                frame = pl.DataFrame() if table is None else pl.from_arrow(table)
        except snowflake.connector.errors.ProgrammingError as exc:
            raise DataError(
                f"{self.label} could not run the scoring plan ({type(exc).__name__}); give order_ts "
                "a TIMESTAMP_NTZ and amount a NUMBER(18, 2) or integer-cents column"
            ) from None
        # Unquoted names come back upper case: the plan's columns are lower case.
        return frame.rename({c: c.lower() for c in frame.columns})

    def create_table(self, name: str, sql: str) -> int:
        with self.con.cursor() as cursor:
            cursor.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")  # atomic replacement
            cursor.execute(f"SELECT count(*) FROM {name}")
            return cursor.fetchone()[0]

    def close(self) -> None:
        self.con.close()
