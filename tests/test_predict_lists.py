"""Lists from predictions (issue 19): `rfm export --overdue DAYS` and `--churn-risk RISK`, and `rfm run`.

The generated shop, as of 2026-06-30 (the latest counted order), with known gaps:
- 30 repeat buyers R00..R29, three orders 20 days apart, the last r = 4·i days before the as-of date
  (0, 4, ..., 116). Every gap is 20, so the shop's median gap is 20 and each typical gap is
  (x · 20 + 2 · 20) / (x + 2) = 20: due = last order + 20, days_overdue = r - 20.
- 10 one-time buyers O0..O9, their order r days before the as-of date (RECENCY_ONCE); they get the
  shop's median gap, 20, so again days_overdue = r - 20.
Dormant (the default tiers) is r_score <= 2: more than 90 days since the last order.

So `--overdue 5` lists exactly the customers with 25 <= r <= 90, and, with 30 repeat buyers (far
fewer than the 200 a model needs), `--churn-risk high` is the interval rule's "overdue by more than
one typical gap": r - 20 > 20, i.e. r > 40, dormant or not.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

AS_OF = date(2026, 6, 30)
RECENCY_REPEAT = {f"R{i:02d}": 4 * i for i in range(30)}
RECENCY_ONCE = {f"O{i}": r for i, r in enumerate([2, 5, 24, 25, 30, 50, 70, 90, 91, 100])}
RECENCY = RECENCY_REPEAT | RECENCY_ONCE
HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "phone")


def _rows() -> list[tuple[str, ...]]:
    rows = []
    for n, (customer, r) in enumerate(sorted(RECENCY.items())):
        last = AS_OF - timedelta(days=r)
        days = ([last - timedelta(days=40), last - timedelta(days=20), last] if customer in RECENCY_REPEAT
                else [last])
        phone = f"1380000{n:04d}"
        rows += [(f"{customer}-{k}", customer, d.isoformat(), "25.00", "paid", phone)
                 for k, d in enumerate(days)]
    return rows


@pytest.fixture
def shop(rfm, write_orders) -> Path:
    path = write_orders("orders.csv", _rows(), header=HEADER)
    result = rfm("import", path)
    assert result.returncode == 0, result.stderr
    return path


def _listed(folder: Path) -> dict[str, dict[str, str]]:
    """customer_id -> row, over every tier's csv send list in `folder` (send/csv/<tier>.csv)."""
    rows = {}
    for path in sorted((folder / "send" / "csv").glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        assert "nan" not in text.lower(), f"NaN in {path.name}"
        rows |= {row["customer_id"]: row for row in csv.DictReader(text.splitlines())}
    return rows


def test_overdue_lists_exactly_the_customers_past_due_by_n_days(rfm, shop, tmp_path):
    result = rfm("export", "--out-dir", "due", "--overdue", "5")
    assert result.returncode == 0, result.stderr
    listed = _listed(tmp_path / "due")
    assert set(listed) == {c for c, r in RECENCY.items() if 25 <= r <= 90}
    for customer, row in listed.items():
        r = RECENCY[customer]
        assert row["days_overdue"] == str(r - 20)
        assert row["next_order_due"] == (AS_OF - timedelta(days=r) + timedelta(days=20)).isoformat()
        assert row["due_basis"] == ("own gaps" if customer in RECENCY_REPEAT else "shop median")
    # an overdue list is never dormant
    assert not (tmp_path / "due" / "send" / "csv" / "dormant.csv").exists()
    manifest = json.loads((tmp_path / "due" / "manifest.json").read_text())
    assert manifest["selection"]["overdue_days"] == 5
    assert manifest["predictions"]["model_status"] == "not fitted (not needed)"
    assert "model" not in result.stderr  # no model was asked for, so no note about one


def test_overdue_zero_includes_due_today(rfm, shop, tmp_path):
    result = rfm("export", "--out-dir", "due", "--overdue", "0", "--tier", "potential", "--tier", "gold")
    assert result.returncode == 0, result.stderr
    assert set(_listed(tmp_path / "due")) == {c for c, r in RECENCY.items() if 20 <= r <= 90}


def test_churn_risk_high_falls_back_to_the_interval_rule_with_one_note(rfm, shop, tmp_path):
    result = rfm("export", "--out-dir", "risk", "--churn-risk", "high")
    assert result.returncode == 0, result.stderr
    listed = _listed(tmp_path / "risk")
    assert set(listed) == {c for c, r in RECENCY.items() if r > 40}
    assert {row["churn_rule"] for row in listed.values()} == {"overdue by more than one typical gap"}
    assert all(row["p_alive"] == "" for row in listed.values())  # empty, never NaN
    notes = [line for line in result.stderr.splitlines() if "a model needs" in line]
    assert len(notes) == 1 and "30 repeat buyers" in notes[0] and "interval rule" in notes[0]
    manifest = json.loads((tmp_path / "risk" / "manifest.json").read_text())
    assert manifest["predictions"]["model_status"] == "interval rule only"
    (note,) = manifest["predictions"]["notes"]
    assert notes[0].endswith(note)


def test_churn_risk_and_overdue_combine(rfm, shop, tmp_path):
    result = rfm("export", "--out-dir", "both", "--churn-risk", "medium", "--overdue", "10")
    assert result.returncode == 0, result.stderr
    # medium: overdue but by at most one gap (0 < r - 20 <= 20); overdue by 10+: r >= 30; not dormant.
    assert set(_listed(tmp_path / "both")) == {c for c, r in RECENCY.items() if 30 <= r <= 40}


def test_streamed_list_matches_and_says_the_note(rfm, shop, tmp_path):
    folder = rfm("export", "--out-dir", "risk", "--churn-risk", "high", "--tier", "dormant")
    assert folder.returncode == 0, folder.stderr
    streamed = rfm("export", "--churn-risk", "high", "--tier", "dormant", "-o", "-")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == (tmp_path / "risk" / "send" / "csv" / "dormant.csv").read_text(encoding="utf-8")
    assert sum("a model needs" in line for line in streamed.stderr.splitlines()) == 1


def test_sms_list_of_overdue_customers(rfm, shop, tmp_path):
    result = rfm("export", "--out-dir", "due", "--overdue", "5", "--channel", "sms")
    assert result.returncode == 0, result.stderr
    phones = set()
    for path in (tmp_path / "due" / "send" / "sms").glob("*.csv"):
        phones |= {row["phone"] for row in csv.DictReader(path.read_text(encoding="utf-8").splitlines())}
    order = sorted(RECENCY)
    assert phones == {f"1380000{order.index(c):04d}" for c, r in RECENCY.items() if 25 <= r <= 90}


def test_run_writes_the_overdue_lists(rfm, write_orders, tmp_path):
    path = write_orders("orders.csv", _rows(), header=HEADER)
    result = rfm("run", path, "--out-dir", "nightly", "--overdue", "5")
    assert result.returncode == 0, result.stderr
    assert set(_listed(tmp_path / "nightly")) == {c for c, r in RECENCY.items() if 25 <= r <= 90}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--overdue", "-1"], "--overdue -1 is below 0"),
     (["--churn-risk", "extreme"], "'extreme' is not a risk"),
     (["--overdue", "3", "--tier", "dormant"], "--overdue lists no dormant customers")],
)
def test_bad_prediction_selections_are_usage_errors(rfm, shop, assert_cli_error, args, fragment):
    message = assert_cli_error(rfm("export", "--out-dir", "x", *args), 2)
    assert fragment in message


def test_churn_thresholds_from_rfm_toml(rfm, shop, tmp_path):
    (tmp_path / "rfm.toml").write_text("[churn]\nquiet_high_days = 95\nquiet_medium_days = 10\n")
    result = rfm("predict", "--format", "json", "-o", "-")
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)["model"]
    assert model["churn_thresholds"]["quiet_high_days"] == 95
    assert model["churn_thresholds"]["high_below_p_alive"] == 0.3  # the default stays


def test_bad_churn_thresholds_are_config_errors(rfm, shop, tmp_path, assert_cli_error):
    (tmp_path / "rfm.toml").write_text("[churn]\nhigh_below_p_alive = 0.9\n")
    message = assert_cli_error(rfm("predict", "-o", "-"), 78)
    assert "rfm.toml [churn]" in message and "high <= medium" in message


def test_overdue_coupon_list_with_codes(rfm, shop, tmp_path):
    """Codes go to the overdue customers only (the code ledger sees the same selection)."""
    (tmp_path / "codes.txt").write_text("\n".join(f"K{i:03d}" for i in range(100)) + "\n")
    result = rfm("export", "--out-dir", "due", "--overdue", "5", "--channel", "coupon", "--codes",
                 "codes.txt")
    assert result.returncode == 0, result.stderr
    rows = []
    for path in (tmp_path / "due" / "send" / "coupon").glob("*.csv"):
        rows += list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert {row["customer_id"] for row in rows} == {c for c, r in RECENCY.items() if 25 <= r <= 90}
    assert len({row["coupon_code"] for row in rows}) == len(rows)
