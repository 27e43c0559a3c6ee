#!/usr/bin/env python3
"""Time `rfm predict` against `rfm score` on the same stored database, as whole processes.

    python benchmarks/predict_bench.py                       # 1M orders, 3 interleaved rounds
    python benchmarks/predict_bench.py --size 10M --write-results
    python benchmarks/predict_bench.py --models mbg-nbd,pareto-nbd --phases

The orders come from benchmarks/generate.py (the same files as benchmarks/run.py, generated when
missing), imported once into benchmarks/work/predict_<size>/orders.duckdb (untimed). Each round
times, one after the other:
  rfm score            rfm --db DB score -o score.csv
  rfm predict (MODEL)  rfm --db DB predict --model MODEL -o predict.csv
twice: right after the import (scoring reads every order, predict every purchase day) and after
`rfm export` has stored the per-customer totals and the models' inputs (rfm_predict_inputs, schema
14) that later scoring and predicting read instead (a database that `rfm run` keeps every night).
Reported: median wall time, CPU time, peak memory, and predict / score. The issue's target is
predict < 2x score at 10M orders. `--phases` also times predict's parts in this process (reading
the inputs, grouping, fitting each model, the per-customer columns). Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path

import run as harness  # benchmarks/run.py: data files, timing of one process, the child environment

WORK = harness.WORK_DIR
RESULTS = harness.BENCH_DIR / "PREDICT_RESULTS.md"


def timed_commands(db: Path, models: list[str], rfm: list[str]) -> dict[str, list[str]]:
    commands = {"rfm score": [*rfm, "--db", str(db), "score", "-o", "score.csv"]}
    for model in models:
        commands[f"rfm predict ({model})"] = [
            *rfm,
            "--db",
            str(db),
            "predict",
            "--model",
            model,
            "-o",
            "predict.csv",
        ]
    return commands


def rounds(
    commands: dict[str, list[str]], work: Path, repeat: int, env: dict[str, str], tag: str
) -> dict[str, list[harness.Run]]:
    runs: dict[str, list[harness.Run]] = {name: [] for name in commands}
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for round_number in range(1, repeat + 1):
        for name, argv in commands.items():
            base = logs / f"{tag}_{name.replace(' ', '_').replace('(', '').replace(')', '')}"
            result = harness.run_once(argv, work, base, 3600, env)
            runs[name].append(result)
            figures = f"{result.wall:7.2f} s {result.peak_kib / 1024:7.0f} MiB" if result.wall else ""
            harness.log(f"[{tag} {round_number}/{repeat}] {name:<24} {figures} {result.status} {result.note}")
    return runs


def table(runs: dict[str, list[harness.Run]]) -> list[str]:
    lines = [
        "| command | wall s (median) | range | CPU s | peak MiB | / rfm score (wall) | / rfm score (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    score = [r for r in runs["rfm score"] if r.ok]
    score_wall = statistics.median(r.wall for r in score) if score else None
    score_cpu = statistics.median(r.cpu for r in score) if score else None
    for name, found in runs.items():
        ok = [r for r in found if r.ok]
        if not ok:
            lines.append(f"| `{name}` | {found[0].status} | | | | | |")
            continue
        wall = statistics.median(r.wall for r in ok)
        cpu = statistics.median(r.cpu for r in ok)
        ratios = (
            [f"{wall / score_wall:.2f}x", f"{cpu / score_cpu:.2f}x"]
            if score and name != "rfm score"
            else ["", ""]
        )
        lines.append(
            f"| `{name}` | {wall:.2f} | {min(r.wall for r in ok):.2f}-{max(r.wall for r in ok):.2f} | "
            f"{cpu:.2f} | {max(r.peak_kib for r in ok) / 1024:.0f} | {' | '.join(ratios)} |"
        )
    return lines


def phases(db: Path, models: list[str]) -> list[str]:
    """predict's parts, timed in this process (CPU time beside wall: the machine may be shared)."""
    sys.path.insert(0, str(harness.REPO))
    from rfm_cli.core.predict import engine
    from rfm_cli.core.predict.inputs import model_inputs
    from rfm_cli.core.predict.stats import SufficientStats
    from rfm_cli.core.scoring import default_as_of
    from rfm_cli.core.store import open_store

    lines = ["| part | wall s | CPU s | note |", "|---|---:|---:|---|"]

    def clock(label: str, work, note=lambda _: ""):
        wall, cpu = time.perf_counter(), time.process_time()
        value = work()
        lines.append(
            f"| {label} | {time.perf_counter() - wall:.2f} | {time.process_time() - cpu:.2f} | "
            f"{note(value)} |"
        )
        return value

    with open_store(str(db), create=False) as store:
        as_of = default_as_of(store)
        inputs = clock(
            "read inputs (rfm_predict_inputs when kept, else predict_inputs.sql)",
            lambda: model_inputs(store, as_of),
            lambda f: f"{f.height:,} customers",
        )
    stats, _ = clock(
        "group (x, t_x, T)",
        lambda: SufficientStats.from_days(
            inputs["x"].to_numpy(), inputs["t_x_days"].to_numpy(), inputs["T_days"].to_numpy()
        ),
        lambda s: f"{s[0].size:,} distinct triples",
    )
    for model in models:
        fit = clock(
            f"fit {model}",
            lambda m=model: engine.MODELS[m].fit(stats),
            lambda f: f"{f.evaluations} evaluations, {f.iterations} iterations, converged {f.converged}",
        )
        found = engine._Fit(model=engine.MODELS[model], stats=stats, index=_, purchases=fit)
        if model == models[0]:
            from rfm_cli.core.predict import gamma_gamma

            repeat = inputs.filter(inputs["x"] >= 1)
            x = repeat["x"].to_numpy().astype("float64")
            mean_spend = repeat["repeat_spend"].to_numpy() / x
            found.spend = clock(
                "fit Gamma-Gamma",
                lambda x=x, mean_spend=mean_spend: gamma_gamma.fit(x, mean_spend),
                lambda f: f"{f.customers:,} repeat buyers, {f.distinct_inputs:,} distinct (x, spend)",
            )
        clock(
            f"p_alive and expected orders ({model})",
            lambda f=found: engine._model_columns(inputs, f, 90, None),
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1M", help="orders, e.g. 1M or 10M (default 1M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", default="mbg-nbd", help="comma-separated: mbg-nbd, pareto-nbd, bg-nbd")
    parser.add_argument("--phases", action="store_true", help="also time predict's parts in this process")
    parser.add_argument("--write-results", action="store_true", help=f"write {RESULTS.name}")
    parser.add_argument(
        "--rfm",
        default=f"{sys.executable} -m rfm_cli",
        help="the rfm command line (default: this work tree's, python -m rfm_cli)",
    )
    args = parser.parse_args(argv)
    n, models = harness.parse_count(args.size), args.models.split(",")
    rfm = shlex.split(args.rfm)
    env = harness.child_env(rfm)
    csv, _ = harness.ensure_data(n, args.seed, need_increment=False)
    work = WORK / f"predict_{harness.count_label(n)}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "orders.duckdb"
    harness.warm_page_cache(csv)
    imported = harness.run_once([*rfm, "--db", str(db), "import", str(csv)], work, work / "import", 3600, env)
    if not imported.ok:
        harness.log(f"import failed: {imported.status} {imported.note}")
        return 1
    sections = [
        f"## {harness.count_label(n)} orders, after `rfm import`",
        "",
        *table(rounds(timed_commands(db, models, rfm), work, args.repeat, env, "imported")),
    ]
    exported = harness.run_once(
        [*rfm, "--db", str(db), "export", "--out-dir", "tiers"], work, work / "export", 3600, env
    )
    if exported.ok:
        sections += [
            "",
            (f"## {harness.count_label(n)} orders, after `rfm export` "
             "(per-customer totals and model inputs kept)"),
            "",
            *table(rounds(timed_commands(db, models, rfm), work, args.repeat, env, "exported")),
        ]
    if args.phases:
        sections += ["", "## Parts of `rfm predict`, in one process", "", *phases(db, models)]
    text = "\n".join(sections)
    print(text)
    if args.write_results:
        machine = "; ".join(f"{k}: {v}" for k, v in harness.machine_info(rfm))
        machine += "; load average at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
        RESULTS.write_text(
            f"# rfm predict against rfm score\n\nWritten by `python benchmarks/predict_bench.py "
            f"{' '.join(argv if argv is not None else sys.argv[1:])}` on {_dt.date.today()}.\n\n"
            f"Machine: {machine}\n\n{text}\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
