"""`rfm export --from-scores FILE`: scores computed elsewhere (here by the plan on a DuckDB engine)
feed the same list writers: the folder it writes is byte for byte the one `rfm export` writes from
the database, channels, suppression list and manifest included. A scores file that is not what
rfm score writes, or that other rules scored, is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from plan_support import generate_lines, lines_frame, write_canonical_csv

from rfm_cli.core.errors import DataError
from rfm_cli.core.plan_results import money_as_float, read_scores
from rfm_cli.core.rules import load_rules

CHANNELS = "csv,sms,meta,coupon"


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def engine_scores(rfm, tmp_path: Path) -> tuple[Path, Path]:
    """(the canonical CSV, scores.parquet from the plan on a DuckDB engine holding the same lines)."""
    lines = generate_lines(21, 60)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    data = lines_frame(lines)  # noqa: F841 - read by name below
    con.execute("CREATE TABLE order_lines AS SELECT * FROM data")
    con.close()
    done = rfm("score", "--engine", f"duckdb:{tmp_path / 'warehouse.duckdb'}", "--table", "order_lines",
               "-o", "scores.parquet")
    assert done.returncode == 0, done.stderr
    return write_canonical_csv(lines, tmp_path / "orders.csv"), tmp_path / "scores.parquet"


def test_lists_from_scores_are_the_lists_from_the_database(rfm, tmp_path: Path, engine_scores) -> None:
    orders, scores = engine_scores
    phone = pl.read_parquet(scores).drop_nulls("phone")["phone"][0]
    for db in ("here.duckdb", "there.duckdb"):  # the same opt-out in both databases
        assert rfm("--db", db, "suppress", "add", phone).returncode == 0
    assert rfm("--db", "here.duckdb", "import", orders).returncode == 0
    here = rfm("--db", "here.duckdb", "export", "--out-dir", "here", "--channel", CHANNELS)
    there = rfm("--db", "there.duckdb", "export", "--from-scores", scores, "--out-dir", "there",
                "--channel", CHANNELS)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    expected = _folder_bytes(tmp_path / "here")
    assert _folder_bytes(tmp_path / "there") == expected
    assert b"suppression list" in expected["manifest.json"]  # the opt-out was applied in both
    # and a CSV of the scores gives the same folder as the Parquet file
    assert rfm("score", orders, "-o", "scores.csv").returncode == 0
    again = rfm("--db", "there.duckdb", "export", "--from-scores", "scores.csv", "--out-dir", "again",
                "--channel", CHANNELS)
    assert again.returncode == 0, again.stderr
    assert _folder_bytes(tmp_path / "again") == expected


def test_scores_need_no_database_and_stream_one_list(rfm, tmp_path: Path, engine_scores) -> None:
    orders, scores = engine_scores
    assert rfm("--db", "db.duckdb", "import", orders).returncode == 0
    from_db = rfm("--db", "db.duckdb", "export", "--tier", "dormant", "--channel", "sms", "-o", "-")
    from_file = rfm("--db", "missing.duckdb", "export", "--from-scores", scores, "--tier", "dormant",
                    "--channel", "sms", "-o", "-")
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == from_db.stdout and from_file.stdout.count("\n") > 1
    assert not (tmp_path / "missing.duckdb").exists()


def _rewrite(scores: Path, path: Path, change) -> Path:
    change(pl.read_parquet(scores)).write_csv(path)
    return path


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda f: f.drop("tier"), "no column 'tier'"),
    (lambda f: f.with_columns(monetary=pl.col("monetary").cast(pl.String) + "5"), "at most 2 decimals"),
    (lambda f: f.with_columns(tier=pl.lit("diamond")), "the rules in force"),
    (lambda f: f.with_columns(rfm_code=pl.lit("999")), "rfm_code"),
    (lambda f: pl.concat([f, f.head(1)]), "appears twice"),
    (lambda f: f.with_columns(recency_days=pl.col("recency_days") + pl.int_range(pl.len())),
     "different as-of dates"),
])
def test_a_scores_file_rfm_did_not_write_is_refused(rfm, assert_cli_error, tmp_path: Path, engine_scores,
                                                     change, fragment: str) -> None:
    _, scores = engine_scores
    bad = _rewrite(scores, tmp_path / "bad.csv", change)
    line = assert_cli_error(rfm("export", "--from-scores", bad, "--out-dir", "lists"), 65)
    assert fragment in line
    assert not (tmp_path / "lists").exists()


def test_scores_from_other_rules_are_refused(rfm, assert_cli_error, tmp_path: Path, engine_scores) -> None:
    _, scores = engine_scores
    line = assert_cli_error(rfm("export", "--from-scores", scores, "--scheme", "classic", "--out-dir", "x"),
                            65)
    assert "pass the --rules and --scheme the scores were computed with" in line


def test_money_is_read_as_text_never_truncated() -> None:
    """Polars casts '12.345' to 12.34 (truncating; engines round to 12.35): a third decimal is an
    error, not a guess; trailing zeros and whole numbers are money."""
    assert str(pl.Series(["12.345"]).cast(pl.Decimal(18, 2)).to_list()[0]) == "12.34"
    assert (money_as_float(pl.Series(["12.30", "7", "-0.50", "12.3400"]), "x").to_list()
            == [12.3, 7.0, -0.5, 12.34])
    with pytest.raises(DataError, match="at most 2 decimals"):
        money_as_float(pl.Series(["12.345"]), "x")
    with pytest.raises(DataError, match="at most 2 decimals"):
        money_as_float(pl.Series(["12.345"]).cast(pl.Decimal(18, 3)), "x")


def test_read_scores_gives_rfms_own_result(tmp_path: Path, engine_scores) -> None:
    _, scores = engine_scores
    result = read_scores(scores, load_rules())
    assert result.customers.schema == pl.read_parquet(scores).schema
    assert result.cut_points.height == 15 and result.summary()["customers"].sum() == result.customers.height
