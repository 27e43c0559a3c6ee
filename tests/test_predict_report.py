"""`rfm report --with-predictions` / `--holdout-from` (issue 19): CLV by tier, P(alive) per tier,
churn risk by tier and the tracking check, each tied back to `rfm predict`'s own per-customer rows;
without the flags the report carries no predictions (and fits nothing)."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.cli_runner import invoke
from tests.test_predict_lists import HEADER, _rows

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "orders.csv"
HOLDOUT = "2026-06-01"


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    assert invoke(["--db", str(folder / "shop.duckdb"), "import", str(SAMPLE)], cwd=folder).returncode == 0
    return folder


def _rfm(shop: Path, *args: str):
    result = invoke(["--db", str(shop / "shop.duckdb"), *args], cwd=shop)
    assert result.returncode == 0, result.stderr
    return result


def test_clv_by_tier_adds_up_from_the_customers(shop):
    block = json.loads(_rfm(shop, "report", "--with-predictions", "--format", "json").stdout)["predictions"]
    tiers = {row["customer_id"]: row["tier"]
             for row in csv.DictReader(_rfm(shop, "score", "-o", "-").stdout.splitlines())}
    clv, alive, risk = defaultdict(float), defaultdict(list), defaultdict(Counter)
    for row in csv.DictReader(_rfm(shop, "predict", "-o", "-").stdout.splitlines()):
        tier = tiers[row["customer_id"]]
        clv[tier] += float(row["clv_90d"])
        alive[tier].append(float(row["p_alive"]))
        risk[tier][row["churn_risk"]] += 1
    assert block["model"]["status"] == "fitted"
    assert sum(t["customers"] for t in block["tiers"]) == len(tiers)
    for row in block["tiers"]:
        tier = row["tier"]
        assert row["clv_total"] == pytest.approx(clv[tier], abs=0.01 * row["customers"])
        assert row["p_alive_mean"] == pytest.approx(sum(alive[tier]) / len(alive[tier]), abs=1e-4)
        assert row["churn_risk"] == {r: risk[tier][r] for r in ("high", "medium", "low")}
    assert sum(t["clv_share"] for t in block["tiers"]) == pytest.approx(1.0, abs=1e-3)
    edges = block["p_alive_bins"]
    for dist in block["p_alive_distribution"]:
        expected = Counter(min(int(p * 10), 9) for p in alive[dist["tier"]])
        assert dist["counts"] == [expected[b] for b in range(len(edges) - 1)]


def test_report_without_the_flag_fits_nothing(shop):
    numbers = json.loads(_rfm(shop, "report", "--format", "json").stdout)
    assert "predictions" not in numbers


def test_holdout_tracking_matches_rfm_predict(shop):
    report = _rfm(shop, "report", "--holdout-from", HOLDOUT, "--html", "r.html", "--format", "json")
    holdout = json.loads(report.stdout)["predictions"]["holdout"]
    predicted = json.loads(_rfm(shop, "predict", "--holdout-from", HOLDOUT, "--format",
                                "json").stdout)["holdout"]
    assert holdout == predicted
    page = (shop / "r.html").read_text(encoding="utf-8")
    assert 'id="clv"' in page and "chart-tracking" in page and "chart-p-alive" in page
    assert "Tracking: cumulative repeat purchases" in page


def test_small_shop_report_says_so_and_stays_empty_not_nan(rfm, write_orders):
    path = write_orders("orders.csv", _rows(), header=HEADER)
    result = rfm("report", path, "--with-predictions", "--format", "json")
    assert result.returncode == 0, result.stderr
    block = json.loads(result.stdout)["predictions"]
    assert block["model"]["status"] == "interval rule only" and block["p_alive_distribution"] == []
    assert len(block["notes"]) == 1 and "a model needs" in block["notes"][0]
    assert all(t["clv_total"] is None and t["clv_share"] is None for t in block["tiers"])
    assert sum(sum(t["churn_risk"].values()) for t in block["tiers"]) == 40
    assert "NaN" not in result.stdout
