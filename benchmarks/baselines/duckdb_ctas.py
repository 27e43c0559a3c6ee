#!/usr/bin/env python3
"""Baseline (c): load the export into a DuckDB database file with one statement.

    python benchmarks/baselines/duckdb_ctas.py ORDERS.csv DB.duckdb

`CREATE TABLE orders AS SELECT * FROM read_csv(...)` into a FRESH database file (an existing
one is removed first), then the connection is closed so the data is checkpointed to disk.
"""

import os
import sys

import duckdb


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, db = sys.argv[1], sys.argv[2]
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con = duckdb.connect(db)
    con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?)", [src])
    n = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    con.close()
    print(f"rows={n} bytes={os.path.getsize(db)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
