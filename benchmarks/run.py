#!/usr/bin/env python3
"""Time `rfm` against hand-written DuckDB and pandas baselines, whole processes, side by side.

    python benchmarks/run.py --sizes 100k,1M,10M [--repeat 3] [--write-results]
    python benchmarks/run.py --ci                      # 100k orders, one round, quick
    python benchmarks/run.py --sizes 10M --only baselines

Every command in BENCHES runs as its own process; wall time is measured around it and its peak
resident memory (ru_maxrss, which covers its waited-for children too) comes from os.wait4's
rusage of the child: no polling. Rounds are interleaved (round 1 of every command, then round 2
...) so drift on the machine hits every command alike; the table shows the median wall time
and the largest peak. The input files are read once beforehand, so every command starts with
them in the page cache, and a warm-up round on a 2k-order file fills the bytecode cache
(benchmarks/work/pycache, used even where PYTHONDONTWRITEBYTECODE is set, as an installed wheel
has its .pyc files).

Nothing here asserts on time. A failing rfm command is reported as "failed (exit N)" and the
run goes on; the exit status is non-zero only when a BASELINE fails, which is a bug in this
harness (or a broken environment), not a performance result.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import importlib.util
import itertools
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
WORK_DIR = BENCH_DIR / "work"
RESULTS = BENCH_DIR / "RESULTS.md"

INCREMENT_ORDERS = 10_000  # the nightly increment: new orders dated the day after the main file

# ---------------------------------------------------------------------------------------------
# What is measured. Adjust flags here.
#
# Placeholders in argv: {py} this Python, {rfm} the rfm command (the `rfm` script beside this
# Python, else `python -m rfm_cli`; override with --rfm), {bench} benchmarks/, {csv} the orders
# file of the size being run, {inc} its 10k-order increment, {work} a scratch folder per size.
# `clean` paths are removed and `copy` (src, dst) done before every round, untimed; then
# `prepare` (an argv like the command's) runs, untimed: a failure there fails the row.
# `needs`: skipped in a round where that command failed, or when it is not selected. `requires`: Python
# modules it imports.
# rfm's --db is a global option: it goes before the subcommand. Commands run with {work} as cwd.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bench:
    name: str
    kind: str  # "baseline" or "rfm"
    argv: tuple[str, ...]
    what: str
    clean: tuple[str, ...] = ()
    copy: tuple[str, str] | None = None
    prepare: tuple[str, ...] | None = None
    needs: str | None = None
    requires: tuple[str, ...] = ()


BENCHES: list[Bench] = [
    Bench(
        "duckdb_read_all",
        "baseline",
        ("{py}", "{bench}/baselines/duckdb_read_all.py", "{csv}"),
        "(a) DuckDB read_csv, every column parsed (count/min/max of each), nothing written",
    ),
    Bench(
        "duckdb_rfm",
        "baseline",
        ("{py}", "{bench}/baselines/duckdb_rfm.py", "{csv}", "{work}/duckdb_rfm.csv"),
        "(b) hand-written DuckDB RFM: paid orders, group by order then customer, ntile(5), COPY to CSV",
        clean=("{work}/duckdb_rfm.csv",),
    ),
    Bench(
        "duckdb_same",
        "baseline",
        ("{py}", "{bench}/baselines/duckdb_same.py", "{csv}", "{work}/duckdb_same.csv"),
        "(f) hand-written DuckDB computing the same table as `rfm score` (BRIEF §3: lines of an order "
        "summed, refunds netted, statuses, contacts of the latest order, tie-sharing quantile M, the "
        "14 columns, sorted), under rfm's 600MB cap; the runner checks its output equals rfm's",
        clean=("{work}/duckdb_same.csv",),
    ),
    Bench(
        "duckdb_ctas",
        "baseline",
        ("{py}", "{bench}/baselines/duckdb_ctas.py", "{csv}", "{work}/ctas.duckdb"),
        "(c) CREATE TABLE AS SELECT * FROM read_csv(...) into a fresh .duckdb file",
        clean=("{work}/ctas.duckdb", "{work}/ctas.duckdb.wal"),
    ),
    Bench(
        "pandas_rfm",
        "baseline",
        ("{py}", "{bench}/baselines/pandas_rfm.py", "{csv}", "{work}/pandas_rfm.csv"),
        "(d) pandas read_csv + groupby + qcut, to_csv",
        clean=("{work}/pandas_rfm.csv",),
        requires=("pandas",),
    ),
    Bench(
        "rfm score",
        "rfm",
        ("{rfm}", "score", "{csv}", "-o", "{work}/score.csv"),
        "score the export straight to a CSV, no database",
        clean=("{work}/score.csv",),
    ),
    Bench(
        "rfm import",
        "rfm",
        ("{rfm}", "--db", "{work}/import.duckdb", "import", "{csv}"),
        "import the export into a fresh database",
        clean=("{work}/import.duckdb", "{work}/import.duckdb.wal", "{work}/import.duckdb.lock"),
    ),
    Bench(
        "rfm export",
        "rfm",
        ("{rfm}", "--db", "{work}/import.duckdb", "export", "--out-dir", "{work}/tiers"),
        "rescore the imported database and write the tier lists",
        clean=("{work}/tiers",),
        needs="rfm import",
    ),
    Bench(
        "rfm export again",
        "rfm",
        ("{rfm}", "--db", "{work}/import.duckdb", "export", "--out-dir", "{work}/tiers_again"),
        "rescore the same database again: the per-customer totals the first export built are read",
        clean=("{work}/tiers_again",),
        needs="rfm export",
    ),
    Bench(
        "export_floor",
        "baseline",
        ("{py}", "{bench}/baselines/export_floor.py", "{work}/import.duckdb", "{work}/floor_tiers"),
        "(e) the least an export can do in rfm's stack: read the stored totals, quintile scores, "
        "four tiers, one CSV each (the floor under `rfm export again`)",
        clean=("{work}/floor_tiers",),
        needs="rfm export",
    ),
    Bench(
        "rfm run",
        "rfm",
        ("{rfm}", "--db", "{work}/run.duckdb", "run", "{inc}", "--out-dir", "{work}/run_out"),
        "nightly: 10k new orders into a copy of the imported database that holds last night's "
        "snapshot, rescore, write the lists",
        clean=("{work}/run.duckdb.wal", "{work}/run.duckdb.lock", "{work}/run_out", "{work}/run_last_night"),
        copy=("{work}/import.duckdb", "{work}/run.duckdb"),
        # Last night's run: the main file again (already imported, so skipped), which stores the
        # snapshot as of its last day. Tonight's `entered/` lists are then the tier changes.
        prepare=("{rfm}", "--db", "{work}/run.duckdb", "run", "{csv}", "--out-dir", "{work}/run_last_night"),
        needs="rfm import",
    ),
    Bench(
        "rfm run first",
        "rfm",
        ("{rfm}", "--db", "{work}/run_first.duckdb", "run", "{inc}", "--out-dir", "{work}/run_first_out"),
        "the first night: the same with no earlier snapshot, so every customer is in `entered/`",
        clean=("{work}/run_first.duckdb.wal", "{work}/run_first.duckdb.lock", "{work}/run_first_out"),
        copy=("{work}/import.duckdb", "{work}/run_first.duckdb"),
        needs="rfm import",
    ),
    Bench("rfm --help", "rfm", ("{rfm}", "--help"), "start-up: print the help"),
]


@dataclass(frozen=True)
class Target:
    bench: str
    baseline: str | None  # None: an absolute figure of `bench`
    metric: str  # "wall" (seconds) or "peak" (MiB)
    op: str | None = None  # "<=" or "<"; None: reported, no target
    limit: float | None = None
    at: int | None = None  # an absolute target holds at this many orders only


TEN_M = 10_000_000
TARGETS: list[Target] = [
    Target("rfm score", "duckdb_same", "wall", "<=", 1.2),
    Target("rfm score", "duckdb_rfm", "wall", "<=", 1.0),
    Target("rfm score", "duckdb_read_all", "wall", "<", 2.5),
    Target("rfm score", "pandas_rfm", "wall"),
    Target("rfm score", None, "peak", "<", 1024, at=TEN_M),
    Target("rfm import", "duckdb_ctas", "wall", "<=", 1.5),
    Target("rfm export", None, "wall", "<", 2.0, at=TEN_M),
    Target("rfm export again", None, "wall", "<", 2.0, at=TEN_M),
    Target("rfm export again", "export_floor", "wall"),
    Target("rfm run", None, "wall", "<", 3.0, at=TEN_M),
    Target("rfm --help", None, "wall", "<", 0.3),
]

# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    status: str  # "ok", "failed (exit N)", "timed out (N s)", "skipped (...)"
    wall: float | None = None
    cpu: float | None = None
    peak_kib: int | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Result:
    bench: Bench
    runs: list[Run] = field(default_factory=list)

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    @property
    def status(self) -> str:
        bad = [r for r in self.runs if not r.ok]
        return bad[0].status if bad else ("ok" if self.runs else "not run")

    @property
    def note(self) -> str:
        bad = [r for r in self.runs if not r.ok]
        return bad[0].note if bad else ""

    @property
    def wall(self) -> float | None:
        runs = self.ok_runs
        return statistics.median(r.wall for r in runs) if runs and self.status == "ok" else None

    @property
    def wall_range(self) -> tuple[float, float] | None:
        runs = self.ok_runs
        if len(runs) < 2 or self.status != "ok":
            return None
        return min(r.wall for r in runs), max(r.wall for r in runs)

    @property
    def cpu(self) -> float | None:
        runs = self.ok_runs
        return statistics.median(r.cpu for r in runs) if runs and self.status == "ok" else None

    @property
    def peak_mib(self) -> float | None:
        runs = self.ok_runs
        return max(r.peak_kib for r in runs) / 1024 if runs and self.status == "ok" else None


def count_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


sys.path.insert(0, str(BENCH_DIR))


def parse_count(text: str) -> int:
    from generate import parse_count as _parse  # generate.py is the one parser of '10M'

    return _parse(text)


def data_paths(n: int, seed: int) -> tuple[Path, Path]:
    suffix = "" if seed == 42 else f"_seed{seed}"
    label = count_label(n)
    return (
        DATA_DIR / f"orders_{label}{suffix}.csv",
        DATA_DIR / f"increment_{label}_{count_label(INCREMENT_ORDERS)}{suffix}.csv",
    )


def is_current(data: Path) -> bool:
    """The file exists and its sidecar says this version of generate.py wrote it."""
    from generate import GENERATOR_VERSION

    try:
        info = json.loads(data.with_name(data.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return data.exists() and info.get("generator_version") == GENERATOR_VERSION


def ensure_data(n: int, seed: int, need_increment: bool) -> tuple[Path, Path]:
    csv, inc = data_paths(n, seed)
    gen = [sys.executable, str(BENCH_DIR / "generate.py"), str(n), "--seed", str(seed)]
    if not is_current(csv):
        log(f"generating {csv.relative_to(REPO)} ...")
        subprocess.run([*gen, "--out", str(csv)], check=True)
    if need_increment and not is_current(inc):
        log(f"generating {inc.relative_to(REPO)} ...")
        subprocess.run([*gen, "--increment", str(INCREMENT_ORDERS), "--out", str(inc)], check=True)
    return csv, inc


def warm_page_cache(*paths: Path) -> None:
    for p in paths:
        if p.exists():
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass


def default_rfm() -> list[str]:
    beside = Path(sys.executable).parent / "rfm"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("rfm")
    if found:
        return [found]
    return [sys.executable, "-m", "rfm_cli"]


def expand(tokens: tuple[str, ...], ctx: dict[str, str], rfm: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if tok == "{rfm}":
            out.extend(rfm)
        else:
            out.append(tok.format(**ctx))
    return out


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def run_once(argv: list[str], cwd: Path, log_base: Path, timeout: float, env: dict[str, str]) -> Run:
    """One timed process: wall clock around it, CPU and peak RSS from os.wait4's rusage."""
    out_path, err_path = log_base.with_suffix(".out"), log_base.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        except OSError as e:  # command not found, not executable ...
            return Run("failed (cannot start)", note=str(e))
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped here; keep Popen from waiting again
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss  # KiB on Linux
    if timed_out.is_set():
        return Run(f"timed out ({timeout:g} s)", wall, cpu, peak)
    if code != 0:
        return Run(f"failed (exit {code})", wall, cpu, peak, last_line(err_path))
    return Run("ok", wall, cpu, peak)


def last_line(path: Path) -> str:
    try:
        lines = [
            ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()
        ]
    except OSError:
        return ""
    return lines[-1][:160] if lines else ""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class SizeReport:
    orders: int
    info: dict
    results: dict[str, Result]
    repeat: int
    same_output: bool | None = None  # rfm score's file byte-identical to duckdb_same's (None: not both ran)


WARMUP_ORDERS = 2_000


def child_env(rfm: list[str]) -> dict[str, str]:
    """The environment of every timed process.

    Bytecode is cached, as it is for a pip-installed wheel, even where PYTHONDONTWRITEBYTECODE
    is set: into benchmarks/work/pycache (PYTHONPYCACHEPREFIX), so nothing is written elsewhere.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK_DIR / "pycache")
    if rfm[1:3] == ["-m", "rfm_cli"]:  # not installed: run it from the work tree
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_round(
    benches: list[Bench],
    results: dict[str, Result],
    ctx: dict[str, str],
    rfm: list[str],
    env: dict[str, str],
    timeout: float,
    tag: str | None,
) -> None:
    """Every command once, in order. tag=None: an untimed warm-up, nothing logged."""
    work = Path(ctx["work"])
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for b in benches:
        res = results[b.name]
        missing = [m for m in b.requires if importlib.util.find_spec(m) is None]
        if missing:
            res.runs.append(Run(f"skipped ({', '.join(missing)} not installed)"))
            continue
        if b.needs and b.needs not in results:  # left out by --only/--skip: its input would be stale
            res.runs.append(Run(f"skipped (needs {b.needs}, not selected)"))
            continue
        if b.needs and results[b.needs].runs and not results[b.needs].runs[-1].ok:
            res.runs.append(Run(f"skipped (needs {b.needs})"))
            continue
        for p in b.clean:
            remove(Path(p.format(**ctx)))
        if b.copy:
            src, dst = (Path(p.format(**ctx)) for p in b.copy)
            if src.exists():
                shutil.copyfile(src, dst)
                wal = src.with_name(src.name + ".wal")
                if wal.exists():
                    shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))
        argv = expand(b.argv, ctx, rfm)
        log_base = logs / re.sub(r"[^A-Za-z0-9]+", "_", b.name).strip("_")
        r = None
        if b.prepare:
            prep = run_once(expand(b.prepare, ctx, rfm), work, log_base.with_name(log_base.name + "_prepare"),
                            timeout, env)
            if not prep.ok:
                r = Run(f"{prep.status} preparing", note=prep.note)
        if r is None:
            r = run_once(argv, work, log_base, timeout, env)
        res.runs.append(r)
        if tag:
            figures = f"{r.wall:7.2f} s {r.peak_kib / 1024:8.0f} MiB" if r.wall is not None else ""
            log(f"[{tag}] {b.name:<16} {figures}  {r.status}" + (f": {r.note}" if r.note else ""))


def warm_up(benches: list[Bench], args: argparse.Namespace, rfm: list[str], env: dict[str, str]) -> None:
    """Every command once on a tiny file, untimed: fills the bytecode cache for what each imports."""
    csv, inc = ensure_data(WARMUP_ORDERS, args.seed, any("{inc}" in b.argv for b in benches))
    ctx = {
        "py": sys.executable,
        "bench": str(BENCH_DIR),
        "csv": str(csv),
        "inc": str(inc),
        "work": str(WORK_DIR / "warmup"),
    }
    run_round(benches, {b.name: Result(b) for b in benches}, ctx, rfm, env, args.timeout, None)


def run_size(
    n: int, benches: list[Bench], args: argparse.Namespace, rfm: list[str], env: dict[str, str]
) -> SizeReport:
    need_inc = any("{inc}" in b.argv for b in benches)
    csv, inc = ensure_data(n, args.seed, need_inc)
    info_path = csv.with_name(csv.name + ".json")
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    info.setdefault("bytes", csv.stat().st_size)
    ctx = {
        "py": sys.executable,
        "bench": str(BENCH_DIR),
        "csv": str(csv),
        "inc": str(inc),
        "work": str(WORK_DIR / count_label(n)),
    }
    warm_page_cache(csv, inc)
    results = {b.name: Result(b) for b in benches}
    for rnd in range(1, args.repeat + 1):
        run_round(
            benches, results, ctx, rfm, env, args.timeout, f"{count_label(n)} round {rnd}/{args.repeat}"
        )
    return SizeReport(n, info, results, args.repeat, same_output(Path(ctx["work"])))


def same_output(work: Path) -> bool | None:
    """Whether the last round's `rfm score` file and the same-semantics baseline's are the same bytes:
    a baseline that computes something else would make every ratio against it meaningless."""
    ours, theirs = work / "score.csv", work / "duckdb_same.csv"
    if not (ours.is_file() and theirs.is_file()):
        return None
    with ours.open("rb") as a, theirs.open("rb") as b:
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


# ------------------------------------------------------------------------------------ report


def fmt_s(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:.0f}"


def fmt_mib(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def size_table(rep: SizeReport, rfm: list[str]) -> str:
    info = rep.info
    head = f"### {count_label(rep.orders)} orders"
    facts = [f"{rep.orders:,} orders"]
    if "rows" in info:
        facts.append(f"{info['rows']:,} rows")
    if "customers" in info:
        facts.append(f"{info['customers']:,} customers")
    mib = info["bytes"] / 2**20
    facts.append(f"{mib:,.0f} MiB CSV" if mib >= 10 else f"{mib:.1f} MiB CSV")
    rounds = f"median of {rep.repeat} rounds" if rep.repeat > 1 else "1 round"
    lines = [
        head,
        "",
        f"{', '.join(facts)}; {rounds}.",
        "",
        "| command | wall s | range s | CPU s | peak MiB | status |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for res in rep.results.values():
        rng = res.wall_range
        status = res.status + (f": {md_escape(res.note)}" if res.note else "")
        lines.append(
            f"| `{res.bench.name}` | {fmt_s(res.wall)} | "
            f"{f'{fmt_s(rng[0])}–{fmt_s(rng[1])}' if rng else ''} | {fmt_s(res.cpu)} | "
            f"{fmt_mib(res.peak_mib)} | {status} |"
        )
    if rep.same_output is not None:
        lines += ["", "`rfm score` and `duckdb_same` wrote byte-identical files: "
                  + ("**yes**." if rep.same_output else "**NO: the baseline is not the same computation**.")]
    comparisons = ["", "| comparison | wall | CPU | peak memory | target | |", "|---|---:|---:|---:|---|---|"]
    for t in TARGETS:
        res = rep.results.get(t.bench)
        if res is None or (t.baseline and t.baseline not in rep.results):
            continue
        verdict = ""
        target = ""
        if t.op:
            unit = "×" if t.baseline else (" s" if t.metric == "wall" else " MiB")
            limit = f"{t.limit:.1f}" if t.baseline else f"{t.limit:g}"
            target = f"{t.metric} {'≤' if t.op == '<=' else '<'} {limit}{unit}"
            if t.at:
                target += f" (at {count_label(t.at)})"
        if t.baseline:
            base = rep.results[t.baseline]
            label = f"`{t.bench}` / `{t.baseline}`"
            if res.wall and base.wall:
                wall_r = res.wall / base.wall
                peak_r = res.peak_mib / base.peak_mib
                wall_txt, peak_txt = f"{wall_r:.2f}×", f"{peak_r:.2f}×"
                cpu_txt = f"{res.cpu / base.cpu:.2f}×" if res.cpu and base.cpu else "–"
                value = wall_r if t.metric == "wall" else peak_r
            else:
                wall_txt = peak_txt = cpu_txt = "–"
                value = None
                verdict = f"{t.bench}: {res.status}" if not res.wall else f"{t.baseline}: {base.status}"
        else:
            label = f"`{t.bench}`"
            wall_txt, cpu_txt, peak_txt = (
                fmt_s(res.wall) + " s" if res.wall else "–",
                fmt_s(res.cpu) + " s" if res.cpu else "–",
                fmt_mib(res.peak_mib) + " MiB" if res.peak_mib else "–",
            )
            value = res.wall if t.metric == "wall" else res.peak_mib
            if value is None:
                verdict = res.status
        if t.op and value is not None:
            if t.at and t.at != rep.orders:
                verdict = "(not this size)"
            else:
                met = value <= t.limit if t.op == "<=" else value < t.limit
                verdict = "met" if met else "**missed**"
        comparisons.append(
            f"| {label} | {wall_txt} | {cpu_txt} | {peak_txt} | {target} | {md_escape(verdict)} |"
        )
    if len(comparisons) > 3:
        lines += comparisons
    return "\n".join(lines)


def scaling_table(reports: list[SizeReport]) -> str:
    """Wall time, CPU time and peak memory of every command across the sizes of this run, with how
    much each grew per step (time x10 for orders x10 is linear)."""
    sizes = sorted(reports, key=lambda r: r.orders)
    if len(sizes) < 2:
        return ""
    names = [b.name for b in BENCHES if any(b.name in r.results for r in sizes)]
    head = "| command | " + " | ".join(f"{count_label(r.orders)} wall s / CPU s / peak MiB" for r in sizes)
    head += " | " + " | ".join(
        f"{count_label(a.orders)}→{count_label(b.orders)} (×{b.orders / a.orders:g} orders): wall, peak"
        for a, b in itertools.pairwise(sizes)) + " |"
    rows = [head, "|---|" + "---:|" * (2 * len(sizes) - 1)]
    for name in names:
        cells, growth = [], []
        for rep in sizes:
            res = rep.results.get(name)
            cells.append(f"{fmt_s(res.wall)} / {fmt_s(res.cpu)} / {fmt_mib(res.peak_mib)}"
                         if res is not None and res.wall is not None else "–")
        for a, b in itertools.pairwise(sizes):
            ra, rb = a.results.get(name), b.results.get(name)
            if ra is None or rb is None or not ra.wall or not rb.wall:
                growth.append("–")
            else:
                growth.append(f"×{rb.wall / ra.wall:.1f}, ×{rb.peak_mib / ra.peak_mib:.1f}")
        rows.append(f"| `{name}` | " + " | ".join(cells + growth) + " |")
    return "\n".join(rows)


def commands_table(rfm: list[str]) -> str:
    lines = ["| command | what it measures | argv |", "|---|---|---|"]
    for b in BENCHES:
        argv = " ".join(
            "rfm" if t == "{rfm}" else t.replace("{py}", "python").replace("{bench}", "benchmarks")
            for t in b.argv
        )
        lines.append(f"| `{b.name}` | {md_escape(b.what)} | `{md_escape(argv)}` |")
    return "\n".join(lines)


def machine_info(rfm: list[str]) -> list[tuple[str, str]]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    commit = "unknown"
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                check=False,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        pass
    return [
        ("date", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", cpu),
        ("cores", f"{cores} ({usable} usable)"),
        ("RAM", mem),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("duckdb", version("duckdb")),
        ("polars", version("polars")),
        ("pyarrow", version("pyarrow")),
        ("pandas", version("pandas")),
        ("numpy", version("numpy")),
        ("rfm-cli", f"{version('rfm-cli')} (commit {commit})"),
        ("rfm command", " ".join(rfm)),
    ]


def write_results(
    reports: list[SizeReport], rfm: list[str], argv: list[str], load: tuple[float, float]
) -> None:
    cmd = "python benchmarks/run.py " + " ".join(shlex.quote(a) for a in argv)
    parts = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run.py --write-results`; see benchmarks/README.md for what each row",
        "measures. Whole processes, warm page cache, wall time median over rounds, peak = largest",
        "max RSS of the process (and its children) over rounds. Ratios are rfm / baseline: below",
        "1.00× rfm is faster (or smaller). CPU (user + system seconds) is less disturbed than wall",
        "time by other work on the machine: check the load average below before quoting a ratio.",
        "",
        f"Command: `{cmd}`",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {md_escape(v)} |" for k, v in machine_info(rfm)],
        f"| load average (1 min) | {load[0]:.2f} at start, {load[1]:.2f} at end |",
        "",
        "## Results",
        "",
    ]
    for rep in reports:
        parts += [size_table(rep, rfm), ""]
    scaling = scaling_table(reports)
    if scaling:
        parts += ["## Scaling", "",
                  "The same commands across the sizes of this run. A wall-time factor equal to the factor in",
                  "orders means cost grows linearly; start-up (about the `rfm --help` time) weighs on the",
                  "small sizes, so growth from the smallest size understates the per-order cost.", "",
                  scaling, ""]
    parts += ["## Commands", "", commands_table(rfm), ""]
    tmp = RESULTS.with_name(RESULTS.name + ".tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    os.replace(tmp, RESULTS)
    log(f"wrote {RESULTS.relative_to(REPO)}")


def select(only: str | None, skip: str | None) -> list[Bench]:
    names = {b.name for b in BENCHES}

    def resolve(spec: str) -> set[str]:
        chosen: set[str] = set()
        for item in (s.strip() for s in spec.split(",") if s.strip()):
            if item in ("baselines", "rfm"):
                chosen |= {b.name for b in BENCHES if b.kind == item.rstrip("s")}
            elif item in names:
                chosen.add(item)
            else:
                raise SystemExit(
                    f"run.py: unknown command {item!r}; known: baselines, rfm, {', '.join(sorted(names))}"
                )
        return chosen

    keep = resolve(only) if only else set(names)
    if skip:
        keep -= resolve(skip)
    return [b for b in BENCHES if b.name in keep]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    ap.add_argument("--sizes", help="orders per file, comma-separated (default 100k,1M; --ci: 100k)")
    ap.add_argument("--repeat", type=int, help="rounds per command; the median is reported (default 1)")
    ap.add_argument("--only", help="commands to run: names from BENCHES, or the groups 'baselines' / 'rfm'")
    ap.add_argument("--skip", help="commands to leave out (same names as --only)")
    ap.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    ap.add_argument(
        "--rfm", help="the rfm command line to time (default: the installed `rfm`, else python -m rfm_cli)"
    )
    ap.add_argument(
        "--timeout", type=float, help="seconds before a command is killed (default 1800; --ci: 300)"
    )
    ap.add_argument("--write-results", action="store_true", help="rewrite benchmarks/RESULTS.md")
    ap.add_argument(
        "--ci",
        action="store_true",
        help="quick check: 100k orders, 1 round, 300 s timeout (each overridable); exits non-zero only "
        "if a baseline fails",
    )
    args = ap.parse_args(argv)
    args.sizes = args.sizes or ("100k" if args.ci else "100k,1M")
    args.repeat = args.repeat if args.repeat is not None else 1
    args.timeout = args.timeout if args.timeout is not None else (300 if args.ci else 1800)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    sizes = [parse_count(s) for s in args.sizes.split(",") if s.strip()]
    benches = select(args.only, args.skip)
    rfm = shlex.split(args.rfm) if args.rfm else default_rfm()
    log(f"rfm command: {' '.join(rfm)}")

    env = child_env(rfm)
    load_start = os.getloadavg()[0]
    if load_start > 0.5 * (os.cpu_count() or 1):
        log(
            f"warning: load average {load_start:.2f} on {os.cpu_count()} cores: other work is running, "
            "timings will be noisy"
        )
    warm_up(benches, args, rfm, env)
    reports = [run_size(n, benches, args, rfm, env) for n in sizes]
    load = (load_start, os.getloadavg()[0])
    text = "\n\n".join(size_table(rep, rfm) for rep in reports)
    print(text)
    if args.write_results:
        write_results(reports, rfm, argv, load)

    broken = [
        f"{count_label(rep.orders)} {res.bench.name}: {res.status}" + (f" ({res.note})" if res.note else "")
        for rep in reports
        for res in rep.results.values()
        if res.bench.kind == "baseline" and not res.status.startswith(("ok", "skipped"))
    ]
    broken += [f"{count_label(rep.orders)} duckdb_same: its file differs from rfm score's (same semantics "
               "broken: fix whichever changed, BRIEF §3 decides)"
               for rep in reports if rep.same_output is False]
    if broken:
        log(
            "baseline failures (a harness or environment bug, not a timing result):\n  " + "\n  ".join(broken)
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
