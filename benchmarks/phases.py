#!/usr/bin/env python3
"""Where the time of `rfm score FILE` goes: CPU seconds per phase, in one process, beside the
same work written by hand in DuckDB and two prototypes of a cheaper pipeline.

    python benchmarks/phases.py benchmarks/data/orders_1M.csv [--repeat 5] [--markdown]

Each round runs every measurement once (interleaved, so drift on the machine hits all alike); the
median CPU time (user + system of this process, DuckDB's threads included) is reported. Phases of
rfm, with the library calls `rfm score` makes:

- in-memory store set-up: `open_store(None)` (schema, migrations, macros);
- read + clean + group: `stage_file` (the one pass over the file: read_csv, the cell cleaning,
  the status words, the checks, GROUP BY order_id into the temp table file_orders);
- outcomes + views: the rest of `import_files` (counting each order's outcome, the store's views);
- customer totals: `score_inputs` (the as-of date and customer_rfm.sql into Polars);
- scores + tiers: `score_frame`; CSV write: `write_file` of the scored table.

Beside them: the same-semantics program's grouping of the file (`read_csv` + GROUP BY order_id,
its `orders` CTE, into a table) and its whole query (benchmarks/baselines/duckdb_same.py, in this
process: no start-up), and two prototypes on rfm's own pass: the cell cleaning skipped (macros
rfm_text and rfm_id as identity: the floor a per-column "already clean" decision could reach on
this file, whose cells are all clean) and a bare `read_csv` of every column. Python start-up and
imports are measured as child processes (`python -c ...`), median of the same rounds.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks" / "baselines"))


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cpu(code: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime


def rfm_phases(path: Path, out: Path, prelude: list[str] = ()) -> dict[str, float]:
    from rfm_cli.core.ingest import pipeline
    from rfm_cli.core.ingest.pipeline import ImportOptions, import_files
    from rfm_cli.core.rules import load_rules
    from rfm_cli.core.scoring import score_frame, score_inputs
    from rfm_cli.core.sinks import write_file
    from rfm_cli.core.store import open_store

    times: dict[str, float] = {}
    staged = pipeline.stage_file

    def timed_stage(*args, **kwargs):
        start = cpu()
        try:
            return staged(*args, **kwargs)
        finally:
            times["read + clean + group"] = cpu() - start

    pipeline.stage_file = timed_stage
    try:
        start = cpu()
        with open_store(None) as store:
            times["in-memory store set-up"] = cpu() - start
            for statement in prelude:
                store.con.execute(statement)
            start = cpu()
            import_files(store, [path], ImportOptions(rejects_dir=None), read_only_after=True)
            times["outcomes + views"] = cpu() - start - times["read + clean + group"]
            start = cpu()
            inputs = score_inputs(store, load_rules())
            times["customer totals"] = cpu() - start
    finally:
        pipeline.stage_file = staged
    start = cpu()
    result = score_frame(*inputs)
    times["scores + tiers"] = cpu() - start
    start = cpu()
    write_file(result.customers, "csv", out)
    times["CSV write"] = cpu() - start
    return times


def duckdb_same(path: Path, out: Path) -> dict[str, float]:
    import duckdb
    import duckdb_same as same

    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in same.COLUMNS.items()) + "}"
    src = str(path).replace("'", "''")
    con = duckdb.connect()
    con.execute("SET memory_limit = '600MB'")
    query = same.QUERY.format(src=src, dst=str(out).replace("'", "''"), columns=columns)
    orders = query[query.index("SELECT order_id"):query.index("),\nas_of AS")]
    start = cpu()
    con.execute(f"CREATE TABLE o AS {orders}")
    grouped = cpu() - start
    start = cpu()
    con.execute(query)
    whole = cpu() - start
    read = f"SELECT count(*), {', '.join(f'max({k})' for k in same.COLUMNS)} FROM read_csv('{src}', " \
           f"header = true, columns = {columns}, nullstr = '')"
    start = cpu()
    con.execute(read).fetchall()
    return {"same: read_csv + GROUP BY order_id": grouped, "same: whole query": whole,
            "bare read_csv, every column typed": cpu() - start}


IDENTITY = ["CREATE OR REPLACE TEMP MACRO rfm_text(s) AS nullif(s, '')",
            "CREATE OR REPLACE TEMP MACRO rfm_id(s) AS nullif(s, '')"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="rfm-phases-") as work:
        out = Path(work)
        for _ in range(args.repeat):
            measured = {f"rfm: {k}": v for k, v in rfm_phases(args.file, out / "score.csv").items()}
            measured["rfm: total of the phases"] = sum(measured.values())
            measured["prototype: rfm's pass, no cell cleaning"] = rfm_phases(
                args.file, out / "proto.csv", IDENTITY)["read + clean + group"]
            measured.update(duckdb_same(args.file, out / "same.csv"))
            measured["start-up: python -c pass"] = child_cpu("pass")
            measured["start-up: import duckdb, polars"] = child_cpu("import duckdb, polars")
            measured["start-up: rfm's imports for score"] = child_cpu(
                "import rfm_cli.cli, rfm_cli.commands.score, rfm_cli.core.api, rfm_cli.core.scoring, "
                "rfm_cli.core.sinks")
            for key, value in measured.items():
                runs.setdefault(key, []).append(value)
    load = os.getloadavg()[0]
    if args.markdown:
        print("| phase | CPU s (median) | range |\n|---|---:|---:|")
    for key, values in runs.items():
        median = statistics.median(values)
        if args.markdown:
            print(f"| {key} | {median:.2f} | {min(values):.2f}–{max(values):.2f} |")
        else:
            print(f"{key:45s} {median:6.2f}  ({min(values):.2f}-{max(values):.2f})")
    print(f"\n{args.repeat} rounds on {args.file.name}; load average (1 min) at the end {load:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
