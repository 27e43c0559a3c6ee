#!/usr/bin/env python3
"""The portable scoring plan against rfm's own path, and Spark local mode's fixed cost.

    python benchmarks/plan_bench.py --size 1M --repeat 3 --write-results
    python benchmarks/plan_bench.py --ci            # 100k orders, one round, no Spark

From one generated export (benchmarks/generate.py, the same file run.py uses) it builds the two
stored forms of the same orders, untimed: rfm's database (`rfm import`) and a DuckDB table of
typed order lines (plus the same lines as Parquet for Spark). Then, as whole processes:

  rfm score            rfm --db import.duckdb score -o rfm.parquet        (rfm's own path)
  plan on duckdb       rfm score --engine duckdb:lines.duckdb --table order_lines -o plan.parquet
  plan on spark        rfm score --engine local[2] --table lines.parquet -o spark.parquet
  ... tiny             the same two on a 100-order export: what each engine costs before any data

and reports the ratios, and whether the three score files are byte-identical. --write-results puts
them in benchmarks/RESULTS.md between the plan_bench markers (run.py --write-results rewrites that
file: run this again after it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import run as harness  # benchmarks/run.py: data, timing and machine info, shared

START, END = "<!-- plan_bench:start -->", "<!-- plan_bench:end -->"
TINY_ORDERS = 100


def build_lines(csv: Path, lines_db: Path, parquet: Path) -> None:
    """The export as typed order lines: a DuckDB table and a Parquet file (what a lake holds)."""
    import duckdb

    for path in (lines_db, parquet):
        harness.remove(path)
    con = duckdb.connect(str(lines_db))
    con.execute(f"""CREATE TABLE order_lines AS
        SELECT CAST(order_id AS VARCHAR) AS order_id, CAST(customer_id AS VARCHAR) AS customer_id,
               CAST(order_date AS TIMESTAMP) AS order_ts, CAST(amount AS DECIMAL(18, 2)) AS amount,
               status, CAST(refund_amount AS DECIMAL(18, 2)) AS refund_amount,
               customer_name, CAST(phone AS VARCHAR) AS phone, email
        FROM read_csv('{csv}', all_varchar = true)""")
    con.execute(f"COPY order_lines TO '{parquet}' (FORMAT parquet)")
    con.close()


def prepare(csv: Path, work: Path, rfm: list[str], env: dict[str, str]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    harness.remove(work / "import.duckdb")
    done = harness.run_once([*rfm, "--db", str(work / "import.duckdb"), "import", str(csv)], work,
                            work / "import", 3600, env)
    if done.status != "ok":
        raise SystemExit(f"rfm import failed: {done.note}")
    build_lines(csv, work / "lines.duckdb", work / "lines.parquet")


def commands(work: Path, csv: Path, rfm: list[str]) -> dict[str, list[str]]:
    return {
        "rfm score": [*rfm, "--db", str(work / "import.duckdb"), "score", "-o", str(work / "rfm.parquet")],
        "rfm score FILE": [*rfm, "score", str(csv), "-o", str(work / "rfm_file.parquet")],
        "plan on duckdb": [*rfm, "score", "--engine", f"duckdb:{work / 'lines.duckdb'}",
                           "--table", "order_lines", "-o", str(work / "plan.parquet")],
        "plan on spark": [*rfm, "score", "--engine", "local[2]", "--table", str(work / "lines.parquet"),
                          "-o", str(work / "spark.parquet")],
    }


def timed(name: str, argv: list[str], work: Path, repeat: int, env: dict[str, str]) -> dict:
    runs = [harness.run_once(argv, work, work / name.replace(" ", "_"), 3600, env) for _ in range(repeat)]
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        harness.log(f"{name}: {failed[0].status} {failed[0].note}")
        return {"status": failed[0].status}
    harness.log(f"{name}: {statistics.median(r.wall for r in runs):.2f} s")
    return {"status": "ok", "wall": statistics.median(r.wall for r in runs),
            "cpu": statistics.median(r.cpu for r in runs), "peak_mib": max(r.peak_kib for r in runs) / 1024}


def measure(n: int, repeat: int, spark: bool, rfm: list[str], env: dict[str, str]) -> dict:
    results: dict[str, dict] = {}
    for label, orders in (("", n), (" tiny", TINY_ORDERS)):
        csv, _ = harness.ensure_data(orders, 42, need_increment=False)
        work = harness.WORK_DIR / f"plan_{harness.count_label(orders)}"
        prepare(csv, work, rfm, env)
        for name, argv in commands(work, csv, rfm).items():
            if name == "plan on spark" and not spark:
                continue
            results[name + label] = timed(name + label, argv, work, repeat, env)
        outputs = [work / f for f in ("rfm.parquet", "rfm_file.parquet", "plan.parquet", "spark.parquet")
                   if (work / f).exists()]
        results["identical" + label] = len({p.read_bytes() for p in outputs}) == 1 and len(outputs) > 1
    return results


def ratio(results: dict, a: str, b: str, key: str = "wall") -> str:
    x, y = results.get(a, {}), results.get(b, {})
    return f"{x[key] / y[key]:.2f}×" if x.get(key) and y.get(key) else "n/a"


def seconds(results: dict, name: str) -> str:
    found = results.get(name, {})
    return f"{found['wall']:.2f} s" if found.get("wall") else found.get("status", "not run")


def section(n: int, repeat: int, results: dict, load: tuple[float, float]) -> str:
    size = harness.count_label(n)
    rows = [
        ("`plan on duckdb` / `rfm score`", ratio(results, "plan on duckdb", "rfm score"),
         ratio(results, "plan on duckdb", "rfm score", "cpu"),
         f"{seconds(results, 'plan on duckdb')} vs {seconds(results, 'rfm score')}"),
        ("`plan on duckdb` / `rfm score FILE` (from the CSV, in memory)",
         ratio(results, "plan on duckdb", "rfm score FILE"),
         ratio(results, "plan on duckdb", "rfm score FILE", "cpu"),
         f"{seconds(results, 'plan on duckdb')} vs {seconds(results, 'rfm score FILE')}"),
        ("`plan on spark` / `plan on duckdb`", ratio(results, "plan on spark", "plan on duckdb"), "n/a",
         f"{seconds(results, 'plan on spark')} vs {seconds(results, 'plan on duckdb')}"),
        (f"fixed cost: `plan on spark` / `plan on duckdb`, {TINY_ORDERS} orders",
         ratio(results, "plan on spark tiny", "plan on duckdb tiny"), "n/a",
         f"{seconds(results, 'plan on spark tiny')} vs {seconds(results, 'plan on duckdb tiny')}"),
        (f"fixed cost: `plan on duckdb` / `rfm score`, {TINY_ORDERS} orders",
         ratio(results, "plan on duckdb tiny", "rfm score tiny"),
         ratio(results, "plan on duckdb tiny", "rfm score tiny", "cpu"),
         f"{seconds(results, 'plan on duckdb tiny')} vs {seconds(results, 'rfm score tiny')}"),
    ]
    compared = "rfm from its database and from the CSV, plan on DuckDB"
    compared += ", plan on Spark" if "plan on spark" in results else ""
    peaks = ", ".join(f"{k} {v['peak_mib']:.0f} MiB" for k, v in results.items()
                      if isinstance(v, dict) and v.get("peak_mib") and "tiny" not in k)
    return "\n".join([
        START,
        "## The portable plan: DuckDB, Spark local",
        "",
        f"Written by `python benchmarks/plan_bench.py --size {size} --repeat {repeat} --write-results`: the",
        f"same {size}-order export stored as rfm's database (`rfm import`) and as typed order lines (a",
        "DuckDB table; Parquet for Spark), scored as whole processes (median wall and CPU seconds).",
        f"Load average {load[0]:.2f} at start, {load[1]:.2f} at end (2 cores shared: compare CPU).",
        "Spark's CPU is n/a: its JVM is not a process rfm waits for, so its time is not counted.",
        "",
        "| comparison | wall | CPU | seconds |",
        "|---|---:|---:|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        (f"- Score files byte-identical ({compared}): {'yes' if results.get('identical') else 'no'}; "
         f"at {TINY_ORDERS} orders: {'yes' if results.get('identical tiny') else 'no'}."),
        f"- Peak memory: {peaks}.",
        END,
    ])


def write_section(text: str) -> None:
    results = harness.RESULTS
    current = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    if START in current and END in current:
        head, rest = current.split(START, 1)
        updated = head + text + rest.split(END, 1)[1]
    elif "\n## Commands" in current:
        head, tail = current.split("\n## Commands", 1)
        updated = head + "\n" + text + "\n\n## Commands" + tail
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    tmp = harness.RESULTS.with_name(harness.RESULTS.name + ".tmp")
    tmp.write_text(updated, encoding="utf-8")
    os.replace(tmp, harness.RESULTS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1M", help="orders in the export (default 1M)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds per command; the median is reported")
    ap.add_argument("--no-spark", action="store_true", help="leave out Spark (no Java or pyspark here)")
    ap.add_argument("--ci", action="store_true", help="100k orders, one round, no Spark")
    ap.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    n = harness.parse_count("100k" if args.ci else args.size)
    rfm = harness.default_rfm()
    env = harness.child_env(rfm)
    load_start = os.getloadavg()[0]
    results = measure(n, 1 if args.ci else args.repeat, not (args.ci or args.no_spark), rfm, env)
    text = section(n, args.repeat, results, (load_start, os.getloadavg()[0]))
    print(text)
    if args.write_results:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
