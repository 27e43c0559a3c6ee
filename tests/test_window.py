"""The analysis window (`--window` / `--since`, issue 17): old history does not dominate monetary.

A shop worked by hand, as of 2026-06-30; `--window 12m` starts 2025-07-01:

| customer | counted orders (date: net) | all history: F, M, recency | window 12m: F, M, recency |
|---|---|---|---|
| A | 2025-01-10: 1,000; 2026-06-01: 100 | 2, 1,100.00, 29 | 1, 100.00, 29 |
| B | 2025-03-01: 500 | 1, 500.00, 486 | not scored: no order in the window |
| C | 2026-05-01: 50; credit note R9 of 2025-02-01: -30 (names no order) | 1, 20.00, 60 | 1, 50.00, 60 |
| D | 2025-07-01: 70 (the window's first day); 2026-06-30: 30 | 2, 100.00, 0 | 2, 100.00, 0 |

The rule is one SQL macro (rfm_in_window), asked by customer_rfm.sql for the scores and by
order_facts.sql for `rfm explain`, so the two cannot disagree.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from rfm_cli.core.errors import UsageError
from rfm_cli.core.scoring import window_start

ROWS = [
    ("A1", "A", "2025-01-10 10:00:00", "1000.00"),
    ("A2", "A", "2026-06-01 10:00:00", "100.00"),
    ("B1", "B", "2025-03-01 10:00:00", "500.00"),
    ("C1", "C", "2026-05-01 10:00:00", "50.00"),
    ("R9", "C", "2025-02-01 10:00:00", "-30.00"),
    ("D1", "D", "2025-07-01 10:00:00", "70.00"),
    ("D2", "D", "2026-06-30 10:00:00", "30.00"),
]


@pytest.fixture
def shop(tmp_path: Path, rfm) -> Path:
    text = "order_id,customer_id,order_date,amount\n" + "".join(",".join(r) + "\n" for r in ROWS)
    (tmp_path / "orders.csv").write_text(text, encoding="utf-8")
    assert rfm("--db", "shop.duckdb", "import", "orders.csv").returncode == 0
    return tmp_path


def _scores(rfm, *args: str) -> dict[str, tuple[int, float, int]]:
    done = rfm("--db", "shop.duckdb", "score", "-o", "-", *args)
    assert done.returncode == 0, done.stderr
    frame = pl.read_csv(done.stdout.encode(), infer_schema=False)
    return {r["customer_id"]: (int(r["frequency"]), float(r["monetary"]), int(r["recency_days"]))
            for r in frame.iter_rows(named=True)}


def test_the_window_counts_only_its_orders_and_leaves_recency_alone(shop: Path, rfm) -> None:
    assert _scores(rfm) == {"A": (2, 1100.0, 29), "B": (1, 500.0, 486), "C": (1, 20.0, 60),
                            "D": (2, 100.0, 0)}
    windowed = {"A": (1, 100.0, 29), "C": (1, 50.0, 60), "D": (2, 100.0, 0)}
    assert _scores(rfm, "--window", "12m") == windowed
    assert _scores(rfm, "--since", "2025-07-01") == windowed  # the same window by its first day
    assert _scores(rfm, "--window", "365d") == windowed  # 2025-07-01 to 2026-06-30 is 365 days
    assert _scores(rfm, "--window", "364d") == {"A": (1, 100.0, 29), "C": (1, 50.0, 60), "D": (1, 30.0, 0)}


def test_files_scored_in_memory_take_the_same_window(shop: Path, rfm) -> None:
    done = rfm("score", "orders.csv", "--window", "12m", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert sorted(pl.read_csv(done.stdout.encode())["customer_id"]) == ["A", "C", "D"]


def test_explain_shows_the_window_and_the_orders_before_it(shop: Path, rfm) -> None:
    done = rfm("--db", "shop.duckdb", "explain", "A", "--window", "12m", "--format", "json")
    account = json.loads(done.stdout)
    assert account["window_since"] == "2025-07-01" and account["values"]["frequency"] == 1
    old = next(o for o in account["orders"] if o["order_id"] == "A1")
    assert (old["counted"], old["not_counted_reason"], old["counted_net"]) == (
        False, "before the analysis window", 0.0)
    assert "since 2025-07-01" in account["values"]["frequency_rule"]
    gone = json.loads(rfm("--db", "shop.duckdb", "explain", "B", "--window", "12m", "--format",
                          "json").stdout)
    assert gone["scored"] is False
    assert gone["reason"].startswith("no counted order in the analysis window (2025-07-01 to 2026-06-30)")
    assert "the last on 2025-03-01" in gone["reason"]
    text = rfm("--db", "shop.duckdb", "explain", "B", "--window", "12m")
    assert "not scored: no counted order in the analysis window" in text.stderr


def test_export_and_run_score_in_the_window(shop: Path, rfm) -> None:
    done = rfm("--db", "shop.duckdb", "export", "--out-dir", "out", "--window", "12m")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((shop / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["window_since"] == "2025-07-01" and manifest["customers_scored"] == 3
    assert "analysis window: orders from 2025-07-01" in done.stderr
    ran = rfm("--db", "night.duckdb", "run", "orders.csv", "--out-dir", "seg", "--window", "12m")
    assert ran.returncode == 0, ran.stderr
    assert json.loads((shop / "seg" / "manifest.json").read_text(encoding="utf-8"))["customers_scored"] == 3


def test_a_bad_window_is_a_usage_error_before_any_work(shop: Path, rfm) -> None:
    for bad in ("soon", "0d", "12x"):
        done = rfm("--db", "new.duckdb", "run", "orders.csv", "--out-dir", "x", "--window", bad)
        assert done.returncode == 2 and done.stdout == "" and "--window" in done.stderr, (bad, done.stderr)
    assert not (shop / "new.duckdb").exists() and not (shop / "x").exists()


@pytest.mark.parametrize(
    ("span", "as_of", "first_day"),
    [
        ("12m", date(2026, 6, 30), date(2025, 7, 1)),
        ("1y", date(2026, 6, 30), date(2025, 7, 1)),
        ("1m", date(2026, 3, 31), date(2026, 3, 1)),  # back a month: Feb 28, so from Mar 1
        ("1m", date(2024, 3, 31), date(2024, 3, 1)),  # a leap year: Feb 29, so from Mar 1
        ("3m", date(2026, 1, 15), date(2025, 10, 16)),
        ("1d", date(2026, 6, 30), date(2026, 6, 30)),  # the as-of day alone
        ("2w", date(2026, 6, 30), date(2026, 6, 17)),
        ("2025-01-01", date(2026, 6, 30), date(2025, 1, 1)),
    ],
)
def test_window_start(span: str, as_of: date, first_day: date) -> None:
    assert window_start(span, as_of) == first_day


def test_no_window_is_all_history() -> None:
    assert window_start(None, date(2026, 6, 30)) is None
    with pytest.raises(UsageError, match="not a span or a date"):
        window_start("last year", date(2026, 6, 30))
