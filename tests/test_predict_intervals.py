"""Due dates and churn risk from the interval rule, worked out by hand (a shop far too small for a model).

As of 2026-06-30 (the latest counted order). Purchase days (several orders on one day are one):

customer  counted purchase days                 x  own gaps      own median
A         01-01, 01-11, 01-31, 03-02             3  10, 20, 30    20
B         05-01 (two orders), 06-30              1  60            60
C         06-01                                  0
D         02-01                                  0
E         03-01, 03-15 (06-20 cancelled)         1  14            14
G         04-20                                  0
F1..F9    04-01, 05-11 (only in the second shop) 1  40            40

Shop 1 (A-G: 3 repeat buyers, fewer than the 10 a shop median needs): own gaps unshrunk, one-time
buyers get no due date and their risk comes from the days since their order.
  A 03-02 + 20 = 03-22, overdue 100 > 20 -> high;  B 06-30 + 60 = 08-29, -60 -> low;
  E 03-15 + 14 = 03-29, overdue 93 > 14 -> high;   C 29 days quiet -> low;  D 149 -> high;  G 71 -> medium.
Shop 2 (A-G and F1-F9: 12 repeat buyers, medians 14, 20, 40 x 9, 60: shop median 40), gaps shrunk
with the weight of 2 gaps, (x · own + 2 · 40) / (x + 2), due = last + the gap rounded:
  A (60 + 80) / 5 = 28    -> 03-30, overdue 92 > 28 -> high
  B (60 + 80) / 3 = 46.67 -> 47: 08-16, -47 -> low
  E (14 + 80) / 3 = 31.33 -> 31: 04-15, overdue 76 > 31.33 -> high
  C shop median 40 -> 07-11, -11 -> low;  D 03-13, overdue 109 > 40 -> high;  G 05-30, overdue 31 -> medium
  F (40 + 80) / 3 = 40    -> 06-20, overdue 10 -> medium
"""

from __future__ import annotations

import csv
import io

import pytest

ROWS = [
    ("A1", "A", "2026-01-01", "10.00", "paid"),
    ("A2", "A", "2026-01-11", "10.00", "paid"),
    ("A3", "A", "2026-01-31", "10.00", "paid"),
    ("A4", "A", "2026-03-02 18:30:00", "10.00", "paid"),
    ("B1", "B", "2026-05-01 09:00:00", "20.00", "paid"),
    ("B2", "B", "2026-05-01 21:00:00", "5.00", "paid"),
    ("B3", "B", "2026-06-30", "20.00", "paid"),
    ("C1", "C", "2026-06-01", "30.00", "paid"),
    ("D1", "D", "2026-02-01", "30.00", "paid"),
    ("E1", "E", "2026-03-01", "15.00", "paid"),
    ("E2", "E", "2026-03-15", "15.00", "paid"),
    ("E3", "E", "2026-06-20", "15.00", "cancelled"),
    ("G1", "G", "2026-04-20", "30.00", "paid"),
]
FILLERS = [
    row
    for i in range(1, 10)
    for row in (
        (f"F{i}a", f"F{i}", "2026-04-01", "12.00", "paid"),
        (f"F{i}b", f"F{i}", "2026-05-11", "12.00", "paid"),
    )
]
HEADER = ("order_id", "customer_id", "order_date", "amount", "status")

SHOP_1 = {  # customer: (x, typical_gap_days, next_order_due, days_overdue, due_basis, churn_risk, churn_rule)
    "A": ("3", "20.0", "2026-03-22", "100", "own gaps", "high", "overdue by more than one typical gap"),
    "B": ("1", "60.0", "2026-08-29", "-60", "own gaps", "low", "not yet due"),
    "C": ("0", "", "", "", "none", "low", "no due date; an order in the last 60 days"),
    "D": ("0", "", "", "", "none", "high", "no due date; no order in over 90 days"),
    "E": ("1", "14.0", "2026-03-29", "93", "own gaps", "high", "overdue by more than one typical gap"),
    "G": ("0", "", "", "", "none", "medium", "no due date; no order in 61-90 days"),
}
SHOP_2 = {
    "A": ("3", "28.0", "2026-03-30", "92", "own gaps", "high", "overdue by more than one typical gap"),
    "B": ("1", "46.7", "2026-08-16", "-47", "own gaps", "low", "not yet due"),
    "C": ("0", "40.0", "2026-07-11", "-11", "shop median", "low", "not yet due"),
    "D": ("0", "40.0", "2026-03-13", "109", "shop median", "high", "overdue by more than one typical gap"),
    "E": ("1", "31.3", "2026-04-15", "76", "own gaps", "high", "overdue by more than one typical gap"),
    "G": ("0", "40.0", "2026-05-30", "31", "shop median", "medium", "overdue"),
    "F1": ("1", "40.0", "2026-06-20", "10", "own gaps", "medium", "overdue"),
}
FIELDS = (
    "x_repeat_purchases",
    "typical_gap_days",
    "next_order_due",
    "days_overdue",
    "due_basis",
    "churn_risk",
    "churn_rule",
)


@pytest.mark.parametrize(
    ("rows", "expected"), [(ROWS, SHOP_1), (ROWS + FILLERS, SHOP_2)], ids=["tiny", "small"]
)
def test_due_dates_and_churn_risk_by_hand(rows, expected, rfm, write_orders, tmp_path) -> None:
    orders = write_orders("orders.csv", rows, header=HEADER)
    done = rfm("predict", orders, "-o", "-")
    assert done.returncode == 0, done.stderr
    table = {row["customer_id"]: row for row in csv.DictReader(io.StringIO(done.stdout))}
    for customer, values in expected.items():
        assert tuple(table[customer][f] for f in FIELDS) == values, customer
    assert {row["p_alive"] for row in table.values()} == {""}  # no model: empty, never NaN
    assert "nan" not in done.stdout.lower()
    repeat = sum(1 for row in table.values() if row["x_repeat_purchases"] != "0")
    [line] = [ln for ln in done.stderr.splitlines() if "repeat buyers, fewer than" in ln]
    assert line.startswith(f"{repeat} repeat buyers, fewer than the 200 a model needs")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "rfm.duckdb").exists()  # files are predicted in memory
