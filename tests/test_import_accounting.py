"""Import bookkeeping: reconciliation, idempotent re-imports, later state wins, refunds, rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfm_cli.core.errors import DataError, UsageError
from rfm_cli.core.ingest.mapping import parse_map_options
from rfm_cli.core.ingest.pipeline import ImportOptions, import_files
from rfm_cli.core.rules import load_rules
from rfm_cli.core.scoring import score_store
from rfm_cli.core.store import fetch_one, open_store

HEADER = "order_id,customer_id,order_date,amount,status,refund_amount\n"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "orders.csv"


def write(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def customer(store, cid: str) -> dict:
    result = score_store(store, load_rules())
    rows = result.customers.filter(customer_id=cid).to_dicts()
    return rows[0] if rows else {}


def test_sample_data_reconciles() -> None:
    with open_store(None) as store:
        [report] = import_files(store, [SAMPLE], ImportOptions())
        assert report.rows_read == SAMPLE.read_text(encoding="utf-8").count("\n") - 1
        assert report.reconciles() and report.rejected == 0
        stored = fetch_one(store.con, "SELECT rows_read, rows_imported + rows_duplicate + rows_excluded + "
                                      "rows_rejected FROM rfm_imports")
        assert stored[0] == stored[1] == report.rows_read


def test_reimporting_never_counts_twice(tmp_path: Path) -> None:
    with open_store(None) as store:
        import_files(store, [SAMPLE], ImportOptions())
        before = score_store(store, load_rules()).customers
        [again] = import_files(store, [SAMPLE], ImportOptions())
        assert again.imported == 0 and again.excluded_total == 0
        assert again.duplicates == again.rows_read and again.orders_updated == 0
        assert score_store(store, load_rules()).customers.equals(before)


def test_a_later_export_state_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "day1.csv", "O1,C1,2026-01-01,100,paid,\nO2,C1,2026-01-05,50,paid,\n")
    later = write(tmp_path / "day2.csv", "O2,C1,2026-01-05,50,cancelled,\nO1,C1,2026-01-01,100,paid,30\n")
    with open_store(None) as store:
        import_files(store, [first], ImportOptions())
        assert customer(store, "C1")["frequency"] == 2
        [report] = import_files(store, [later], ImportOptions())
        assert report.orders_updated == 2 and report.duplicates == 2
        c1 = customer(store, "C1")
        assert c1["frequency"] == 1 and c1["monetary"] == 70.0


def test_refund_rows_reduce_the_order_they_name_once(tmp_path: Path) -> None:
    orders = write(tmp_path / "orders.csv", "O1,C1,2026-01-01,100,paid,\nO2,C1,2026-01-02,40,paid,\n")
    refunds = write(tmp_path / "refunds.csv",
                    "O1,C1,2026-01-10,-25,refunded,\nO2,C1,2026-01-10,-40,refunded,\n")
    with open_store(None) as store:
        import_files(store, [orders], ImportOptions())
        import_files(store, [refunds], ImportOptions())
        import_files(store, [refunds], ImportOptions())  # the same refunds again: no double count
        c1 = customer(store, "C1")
        # O1 100 - 25 = 75 counted; O2 fully refunded, so not counted.
        assert c1["frequency"] == 1 and c1["monetary"] == 75.0


def test_orders_without_customer_are_excluded_not_one_giant_customer(tmp_path: Path) -> None:
    path = write(tmp_path / "anon.csv",
                 "O1,,2026-01-01,100,paid,\nO2,,2026-01-02,100,paid,\nO3,C1,2026-01-03,5,paid,\n")
    with open_store(None) as store:
        [report] = import_files(store, [path], ImportOptions())
        assert report.excluded == {"no customer id": 2}
        assert score_store(store, load_rules()).customers["customer_id"].to_list() == ["C1"]


def test_a_rejected_line_rejects_its_whole_order(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "O1,C1,2026-01-01,100,paid,\nO1,C1,2026-01-01,1O0,paid,\n"
                                       "O2,C2,2026-01-02,5,paid,\n")
    with open_store(None) as store:
        [report] = import_files(store, [path], ImportOptions(max_rejects="2"))
        assert report.rejected == 2 and report.imported == 1
        reasons = store.con.execute(
            "SELECT line, column_name, reason FROM rfm_rejects ORDER BY line").fetchall()
        assert reasons == [(2, "order_id", "line 3 of the same order was rejected"),
                           (3, "amount", 'unreadable amount "1O0"')]


def test_too_many_rejects_fail_and_store_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "O1,C1,not a date,100,paid,\nO2,C2,2026-01-02,5,paid,\n")
    with open_store(None) as store:
        with pytest.raises(DataError, match=r"bad.csv: 1 of 2 rows unreadable \(first at line 2, order_date"):
            import_files(store, [path], ImportOptions(max_rejects="0"))
        assert fetch_one(store.con, "SELECT count(*) FROM rfm_orders")[0] == 0
        assert fetch_one(store.con, "SELECT count(*) FROM rfm_imports")[0] == 0


def test_unknown_status_is_rejected_with_its_words(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "O1,C1,2026-01-01,100,lost in space,\n")
    with open_store(None) as store:
        [report] = import_files(store, [path], ImportOptions(max_rejects="100%"))
        assert report.first_rejects == [{"line": 2, "column": "status",
                                         "reason": 'unknown status "lost in space"'}]


def test_map_option_reads_other_headers(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('单号,买家,时间,金额\nX1,alice,2026-01-01 10:00,"¥1,234.50"\n', encoding="utf-8")
    overrides = parse_map_options(["order_id=单号", "customer_id=买家", "order_date=时间", "amount=金额"])
    with open_store(None) as store:
        import_files(store, [path], ImportOptions(overrides=overrides))
        assert customer(store, "alice")["monetary"] == 1234.5
    with pytest.raises(UsageError, match="unknown field 'amonut'"):
        parse_map_options(["amonut=金额"])


def test_ids_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path / "ids.csv",
                 '="00123",007,2026-01-01,10,paid,\n\t00124,17850.0,2026-01-02,10,paid,\n')
    with open_store(None) as store:
        import_files(store, [path], ImportOptions())
        ids = store.con.execute("SELECT order_id, customer_id FROM rfm_orders ORDER BY 1").fetchall()
        assert ids == [("00123", "007"), ("00124", "17850")]
