"""`rfm score --with-predictions` (issue 19): the score table, unchanged, then `rfm predict`'s columns
for the same customers and as-of date; without the flag the columns stay as they were."""

from __future__ import annotations

import csv

from tests.test_predict_lists import HEADER, _rows

SCORE_COLUMNS = ["customer_id", "customer_name", "phone", "email", "first_order_at", "last_order_at",
                 "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_code", "tier"]


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


def test_score_with_predictions_adds_predict_columns(rfm, write_orders):
    path = write_orders("orders.csv", _rows(), header=HEADER)
    plain = rfm("score", path, "-o", "-")
    widened = rfm("score", path, "--with-predictions", "-o", "-")
    predicted = rfm("predict", path, "-o", "-")
    for result in (plain, widened, predicted):
        assert result.returncode == 0, result.stderr
    assert plain.stdout.splitlines()[0].split(",") == SCORE_COLUMNS
    predict_columns = predicted.stdout.splitlines()[0].split(",")
    assert widened.stdout.splitlines()[0].split(",") == SCORE_COLUMNS + predict_columns[1:]
    plain_rows, wide_rows = _table(plain.stdout), _table(widened.stdout)
    by_id = {row["customer_id"]: row for row in _table(predicted.stdout)}
    assert len(wide_rows) == len(plain_rows) == len(by_id) == 40
    for before, after in zip(plain_rows, wide_rows):
        assert {k: after[k] for k in SCORE_COLUMNS} == before
        assert {k: after[k] for k in predict_columns} == by_id[after["customer_id"]]
    assert "nan" not in widened.stdout.lower()
    assert "fewer than the 200 a model needs" in widened.stderr


def test_with_predictions_is_refused_on_an_engine(rfm, assert_cli_error):
    message = assert_cli_error(rfm("score", "--with-predictions", "--engine", "duckdb:///x.duckdb",
                                   "--table", "orders", "-o", "-"), 2)
    assert "--with-predictions" in message
