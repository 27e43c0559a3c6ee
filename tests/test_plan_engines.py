"""One definition, enforced: the same generated order lines scored by rfm's own path (import and
Polars) and by the portable plan on DuckDB and on a real PostgreSQL server give identical
per-customer rows: scores, tiers, contacts and money to the cent. Spark: test_plan_spark.py.

The PostgreSQL server is Debian's, started for this module on 127.0.0.1 with a private data
folder and stopped after (plan_support.postgres_server); without its binaries the Postgres tests
skip, unless RFM_REQUIRE_ENGINES=1 (CI), where they fail.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from plan_support import (
    Line,
    generate_lines,
    lines_frame,
    load_postgres,
    postgres_server,
    rfm_scores,
    skip_or_fail,
    write_canonical_csv,
)
from polars.testing import assert_frame_equal

from rfm_cli.core import api
from rfm_cli.core.engines import score_into_table, score_on_engine
from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest.pipeline import ImportOptions
from rfm_cli.core.rules import build_rules, load_rules

ALL_QUANTILE = build_rules(
    {
        "recency": {"method": "quantile"},
        "frequency": {"method": "quantile"},
        "monetary": {"method": "quantile"},
        "tiers": [
            {"name": "best", "when": "r_score >= 4 and f_score >= 4"},
            {"name": "spent", "when": "monetary >= 99.5 or m_score in [4, 5]"},
            {"name": "rest", "when": "true"},
        ],
    },
    "quantile.toml",
)
RULESETS = {"tiers": load_rules(), "classic": load_rules("classic"), "quantile": ALL_QUANTILE}


def duckdb_table(lines: list[Line], path: Path, *, table: str = "order_lines", frame=None) -> str:
    con = duckdb.connect(str(path))
    data = lines_frame(lines) if frame is None else frame  # noqa: F841 - read by name below
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM data")
    con.close()
    return f"duckdb:{path}"


@pytest.fixture(scope="module")
def pg_url() -> str:
    try:
        import psycopg  # noqa: F401 - the engine's library, from rfm[postgres]
    except ImportError:
        skip_or_fail("psycopg is not installed: pip install 'rfm-cli[postgres]'")
    with postgres_server() as url:
        yield url


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    customers=st.integers(1, 60),
    rules=st.sampled_from(sorted(RULESETS)),
    as_of_back=st.sampled_from([None, 0, 30, 200]),
)
# One customer whose only order was cancelled, with an as-of date: rfm gives an empty table, so must the plan.
@example(seed=681997, customers=1, rules="classic", as_of_back=0)
def test_plan_on_duckdb_is_rfm(tmp_path_factory, seed: int, customers: int, rules: str, as_of_back) -> None:
    folder = tmp_path_factory.mktemp("duck")
    lines = generate_lines(seed, customers)
    as_of = None if as_of_back is None else date(2025, 2, 4) - timedelta(days=as_of_back)
    try:
        expected = rfm_scores(lines, folder, RULESETS[rules], as_of)
    except DataError:  # nothing counted on or before the as-of date: the plan must say so too
        with pytest.raises(DataError, match="no counted orders"):
            score_on_engine(
                duckdb_table(lines, folder / "lines.duckdb"), "order_lines", RULESETS[rules], as_of=as_of
            )
        return
    found = score_on_engine(
        duckdb_table(lines, folder / "lines.duckdb"), "order_lines", RULESETS[rules], as_of=as_of
    )
    assert found.as_of == expected.as_of
    assert_frame_equal(found.customers, expected.customers)


def test_the_generated_orders_hold_the_hard_cases() -> None:
    """The differential tests are only as strong as their data: check it has every hard case."""
    lines = [line for seed in range(3) for line in generate_lines(seed)]
    by_order = Counter(line.order_id for line in lines)
    assert any(n >= 3 for n in by_order.values())  # line items
    assert any(
        line.refund_amount is not None and line.refund_amount < line.amount for line in lines
    )  # partial
    assert any(line.amount < 0 and by_order[line.order_id] > 1 for line in lines)  # refund line of an order
    assert any(line.order_id.startswith("C9") for line in lines)  # credit notes naming no order
    assert {"cancelled", "unpaid", "refunded", "PAID"} <= {line.status for line in lines}
    moments = Counter((line.customer_id, line.order_ts) for line in lines if line.phone)
    tied = {key for key, n in moments.items() if n > 1}
    phones = {key: {line.phone for line in lines if (line.customer_id, line.order_ts) == key} for key in tied}
    assert any(len(p) > 1 for p in phones.values())  # same moment, different contacts: the pick key decides
    assert any(len(line.order_id) > 20 for line in lines) and any(
        line.order_id.startswith("00") for line in lines
    )


def test_ten_dimes_make_a_dollar_and_tie_with_it(tmp_path: Path) -> None:
    """Money is DECIMAL in the plan: ten 0.10 lines are exactly 1.00 and tie with one 1.00 order
    (equal values share a score). Summed as doubles they would not be (see the Postgres test)."""
    start = datetime(2026, 1, 5, 10)
    lines = [Line("D1", "dimes", start, Decimal("0.10"), "paid", None, None, None, None)] * 10
    lines += [Line("O1", "dollar", start, Decimal("1.00"), "paid", None, None, None, None)]
    lines += [Line(f"O{i}", f"c{i}", start, Decimal(i), "paid", None, None, None, None) for i in range(2, 6)]
    found = score_on_engine(duckdb_table(lines, tmp_path / "d.duckdb"), "order_lines", load_rules())
    rows = {r["customer_id"]: r for r in found.customers.to_dicts()}
    assert rows["dimes"]["monetary"] == 1.0 and rows["dimes"]["m_score"] == rows["dollar"]["m_score"]
    assert found.customers.to_dicts() == rfm_scores(lines, tmp_path, load_rules()).customers.to_dicts()


def test_money_is_rounded_to_the_cent_as_rfm_imports_it(tmp_path: Path) -> None:
    """An amount with a third decimal ('12.345', a text or a wider decimal column) is rounded half
    away from zero, as rfm's import casts it, not truncated as a Polars cast would."""
    text_lines = lines_frame(
        [Line("A1", "c1", datetime(2026, 1, 1), Decimal(1), "paid", None, None, None, None)]
    ).with_columns(amount=pl.lit("12.345"))
    found = score_on_engine(
        duckdb_table([], tmp_path / "t.duckdb", frame=text_lines), "order_lines", load_rules()
    )
    assert found.customers["monetary"].to_list() == [12.35]
    csv_path = write_canonical_csv(
        [Line("A1", "c1", datetime(2026, 1, 1), Decimal("12.345"), "paid", None, None, None, None)],
        tmp_path / "o.csv",
    )
    imported, _ = api.score(":memory:", [csv_path], load_rules(), None, ImportOptions())
    assert imported.customers["monetary"].to_list() == [12.35]
    # The hazard the plan avoids: Polars truncates the same text.
    assert pl.Series(["12.345"]).cast(pl.Decimal(18, 2)).cast(pl.Float64).to_list() == [12.34]


def test_an_unreadable_amount_fails_the_run_not_the_row(tmp_path: Path) -> None:
    """DuckDB's TRY_CAST would turn 'abc' into NULL and drop the order quietly (and Spark 4 raises);
    the plan casts, so every engine refuses the table, with no cell value in the message."""
    bad = lines_frame(
        [Line("A1", "13812345678", datetime(2026, 1, 1), Decimal(1), "paid", None, None, None, None)]
    ).with_columns(amount=pl.lit("13812345678abc"))
    with pytest.raises(DataError, match="could not read the order lines") as caught:
        score_on_engine(duckdb_table([], tmp_path / "b.duckdb", frame=bad), "order_lines", load_rules())
    assert "13812345678" not in str(caught.value)


# ------------------------------------------------------------------ PostgreSQL


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plan_on_postgres_is_rfm(pg_url: str, tmp_path: Path, seed: int) -> None:
    lines = generate_lines(seed, 60)
    load_postgres(pg_url, lines)
    for name, rules in RULESETS.items():
        for as_of in (None, date(2024, 9, 30)):
            expected = rfm_scores(lines, tmp_path, rules, as_of)
            found = score_on_engine(pg_url, "order_lines", rules, as_of=as_of)
            assert found.as_of == expected.as_of, name
            assert_frame_equal(found.customers, expected.customers)


def test_postgres_money_hazards_and_the_plan(pg_url: str) -> None:
    """Measured on the server: ten 0.1 doubles do not sum to 1.0 (DuckDB's sum does), casting
    '12.345' to numeric(18, 2) rounds, and a bad value raises. The plan keeps money in numeric, so
    its sums are exact there too."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        doubles = con.execute("SELECT sum(x) FROM (SELECT 0.1::float8 AS x FROM generate_series(1, 10)) AS t")
        assert doubles.fetchone()[0] != 1.0
        assert con.execute("SELECT CAST('12.345' AS numeric(18, 2))").fetchone()[0] == Decimal("12.35")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            con.execute("SELECT CAST('abc' AS numeric(18, 2))")
    assert duckdb.sql("SELECT sum(x) FROM (SELECT 0.1::DOUBLE AS x FROM range(10))").fetchall()[0][0] == 1.0
    start = datetime(2026, 1, 5, 10)
    lines = [Line("D1", "dimes", start, Decimal("0.10"), "paid", None, None, None, None)] * 10
    lines += [Line("O1", "dollar", start, Decimal("1.00"), "paid", None, None, None, None)]
    load_postgres(pg_url, lines, table="dimes")
    rows = score_on_engine(pg_url, "dimes", load_rules()).customers
    assert rows["monetary"].to_list() == [1.0, 1.0] and rows["m_score"].n_unique() == 1


def test_postgres_refuses_an_unreadable_amount_without_quoting_it(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS texts")
        con.execute(
            "CREATE TABLE texts AS SELECT 'A1' AS order_id, 'c1' AS customer_id, "
            "TIMESTAMP '2026-01-01' AS order_ts, '13812345678abc' AS amount"
        )
    with pytest.raises(DataError, match="could not read the order lines") as caught:
        score_on_engine(
            pg_url,
            "texts",
            load_rules(),
            maps=["status=", "refund_amount=", "customer_name=", "phone=", "email="],
        )
    assert "13812345678" not in str(caught.value)


def test_scores_into_a_postgres_table_replace_the_old_ones(pg_url: str, tmp_path: Path) -> None:
    lines = generate_lines(7, 30)
    load_postgres(pg_url, lines)
    expected = rfm_scores(lines, tmp_path, load_rules()).customers
    for _ in range(2):  # the second run replaces the first, in one transaction
        assert score_into_table(pg_url, "order_lines", "public.rfm_scores", load_rules()) == expected.height
    import psycopg

    with psycopg.connect(pg_url) as con:
        cursor = con.execute("SELECT customer_id, tier, monetary FROM public.rfm_scores ORDER BY customer_id")
        stored = [(c, t, float(m)) for c, t, m in cursor.fetchall()]
    assert stored == list(zip(*(expected[c].to_list() for c in ("customer_id", "tier", "monetary"))))


def test_cli_scores_on_postgres_byte_for_byte_as_rfm_score(pg_url: str, rfm, tmp_path: Path) -> None:
    """`rfm score --engine URL --table T -o FILE` writes the very bytes `rfm score FILE -o FILE` does."""
    lines = generate_lines(11, 50)
    load_postgres(pg_url, lines)
    csv_path = write_canonical_csv(lines, tmp_path / "orders.csv")
    for fmt in ("csv", "parquet"):
        here = rfm("score", csv_path, "-o", f"here.{fmt}")
        there = rfm("score", "--engine", pg_url, "--table", "order_lines", "-o", f"there.{fmt}")
        assert here.returncode == 0 and there.returncode == 0, there.stderr
        assert (tmp_path / f"there.{fmt}").read_bytes() == (tmp_path / f"here.{fmt}").read_bytes()
    piped = rfm("score", "--engine", pg_url, "--table", "order_lines", "-o", "-")
    assert piped.stdout == (tmp_path / "here.csv").read_text(encoding="utf-8")


def test_cli_engine_errors_follow_the_contract(pg_url: str, rfm, assert_cli_error) -> None:
    assert "no column" in assert_cli_error(
        rfm("score", "--engine", pg_url, "--table", "order_lines", "--map", "order_ts=paid_at"), 2
    )
    assert "cannot read table" in assert_cli_error(rfm("score", "--engine", pg_url, "--table", "nowhere"), 66)
    assert "--table" in assert_cli_error(rfm("score", "--engine", pg_url), 2)
    assert "not an engine URL" in assert_cli_error(rfm("score", "--engine", "mysql://x", "--table", "t"), 2)
    refused = assert_cli_error(
        rfm("score", "--engine", "postgresql://nobody:secret@127.0.0.1:1/x", "--table", "t"), 66
    )
    assert "secret" not in refused
