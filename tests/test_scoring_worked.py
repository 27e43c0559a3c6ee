"""Scoring against a small fixture where every number was worked out by hand (BRIEF §3).

As of 2026-06-30 (the latest counted order; G's later unpaid order must not move it).

customer  counted orders (net)                         recency  freq  monetary  R F M  tier
A         A1 100, A2 200, A3 50, A4 100+50 (2 lines)    0        4     500       5 4 5  diamond
B         B1 300-100 refund col; B2 cancelled           29       1     200       5 1 1  potential
C         C1 120, C2 120; C3 refunded                    91       2     240       2 2 3  dormant
D         D1 500; credit note CR-1 -100 (no order)       181      1     400       1 1 4  dormant
E         E1..E6 20 each                                 60       6     120       4 5 1  gold
F         F1 200; F2 300 and -300 lines (net 0)          61       1     200       3 1 1  potential
G         only an unpaid order                           -        -     -         not scored

Monetary quantile, N = 6, score = 1 + floor(5 * strictly_smaller / 6):
E 120: 0 -> 1; B 200, F 200: 1 -> 1; C 240: 3 -> 3; D 400: 4 -> 4; A 500: 5 -> 5.
Classic: A r5 f4 champions; B r5 f1 new; C r2 f2 hibernating; D r1 f1 m4 hibernating (lost needs
m <= 2); E r4 f5 loyal; F r3 f1 about_to_sleep.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from rfm_cli.core import api
from rfm_cli.core.ingest.pipeline import ImportOptions
from rfm_cli.core.rules import load_rules

ROWS = """order_id,customer_id,order_date,amount,status,refund_amount,customer_name,phone,email
A1,A,2026-06-30 09:00:00,100.00,paid,,Ann,13800000001,ann@example.com
A2,A,2026-05-01 10:00:00,200.00,completed,,Ann,,
A3,A,2026-04-01 11:00:00,50.00,shipped,,Ann,,
A4,A,2026-03-01 12:00:00,100.00,delivered,,Ann,,
A4,A,2026-03-01 12:00:00,50.00,delivered,,Ann,,
B1,B,2026-06-01 08:00:00,300.00,paid,100.00,"Bo, Jr.",,
B2,B,2026-05-15 08:00:00,80.00,cancelled,,"Bo, Jr.",,
C1,C,2026-03-31 23:59:59,120.00,paid,,王芳,,
C2,C,2026-02-01 00:00:00,120.00,paid,,王芳,,
C3,C,2026-01-10 00:00:00,120.00,refunded,,王芳,,
D1,D,2025-12-31 18:00:00,500.00,paid,,Dee,,
CR-1,D,2026-01-15 09:00:00,-100.00,refunded,,Dee,,
E1,E,2026-01-01 10:00:00,20.00,paid,,Eve,,
E2,E,2026-02-01 10:00:00,20.00,paid,,Eve,,
E3,E,2026-03-01 10:00:00,20.00,paid,,Eve,,
E4,E,2026-04-01 10:00:00,20.00,paid,,Eve,,
E5,E,2026-04-15 10:00:00,20.00,paid,,Eve,,
E6,E,2026-05-01 10:00:00,20.00,paid,,Eve,,
F1,F,2026-04-30 10:00:00,200.00,paid,,Fay,,
F2,F,2026-04-01 10:00:00,300.00,paid,,Fay,,
F2,F,2026-04-01 10:00:00,-300.00,refunded,,Fay,,
G1,G,2026-07-05 10:00:00,999.00,unpaid,,Gus,,
"""

EXPECTED = {
    # customer: (recency_days, frequency, monetary, r, f, m, tier, classic)
    "A": (0, 4, 500.00, 5, 4, 5, "diamond", "champions"),
    "B": (29, 1, 200.00, 5, 1, 1, "potential", "new"),
    "C": (91, 2, 240.00, 2, 2, 3, "dormant", "hibernating"),
    "D": (181, 1, 400.00, 1, 1, 4, "dormant", "hibernating"),
    "E": (60, 6, 120.00, 4, 5, 1, "gold", "loyal"),
    "F": (61, 1, 200.00, 3, 1, 1, "potential", "about_to_sleep"),
}


@pytest.fixture
def worked_file(tmp_path: Path) -> Path:
    path = tmp_path / "worked.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def _score(path: Path, scheme: str = "tiers", as_of: date | None = None):
    result, reports = api.score("unused", [path], load_rules(scheme), as_of, ImportOptions())
    return result, reports


def test_every_number_matches_the_hand_worked_table(worked_file: Path) -> None:
    result, _ = _score(worked_file)
    assert result.as_of == date(2026, 6, 30)
    got = {
        row["customer_id"]: (row["recency_days"], row["frequency"], row["monetary"], row["r_score"],
                             row["f_score"], row["m_score"], row["tier"])
        for row in result.customers.iter_rows(named=True)
    }
    assert got == {cid: values[:7] for cid, values in EXPECTED.items()}


def test_classic_scheme_on_the_same_customers(worked_file: Path) -> None:
    result, _ = _score(worked_file, "classic")
    got = dict(zip(result.customers["customer_id"], result.customers["tier"]))
    assert got == {cid: values[7] for cid, values in EXPECTED.items()}


def test_rfm_code_and_dates(worked_file: Path) -> None:
    result, _ = _score(worked_file)
    a = result.customers.filter(pl.col("customer_id") == "A").row(0, named=True)
    assert a["rfm_code"] == "545"
    assert str(a["first_order_at"]) == "2026-03-01 12:00:00"
    assert str(a["last_order_at"]) == "2026-06-30 09:00:00"
    assert a["customer_name"] == "Ann" and a["phone"] == "13800000001"


def test_import_accounts_for_every_row(worked_file: Path) -> None:
    _, [report] = _score(worked_file)
    assert report.rows_read == 22
    # A1-A4 (5 rows), B1, C1, C2, D1, E1-E6, F1: 16 rows of new counted orders, plus CR-1 refund row.
    assert report.imported == 17
    # B2 cancelled, C3 refunded, G1 unpaid, F2 fully refunded by its own -300 line (2 rows).
    assert report.excluded == {"cancelled": 1, "refunded": 1, "unpaid": 1, "fully refunded": 2}
    assert report.rejected == 0 and report.duplicates == 0
    assert report.reconciles()


def test_as_of_moves_recency_and_drops_later_orders(worked_file: Path) -> None:
    result, _ = _score(worked_file, as_of=date(2026, 5, 1))
    rows = {r["customer_id"]: r for r in result.customers.iter_rows(named=True)}
    # A1 (06-30) is after the as-of date: A has 3 counted orders, the last on 05-01.
    assert rows["A"]["frequency"] == 3 and rows["A"]["recency_days"] == 0 and rows["A"]["monetary"] == 400.0
    assert "B" not in rows  # B1 is on 06-01
    assert rows["F"]["recency_days"] == 1  # F1 04-30


def test_cut_points_report_the_bands_used(worked_file: Path) -> None:
    result, _ = _score(worked_file)
    cuts = {(r["dimension"], r["score"]): r for r in result.cut_points.iter_rows(named=True)}
    assert cuts[("monetary", 1)]["min_value"] == 120.0 and cuts[("monetary", 1)]["max_value"] == 200.0
    assert cuts[("monetary", 1)]["customers"] == 3
    assert cuts[("monetary", 2)]["customers"] == 0
    assert cuts[("recency", 2)]["rule"] == "recency_days > 90 and <= 180"
    assert cuts[("frequency", 4)]["rule"] == "frequency >= 4 and < 6"


def test_explain_accounts_for_every_number(worked_file: Path) -> None:
    account = api.explain("unused", [worked_file], "D", load_rules(), None, ImportOptions())
    assert account["scored"] and account["tier"] == "dormant"
    assert [o["order_id"] for o in account["orders"]] == ["D1"]
    assert account["refund_rows_without_order"][0]["amount"] == 100.0
    assert account["values"]["monetary"] == 400.0
    assert "less refunds naming no order (100.00)" in account["values"]["monetary_rule"]
    assert account["values"]["recency_rule"].endswith("= 181 days")
    assert account["scores"]["m_score"]["score"] == 4
    assert [c["matched"] for c in account["rules_checked"]] == [True]
    assert account["rules_checked"][0]["with_values"] == "r_score (1) <= 2"

    f = api.explain("unused", [worked_file], "F", load_rules(), None, ImportOptions())
    f2 = next(o for o in f["orders"] if o["order_id"] == "F2")
    assert f2["counted"] is False and f2["not_counted_reason"] == "fully refunded"
    assert [c["tier"] for c in f["rules_checked"]] == ["dormant", "diamond", "gold", "potential"]

    g = api.explain("unused", [worked_file], "G", load_rules(), date(2026, 7, 10), ImportOptions())
    assert g["scored"] is False and g["orders"][0]["not_counted_reason"] == "unpaid"


def test_the_summary_is_computed_once_and_again_when_the_customers_change(monkeypatch) -> None:
    """ScoreResult.summary is asked for by the lists, the log line and the table: computed once,
    and again when `customers` (tags, predictions) or `rules` are assigned anew."""
    from rfm_cli.core import scoring
    from rfm_cli.core.rules import load_rules

    calls = []
    real = scoring.tier_summary
    monkeypatch.setattr(scoring, "tier_summary", lambda c, r: (calls.append(c.height), real(c, r))[1])
    customers = pl.DataFrame({"tier": ["gold", "dormant"], "monetary": [10.0, 5.0]})
    result = scoring.ScoreResult(as_of=date(2026, 1, 1), rules=load_rules(), customers=customers,
                                 cut_points=pl.DataFrame())
    first = result.summary()
    assert result.summary() is first and calls == [2]
    result.customers = customers.head(1)
    assert result.summary()["customers"].sum() == 1 and calls == [2, 1]
    result.rules = load_rules()
    result.summary()
    assert calls == [2, 1, 1]


def test_scoring_a_file_drops_its_orders_before_reading_the_customers(worked_file: Path, monkeypatch) -> None:
    """`rfm score FILE`'s store is thrown away once read, so its orders go before the customers are
    read into Polars (DuckDB's memory given back first): the same customers, in customer_id order,
    with no order table left when they are read. The command takes this path unless the tags read
    the store afterwards."""
    from rfm_cli.core import scoring
    from rfm_cli.core.store import open_store
    from rfm_cli.core.tags import TagSettings

    rules, options = load_rules("tiers"), ImportOptions(rejects_dir=None)
    read, frames, tables = scoring.as_frame, {}, {}
    for last in (False, True):
        with open_store(None) as store:
            api.import_files(store, [worked_file], options, read_only_after=True)

            def reading(relation, con=store.con, last=last):
                found = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
                tables[last] = {name for (name,) in found}
                return read(relation)

            monkeypatch.setattr(scoring, "as_frame", reading)
            frames[last] = scoring.score_inputs(store, rules, last=last)[0]
    monkeypatch.setattr(scoring, "as_frame", read)
    assert "file_orders" in tables[False]
    assert "file_orders" not in tables[True] and "_customer_inputs" in tables[True]
    assert frames[True].equals(frames[False]) and frames[True]["customer_id"].is_sorted()

    asked, score_inputs = [], scoring.score_inputs

    def asking(*args, **kwargs):
        asked.append(kwargs["last"])
        return score_inputs(*args, **kwargs)

    monkeypatch.setattr(scoring, "score_inputs", asking)
    plain, _ = api.score("unused", [worked_file], rules, None, options)
    tagged, _ = api.score("unused", [worked_file], rules, None, options, tags=TagSettings())
    assert asked == [True, False]
    assert plain.customers.equals(tagged.customers.select(plain.customers.columns))
