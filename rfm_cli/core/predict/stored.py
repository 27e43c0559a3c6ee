"""rfm_predict_inputs: the models' inputs kept in a database file (schema 14), like rfm_customers.

`rfm export` and `rfm run` keep it (`keep`, inside their transaction): when its stamp does not match
the orders, it is rebuilt from queries/predict_inputs.sql with no as-of cut. `rfm predict`, `rfm
explain`, `rfm report --with-predictions` and the prediction lists then read one row per customer
(`read_sql`) instead of grouping every order into purchase days and gaps again: at 10 million
orders that grouping is about half of what `rfm predict` costs.

The stamp is the number of import records, the greatest import id and the numbers of stored orders
and refund rows: every import adds a record (a file whose bytes were imported before changes
nothing and adds none), and `rfm imports rm` removes one, so any change to the orders changes the
stamp. Once current, each import keeps them current (`refresh_scope` + `mark_current`, called by
the import's merge): the rows of the customers the file can change (customer_stats_scope.sql's
_rfm_scope) are recomputed from their orders, so a nightly file costs what its customers bought,
not a regrouping of every order. The rows answer a question at any as-of date on or after the day
of the latest stored order (T is as_of - first_day); an earlier --as-of or a hold-out date is
computed from the orders.

This module loads no NumPy or SciPy: export and run import it.
"""

from __future__ import annotations

from datetime import date

from rfm_cli.core.store import MEMORY, Store, fetch_one, narrowed, progress, set_meta, subquery

TABLE = "rfm_predict_inputs"
META_KEY = "predict_inputs"
NO_CUT = date(9999, 12, 31)
_COLUMNS = "customer_id, first_day, last_day, x, t_x_days, repeat_spend, median_gap_days"


def stamp(store: Store) -> str:
    imports = fetch_one(store.con, "SELECT count(*), coalesce(max(import_id), 0) FROM rfm_imports")
    orders = fetch_one(store.con, "SELECT count(*) FROM rfm_orders")[0]
    refunds = fetch_one(store.con, "SELECT count(*) FROM rfm_refunds")[0]
    return f"{imports[0]}:{imports[1]}:{orders}:{refunds}"


def is_current(store: Store) -> bool:
    """Whether the stored rows match the orders (never for an in-memory store)."""
    if store.path == MEMORY:
        return False
    row = fetch_one(store.con, "SELECT value FROM rfm_meta WHERE key = ?", [META_KEY])
    return bool(row) and row[0] == stamp(store)


def usable(store: Store, as_of: date) -> bool:
    """Current, and no stored order dated after `as_of` (the rows have no as-of cut)."""
    if not is_current(store):
        return False
    latest = fetch_one(store.con, "SELECT CAST(max(ordered_at) AS DATE) FROM rfm_orders")[0]
    return latest is None or latest <= as_of


def keep(store: Store) -> None:
    """Rebuild the rows when they do not match the orders. The caller owns the transaction."""
    if store.path == MEMORY or is_current(store):
        return
    query = subquery("predict_inputs")
    with progress(store.con, "keeping the models' inputs"):
        store.con.execute(f"DELETE FROM {TABLE}")
        store.con.execute(f"INSERT INTO {TABLE} SELECT {_COLUMNS} FROM ({query}) ORDER BY customer_id",
                          {"as_of": NO_CUT})
        mark_current(store)


def refresh_scope(store: Store) -> None:
    """After an import's merge, while _rfm_scope exists: the rows of the customers in scope
    recomputed from their orders (a customer left with no counted order loses the row). The
    caller owns the transaction and calls `mark_current` once the import's record is written."""
    store.con.execute(f"DELETE FROM {TABLE} WHERE customer_id IN (SELECT customer_id FROM _rfm_scope)")
    query = subquery("predict_inputs")
    with narrowed(store.con, "rfm_inputs_scope", "c IN (SELECT customer_id FROM _rfm_scope)"):
        store.con.execute(f"INSERT INTO {TABLE} SELECT {_COLUMNS} FROM ({query}) ORDER BY customer_id",
                          {"as_of": NO_CUT})


def mark_current(store: Store) -> None:
    set_meta(store.con, META_KEY, stamp(store))


def read_sql() -> str:
    """predict_inputs.sql's columns from the table; parameter $as_of."""
    return (f"SELECT customer_id, first_day, last_day, x, t_x_days, $as_of - first_day AS T_days, "
            f"repeat_spend, median_gap_days FROM {TABLE}")
