"""rfm status and rfm imports list|rm: what the database holds, and taking one file's import back
with every order left as the other files that carried it say, and the totals rebuilt."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest

from rfm_cli.core.store import SCHEMA_VERSION, open_store

# Two overlapping nightly exports, as a shop backend writes them: B repeats O3 unchanged, refunds
# O2 in full (a later state of a stored order) and adds O4 and O5; a refund row of an order neither
# file holds (R9) is in both.
A_ROWS = [
    ("O1", "C1", "2026-05-01 10:00:00", "100.00", "paid", ""),
    ("O2", "C2", "2026-05-02 10:00:00", "80.00", "paid", ""),
    ("O3", "C3", "2026-05-03 10:00:00", "60.00", "paid", ""),
    ("R9", "C1", "2026-05-04 10:00:00", "-15.00", "paid", ""),
]
B_ROWS = [
    ("O2", "C2", "2026-05-02 10:00:00", "80.00", "paid", "80.00"),
    ("O3", "C3", "2026-05-03 10:00:00", "60.00", "paid", ""),
    ("O4", "C1", "2026-05-10 10:00:00", "40.00", "paid", ""),
    ("O5", "C4", "2026-05-11 10:00:00", "25.00", "paid", ""),
    ("R9", "C1", "2026-05-04 10:00:00", "-15.00", "paid", ""),
]


@pytest.fixture
def files(write_orders) -> tuple[Path, Path]:
    return write_orders("a.csv", A_ROWS), write_orders("b.csv", B_ROWS)


@pytest.fixture
def both(rfm, files) -> tuple[Path, Path]:
    a, b = files
    for path in (a, b):
        done = rfm("run", path, "--db", "shop.duckdb", "--out-dir", "lists", "--as-of", "2026-05-31",
                   "-q")
        assert done.returncode == 0, done.stderr
    return a, b


def _scores(rfm, *args: str) -> list[dict]:
    done = rfm("score", *args, "--as-of", "2026-05-31", "-o", "-")
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def _orders(db: Path) -> dict[str, tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT order_id, status, CAST(refund_amount AS VARCHAR), source_file FROM rfm_orders"
        ).fetchall()}


@pytest.mark.parametrize(("removed", "kept"), [("a.csv", "b.csv"), ("b.csv", "a.csv")])
def test_removing_one_file_leaves_the_database_as_if_only_the_other_was_imported(
        removed: str, kept: str, tmp_path: Path, rfm, both) -> None:
    done = rfm("imports", "rm", removed, "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    assert "customer totals rebuilt" in done.stderr
    assert _scores(rfm, "--db", "shop.duckdb") == _scores(rfm, tmp_path / kept)
    listed = rfm("imports", "list", "--db", "shop.duckdb")
    assert [r["source_file"] for r in csv.DictReader(io.StringIO(listed.stdout))] == [str(tmp_path / kept)]


def test_an_order_goes_back_to_the_state_of_the_other_file(tmp_path: Path, rfm, both) -> None:
    before = _orders(tmp_path / "shop.duckdb")
    assert before["O2"][:2] == ("counted", "80.00")  # b.csv's refund won
    assert rfm("imports", "rm", "b.csv", "--db", "shop.duckdb").returncode == 0
    after = _orders(tmp_path / "shop.duckdb")
    assert after["O2"] == ("counted", "0.00", str(tmp_path / "a.csv"))  # a.csv's state again
    assert after["O3"][2] == str(tmp_path / "a.csv")
    assert set(after) == {"O1", "O2", "O3"}


def test_an_order_and_a_refund_both_files_carried_stay(tmp_path: Path, rfm, both) -> None:
    assert rfm("imports", "rm", "1", "--db", "shop.duckdb").returncode == 0  # a.csv, by id
    after = _orders(tmp_path / "shop.duckdb")
    assert set(after) == {"O2", "O3", "O4", "O5"}
    assert after["O3"][2] == str(tmp_path / "b.csv")
    with duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True) as con:
        assert con.execute("SELECT order_id, source_file FROM rfm_refunds").fetchall() == [
            ("R9", str(tmp_path / "b.csv"))]


def test_a_removed_file_can_be_imported_again(tmp_path: Path, rfm, both) -> None:
    whole = _scores(rfm, "--db", "shop.duckdb")
    assert rfm("imports", "rm", "a.csv", "--db", "shop.duckdb").returncode == 0
    again = rfm("import", both[0], "--db", "shop.duckdb")
    assert again.returncode == 0 and "skipped" not in again.stderr, again.stderr
    # a.csv now comes after b.csv, so its state of O2 (not refunded) is the later one
    rescored = {r["customer_id"]: r for r in _scores(rfm, "--db", "shop.duckdb")}
    assert float(rescored["C2"]["monetary"]) == 80.0
    assert {r["customer_id"] for r in whole} | {"C2"} == set(rescored)


def test_a_file_is_named_by_path_name_id_or_bytes(tmp_path: Path, rfm, both, assert_cli_error) -> None:
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(both[1].read_bytes())
    done = rfm("imports", "rm", copy, "--db", "shop.duckdb")
    assert done.returncode == 0 and "removed import 2" in done.stderr, done.stderr
    line = assert_cli_error(rfm("imports", "rm", "nothing.csv", "--db", "shop.duckdb"), 2)
    assert "rfm imports list" in line


def test_status_says_what_the_database_holds(tmp_path: Path, rfm, both) -> None:
    done = rfm("status", "--db", "shop.duckdb", "--format", "json")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["schema_version"] == SCHEMA_VERSION and facts["files"] == 2
    assert facts["customers"] == 3  # C1, C3, C4: C2's only order is refunded in full
    assert facts["first_order_at"].startswith("2026-05-01")
    assert facts["last_order_at"].startswith("2026-05-11")
    assert facts["last_run_as_of"] == "2026-05-31" and facts["latest_snapshot_as_of"] == "2026-05-31"
    [a, b] = facts["imports"]
    assert (a["source_file"], a["rows_read"], b["rows_read"]) == (str(both[0]), 4, 5)
    assert b["first_order_at"].startswith("2026-05-02") and b["last_order_at"].startswith("2026-05-11")
    assert len(a["sha256"]) == 64
    text = rfm("status", "--db", "shop.duckdb").stderr
    assert a["sha256"][:12] in text and "2026-05-01 to 2026-05-03" in text and "last run:" in text


def test_status_of_a_missing_database_is_one_error_line(rfm, assert_cli_error) -> None:
    assert_cli_error(rfm("status", "--db", "none.duckdb"), 66)


def test_a_version_8_database_is_brought_to_the_current_version(tmp_path: Path, rfm, files) -> None:
    db = tmp_path / "old.duckdb"
    assert rfm("import", files[0], "--db", db).returncode == 0
    with duckdb.connect(str(db)) as con:  # as a database written before version 10 looks
        con.execute("DROP TABLE rfm_order_versions; DROP TABLE rfm_refund_carriers")
        con.execute("DELETE FROM rfm_meta WHERE key = 'versions_since_import'")
        con.execute("UPDATE rfm_meta SET value = '8' WHERE key = 'schema_version'")
    assert rfm("import", files[1], "--db", db).returncode == 0
    with open_store(db, create=False) as store:
        assert store.con.execute("SELECT value FROM rfm_meta WHERE key IN ('schema_version', "
                                 "'versions_since_import') ORDER BY key").fetchall() == [
            (str(SCHEMA_VERSION),), ("2",)]
    # b.csv (import 2) recorded what it shared with a.csv; a.csv (import 1) could not.
    done = rfm("imports", "rm", "b.csv", "--db", db)
    assert done.returncode == 0, done.stderr
    assert "may also hold" in done.stderr
