"""BigQuery as an engine of the plan (`pip install 'rfm-cli[bigquery]'`): `bigquery://PROJECT`,
credentials from the environment (application default credentials). Thin and not run here (no
server): its SQL is pinned by tests/test_plan_sql.py's snapshot and lint."""

from __future__ import annotations

from urllib.parse import urlparse

import polars as pl
from google.api_core import exceptions as google_errors
from google.cloud import bigquery

from rfm_cli.core.errors import DataError, InputError


def connect(url: str, *, writable: bool = False) -> BigQueryEngine:
    project = urlparse(url).netloc or None
    try:
        return BigQueryEngine(bigquery.Client(project=project), project or "(default project)")
    except google_errors.GoogleAPIError as exc:
        raise InputError(
            f"cannot reach BigQuery ({type(exc).__name__}); check the project in --engine and the "
            "credentials (gcloud auth application-default login)"
        ) from None


class BigQueryEngine:
    dialect = "bigquery"

    def __init__(self, client: bigquery.Client, project: str) -> None:
        self.client = client
        self.label = f"bigquery {project}"

    def relation(self, table: str) -> str:
        return table

    def columns(self, table: str) -> list[str]:
        try:
            return [f.name for f in self.client.get_table(table.replace("`", "")).schema]
        except google_errors.GoogleAPIError as exc:
            raise InputError(
                f"cannot read table {table} on {self.label} ({type(exc).__name__}); "
                "check --table (dataset.table)"
            ) from None

    def fetch(self, sql: str) -> pl.DataFrame:
        try:
            return pl.from_arrow(self.client.query(sql).to_arrow())
        except google_errors.BadRequest as exc:
            raise DataError(
                f"{self.label} could not run the scoring plan ({type(exc).__name__}); give order_ts "
                "a DATETIME and amount a NUMERIC or integer-cents column"
            ) from None

    def create_table(self, name: str, sql: str) -> int:
        self.client.query(f"CREATE OR REPLACE TABLE {name} AS {sql}").result()  # atomic replacement
        return self.client.get_table(name.replace("`", "")).num_rows

    def close(self) -> None:
        self.client.close()
