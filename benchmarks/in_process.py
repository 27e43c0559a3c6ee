#!/usr/bin/env python3
"""What a process that runs many small commands pays a command: a notebook, a scheduler, the tests.

    python benchmarks/in_process.py [--rounds 25] [--rows 30]
    PYTHONPATH=OTHER_TREE python benchmarks/in_process.py     # the same rounds on another checkout
    python benchmarks/in_process.py --per-command             # and each command's median

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


COMMANDS = {"import": ["import", "{export}", "--db", "shop.duckdb", "-q"],
            "import again": ["import", "{export}", "--db", "shop.duckdb", "-q"],
            "export": ["export", "--db", "shop.duckdb", "-q", "--out-dir", "out"]}


def one_round(cli_main, export: Path, per_command: dict[str, list[float]] | None = None) -> float:
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
        for name, argv in COMMANDS.items():
            before = time.process_time()
            run([str(export) if a == "{export}" else a for a in argv])
            if per_command is not None:
                per_command.setdefault(name, []).append(time.process_time() - before)
        return time.process_time() - started
    finally:
        os.chdir(here)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--rows", type=int, default=30, help="orders of sample_data/orders.csv (default 30)")
    ap.add_argument("--per-command", action="store_true", help="also each command's median")
    args = ap.parse_args(argv)
    from rfm_cli.cli import main as cli_main

    with tempfile.TemporaryDirectory() as data:
        export = small_export(args.rows, Path(data))
        one_round(cli_main, export)  # warm-up
        per_command: dict[str, list[float]] = {}
        cpu = [one_round(cli_main, export, per_command) for _ in range(args.rounds)]
    import rfm_cli

    print(f"rfm_cli from {Path(rfm_cli.__file__).parent}: {args.rounds} rounds of import + import again "
          f"+ export ({args.rows} rows): CPU a round median {statistics.median(cpu) * 1000:.0f} ms "
          f"(range {min(cpu) * 1000:.0f}-{max(cpu) * 1000:.0f})")
    if args.per_command:
        print("  " + ", ".join(f"{name} {statistics.median(times) * 1000:.1f} ms"
                               for name, times in per_command.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
