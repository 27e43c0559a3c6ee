"""The plan on Spark local mode (local[2], SPARK_LOCAL_IP=127.0.0.1, Java 17+): the same numbers as
rfm to the cent; no customer row moved to a single partition; and the engine differences the plan
is written around, measured on Spark itself. One Spark session for the module (its start-up is
most of the module's time); skipped without pyspark or Java unless RFM_REQUIRE_ENGINES=1.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import sqlglot
from plan_support import Line, generate_lines, lines_frame, rfm_scores, skip_or_fail
from polars.testing import assert_frame_equal

from rfm_cli.core.errors import DataError
from rfm_cli.core.rules import build_rules, load_rules

QUANTILE = build_rules(
    {
        "recency": {"method": "quantile"},
        "frequency": {"method": "quantile"},
        "monetary": {"method": "quantile"},
        "tiers": [
            {"name": "best", "when": "r_score >= 4 and not (f_score < 4)"},
            {"name": "spent", "when": "monetary >= 99.5 or m_score in [4, 5]"},
            {"name": "rest", "when": "true"},
        ],
    },
    "quantile.toml",
)


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        skip_or_fail("pyspark is not installed: pip install 'rfm-cli[spark]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        skip_or_fail("no Java runtime for Spark: apt-get install openjdk-17-jre-headless")
    previous = os.environ.get("SPARK_LOCAL_IP")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    warehouse = tempfile.mkdtemp(prefix="rfm-spark-")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("rfm-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        # Small data, a short-lived JVM on a 2-core machine: C2's compiler threads and the parallel
        # collector's took most of the CPU (measured: the first plan run 118 s -> 61 s, the later
        # ones 28 s -> 10 s on a loaded machine; the session's start 60 s -> 35 s).
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        shutil.rmtree(warehouse, ignore_errors=True)
        if previous is None:
            os.environ.pop("SPARK_LOCAL_IP", None)
        else:
            os.environ["SPARK_LOCAL_IP"] = previous


def _parquet(lines: list[Line], folder: Path, frame=None) -> str:
    path = folder / "lines.parquet"
    (lines_frame(lines) if frame is None else frame).write_parquet(path)
    return str(path)


def test_plan_on_spark_is_rfm(spark, tmp_path: Path) -> None:
    """Two runs (each costs Spark seconds): all-quantile custom rules on a Parquet file, brought
    back; the classic scheme as of an earlier day from a catalog table, written to a table there
    and read back."""
    from rfm_cli.core.engines import score_into_table, score_on_engine
    from rfm_cli.core.plan_results import scores_frame

    lines = generate_lines(3, 60)
    path = _parquet(lines, tmp_path)
    expected = rfm_scores(lines, tmp_path, QUANTILE)
    found = score_on_engine("local[2]", path, QUANTILE)
    assert found.as_of == expected.as_of
    assert_frame_equal(found.customers, expected.customers)

    spark.read.parquet(path).createOrReplaceTempView("order_lines")
    classic, as_of = load_rules("classic"), date(2024, 9, 30)
    expected = rfm_scores(lines, tmp_path, classic, as_of).customers
    assert score_into_table("local[2]", "order_lines", "rfm_scores", classic, as_of=as_of) == expected.height
    stored = pl.from_arrow(spark.table("rfm_scores").toArrow())
    assert_frame_equal(scores_frame(stored, "rfm_scores"), expected)


def single_partition_moves(explained: str) -> list[str]:
    """Every `Exchange SinglePartition` of a physical plan whose input is not already aggregated
    (rows of the data moved to one partition), and every global sort."""
    lines = explained.splitlines()
    found = []
    for i, line in enumerate(lines):
        if "Exchange SinglePartition" in line:
            child = next((ln for ln in lines[i + 1 :] if ln.strip().lstrip(":+- ")), "")
            if "Aggregate(" not in child:
                found.append(f"{line.strip()} over {child.strip()[:120]}")
        if re.search(r"Sort \[[^\]]*\], true", line):
            found.append(line.strip())
    return found


def test_no_customer_row_goes_to_a_single_partition(spark, tmp_path: Path) -> None:
    """EXPLAIN on Spark: the plan's single-partition steps (the cut points' window, the as-of date
    and the customer count) all run after an aggregation, over distinct values or partial
    aggregates, never over customers; and there is no global sort."""
    from rfm_cli.core.engines import plan_for
    from rfm_cli.core.engines.spark import SparkEngine

    engine = SparkEngine(spark, "local[2]", owned=False)
    path = _parquet(generate_lines(4, 20), tmp_path)
    for rules in (load_rules(), QUANTILE):
        explained = engine.explain(plan_for(engine, path, rules, as_of=None, maps=None, amount_cents=False))
        assert "Exchange SinglePartition" in explained  # the window and the global aggregates are there
        assert "Window [" in explained
        assert single_partition_moves(explained) == []
    # The check catches the plan a naive port would write: a rank over every customer.
    naive = engine.explain(f"SELECT customer_id, rank() OVER (ORDER BY amount) FROM parquet.`{path}`")
    assert single_partition_moves(naive)


def test_spark_money_hazards_and_the_plan(spark, tmp_path: Path) -> None:
    """Measured on Spark 4: ten 0.1 doubles do not sum to 1.0 (DuckDB's do), '12.345' cast to
    DECIMAL(18, 2) rounds to 12.35, and a cast of a bad value raises (ANSI mode) where DuckDB's
    TRY_CAST gives NULL. The plan: exact decimal sums, the same rounding as rfm's import, and a bad
    value refused as a data error that does not quote it."""
    from pyspark.errors import PySparkException

    from rfm_cli.core.engines import score_on_engine

    # One partition: the doubles are added one after the other, as a database adds a column.
    doubles = spark.sql(
        "SELECT sum(x) FROM (SELECT CAST(0.1 AS DOUBLE) AS x FROM range(0, 10, 1, 1))"
    ).collect()[0][0]
    assert doubles != 1.0
    assert duckdb.sql("SELECT sum(x) FROM (SELECT 0.1::DOUBLE AS x FROM range(10))").fetchall()[0][0] == 1.0
    assert spark.sql("SELECT CAST('12.345' AS DECIMAL(18, 2))").collect()[0][0] == Decimal("12.35")
    with pytest.raises(PySparkException):
        spark.sql("SELECT CAST('abc' AS DECIMAL(18, 2))").collect()
    assert duckdb.sql("SELECT TRY_CAST('abc' AS DECIMAL(18, 2))").fetchall()[0][0] is None

    start = datetime(2026, 1, 5, 10)
    lines = [Line("D1", "dimes", start, Decimal("0.10"), "paid", None, None, None, None)] * 10
    lines += [Line("O1", "dollar", start, Decimal("1.00"), "paid", None, None, None, None)]
    lines += [Line("T1", "text", start, Decimal(0), "paid", None, None, None, None)]
    frame = lines_frame(lines).with_columns(amount=lines_frame(lines)["amount"].cast(str))
    frame = frame.with_columns(amount=frame["amount"].replace("0.00", "12.345"))  # a text column
    rows = {
        r["customer_id"]: r
        for r in score_on_engine("local[2]", _parquet([], tmp_path, frame), load_rules()).customers.to_dicts()
    }
    assert rows["dimes"]["monetary"] == rows["dollar"]["monetary"] == 1.0
    assert rows["dimes"]["m_score"] == rows["dollar"]["m_score"] and rows["text"]["monetary"] == 12.35
    bad = frame.with_columns(amount=frame["amount"].replace("12.345", "13812345678abc"))
    bad_path = tmp_path / "bad"
    bad_path.mkdir()
    with pytest.raises(DataError, match="could not run the scoring plan") as caught:
        score_on_engine("local[2]", _parquet([], bad_path, bad), load_rules())
    assert "13812345678" not in str(caught.value)


def test_spark_sorts_nulls_first_and_translation_keeps_duckdbs_order(spark) -> None:
    """Spark puts NULLs first in an ascending sort, DuckDB last: SQL handed over as text would
    order differently. Translated by sqlglot, the DuckDB statement orders alike on Spark (and the
    plan's windows run over values that are never NULL)."""
    statement = "SELECT v FROM (VALUES (2), (NULL), (1)) AS t(v) ORDER BY v"
    assert [r[0] for r in spark.sql(statement).collect()] == [None, 1, 2]
    assert [r[0] for r in duckdb.sql(statement).fetchall()] == [1, 2, None]
    translated = sqlglot.transpile(statement, read="duckdb", write="spark")[0]
    assert [r[0] for r in spark.sql(translated).collect()] == [1, 2, None]
