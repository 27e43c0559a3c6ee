"""rfm_customers: each customer's scoring inputs, kept up to date in a database file.

Rescoring a database used to group every stored order by customer (seconds at 10 million
orders); the nightly run and `rfm export` now read one row per customer instead. The table holds
exactly what `queries/customer_rfm.sql` returns with no as-of cut, and it is maintained with
that same query:

- `rebuild`: every customer. `rfm export` and `rfm run` do it when the table is not current (a
  database imported before it existed, or never exported yet), once; the first export after a
  first import pays what scoring from the orders cost anyway, and an import never does.
- `mark_scope` + `refresh`: once the table is current, each import replaces the rows of the
  customers the file can change (see `queries/customer_stats_scope.sql`). A customer whose change
  is only later orders (and refunds) of the file gets the old row plus the file's part
  (`queries/customer_stats_delta.sql`): a nightly file of repeat buyers then costs what the file
  holds, not what the buyers bought over the years. The others are recomputed from every order
  they have, with the query narrowed to them.

rfm_meta `customer_stats = current` says the table matches the orders. `usable` says when it
answers a scoring question: its rows are customer_rfm's at any as-of date on or after the day of
the latest stored order. An earlier --as-of (orders after it are left out) is scored from the
orders themselves, and so is every in-memory store (`rfm score FILE`): its orders are read once.
"""

from __future__ import annotations

from datetime import date

import duckdb

from rfm_cli.core.store import (
    MEMORY,
    Store,
    fetch_one,
    narrowed,
    progress,
    run_statements,
    set_meta,
    subquery,
)

TABLE = "rfm_customers"
SCOPE = "_rfm_scope"
NO_CUT = date(9999, 12, 31)  # an as-of date no order reaches: every stored order counts


def customer_rfm_sql() -> str:
    """customer_rfm.sql as a subquery (no trailing semicolon)."""
    return subquery("customer_rfm")


def is_current(store: Store) -> bool:
    """Whether the store's rfm_customers matches its orders (never for an in-memory store)."""
    if store.path == MEMORY:
        return False
    row = fetch_one(store.con, "SELECT value FROM rfm_meta WHERE key = 'customer_stats'")
    return bool(row) and row[0] == "current"


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Every row from the orders, and the table marked current. The caller owns the transaction."""
    con.execute(f"DELETE FROM {TABLE}")
    con.execute(f"INSERT INTO {TABLE} {customer_rfm_sql()}", {"as_of": NO_CUT, "since": None})
    set_meta(con, "customer_stats", "current")


def ensure_current(store: Store) -> None:
    """Build the table of a database file that does not have it current (export and run do this
    inside their transaction). In-memory stores never keep it."""
    if store.path != MEMORY and not is_current(store):
        with progress(store.con, "totalling customers"):
            rebuild(store.con)


def mark_scope(con: duckdb.DuckDBPyConnection) -> None:
    """Before a file's orders are merged: which customers it can change (temp table _rfm_scope)."""
    run_statements(con, "customer_stats_scope")


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """After the merge: replace the rows of the customers in scope, updated from the file where it
    is enough (by_delta), else recomputed from their orders."""
    run_statements(con, "customer_stats_delta")  # reads the old rows: before they are deleted
    con.execute(f"DELETE FROM {TABLE} WHERE customer_id IN (SELECT customer_id FROM {SCOPE})")
    con.execute(f"INSERT INTO {TABLE} SELECT * FROM _rfm_delta")
    # the customers the file alone cannot update (not by_delta), from all their orders
    with narrowed(con, "rfm_stats_scope", f"c IN (SELECT customer_id FROM {SCOPE} WHERE NOT by_delta)"):
        con.execute(f"INSERT INTO {TABLE} {customer_rfm_sql()}", {"as_of": NO_CUT, "since": None})
    con.execute(f"DROP TABLE {SCOPE}")
    con.execute("DROP TABLE _rfm_delta")


def usable(con: duckdb.DuckDBPyConnection, as_of: date) -> bool:
    """Whether rfm_customers holds customer_rfm's rows at `as_of`: no stored order is dated after it."""
    latest = fetch_one(
        con, "SELECT CAST(max(ordered_at) AS DATE) FROM rfm_orders WHERE customer_id IS NOT NULL")[0]
    return latest is None or latest <= as_of


def latest_counted_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The default as-of date (queries/as_of_default.sql), from the table: each row's last_order_at
    is its customer's latest counted order."""
    return fetch_one(con, f"SELECT CAST(max(last_order_at) AS DATE) FROM {TABLE}")[0]


def read_sql() -> str:
    """The table's rows in storage order: customer_id order as rebuilt, with the rows a nightly
    import replaced at the end (scoring.customer_inputs sorts them only then)."""
    return f"SELECT * FROM {TABLE}"
