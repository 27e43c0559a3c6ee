"""rfm_customers, the per-customer scoring inputs a database file keeps (rfm_cli/core/customer_stats.py).

The invariant: after any sequence of imports, the table holds exactly what customer_rfm.sql
computes from every stored order. Checked on generated import sequences that revisit the same
orders (updates, cancellations, a changed customer, refunds before and after their order,
credit notes, contact changes), after a migration from schema 4, and on the paths that must not
use the table (an --as-of before the latest order, a failed import).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_cli.core import api, customer_stats
from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest.pipeline import ImportOptions
from rfm_cli.core.predict import stored as predict_stored
from rfm_cli.core.rules import load_rules
from rfm_cli.core.scoring import customer_inputs, score_store
from rfm_cli.core.store import SCHEMA_VERSION, open_store, subquery

HEADER = "order_id,customer_id,order_date,amount,status,refund_amount,customer_name,phone"
START = datetime(2025, 1, 1, 9, 0)
OPTIONS = ImportOptions(rejects_dir=None)

ALL_HISTORY = {"as_of": customer_stats.NO_CUT, "since": None}  # customer_rfm.sql's parameters, no window


def stored(con) -> pl.DataFrame:
    """The table's rows, in customer_id order (it is read in storage order)."""
    return pl.from_arrow(con.sql(customer_stats.read_sql()).to_arrow_table()).sort("customer_id")


def recomputed(con) -> pl.DataFrame:
    query = customer_stats.customer_rfm_sql()
    return pl.from_arrow(con.sql(query, params=ALL_HISTORY).to_arrow_table())


def build_once(db: Path) -> None:
    """What the first `rfm export` or `rfm run` on a database does: total every customer and keep
    the models' inputs (rfm_predict_inputs)."""
    with open_store(db, create=False) as store:
        _build(store)


def _build(store) -> None:
    with store.transaction():
        customer_stats.ensure_current(store)
        predict_stored.keep(store)


def predict_rows(con, query: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(query, params={"as_of": predict_stored.NO_CUT}).to_arrow_table())
    return frame.sort("customer_id")


def _assert_inputs_match(store) -> None:
    """rfm_predict_inputs is current without a rebuild, and equals predict_inputs.sql over the orders."""
    assert predict_stored.is_current(store)
    kept = predict_rows(store.con, predict_stored.read_sql())
    fresh = predict_rows(store.con, subquery("predict_inputs"))
    assert kept.equals(fresh), f"rfm_predict_inputs differs from the orders:\n{kept}\n{fresh}"


def import_kept_current(db: Path, path: Path) -> None:
    api.import_to_db(str(db), [path], OPTIONS)
    build_once(db)  # a no-op after the first file: from then on each import refreshes the tables


def assert_table_matches_orders(db: Path, *, inputs: bool = True) -> pl.DataFrame:
    """`inputs`: rfm_predict_inputs was kept too (by an export, run or build_once), so check it."""
    with open_store(db, create=False) as store:
        return _assert_table_matches(store, inputs=inputs)


def _assert_table_matches(store, *, inputs: bool = True) -> pl.DataFrame:
    assert customer_stats.is_current(store)
    kept, fresh = stored(store.con), recomputed(store.con)
    assert kept.equals(fresh), f"rfm_customers differs from the orders:\n{kept}\n{fresh}"
    if inputs:
        _assert_inputs_match(store)
    return kept


def checked_after_import(db: Path, *, landed_now: bool, landed: bool) -> None:
    """A property test's step after each file, on one connection (opening stores was 47% of these
    tests' time, py-spy): what the first export does once the import landed (build_once: a no-op from
    then on), then the checks of assert_table_matches_orders once anything has landed. A failed import
    builds nothing, so the check sees the tables as that import left them."""
    if not landed:
        return
    with open_store(db, create=False) as store:
        if landed_now:
            _build(store)
        _assert_table_matches(store)


line = st.tuples(
    st.sampled_from([f"O{i}" for i in range(1, 9)]),  # few order ids: later files revisit them
    st.sampled_from(["C1", "C2", "C3", "C4"]),
    st.integers(0, 40),  # days after START
    st.sampled_from(["10.00", "25.50", "99.90", "0.00", "-5.00", "-25.50"]),
    st.sampled_from(["paid", "paid", "cancelled", "refunded"]),
    st.sampled_from(["", "", "3.00", "25.50"]),
    st.sampled_from(["", "李雷", "Ann Lee"]),
    st.sampled_from(["", "13812345678", "13900001111"]),
)


def write_export(path: Path, lines: list[tuple]) -> Path:
    rows = []
    for order_id, customer, day, amount, status, refund, name, phone in lines:
        when = (START + timedelta(days=day)).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(f"{order_id},{customer},{when},{amount},{status},{refund},{name},{phone}")
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(line, min_size=1, max_size=8), min_size=1, max_size=4))
def test_table_equals_the_orders_after_every_import(new_database, exports: list[list[tuple]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = new_database(Path(folder) / "rfm.duckdb")  # as the first import creates it
        landed = False  # the table is built by the first import that lands anything
        for i, lines in enumerate(exports):
            path = write_export(Path(folder) / f"export-{i}.csv", lines)
            try:
                api.import_to_db(str(db), [path], OPTIONS)
                landed = landed_now = True
            except DataError:  # e.g. a file of zero amounts only: nothing lands, the check still holds
                landed_now = False
            checked_after_import(db, landed_now=landed_now, landed=landed)


def test_a_changed_order_moves_between_customers_and_refunds_apply_in_either_order(tmp_path: Path) -> None:
    db = tmp_path / "rfm.duckdb"
    first = write_export(tmp_path / "a.csv", [
        ("O1", "C1", 0, "100.00", "paid", "", "李雷", "13812345678"),
        ("O2", "C2", 1, "50.00", "paid", "", "", ""),
        ("O3", "C3", 2, "60.00", "paid", "", "", ""),
        ("R9", "C3", 2, "-20.00", "paid", "", "", ""),  # a refund naming an order not stored yet
    ])
    import_kept_current(db, first)
    before = assert_table_matches_orders(db)
    assert before.filter(pl.col("customer_id") == "C1")["spend"].to_list() == [100]
    assert before.filter(pl.col("customer_id") == "C3")["spend"].to_list() == [40]  # a credit note so far
    second = write_export(tmp_path / "b.csv", [
        ("O1", "C2", 0, "100.00", "paid", "", "", ""),  # the export now names another customer
        ("O2", "C2", 1, "50.00", "cancelled", "", "", ""),  # cancelled since
        ("R9", "C4", 3, "40.00", "paid", "", "", "13900001111"),  # the order the refund named, C4's
    ])
    api.import_to_db(str(db), [second], OPTIONS)
    after = assert_table_matches_orders(db)
    assert after["customer_id"].to_list() == ["C2", "C3", "C4"]  # C1 has no counted order left
    assert after.filter(pl.col("customer_id") == "C3")["spend"].to_list() == [60]  # no longer reduced
    assert after.filter(pl.col("customer_id") == "C4")["spend"].to_list() == [20]  # 40 less the refund


def test_the_first_export_builds_the_table_and_imports_keep_it(tmp_path: Path, rfm, write_orders) -> None:
    db = tmp_path / "rfm.duckdb"
    a = write_export(tmp_path / "a.csv", [("O1", "C1", 0, "10.00", "paid", "", "", ""),
                                         ("O2", "C2", 5, "20.00", "paid", "", "", "")])
    assert rfm("--db", db, "import", a).returncode == 0
    with open_store(db, create=False) as store:  # an import alone never pays for the totals
        assert not customer_stats.is_current(store)
        assert store.con.execute("SELECT count(*) FROM rfm_customers").fetchall() == [(0,)]
    assert rfm("--db", db, "export", "--out-dir", tmp_path / "lists").returncode == 0
    assert assert_table_matches_orders(db)["customer_id"].to_list() == ["C1", "C2"]
    b = write_export(tmp_path / "b.csv", [("O3", "C3", 6, "30.00", "paid", "", "", ""),
                                         ("O1", "C1", 0, "10.00", "paid", "10.00", "", "")])
    assert rfm("--db", db, "import", b).returncode == 0
    assert assert_table_matches_orders(db)["customer_id"].to_list() == ["C2", "C3"]


def test_a_schema_4_database_gets_the_table_on_its_next_export(tmp_path: Path) -> None:
    db = tmp_path / "rfm.duckdb"
    path = write_export(tmp_path / "a.csv", [("O1", "C1", 0, "10.00", "paid", "", "", ""),
                                            ("O2", "C2", 5, "20.00", "paid", "", "", "")])
    api.import_to_db(str(db), [path], OPTIONS)
    with open_store(db, create=False) as store:  # back to what a schema-4 database holds
        store.con.execute("DROP TABLE rfm_customers")
        store.con.execute("UPDATE rfm_meta SET value = '4' WHERE key = 'schema_version'")
    with open_store(db, create=False) as store:
        assert store.con.execute("SELECT value FROM rfm_meta WHERE key = 'schema_version'").fetchall() == [
            (str(SCHEMA_VERSION),)]
        assert not customer_stats.is_current(store)
        with store.transaction():
            scored = score_store(store, load_rules("tiers"), keep_totals=True).customers
    assert (assert_table_matches_orders(db, inputs=False)["customer_id"].to_list()
            == scored["customer_id"].to_list())


def test_a_schema_5_database_rebuilds_totals_taken_under_the_old_contact_pick(tmp_path: Path) -> None:
    """Schema 6 changed which of two same-moment orders gives the contact fields: totals stored
    before may hold the other order's, so the next export rebuilds them instead of trusting them."""
    db = tmp_path / "rfm.duckdb"
    path = write_export(tmp_path / "a.csv", [("1001", "C1", 0, "10.00", "paid", "", "Ann Lee", "13812345678"),
                                            ("1002", "C1", 0, "12.00", "paid", "", "李雷", "13900001111")])
    import_kept_current(db, path)
    with open_store(db, create=False) as store:  # what the old pick may have stored, in a schema-5 database
        store.con.execute("UPDATE rfm_customers SET customer_name = 'Ann Lee', phone = '13812345678'")
        store.con.execute("ALTER TABLE rfm_customers DROP COLUMN latest_key")  # schema 7's
        store.con.execute("UPDATE rfm_meta SET value = '5' WHERE key = 'schema_version'")
    with open_store(db, create=False) as store:
        assert not customer_stats.is_current(store)
        with store.transaction():
            score_store(store, load_rules("tiers"), keep_totals=True)
    rows = assert_table_matches_orders(db, inputs=False).select("customer_name", "phone").rows()
    assert rows == [("李雷", "13900001111")]


def test_an_earlier_as_of_is_scored_from_the_orders(tmp_path: Path) -> None:
    db = tmp_path / "rfm.duckdb"
    path = write_export(tmp_path / "a.csv", [("O1", "C1", 0, "10.00", "paid", "", "", ""),
                                            ("O2", "C1", 30, "20.00", "paid", "", "", ""),
                                            ("O3", "C2", 31, "5.00", "cancelled", "", "Late Name", "")])
    import_kept_current(db, path)
    rules = load_rules("tiers")
    latest_paid = (START + timedelta(days=30)).date()
    with open_store(db, create=False) as store:
        # The cancelled order a day after the latest counted one: the table's rows include it, so
        # the default as-of (its day before) cannot use them.
        assert not customer_stats.usable(store.con, latest_paid)
        assert customer_stats.usable(store.con, latest_paid + timedelta(days=1))
        early = score_store(store, rules, date(2025, 1, 10)).customers
        default = score_store(store, rules).customers
    in_memory, _ = api.score("unused", [path], rules, date(2025, 1, 10), OPTIONS)
    assert early.equals(in_memory.customers)
    assert early["frequency"].to_list() == [1]
    assert default["frequency"].to_list() == [2]


def test_stored_and_recomputed_inputs_score_the_same(tmp_path: Path) -> None:
    db = tmp_path / "rfm.duckdb"
    a = write_export(tmp_path / "a.csv", [("O1", "C1", 0, "10.00", "paid", "", "", ""),
                                         ("O2", "C2", 3, "30.00", "paid", "", "", "13812345678")])
    b = write_export(tmp_path / "b.csv", [("O3", "C1", 9, "12.00", "paid", "", "李雷", ""),
                                         ("O2", "C2", 3, "30.00", "paid", "30.00", "", "")])
    import_kept_current(db, a)
    api.import_to_db(str(db), [b], OPTIONS)
    as_of = (START + timedelta(days=9)).date()
    with open_store(db, create=False) as store:
        assert customer_stats.usable(store.con, as_of)
        from_table = customer_inputs(store, as_of)
        from_orders = pl.from_arrow(store.con.sql(customer_stats.customer_rfm_sql(),
                                                  params={**ALL_HISTORY, "as_of": as_of})
                                    .to_arrow_table()).drop("latest_key", "unmatched_refunds")
        _assert_table_matches(store, inputs=False)  # every column of the table, unmatched_refunds too
    assert from_table.equals(from_orders)  # the scoring inputs: the table less its bookkeeping
    assert from_table["customer_id"].to_list() == ["C1"]  # C2's only order was refunded in full


def test_rows_a_nightly_import_replaced_are_read_back_in_customer_order(tmp_path: Path) -> None:
    """The table is read in storage order, where the refreshed rows (C1, C3) follow the untouched
    ones (C2, C4): scoring gets them in customer_id order all the same, as from the orders."""
    db = tmp_path / "rfm.duckdb"
    import_kept_current(db, write_export(tmp_path / "a.csv", [
        ("O1", "C1", 0, "10.00", "paid", "", "", ""), ("O2", "C2", 1, "20.00", "paid", "", "", ""),
        ("O3", "C3", 2, "30.00", "paid", "", "", ""), ("O4", "C4", 3, "40.00", "paid", "", "", "")]))
    api.import_to_db(str(db), [write_export(tmp_path / "b.csv", [
        ("N1", "C1", 5, "11.00", "paid", "", "", ""), ("N3", "C3", 6, "33.00", "paid", "", "", "")])],
        OPTIONS)
    as_of = (START + timedelta(days=6)).date()
    with open_store(db, create=False) as store:
        storage_order = [r[0] for r in store.con.execute(customer_stats.read_sql()).fetchall()]
        from_table = customer_inputs(store, as_of)
        from_orders = pl.from_arrow(store.con.sql(customer_stats.customer_rfm_sql(),
                                                  params={**ALL_HISTORY, "as_of": as_of})
                                    .to_arrow_table()).drop("latest_key", "unmatched_refunds")
    assert storage_order != sorted(storage_order)  # the case this is about
    assert from_table["customer_id"].to_list() == ["C1", "C2", "C3", "C4"]
    assert from_table.equals(from_orders)


def test_a_failed_import_leaves_the_table_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "rfm.duckdb"
    good = write_export(tmp_path / "a.csv", [("O1", "C1", 0, "10.00", "paid", "", "", "")])
    import_kept_current(db, good)
    before = assert_table_matches_orders(db)
    bad = tmp_path / "b.csv"
    bad.write_text(HEADER + "\nO2,C2,2025-01-02,ten,paid,,,\n", encoding="utf-8")
    with pytest.raises(DataError):
        api.import_to_db(str(db), [bad], OPTIONS)
    assert assert_table_matches_orders(db).equals(before)


@pytest.mark.parametrize(("first_id", "second_id", "winner"), [
    ("1001", "1002", "李雷"),
    ("9", "10", "李雷"),  # ids that are numbers compare as numbers, not as text
    ("O1", "O2", None),  # others by a fixed hash of the id: either, but the same in both storage orders
])
def test_contacts_of_orders_placed_at_the_same_time_come_from_the_greatest_order_id(
        tmp_path: Path, first_id: str, second_id: str, winner: str | None) -> None:
    """Without the tie-break the pick followed the order the rows were stored in, and a refreshed
    row could differ from a recomputed one. Each order is its own import, in both orders."""
    rows = [(first_id, "C1", 0, "10.00", "paid", "", "Ann Lee", "13812345678"),
            (second_id, "C1", 0, "12.00", "paid", "", "李雷", "13900001111")]
    picked = []
    for run, ordered in enumerate((rows, rows[::-1])):
        db = tmp_path / f"run{run}.duckdb"
        for i, row in enumerate(ordered):
            api.import_to_db(str(db), [write_export(tmp_path / f"run{run}-{i}.csv", [row])], OPTIONS)
        build_once(db)
        table = assert_table_matches_orders(db)
        picked.append(table.select("customer_name", "phone").rows())
    assert picked[0] == picked[1]
    assert picked[0][0] in {("Ann Lee", "13812345678"),
                            ("李雷", "13900001111")}  # one order's fields, not mixed
    if winner is not None:
        assert picked[0][0][0] == winner


def test_later_orders_update_rows_from_the_file_and_the_rest_is_recomputed(tmp_path: Path,
                                                                           monkeypatch) -> None:
    """Which customers the nightly file alone updates (by_delta) and which are recomputed from their
    orders, and that both give the rows customer_rfm.sql computes."""
    db = tmp_path / "rfm.duckdb"
    import_kept_current(db, write_export(tmp_path / "a.csv", [
        ("O1", "C1", 0, "10.00", "paid", "", "Ann Lee", "13812345678"),
        ("O2", "C2", 5, "20.00", "paid", "", "", ""),
        ("O3", "C3", 5, "30.00", "paid", "", "", ""),
        ("O5", "C5", 5, "50.00", "paid", "", "", ""),
        ("O6", "C6", 1, "60.00", "paid", "", "", ""),
        ("O7", "C6", 9, "70.00", "cancelled", "", "", ""),  # not counted, but the latest order
    ]))
    scopes: list[dict[str, bool]] = []
    refresh = customer_stats.refresh

    def spy(con) -> None:
        scopes.append(dict(con.execute("SELECT customer_id, by_delta FROM _rfm_scope").fetchall()))
        refresh(con)

    monkeypatch.setattr(customer_stats, "refresh", spy)
    api.import_to_db(str(db), [write_export(tmp_path / "b.csv", [
        ("N1", "C1", 10, "15.00", "paid", "", "", "13900001111"),  # later: from the file
        ("N1b", "C1", 11, "8.00", "cancelled", "", "", ""),
        ("N2", "C2", 2, "25.00", "paid", "", "", ""),  # earlier than C2's stored order: recomputed
        ("O3", "C3", 6, "-5.00", "paid", "", "", ""),  # a refund of a stored order: recomputed
        ("N4", "C4", 7, "40.00", "paid", "", "", ""),  # a customer with no row: recomputed
        ("R7", "C5", 8, "-3.00", "paid", "", "", ""),  # a credit note naming no order: from the file
        ("N6", "C6", 8, "65.00", "paid", "", "", ""),  # before C6's cancelled order: recomputed
    ])], OPTIONS)
    assert scopes == [{"C1": True, "C2": False, "C3": False, "C4": False, "C5": True, "C6": False}]
    rows = {r["customer_id"]: r for r in assert_table_matches_orders(db).iter_rows(named=True)}
    assert (rows["C1"]["frequency"], rows["C1"]["spend"], rows["C1"]["customer_name"],
            rows["C1"]["phone"]) == (
        2, 25, "Ann Lee", "13900001111")
    assert (rows["C5"]["spend"], rows["C5"]["unmatched_refunds"]) == (47, 3)


nightly_line = st.tuples(
    st.sampled_from(["new", "new", "new", "old", "refund-old", "refund-none"]),
    st.sampled_from(["C1", "C2", "C3", "C4", "C5"]),
    st.integers(0, 3),  # days after the file's start
    st.sampled_from(["10.00", "25.50", "0.00"]),
    st.sampled_from(["paid", "paid", "cancelled"]),
    st.sampled_from(["", "", "3.00", "25.50"]),
    st.sampled_from(["", "李雷", "Ann Lee"]),
    st.sampled_from(["", "13812345678", "13900001111"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(nightly_line, min_size=1, max_size=8), min_size=2, max_size=4))
def test_nightly_files_of_mostly_later_orders_keep_the_table_equal_to_the_orders(
    new_database, nights: list[list[tuple]]
) -> None:
    """Each night's file is mostly new orders after the last night's (the case the file alone
    updates), with some revisits of stored orders, refunds of them and credit notes."""
    with tempfile.TemporaryDirectory() as folder:
        db = new_database(Path(folder) / "rfm.duckdb")  # as the first import creates it
        landed = False  # the table is built by the first import that lands anything
        stored_ids: list[str] = []
        for night, lines in enumerate(nights):
            rows, seen = [], set()
            for k, (kind, customer, day, amount, status, refund, name, phone) in enumerate(lines):
                when = night * 5 + day
                if kind == "new" or not stored_ids:
                    rows.append((f"N{night}-{k}", customer, when, amount, status, refund, name, phone))
                elif kind == "old":  # the same order again, maybe in another state
                    rows.append((stored_ids[k % len(stored_ids)], customer, when, amount, status, refund,
                                 name, phone))
                elif kind == "refund-old":
                    rows.append((stored_ids[k % len(stored_ids)], customer, when, "-3.00", "paid", "", "",
                                 ""))
                else:
                    rows.append((f"CN{night}-{k}", customer, when, "-2.00", "paid", "", "", ""))
            rows = [r for r in rows if not (r[0] in seen or seen.add(r[0]))]  # one order per id and file
            path = write_export(Path(folder) / f"night-{night}.csv", rows)
            try:
                api.import_to_db(str(db), [path], OPTIONS)
                landed = landed_now = True
            except DataError:
                landed_now = False
            stored_ids += [r[0] for r in rows if r[0].startswith("N")]
            checked_after_import(db, landed_now=landed_now, landed=landed)


def test_a_failed_statement_inside_a_narrowed_scope_tells_its_own_error() -> None:
    """Inside the import's transaction a failed statement aborts it: the scope macro is put back by
    the rollback, and the error raised is the statement's, not the aborted transaction's."""
    from rfm_cli.core.store import narrowed, run_script

    con = duckdb.connect()
    run_script(con, "macros")
    con.execute("BEGIN")
    with pytest.raises(duckdb.ConversionException), narrowed(con, "rfm_stats_scope", "c = 'a'"):
        con.execute("SELECT CAST('x' AS INTEGER)")
    con.execute("ROLLBACK")
    restored = con.execute("SELECT rfm_stats_scope('a'), rfm_stats_scope('b'), rfm_stats_scope(NULL)")
    assert restored.fetchall() == [(True, True, False)]
