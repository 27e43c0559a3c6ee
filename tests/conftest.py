"""Fixtures shared by several test files. Keep this small: helpers used by one file live in it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from cli_runner import CliResult, clean_env, invoke
from hypothesis import settings

# No per-example deadline: on a loaded machine (CI shares cores) an example of a pure-Python property
# can take over hypothesis' default 200 ms and fail a correct test. What is measured is the property.
settings.register_profile("rfm", deadline=None)
settings.load_profile("rfm")

# A suite started as a background job of a non-interactive shell (`.ci/run &`, nohup) inherits
# SIGINT ignored, and so would every rfm process the tests start and interrupt: the signal tests
# then saw imports finish (exit 0) instead of exit 130. The tests take the disposition a terminal
# gives; rfm itself keeps whatever it is started with.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

CANONICAL_HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "refund_amount")


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder, so default outputs (./rejects/, ./rfm.duckdb) never land in
    the repo."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def rfm(tmp_path: Path) -> Callable[..., CliResult]:
    """Run the CLI (`rfm ARGS`) in this process, by default in tmp_path; see `invoke`.

    Pass --db yourself when the command uses a database; the working folder is tmp_path, so the
    default ./rfm.duckdb lands there too. `timeout` is accepted for the subprocess fixture's sake."""

    def run(*args: str | os.PathLike, cwd: Path | None = None, timeout: float = 60,
            env: dict[str, str] | None = None) -> CliResult:
        return invoke(args, cwd=cwd or tmp_path, env=env)

    return run


@pytest.fixture
def rfm_process(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Run the real CLI (`python -m rfm_cli ARGS`) in a subprocess, by default in tmp_path: for what
    needs a process of its own (signals, pipes, kills, locks, start-up time, the import hygiene)."""

    def run(
        *args: str | os.PathLike,
        cwd: Path | None = None,
        timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "rfm_cli", *map(str, args)],
            check=False,
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            env={**clean_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
        )

    return run


@pytest.fixture(scope="session")
def new_database(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """`new_database(path)` puts an empty database at `path`, created and migrated to the current
    schema as `rfm import` creates one, and returns `path`: a copy of a file made once a session, for
    tests that build many databases (a property test's examples), where creating and migrating each
    would cost more than the example itself."""
    from rfm_cli.core.store import open_store

    template = tmp_path_factory.mktemp("template") / "rfm.duckdb"
    with open_store(template):
        pass

    def copy(path: Path) -> Path:
        shutil.copyfile(template, path)
        os.chmod(path, 0o600)  # as rfm creates it
        return path

    return copy


@pytest.fixture
def write_orders(tmp_path: Path) -> Callable[..., Path]:
    """Write a canonical order CSV into tmp_path and return its path:
    write_orders("a.csv", [("O1", "C1", "2026-01-01", "10.00", "paid", ""), ...], header=CANONICAL_HEADER).
    Cells are joined with commas as given: quote them yourself."""

    def write(name: str, rows: Sequence[Sequence[str]], header: Sequence[str] = CANONICAL_HEADER) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [",".join(header), *(",".join(map(str, row)) for row in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def assert_cli_error() -> Callable[..., str]:
    """Check the error contract (BRIEF §6): the exit code, nothing on stdout, and exactly one stderr line
    `rfm: error: <what went wrong>; <how to fix it>` with no traceback. Returns that line."""

    def check(result: CliResult | subprocess.CompletedProcess, code: int) -> str:
        shown = f"exit {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
        assert result.returncode == code, shown
        assert result.stdout == "", shown
        assert "Traceback" not in result.stderr, shown
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and result.stderr.endswith("\n"), shown
        assert lines[0].startswith("rfm: error: "), shown
        assert "; " in lines[0][len("rfm: error: ") :], shown
        return lines[0]

    return check
