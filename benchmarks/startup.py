#!/usr/bin/env python3
"""What a command costs a seller before and around its work: CPU time from process start to exit.

    python benchmarks/startup.py                 # 7 rounds each, ~1 minute
    python benchmarks/startup.py --repeat 15 --rfm "rfm"

Measured per process with resource.getrusage(RUSAGE_CHILDREN) (user + system CPU, every thread),
not wall time: on a shared machine wall time moves with other people's work, CPU time much less.
Each row is the median (and minimum) of the rounds. Side by side:

- `python -c pass`: the interpreter alone (this environment's site-packages included);
- `import duckdb, polars`: the two libraries any command that touches data must load;
- `rfm --help`, `rfm --version`, `rfm import --help`: start-up (targets: under 0.15 s);
- `rfm run` on sample_data/orders.csv (3,749 rows) and on generated exports of 5k and 50k
  orders, each into a fresh database and folder (target at 5k: well under a second);
- `duckdb_same` on the same 5k and 50k exports (benchmarks/baselines/duckdb_same.py: the same
  per-customer table, hand-written): issue 18's small-shop target is `rfm run` CPU <= 2x
  (`import duckdb, polars` + this), printed below the table.

Ratios are to `import duckdb, polars`: what rfm adds on top of loading its libraries.
Bytecode is cached (PYTHONPYCACHEPREFIX under benchmarks/work/), as it is for an installed wheel,
even where PYTHONDONTWRITEBYTECODE is set. Nothing asserts on time; the exit status is 1 only when
a command fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / "work" / "startup"
DATA_DIR = BENCH_DIR / "data"
SAMPLE = REPO / "sample_data" / "orders.csv"


def child_env(rfm: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFM_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(BENCH_DIR / "work" / "pycache")
    if rfm[1:3] == ["-m", "rfm_cli"]:  # not installed: run it from this work tree
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def measure(argv: list[str], env: dict[str, str], before=None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one process; `before` runs first, untimed (a fresh folder)."""
    if before:
        before()
    start_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, check=False, cwd=WORK_DIR, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {tail[0]}")
    cpu = (usage.ru_utime - start_usage.ru_utime) + (usage.ru_stime - start_usage.ru_stime)
    return cpu, wall


def orders_file(n: int) -> Path:
    """A generated export of n orders (benchmarks/generate.py), made once."""
    path = DATA_DIR / f"orders_startup_{n}.csv"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(BENCH_DIR / "generate.py"), str(n), "--out", str(path)],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def fresh_run_folder() -> None:
    for name in ("run.duckdb", "run.duckdb.wal", "run.duckdb.lock"):
        (WORK_DIR / name).unlink(missing_ok=True)
    shutil.rmtree(WORK_DIR / "lists", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="rounds per command (default 7)")
    ap.add_argument("--rfm", default=f"{sys.executable} -m rfm_cli", help="how to start rfm")
    args = ap.parse_args(argv)
    rfm = shlex.split(args.rfm)
    env = child_env(rfm)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    # global options before the command: any version of rfm reads them there
    run = [*rfm, "--db", "run.duckdb", "--quiet", "run", "--out-dir", "lists"]
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("import duckdb, polars", [sys.executable, "-c", "import duckdb, polars"], None),
        ("rfm --help", [*rfm, "--help"], None),
        ("rfm --version", [*rfm, "--version"], None),
        ("rfm import --help", [*rfm, "import", "--help"], None),
        ("rfm run sample (3,749 rows)", [*run, str(SAMPLE)], fresh_run_folder),
        ("rfm run 5k orders", [*run, str(orders_file(5_000))], fresh_run_folder),
        ("rfm run 50k orders", [*run, str(orders_file(50_000))], fresh_run_folder),
        *[(f"duckdb_same {n // 1000}k orders",
           [sys.executable, str(BENCH_DIR / "baselines" / "duckdb_same.py"), str(orders_file(n)), "same.csv"],
           None) for n in (5_000, 50_000)],
    ]
    measure(rows[2][1], env)  # warm up: bytecode cached, files in the page cache
    results: dict[str, list[tuple[float, float]]] = {}
    failed = False
    for _ in range(args.repeat):  # rounds interleaved, so a burst of other work hits every row alike
        for label, command, before in rows:
            try:
                results.setdefault(label, []).append(measure(command, env, before))
            except RuntimeError as error:
                print(f"{label}: {error}", file=sys.stderr)
                failed = True
    base = statistics.median(c for c, _ in results.get("import duckdb, polars", [(float("nan"), 0)]))
    print(f"{'command':<30} {'CPU median':>10} {'CPU min':>8} {'wall median':>11} {'CPU / libs':>10}")
    for label, _, _ in rows:
        runs = results.get(label)
        if not runs:
            print(f"{label:<30} {'failed':>10}")
            continue
        cpu = statistics.median(c for c, _ in runs)
        print(f"{label:<30} {cpu:>9.3f}s {min(c for c, _ in runs):>7.3f}s "
              f"{statistics.median(w for _, w in runs):>10.3f}s {cpu / base:>9.2f}x")
    for n in ("5k", "50k"):  # the small-shop target: rfm run <= 2x (the libraries + the same job by hand)
        ours, theirs = results.get(f"rfm run {n} orders"), results.get(f"duckdb_same {n} orders")
        if ours and theirs:
            same = statistics.median(c for c, _ in theirs)
            print(f"rfm run {n} / (import duckdb, polars + duckdb_same {n}): "
                  f"{statistics.median(c for c, _ in ours) / (base + same):.2f}x (target <= 2x)")
    print(f"({args.repeat} rounds; rfm = {shlex.join(rfm)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
