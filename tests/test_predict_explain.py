"""`rfm explain ID` with the customer's predictions (issue 19): the model's inputs, P(alive), expected
orders, spend, CLV, due date and churn risk, each with how it was computed.

The fitted case is checked by recomputing from the account's own inputs and parameters with the
published formulas: MBG/NBD's P(alive) = 1 / (1 + a / (b + x) · ((α + T) / (α + t_x))^(r + x))
(Batislam, Denizel & Filiztekin 2007) and Gamma-Gamma's E[M | x, m̄] = p (γ + x m̄) / (p x + q - 1)
(Fader, Hardie & Lee 2005). The small shop's case is worked out by hand in test_predict_lists.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.test_predict_lists import AS_OF, HEADER, _rows

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "orders.csv"


@pytest.fixture(scope="module")
def sample_account(tmp_path_factory) -> dict:
    from tests.cli_runner import invoke as run_cli

    folder = tmp_path_factory.mktemp("sample")
    db = str(folder / "shop.duckdb")
    assert run_cli(["--db", db, "import", str(SAMPLE)], cwd=folder).returncode == 0
    result = run_cli(["--db", db, "explain", "C00002", "--format", "json"], cwd=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_fitted_p_alive_and_spend_follow_the_formulas(sample_account):
    predictions = sample_account["predictions"]
    assert predictions["status"] == "fitted" and predictions["model"]["purchases"] == "MBG/NBD"
    r, alpha, a, b = (predictions["model"]["params"][k] for k in ("r", "alpha", "a", "b"))
    inputs = predictions["inputs"]
    x, t_x, age = inputs["x_repeat_purchases"], inputs["t_x_weeks"], inputs["T_weeks"]
    days = {o["ordered_at"][:10] for o in sample_account["orders"] if o["counted"]}
    assert x == len(days) - 1 < sample_account["values"]["frequency"] - 1  # two orders on one day
    p_alive = 1 / (1 + a / (b + x) * ((alpha + age) / (alpha + t_x)) ** (r + x))
    assert predictions["p_alive"]["value"] == pytest.approx(p_alive, abs=1e-4)
    p, q, gamma = (predictions["model"]["spend_params"][k] for k in ("p", "q", "gamma"))
    spend = p * (gamma + inputs["repeat_spend"]) / (p * x + q - 1)
    assert predictions["expected_spend_per_order"]["value"] == pytest.approx(spend, abs=0.01)
    clv = predictions["expected_orders"]["value"] * predictions["expected_spend_per_order"]["value"]
    assert predictions["clv"]["value"] == pytest.approx(clv, abs=0.01)
    assert 0 < predictions["expected_orders"]["value"] and predictions["churn"]["rule"].startswith("p_alive")


def test_text_account_shows_the_predictions(rfm, tmp_path):
    assert rfm("import", SAMPLE).returncode == 0
    result = rfm("explain", "C00002")
    assert result.returncode == 0, result.stderr
    for fragment in ("t_x = ", "P(alive) = ", "expected orders in 90 days", "CLV in 90 days",
                     "next order due", "churn risk"):
        assert fragment in result.stderr
    assert "predictions" not in rfm("explain", "C00002", "--no-predictions").stderr


def test_small_shop_explains_the_interval_rule(rfm, write_orders):
    path = write_orders("orders.csv", _rows(), header=HEADER)
    result = rfm("explain", "R05", path, "--format", "json")  # last order 20 days before the as-of date
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)["predictions"]
    assert predictions["status"] == "interval rule only" and "p_alive" not in predictions
    assert any("a model needs" in note for note in predictions["notes"])
    assert predictions["inputs"]["x_repeat_purchases"] == 2
    assert predictions["inputs"]["t_x_weeks"] == round(40 / 7, 4)
    assert predictions["inputs"]["T_weeks"] == round(60 / 7, 4)
    due = predictions["due"]
    assert due["next_order_due"] == AS_OF.isoformat() and due["days_overdue"] == 0
    assert due["rule"].endswith(f"{AS_OF - timedelta(days=20)} + 20 days = {AS_OF}")
    assert predictions["churn"] == {"churn_risk": "low", "rule": "not yet due"}
