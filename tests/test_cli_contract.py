"""The command-line contract (BRIEF §6), tested on the real program in subprocesses.

- Every error is exit code + empty stdout + one stderr line `rfm: error: <what>; <fix>`, no traceback.
  (The input-data error paths — empty, header-only, missing files, missing columns, rejects,
  --as-of, --scheme — are in test_edge_cases.py with the same `assert_cli_error` check.)
- stdout carries the data and nothing else; every format reads back with the same rows.
- Output files appear whole or not at all; a failed run leaves the folder and the database as they were.
- The lock, --wait, pipes closed early, SIGINT, and `--help` / `--version` without heavy imports.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rfm_cli.core.scoring import OUTPUT_COLUMNS

HEADER = "order_id,customer_id,order_date,amount,status,refund_amount"
TIER_FILES = {"tiers/diamond.csv", "tiers/gold.csv", "tiers/potential.csv", "tiers/dormant.csv",
              "summary.csv", "cut_points.csv"}

# As of 2026-06-30: every tier is represented.
SHOP_ROWS = [
    # DIA: six recent orders, biggest spender -> diamond
    *[(f"D{i}", "DIA", f"2026-06-{10 + i:02d} 10:00:00", "500.00", "paid", "") for i in range(6)],
    # GLD: three recent small orders -> gold
    *[(f"G{i}", "GLD", f"2026-06-{20 + i:02d} 10:00:00", "10.00", "paid", "") for i in range(3)],
    # POT: one recent order, with a partial refund -> potential
    ("P0", "POT", "2026-06-30 10:00:00", "80.00", "paid", "20.00"),
    # ZZZ: one order long ago -> dormant
    ("Z0", "ZZZ", "2025-09-01 10:00:00", "70.00", "completed", ""),
    # CAN: only a cancelled order -> not scored
    ("C0", "CAN", "2026-06-01 10:00:00", "99.00", "cancelled", ""),
    # Names with commas and quotes, and a multi-line order
    ("M0", "MUL", "2026-06-15 10:00:00", "30.00", "paid", ""),
    ("M0", "MUL", "2026-06-15 10:00:00", "25.00", "paid", ""),
]
EXPECTED_TIERS = {"DIA": "diamond", "GLD": "gold", "POT": "potential", "ZZZ": "dormant", "MUL": "potential"}


@pytest.fixture
def shop(write_orders) -> Path:
    return write_orders("shop.csv", SHOP_ROWS)


@pytest.fixture
def bad_rows(write_orders) -> Path:
    """Two unreadable rows out of three: beyond any default --max-rejects."""
    return write_orders(
        "bad.csv",
        [
            ("B1", "X1", "2026-06-01", "10.00", "paid", ""),
            ("B2", "X2", "not a date", "10.00", "paid", ""),
            ("B3", "X3", "2026-06-02", "ten", "paid", ""),
        ],
    )


@pytest.fixture
def more_orders(write_orders) -> Path:
    return write_orders(
        "more.csv",
        [
            ("N1", "NEW", "2026-07-01 10:00:00", "45.00", "paid", ""),
            ("N2", "DIA", "2026-07-02 10:00:00", "5.00", "paid", ""),
        ],
    )


@pytest.fixture
def rules_files(tmp_path: Path) -> dict[str, Path]:
    texts = {
        "good": '[monetary]\nmethod = "fixed"\nbreakpoints = [100, 300, 1000, 3000]\n'
        '[[tiers]]\nname = "vip"\nwhen = "m_score == 5 and r_score >= 3"\n'
        '[[tiers]]\nname = "everyone"\nwhen = "true"\n',
        "unknown_field": '[[tiers]]\nname = "vip"\nwhen = "lifetime_value > 1000"\n'
        '[[tiers]]\nname = "everyone"\nwhen = "true"\n',
        "gap": '[[tiers]]\nname = "high"\nwhen = "m_score >= 3"\n'
        '[[tiers]]\nname = "low"\nwhen = "m_score <= 1"\n',
        "not_toml": '[[tiers]\nname = "x"\n',
        "unknown_key": 'colour = "blue"\n[[tiers]]\nname = "all"\nwhen = "true"\n',
        "bad_breakpoints": '[recency]\nmethod = "fixed"\nbreakpoints = [30, 20, 90, 180]\n',
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = tmp_path / f"{name}.toml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def db_snapshot(db: Path) -> dict[str, list[str]]:
    """Every table's rows, sorted: equal snapshots mean an unchanged database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            ).fetchall()
        ]
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
    finally:
        con.close()


def folder_state(folder: Path) -> dict[str, bytes | None]:
    """Every path under the folder: file bytes, or None for a directory."""
    return {
        p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def fill_folder(folder: Path) -> dict[str, bytes | None]:
    folder.mkdir()
    for name in sorted(TIER_FILES):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(f"previous {name}\n", encoding="utf-8")
    (folder / "notes.txt").write_text("mine, keep\n", encoding="utf-8")
    return folder_state(folder)


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(".rfm-tmp-")]


# ------------------------------------------------------------------ every error path: one line, right code


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["--bogus"], 2, id="unknown-global-option"),
        pytest.param(["score", "shop.csv", "--bogus"], 2, id="unknown-command-option"),
        pytest.param(["frobnicate"], 2, id="unknown-command"),
        pytest.param(["import"], 2, id="missing-argument"),
        pytest.param(["--wait", "soon", "score", "shop.csv", "-o", "-"], 2, id="wait-not-a-number"),
        pytest.param(["score", "shop.csv", "--map", "amount", "-o", "-"], 2, id="map-not-field-eq-header"),
        pytest.param(["score", "shop.csv", "--map", "colour=amount", "-o", "-"], 2, id="map-unknown-field"),
        pytest.param(["score", "shop.csv", "--map", "amount=Total", "-o", "-"], 2, id="map-unknown-header"),
        *[
            pytest.param(
                *case,
                id=name,
            )
            for name, case, where in [
                ("export-without-out-dir", (["export"], 2), "commands/export.py command()"),
                (
                    "export-bad-lang",
                    (["export", "--out-dir", "out", "--lang", "fr"], 2),
                    "core/options.py ListOptions",
                ),
                (
                    "export-batch-size-0",
                    (["export", "--out-dir", "out", "--batch-size", "0"], 2),
                    "core/options.py ListOptions",
                ),
                (
                    "rules-bad-breakpoints",
                    (["rules", "--check", "bad_breakpoints.toml"], 78),
                    "core/rules.py _dimension()",
                ),
                (
                    "suppress-bad-kind",
                    (["suppress", "add", "13800000000", "--kind", "pager"], 2),
                    "core/suppression.py classify()",
                ),
            ]
        ],
        pytest.param(["export", "--out-dir", "out", "--format", "yaml"], 2, id="export-bad-format"),
        pytest.param(["explain", "DIA", "--format", "yaml"], 2, id="explain-bad-format"),
        pytest.param(["rules", "--format", "yaml"], 2, id="rules-bad-format"),
        pytest.param(["inspect", "shop.csv", "--format", "yaml"], 2, id="inspect-bad-format"),
        pytest.param(["score", "shop.csv", "--scheme", "fancy", "-o", "-"], 78, id="unknown-scheme"),
        pytest.param(
            ["score", "shop.csv", "--rules", "unknown_field.toml", "-o", "-"], 78, id="rules-unknown-field"
        ),
        pytest.param(["score", "shop.csv", "--rules", "gap.toml", "-o", "-"], 78, id="rules-gap"),
        pytest.param(["score", "shop.csv", "--rules", "not_toml.toml", "-o", "-"], 78, id="rules-not-toml"),
        pytest.param(
            ["score", "shop.csv", "--rules", "unknown_key.toml", "-o", "-"], 78, id="rules-unknown-key"
        ),
        pytest.param(
            ["score", "shop.csv", "--rules", "nowhere.toml", "-o", "-"], 78, id="rules-missing-file"
        ),
        pytest.param(["run", "shop.csv", "--out-dir", "out", "--rules", "gap.toml"], 78, id="run-rules-gap"),
        pytest.param(["rules", "--check", "unknown_field.toml"], 78, id="rules-check-unknown-field"),
        pytest.param(["rules", "--check", "gap.toml"], 78, id="rules-check-gap"),
        pytest.param(["rules", "--check", "not_toml.toml"], 78, id="rules-check-not-toml"),
        pytest.param(["score", "-o", "-"], 66, id="score-missing-database"),
        pytest.param(["export", "--out-dir", "out"], 66, id="export-missing-database"),
        pytest.param(["explain", "DIA"], 66, id="explain-missing-database"),
        pytest.param(["score", "missing.csv", "-o", "-"], 66, id="missing-input"),
        pytest.param(["explain", "NOBODY", "shop.csv"], 2, id="explain-unknown-customer"),
        pytest.param(["import", "bad.csv"], 65, id="too-many-rejects"),
        pytest.param(
            ["--quiet", "score", "shop.csv", "-o", "a_file/scores.csv"], 73, id="output-under-a-file"
        ),
        pytest.param(["run", "shop.csv", "--out-dir", "a_file/segments"], 73, id="out-dir-under-a-file"),
        pytest.param(
            ["--db", "no_such_folder/shop.duckdb", "import", "shop.csv"], 73, id="db-folder-missing"
        ),
    ],
)
def test_error_is_one_line_with_a_fix(
    args, code, tmp_path, rfm, shop, bad_rows, rules_files, assert_cli_error
) -> None:
    (tmp_path / "a_file").write_text("a file, not a folder\n")
    if "--db" not in args:
        args = ["--db", "shop.duckdb", *args]
    assert_cli_error(rfm(*args), code)
    assert not (tmp_path / "shop.duckdb").exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["explain", "NOBODY"], 2, id="explain-unknown-customer"),
        pytest.param(["export", "--out-dir", "out", "--tier", "platinum"], 2, id="export-unknown-tier"),
        pytest.param(["score", "--as-of", "someday", "-o", "-"], 2, id="score-bad-as-of"),
        pytest.param(["--quiet", "score", "--format", "yaml", "-o", "-"], 2, id="score-bad-format"),
        pytest.param(
            ["export", "-o", "-"],
            2,
            id="export-stream-two-tiers",
        ),
    ],
)
def test_error_against_a_database_is_one_line_and_changes_nothing(
    args, code, tmp_path: Path, rfm, shop, assert_cli_error
) -> None:
    assert rfm("--db", "shop.duckdb", "import", shop).returncode == 0
    before = db_snapshot(tmp_path / "shop.duckdb")
    assert_cli_error(rfm("--db", "shop.duckdb", *args), code)
    assert db_snapshot(tmp_path / "shop.duckdb") == before
    assert not (tmp_path / "out").exists()


def test_config_errors_name_the_file(tmp_path: Path, rfm, shop, assert_cli_error) -> None:
    (tmp_path / "rfm.toml").write_text('colour = "blue"\n', encoding="utf-8")
    line = assert_cli_error(rfm("score", "shop.csv", "-o", "-"), 78)
    assert "rfm.toml" in line and "colour" in line
    (tmp_path / "rfm.toml").unlink()
    line = assert_cli_error(
        rfm("score", "shop.csv", "-o", "-", env={"RFM_CONFIG": str(tmp_path / "no.toml")}), 78
    )
    assert "no.toml" in line


def test_rules_errors_name_the_problem(rfm, rules_files, assert_cli_error) -> None:
    assert "lifetime_value" in assert_cli_error(rfm("rules", "--check", rules_files["unknown_field"]), 78)
    gap = assert_cli_error(rfm("rules", "--check", rules_files["gap"]), 78)
    assert "m_score=2" in gap and "gap.toml" in gap


def test_rules_check_accepts_a_good_file(rfm, rules_files) -> None:
    result = rfm("rules", "--check", rules_files["good"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "valid" in result.stderr


def test_no_arguments_is_a_clean_usage_error(rfm, assert_cli_error) -> None:
    line = assert_cli_error(rfm(), 2)
    assert line.split(";")[0] != "rfm: error: "


def test_bad_format_is_refused_before_any_work(rfm, shop, assert_cli_error) -> None:
    assert_cli_error(rfm("score", shop, "--format", "parqet", "-o", "-"), 2)


# ------------------------------------------------------------------ stdout is data


def test_score_to_stdout_is_the_table_and_nothing_else(tmp_path: Path, rfm, shop) -> None:
    result = rfm("score", shop, "-o", "-")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split(",") == [
        "customer_id",
        "customer_name",
        "phone",
        "email",
        "first_order_at",
        "last_order_at",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_code",
        "tier",
    ]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["customer_id"]: r["tier"] for r in rows} == EXPECTED_TIERS
    assert {r["customer_id"]: r["monetary"] for r in rows}["POT"] == "60.00"
    assert "Traceback" not in result.stderr
    # scoring files happens in memory: no database appears
    assert not list(tmp_path.glob("*.duckdb*"))


def test_score_to_a_file_writes_it_and_leaves_stdout_empty(tmp_path: Path, rfm, shop) -> None:
    to_stdout = rfm("score", shop, "-o", "-")
    to_file = rfm("score", shop, "-o", "scores.csv")
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == ""
    assert (tmp_path / "scores.csv").read_text(encoding="utf-8") == to_stdout.stdout
    assert no_temp_files(tmp_path)


def test_score_to_a_fifo_streams_into_it_and_leaves_it_a_fifo(tmp_path: Path, rfm, shop) -> None:
    """`-o /dev/null` or a named pipe is written in place, like stdout: renaming a temporary file
    over it (as regular files are written) would replace the device itself with a file."""
    fifo = tmp_path / "scores.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = rfm("score", shop, "-o", fifo, "--format", "csv")
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the pipe was replaced by a regular file"
    assert received and received[0].decode("utf-8") == rfm("score", shop, "-o", "-").stdout
    assert no_temp_files(tmp_path)


def _normalised(frame: pl.DataFrame) -> list[tuple]:
    return [
        (
            r["customer_id"],
            int(r["recency_days"]),
            int(r["frequency"]),
            round(float(r["monetary"]), 2),
            int(r["r_score"]),
            int(r["f_score"]),
            int(r["m_score"]),
            str(r["rfm_code"]),
            r["tier"],
            str(r["last_order_at"])[:19],
        )
        for r in frame.iter_rows(named=True)
    ]


@pytest.mark.parametrize("fmt", ["json", "parquet", "xlsx"])
def test_every_format_reads_back_with_the_same_rows(fmt: str, tmp_path: Path, rfm, shop) -> None:
    reference = pl.read_csv(io.StringIO(rfm("score", shop, "-o", "-").stdout), infer_schema=False)
    by_name = rfm("score", shop, "-o", f"scores.{fmt}")
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == ""
    by_flag = rfm("score", shop, "--format", fmt, "-o", "-")
    assert by_flag.returncode == 0, by_flag.stderr
    reader = {"json": pl.read_json, "parquet": pl.read_parquet, "xlsx": pl.read_excel}[fmt]
    for source in (tmp_path / f"scores.{fmt}", io.BytesIO(by_flag.stdout_bytes)):
        frame = reader(source)
        assert frame.columns == OUTPUT_COLUMNS
        assert _normalised(frame) == _normalised(reference)


def test_run_writes_one_list_per_tier_plus_summary_and_cut_points(tmp_path: Path, rfm, shop) -> None:
    result = rfm("--db", "shop.duckdb", "run", shop, "--out-dir", "segments")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    out = tmp_path / "segments"
    assert TIER_FILES <= {p.relative_to(out).as_posix() for p in out.rglob("*")}
    listed = {}
    for tier in ("diamond", "gold", "potential", "dormant"):
        for row in csv.DictReader(io.StringIO((out / "tiers" / f"{tier}.csv").read_text(encoding="utf-8"))):
            assert row["tier"] == tier
            listed[row["customer_id"]] = tier
    assert listed == EXPECTED_TIERS
    summary = {
        r["tier"]: int(r["customers"]) for r in csv.DictReader(io.StringIO((out / "summary.csv").read_text()))
    }
    assert summary == {"diamond": 1, "gold": 1, "potential": 2, "dormant": 1}
    assert no_temp_files(out)


def test_export_one_tier_writes_only_that_send_list_beside_the_whole_state(tmp_path: Path, rfm, shop) -> None:
    assert rfm("--db", "shop.duckdb", "import", shop).returncode == 0
    result = rfm("--db", "shop.duckdb", "export", "--out-dir", "winback", "--tier", "dormant")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    written = {p.relative_to(tmp_path / "winback").as_posix() for p in (tmp_path / "winback").rglob("*.csv")}
    assert written == TIER_FILES | {"send/csv/dormant.csv"}
    rows = list(csv.DictReader(io.StringIO(
        (tmp_path / "winback" / "send" / "csv" / "dormant.csv").read_text())))
    assert [(r["customer_id"], r["tier"]) for r in rows] == [("ZZZ", "dormant")]


# ------------------------------------------------------------------ whole or not at all


@pytest.mark.parametrize("failure", ["bad-rules", "too-many-rejects", "missing-input"])
def test_a_failed_run_leaves_the_folder_and_database_as_they_were(
    failure: str, tmp_path: Path, rfm, shop, bad_rows, more_orders, rules_files
) -> None:
    assert rfm("--db", "shop.duckdb", "run", shop, "--out-dir", "elsewhere").returncode == 0
    before_db = db_snapshot(tmp_path / "shop.duckdb")
    before = fill_folder(tmp_path / "segments")
    args = {
        "bad-rules": [more_orders, "--rules", rules_files["gap"]],
        "too-many-rejects": [more_orders, bad_rows],
        "missing-input": [more_orders, "missing.csv"],
    }[failure]
    result = rfm("--db", "shop.duckdb", "run", *args, "--out-dir", "segments")
    assert result.returncode in (65, 66, 78), result.stderr
    assert folder_state(tmp_path / "segments") == before
    assert db_snapshot(tmp_path / "shop.duckdb") == before_db


def test_a_failed_score_leaves_the_output_file_as_it_was(tmp_path: Path, rfm, bad_rows) -> None:
    (tmp_path / "scores.csv").write_text("yesterday's scores\n")
    assert rfm("score", bad_rows, "-o", "scores.csv").returncode == 65
    assert (tmp_path / "scores.csv").read_text() == "yesterday's scores\n"
    assert no_temp_files(tmp_path)


@pytest.mark.parametrize("command", ["run", "export"])
def test_unwritable_out_dir_exits_73_and_leaves_the_database(
    command: str, tmp_path: Path, rfm, shop, more_orders, assert_cli_error
) -> None:
    assert rfm("--db", "shop.duckdb", "import", shop).returncode == 0
    before = db_snapshot(tmp_path / "shop.duckdb")
    scores_before = rfm("--db", "shop.duckdb", "score", "-o", "-").stdout
    (tmp_path / "a_file").write_text("not a folder\n")
    inputs = [more_orders] if command == "run" else []
    line = assert_cli_error(
        rfm("--db", "shop.duckdb", "--quiet", command, *inputs, "--out-dir", "a_file/out"), 73
    )
    assert "a_file" in line
    assert db_snapshot(tmp_path / "shop.duckdb") == before
    assert rfm("--db", "shop.duckdb", "score", "-o", "-").stdout == scores_before


def test_unwritable_output_file_exits_73(tmp_path: Path, rfm, shop, assert_cli_error) -> None:
    assert rfm("--db", "shop.duckdb", "import", shop).returncode == 0
    before = db_snapshot(tmp_path / "shop.duckdb")
    (tmp_path / "a_file").write_text("not a folder\n")
    line = assert_cli_error(rfm("--db", "shop.duckdb", "--quiet", "score", "-o", "a_file/scores.csv"), 73)
    assert "a_file" in line
    assert db_snapshot(tmp_path / "shop.duckdb") == before


def test_a_list_that_cannot_be_published_leaves_the_folder_as_it_was(tmp_path: Path, rfm, shop) -> None:
    before = fill_folder(tmp_path / "segments")
    (tmp_path / "segments" / "tiers" / "gold.csv").unlink()
    (tmp_path / "segments" / "tiers" / "gold.csv").mkdir()  # a folder where a list must go: the rename fails
    before = folder_state(tmp_path / "segments")
    result = rfm("--db", "shop.duckdb", "run", shop, "--out-dir", "segments")
    assert result.returncode == 73, result.stderr
    assert no_temp_files(tmp_path / "segments")
    assert folder_state(tmp_path / "segments") == before


def test_a_list_that_cannot_be_published_leaves_the_database_as_it_was(
    tmp_path: Path, rfm, shop, more_orders
) -> None:
    assert rfm("--db", "shop.duckdb", "import", shop).returncode == 0
    before = db_snapshot(tmp_path / "shop.duckdb")
    (tmp_path / "segments" / "tiers" / "gold.csv").mkdir(parents=True)
    result = rfm("--db", "shop.duckdb", "run", more_orders, "--out-dir", "segments")
    assert result.returncode == 73, result.stderr
    assert db_snapshot(tmp_path / "shop.duckdb") == before


def test_failed_import_into_a_new_database_leaves_no_database(tmp_path: Path, rfm, shop, bad_rows) -> None:
    result = rfm("--db", "new.duckdb", "import", shop, bad_rows)
    assert result.returncode == 65, result.stderr
    leftovers = {p.name for p in tmp_path.glob("new.duckdb*")}
    assert leftovers <= {"new.duckdb.lock"}, leftovers


def test_failed_import_into_an_existing_database_changes_nothing(
    tmp_path: Path, rfm, shop, more_orders, bad_rows
) -> None:
    assert rfm("--db", "shop.duckdb", "import", shop).returncode == 0
    before = db_snapshot(tmp_path / "shop.duckdb")
    # the good file comes first: all files land in one transaction, or none
    result = rfm("--db", "shop.duckdb", "import", more_orders, bad_rows)
    assert result.returncode == 65, result.stderr
    assert db_snapshot(tmp_path / "shop.duckdb") == before


# ------------------------------------------------------------------ the lock


class HeldLock:
    """Hold `<db>.lock` the way another rfm run would."""

    def __init__(self, db: Path) -> None:
        self.fd = os.open(f"{db}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, b"process 999 (test)", 0)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def held_lock(tmp_path: Path):
    lock = HeldLock(tmp_path / "shop.duckdb")
    yield lock
    lock.release()


def test_a_held_lock_gives_75_naming_the_holder(rfm, shop, held_lock, assert_cli_error) -> None:
    line = assert_cli_error(rfm("--db", "shop.duckdb", "import", shop), 75)
    assert "process 999 (test)" in line and "--wait" in line


def test_wait_gives_up_after_the_given_time(rfm, shop, held_lock, assert_cli_error) -> None:
    started = time.monotonic()
    line = assert_cli_error(rfm("--db", "shop.duckdb", "--wait", "1", "import", shop), 75)
    assert time.monotonic() - started >= 1.0
    assert "process 999 (test)" in line


def test_wait_takes_the_lock_once_it_is_released(tmp_path: Path, rfm, shop, held_lock) -> None:
    releaser = threading.Timer(2.0, held_lock.release)
    releaser.start()
    started = time.monotonic()
    try:
        result = rfm("--db", "shop.duckdb", "--wait", "10", "import", shop)
    finally:
        releaser.join()
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 2.0  # it waited for the holder, not around it
    assert db_snapshot(tmp_path / "shop.duckdb")["rfm_orders"]


# ------------------------------------------------------------------ pipes, signals, imports


def _write_orders(path: Path, orders: int, customers: int, seed: int) -> Path:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER + "\n")
        for i in range(orders):
            fh.write(
                f"O{i},C{rnd.randrange(customers)},2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} "
                f"10:00:00,{rnd.randint(1, 50000) / 100:.2f},paid,\n"
            )
    return path


@pytest.fixture(scope="module")
def many_orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 orders: the CSV of their scores is far bigger than a pipe's buffer."""
    return _write_orders(tmp_path_factory.mktemp("pipe") / "orders.csv", 20_000, 15_000, seed=1)


@pytest.mark.parametrize(
    ("fmt", "reader"), [("csv", "head -1"), ("json", "head -c 100"), ("parquet", "head -c 100")]
)
def test_a_closed_pipe_ends_quietly(fmt: str, reader: str, many_orders: Path, tmp_path: Path) -> None:
    command = (
        f'({sys.executable} -m rfm_cli score "{many_orders}" --format {fmt} -o - 2>err.txt; '
        f"echo $? > rc.txt) | {reader}"
    )
    done = subprocess.run(command, check=False, shell=True, cwd=tmp_path, capture_output=True, timeout=120)
    err = (tmp_path / "err.txt").read_text(encoding="utf-8")
    if fmt == "csv":
        assert done.stdout.decode() == ",".join(OUTPUT_COLUMNS) + "\n"
    assert "Traceback" not in err and "Broken pipe" not in err and "rfm: error" not in err, err
    assert (tmp_path / "rc.txt").read_text().strip() == "0"


def test_heavy_libraries_stay_unloaded_for_help_and_version() -> None:
    probe = """
import json, sys
from rfm_cli.cli import main
seen = {}
for argv in (["--help"], ["--version"], ["score", "--help"], ["rules", "--help"]):
    try:
        main(argv)
    except SystemExit as exc:
        seen[" ".join(argv)] = exc.code
# rich too: its help panels (rich.markdown, rich.traceback, rendering) were over half of `rfm --help`.
heavy = sorted(m for m in ("duckdb", "polars", "pyarrow", "rich") if m in sys.modules)
sys.stderr.write("RESULT " + json.dumps({"codes": seen, "heavy": heavy}) + "\\n")
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=60
    )
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("RESULT ")]
    result = json.loads(line[len("RESULT ") :])
    assert set(result["codes"].values()) == {0}, result
    assert result["heavy"] == [], result
    assert "rfm " in done.stdout  # --version printed


def test_help_lists_every_exit_code(rfm) -> None:
    result = rfm("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for code, meaning in [
        (0, "success"),
        (1, "internal error"),
        (2, "usage error"),
        (65, "input data rejected"),
        (66, "input file missing or unreadable"),
        (73, "output cannot be created"),
        (74, "I/O error"),
        (75, "database busy"),
        (78, "configuration error"),
        (130, "interrupted"),
    ]:
        assert f"{code} {meaning}" in text, (code, meaning)


def test_help_shows_documented_defaults(rfm) -> None:
    assert "RFM_DB" in rfm("--help").stdout
    score_help = " ".join(rfm("score", "--help").stdout.split())
    assert "default: 1%" in score_help and "default: tiers" in score_help


@pytest.fixture(scope="module")
def interrupted_import(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Interrupt (SIGINT) a 300k-row import into an existing database, once, and record what happened."""
    work = tmp_path_factory.mktemp("sigint")
    small = _write_orders(work / "small.csv", 50, 20, seed=3)
    big = _write_orders(work / "big.csv", 300_000, 50_000, seed=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFM_")}
    base = [sys.executable, "-m", "rfm_cli", "--db", str(work / "shop.duckdb")]
    assert (
        subprocess.run(
            [*base, "import", str(small)], check=False, capture_output=True, timeout=60, env=env
        ).returncode
        == 0
    )
    before = db_snapshot(work / "shop.duckdb")
    lock = work / "shop.duckdb.lock"
    mtime = lock.stat().st_mtime_ns
    proc = subprocess.Popen(
        [*base, "import", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    deadline = time.monotonic() + 30
    # the lock file is rewritten (holder line) once the run has started work
    while lock.stat().st_mtime_ns == mtime and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.6)  # well inside the import's big query, which takes over a second
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    return {
        "code": proc.returncode,
        "stdout": stdout.decode(),
        "stderr": stderr.decode(),
        "before": before,
        "after": db_snapshot(work / "shop.duckdb"),
        "big_rows": 300_000,
    }


def test_sigint_leaves_the_database_consistent(interrupted_import: dict) -> None:
    run = interrupted_import
    assert "Traceback" not in run["stderr"]
    assert run["stdout"] == ""
    if run["code"] == 0:  # it finished before the signal: everything landed
        assert len(run["after"]["rfm_imports"]) == 2
    else:  # interrupted: nothing of the big file landed
        assert run["after"] == run["before"]


def test_sigint_exits_130(interrupted_import: dict) -> None:
    if interrupted_import["code"] == 0:
        pytest.skip("the import finished before the signal arrived")
    assert interrupted_import["code"] == 130, interrupted_import["stderr"]


def _wait_until_it_opens(proc: subprocess.Popen, path: Path, timeout: float = 30) -> None:
    """Block until the process has `path` open (Linux /proc), or a fixed pause elsewhere."""
    fds = Path(f"/proc/{proc.pid}/fd")
    if not fds.is_dir():
        time.sleep(3)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if any(os.path.realpath(fd) == str(path.resolve()) for fd in fds.iterdir()):
                return
        except OSError:
            pass  # an fd closed while we looked
        time.sleep(0.02)
    raise AssertionError(f"the process never opened {path}")


def test_sigint_while_waiting_for_the_lock_exits_130(tmp_path: Path, shop, held_lock) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFM_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rfm_cli", "--db", "shop.duckdb", "--wait", "60", "import", str(shop)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    _wait_until_it_opens(proc, tmp_path / "shop.duckdb.lock")
    time.sleep(0.3)  # it holds the lock file open and cannot get the lock: it is waiting
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stdout == b"" and b"Traceback" not in stderr
    assert not (tmp_path / "shop.duckdb").exists()


def test_stale_temp_files_of_dead_runs_are_swept_live_ones_kept(tmp_path: Path) -> None:
    import subprocess

    from rfm_cli.core.sinks import TMP_PREFIX, StagedFiles

    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs
    stale = tmp_path / f"{TMP_PREFIX}{dead.pid}-abc.csv"
    live = tmp_path / f"{TMP_PREFIX}{os.getpid()}-def.csv"
    other = tmp_path / "keep.csv"
    for path in (stale, live, other):
        path.write_text("x\n")
    with StagedFiles() as staged:
        staged.add_bytes(b"a\n", tmp_path / "list.csv")
    assert not stale.exists()
    assert live.exists() and other.exists() and (tmp_path / "list.csv").read_bytes() == b"a\n"


def test_memory_limit_and_wait_follow_the_one_precedence(tmp_path: Path, rfm, write_orders,
                                                         assert_cli_error) -> None:
    """flag > RFM_* > rfm.toml > default, for --memory-limit and --wait as for --db; and the flag is
    never written into the process environment (a notebook's next call would inherit it)."""
    orders = write_orders("o.csv", [("O1", "C1", "2026-01-01", "10.00", "paid", "")])
    (tmp_path / "rfm.toml").write_text('memory_limit = "lots"\nwait = 5\n', encoding="utf-8")
    line = assert_cli_error(rfm("score", orders, "-o", "-"), 78)
    assert "'lots'" in line and "rfm.toml" in line
    assert rfm("score", orders, "-o", "-", env={"RFM_MEMORY_LIMIT": "300MB"}).returncode == 0
    done = rfm("score", orders, "-o", "-", "--memory-limit", "256MB")
    assert done.returncode == 0, done.stderr
    assert "RFM_MEMORY_LIMIT" not in os.environ
    (tmp_path / "rfm.toml").write_text("wait = -1\n", encoding="utf-8")
    assert "'wait' is negative" in assert_cli_error(rfm("score", orders, "-o", "-"), 78)
    (tmp_path / "rfm.toml").write_text('wait = "soon"\n', encoding="utf-8")
    assert "'wait'" in assert_cli_error(rfm("score", orders, "-o", "-"), 78)


def test_memory_limit_option_is_checked_and_accepted(rfm, write_orders, assert_cli_error) -> None:
    orders = write_orders("o.csv", [("O1", "C1", "2026-01-01", "10.00", "paid", "")])
    line = assert_cli_error(rfm("--memory-limit", "lots", "score", orders, "-o", "-"), 78)
    assert "--memory-limit" in line and "4GB" in line
    done = rfm("--memory-limit", "256MB", "score", orders, "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith("C1,")
