"""`rfm predict` as a command: its outputs, formats, options, errors and the small-shop fallback.

The shop is simulated here from a Pareto/NBD process (1,200 customers who first bought in 2025Q1,
buying until they drop out, to 2026-06-30), so it is big enough for a model.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cli_runner import invoke

from rfm_cli.core.predict import prediction_columns

END = date(2026, 6, 30)


def simulated_orders(path: Path, customers: int = 1200, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["order_id,customer_id,order_date,amount,status"]
    number = 0
    for customer in range(customers):
        first = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 90)))
        rate = rng.gamma(0.8, 1 / 6.0) / 7  # purchases per day while alive
        lifetime = rng.exponential(1 / (rng.gamma(0.7, 1 / 15.0) / 7))  # days
        spend = rng.gamma(4.0, 15.0)
        day, days = 0.0, [0.0]
        while rate > 0:
            day += rng.exponential(1 / rate)
            if day > lifetime or first + timedelta(days=int(day)) > END:
                break
            days.append(day)
        for offset in days:
            number += 1
            status = "cancelled" if rng.random() < 0.03 else "paid"
            amount = spend * rng.gamma(6.0, 1 / 6.0)
            lines.append(
                f"O{number:06d},C{customer:04d},{first + timedelta(days=int(offset))},{amount:.2f},{status}"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("shop")
    db = work / "shop.duckdb"
    orders = simulated_orders(work / "orders.csv")
    done = invoke(["--db", db, "import", orders], cwd=work)
    assert done.returncode == 0, done.stderr
    return db


def table(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


def test_the_table_on_stdout_and_the_model_on_stderr(rfm, shop) -> None:
    done = rfm("--db", shop, "predict", "-o", "-")
    assert done.returncode == 0, done.stderr
    rows = table(done.stdout)
    assert list(rows[0]) == prediction_columns(90)
    score = rfm("--db", shop, "score", "-o", "-")
    assert {r["customer_id"] for r in rows} == {r["customer_id"] for r in table(score.stdout)}
    alive = [float(r["p_alive"]) for r in rows]
    assert all(0 <= p <= 1 for p in alive) and len(set(alive)) > 100
    assert any(len(r["p_alive"].split(".")[-1]) == 4 for r in rows)  # 4 decimals, not the 2 of money
    assert all(float(r["clv_90d"]) >= 0 and float(r["expected_orders_90d"]) >= 0 for r in rows)
    assert {r["churn_risk"] for r in rows} <= {"low", "medium", "high"}
    assert {r["churn_rule"] for r in rows} <= {"p_alive < 0.30", "p_alive < 0.60", "p_alive >= 0.60"}
    assert "nan" not in done.stdout.lower()
    purchases = [ln for ln in done.stderr.splitlines() if ln.startswith("purchases: MBG/NBD")]
    assert len(purchases) == 1 and "log-likelihood" in purchases[0] and "converged" in purchases[0]
    assert any(ln.startswith("spend: Gamma-Gamma p=") for ln in done.stderr.splitlines())


def test_json_holds_the_model_beside_the_rows(rfm, shop) -> None:
    done = rfm("--db", shop, "predict", "--format", "json", "--model", "pareto-nbd")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["as_of"] == "2026-06-30" and document["horizon_days"] == 90
    model = document["model"]
    assert model["status"] == "fitted" and model["time_unit"] == "weeks"
    assert model["purchases"]["model"] == "pareto-nbd" and set(model["purchases"]["params"]) == {
        "r",
        "alpha",
        "s",
        "beta",
    }
    assert model["purchases"]["converged"] and model["purchases"]["log_likelihood"] < 0
    assert set(model["spend"]["params"]) == {"p", "q", "gamma"}
    assert len(document["customers"]) == model["customers"]
    assert list(document["customers"][0]) == prediction_columns(90)
    assert "holdout" not in document


@pytest.mark.parametrize("suffix", ["csv", "parquet", "json"])
def test_output_files(rfm, shop, tmp_path, suffix) -> None:
    path = tmp_path / f"predictions.{suffix}"
    done = rfm("--db", shop, "predict", "-o", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    if suffix == "json":
        frame = pl.DataFrame(json.loads(path.read_text(encoding="utf-8"))["customers"])
    else:
        frame = pl.read_parquet(path) if suffix == "parquet" else pl.read_csv(path)
    assert frame.columns == prediction_columns(90)
    assert frame["p_alive"].dtype == pl.Float64 and frame["p_alive"].null_count() == 0
    assert f"wrote {frame.height:,} customers to {path}" in done.stderr


def test_horizon_and_discounting(rfm, shop, tmp_path) -> None:
    def frame(name: str, *args: str) -> pl.DataFrame:
        done = rfm("--db", shop, "predict", "-o", tmp_path / f"{name}.parquet", *args)
        assert done.returncode == 0, done.stderr
        return pl.read_parquet(tmp_path / f"{name}.parquet")

    base, month = frame("base"), frame("month", "--horizon", "30")
    assert "expected_orders_30d" in month.columns and "clv_30d" in month.columns
    assert (month["expected_orders_30d"] <= base["expected_orders_90d"]).all()
    assert (month["p_alive"] == base["p_alive"]).all()  # the horizon moves no fitted number
    discounted = frame("discounted", "--discount-rate", "0.5")
    assert (discounted["clv_90d"] <= base["clv_90d"]).all()
    assert (discounted["clv_90d"] < base["clv_90d"]).sum() > 100


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--horizon", "0"], "--horizon 0"),
        (["--discount-rate", "-0.1"], "--discount-rate"),
        (["--model", "arima"], "--model 'arima'"),
        (["--holdout-from", "2030-01-01"], "after the last day of the data"),
        (["--holdout-from", "1 Jan"], "--holdout-from '1 Jan' is not a date"),
    ],
)
def test_usage_errors(rfm, shop, assert_cli_error, args, fragment) -> None:
    line = assert_cli_error(rfm("--db", shop, "predict", "-o", "-", *args), 2)
    assert fragment in line


def test_no_database(rfm, assert_cli_error, tmp_path) -> None:
    assert "does not exist" in assert_cli_error(
        rfm("--db", tmp_path / "none.duckdb", "predict", "-o", "-"), 66
    )


def test_holdout_report(rfm, shop) -> None:
    done = rfm(
        "--db", shop, "predict", "--holdout-from", "2026-01-01", "--format", "json", "--model", "pareto-nbd"
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["as_of"] == "2025-12-31"  # the predictions describe the calibration's end
    check = document["holdout"]
    assert check["holdout_start"] == "2026-01-01" and check["holdout_end"] == "2026-06-30"
    rows = document["customers"]
    assert sum(r["holdout_actual_orders"] for r in rows) == check["overall"]["actual_repeat_purchases"]
    assert sum(r["holdout_expected_orders"] for r in rows) == pytest.approx(
        check["overall"]["expected_repeat_purchases"], abs=len(rows) * 5e-5 + 0.01
    )  # rows rounded to 4 places
    assert [ln for ln in done.stderr.splitlines() if ln.startswith("hold-out 2026-01-01 to 2026-06-30")]
    # the shop was simulated from this model: it misses the hold-out by 7.8%, not by half
    assert abs(check["overall"]["error_pct"]) < 10


def test_help_loads_no_numerical_library() -> None:
    probe = """
import json, sys
from rfm_cli.cli import main
for argv in (["--help"], ["predict", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
heavy = sorted(m for m in ("numpy", "scipy", "polars", "duckdb") if m in sys.modules)
sys.stderr.write("RESULT " + json.dumps(heavy) + "\\n")
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("RESULT ")]
    assert json.loads(line[len("RESULT ") :]) == []
    assert "--holdout-from" in done.stdout and "--discount-rate" in done.stdout


def test_a_fit_that_does_not_converge_falls_back_to_the_interval_rule(shop, monkeypatch) -> None:
    from dataclasses import replace

    from rfm_cli.core.predict import engine
    from rfm_cli.core.store import open_store

    real = engine.MODELS["mbg-nbd"]

    class Stalled:  # the real fit, reported the way L-BFGS-B reports running out of iterations
        name, title, params = real.name, real.title, real.params

        def fit(self, stats):
            stalled = "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"
            return replace(real.fit(stats), converged=False, message=stalled)

    monkeypatch.setitem(engine.MODELS, "mbg-nbd", Stalled())
    with open_store(str(shop), create=False) as store:
        result = engine.predict_customers(store)
    assert result.notes == [
        (
            "the MBG/NBD fit did not converge (STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT): p_alive, "
            "expected orders and CLV are left empty; due dates and churn risk come from the interval rule"
        )
    ]
    frame = result.customers
    assert frame["p_alive"].null_count() == frame.height == frame["clv_90d"].null_count()
    assert result.model["status"] == "interval rule only" and not result.model["purchases"]["converged"]
    assert frame["next_order_due"].null_count() == 0  # a shop median covers the one-time buyers
    assert set(frame["churn_rule"]) <= {"overdue by more than one typical gap", "overdue", "not yet due"}
