"""Spark as an engine of the plan (`pip install 'rfm-cli[spark]'`): local mode (`local[N]`), a
standalone master (`spark://HOST:PORT`) or Spark Connect (`sc://HOST:PORT`).

The plan runs as one Spark SQL statement; its only single-partition steps are the window over the
distinct values of a quantile dimension and the global aggregates (as-of date, customer count),
each after an aggregation, so no customer row is ever moved to one partition. A session this
adapter starts it also stops; one that was already running (a notebook's, a test's) it leaves be.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import polars as pl
from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import SparkSession

from rfm_cli.core.engines import is_file_table
from rfm_cli.core.errors import DataError, InputError

_VIEW = "rfm_order_lines"
# Shuffle partitions in local mode: Spark's default of 200 tasks per shuffle is start-up cost
# for a laptop's cores; a cluster keeps its own setting.
_LOCAL_PARTITIONS = "2"


def connect(url: str, *, writable: bool = False) -> SparkEngine:
    # PySpark logs a failed query's message to stderr as it raises; the message quotes the cell a cast
    # could not read (a phone, a name). rfm reports the error class instead.
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True
    running = SparkSession.getActiveSession()
    try:
        if url.lower().startswith("sc://"):
            session = SparkSession.builder.remote(url).getOrCreate()
        else:
            builder = SparkSession.builder.master(url).appName("rfm")
            if url.lower().startswith("local"):
                quiet = Path(__file__).with_name("spark-log4j2.properties")  # log4j off: see the file
                builder = (
                    builder.config("spark.ui.enabled", "false")
                    .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={quiet}")
                    .config("spark.ui.showConsoleProgress", "false")  # stderr is for rfm's messages
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", _LOCAL_PARTITIONS)
                )
            with warnings.catch_warnings():  # PySpark's note about the pandas version is not rfm's to show
                warnings.simplefilter("ignore", FutureWarning)
                session = builder.getOrCreate()
            if running is None and url.lower().startswith("local"):
                # Spark logs failed tasks with the values they could not read; rfm reports the error class.
                session.sparkContext.setLogLevel("OFF")
    except (PySparkException, RuntimeError, OSError) as exc:
        raise InputError(
            f"cannot start or reach Spark at {url} ({type(exc).__name__}); check the --engine URL "
            "and that Java 17 or later is installed (JAVA_HOME)"
        ) from None
    return SparkEngine(session, url, owned=running is None)


def _error_class(exc: Exception) -> str:
    """Spark's error class (CAST_INVALID_INPUT ...), never its message, which quotes values."""
    getter = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    found = getter() if getter else None
    # A Py4JJavaError (several tasks failed at once) carries its causes' classes only in its text.
    classes = [c for c in re.findall(r"\[([A-Z][A-Z0-9_]{3,})\]", str(exc)) if "MULTIPLE_FAILURES" not in c]
    if found and "MULTIPLE_FAILURES" not in found:
        return found
    return classes[0] if classes else type(exc).__name__


class SparkEngine:
    dialect = "spark"

    def __init__(self, session: SparkSession, url: str, *, owned: bool) -> None:
        self.spark = session
        self.owned = owned
        self.label = f"spark {url}"

    def relation(self, table: str) -> str:
        if not is_file_table(table):
            return table
        try:
            self.spark.read.parquet(table).createOrReplaceTempView(_VIEW)
        except AnalysisException as exc:
            raise InputError(
                f"cannot read {table} on {self.label} ({_error_class(exc)}); check --table"
            ) from None
        return _VIEW

    def columns(self, table: str) -> list[str]:
        try:
            return self.spark.sql(f"SELECT * FROM {table} LIMIT 0").columns
        except AnalysisException as exc:
            raise InputError(
                f"cannot read table {table} on {self.label} ({_error_class(exc)}); check --table"
            ) from None

    def explain(self, sql: str) -> str:
        """The physical plan, as `EXPLAIN` prints it (for tests and for the curious)."""
        return self.spark.sql(f"EXPLAIN {sql}").collect()[0][0]

    def fetch(self, sql: str) -> pl.DataFrame:
        try:
            with warnings.catch_warnings():  # PySpark's note about the pandas version is not rfm's to show
                warnings.simplefilter("ignore", FutureWarning)
                return pl.from_arrow(self.spark.sql(sql).toArrow())
        except (PySparkException, Py4JJavaError) as exc:
            raise self._data_error(exc) from None

    def create_table(self, name: str, sql: str) -> int:
        try:
            frame = self.spark.sql(sql)
            # Replaces the table; not atomic on a plain catalog (readers may see it missing meanwhile),
            # atomic on a table format that versions (Delta, Iceberg).
            frame.write.mode("overwrite").saveAsTable(name)
            return self.spark.table(name).count()
        except (PySparkException, Py4JJavaError) as exc:
            raise self._data_error(exc) from None

    def _data_error(self, exc: Exception) -> DataError:
        # Spark 4 raises on a value a cast cannot read (ANSI mode) where DuckDB's TRY_CAST would give
        # NULL; its message quotes the value, so only the error class is shown.
        return DataError(
            f"{self.label} could not run the scoring plan ({_error_class(exc)}); give order_ts a "
            "TIMESTAMP and amount a DECIMAL(18, 2) or integer-cents column"
        )

    def close(self) -> None:
        if self.owned:
            self.spark.stop()
