#!/usr/bin/env python3
"""What a process that runs many small commands pays a command: a notebook, a scheduler, the tests.

    python benchmarks/in_process.py [--rounds 25] [--rows 30]
    PYTHONPATH=OTHER_TREE python benchmarks/in_process.py     # the same rounds on another checkout

Each round, in this one process, in a fresh folder: `rfm import` of the first --rows orders of
sample_data/orders.csv into a new database, the same import again (skipped: already imported),
and `rfm export`. One warm-up round first (imports, bytecode), then the median and the range of
the rounds' CPU time (user + system, every thread). Nothing asserts on time; compare two trees
by alternating runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def small_export(rows: int, folder: Path) -> Path:
    lines = (REPO / "sample_data" / "orders.csv").read_text(encoding="utf-8").splitlines()
    path = folder / f"orders_{rows}.csv"
    path.write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    return path


def one_round(cli_main, export: Path) -> float:
    def run(args: list[str]) -> None:
        try:
            cli_main(args)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"rfm {' '.join(args)} exited {exc.code}") from None

    folder = Path(tempfile.mkdtemp(prefix="rfm-inproc-"))
    here = os.getcwd()
    os.chdir(folder)
    try:
        started = time.process_time()
        run(["import", str(export), "--db", "shop.duckdb", "-q"])
        run(["import", str(export), "--db", "shop.duckdb", "-q"])
        run(["export", "--db", "shop.duckdb", "-q", "--out-dir", "out"])
        return time.process_time() - started
    finally:
        os.chdir(here)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--rows", type=int, default=30, help="orders of sample_data/orders.csv (default 30)")
    args = ap.parse_args(argv)
    from rfm_cli.cli import main as cli_main

    with tempfile.TemporaryDirectory() as data:
        export = small_export(args.rows, Path(data))
        one_round(cli_main, export)  # warm-up
        cpu = [one_round(cli_main, export) for _ in range(args.rounds)]
    import rfm_cli

    print(f"rfm_cli from {Path(rfm_cli.__file__).parent}: {args.rounds} rounds of import + import again "
          f"+ export ({args.rows} rows): CPU a round median {statistics.median(cpu) * 1000:.0f} ms "
          f"(range {min(cpu) * 1000:.0f}-{max(cpu) * 1000:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
