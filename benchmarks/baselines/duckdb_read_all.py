#!/usr/bin/env python3
"""Baseline (a): DuckDB reads and parses every column of the export, and nothing more.

    python benchmarks/baselines/duckdb_read_all.py ORDERS.csv

The floor for any tool that has to look at the whole file: `read_csv` with DuckDB's own type
detection, and an aggregate over EVERY column (count + min/max), so that no column can be
projected away and every value is parsed into its detected type. Prints one summary line.
"""

import sys

import duckdb


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1].replace("'", "''")
    con = duckdb.connect()
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{path}')").fetchall()]
    aggregates = ", ".join(f'count("{c}"), min("{c}"), max("{c}")' for c in columns)
    row = con.execute(f"SELECT count(*), {aggregates} FROM read_csv('{path}')").fetchone()
    print(f"rows={row[0]} columns={len(columns)} non_null={[row[1 + 3 * i] for i in range(len(columns))]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
