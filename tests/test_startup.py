"""What a command costs before its work: `rfm --help` and `--version` without Typer, no pydantic,
pyarrow or numpy on a run, and a database reopened without redoing its set-up.
(The CPU times themselves are measured by benchmarks/startup.py; nothing here asserts on time.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rfm_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _loaded_after(argv: list[str], cwd: Path) -> dict:
    """Run `rfm ARGV` through the console entry point in a fresh interpreter; which modules it loaded."""
    probe = f"""
import json, sys
from rfm_cli.launch import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
watched = ("typer", "pydantic", "pyarrow", "numpy", "duckdb", "polars", "rich", "plotly")
loaded = [m for m in watched if m in sys.modules]
sys.stderr.write("RESULT " + json.dumps({{"code": code, "loaded": loaded}}) + "\\n")
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("RESULT ")]
    return json.loads(line[len("RESULT "):]) | {"stdout": done.stdout}


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"]])
def test_help_and_version_do_not_load_typer(argv: list[str], tmp_path: Path) -> None:
    result = _loaded_after(argv, tmp_path)
    assert result["code"] == 0 and result["loaded"] == [], result
    assert result["stdout"].startswith("rfm " if argv == ["--version"] else "Usage: rfm [OPTIONS] COMMAND")


@pytest.mark.parametrize("width", [50, 60, 78, 100, 140])
def test_the_fast_help_is_typers_help(width: int) -> None:
    from rfm_cli.help_text import root_help

    typer_help = CliRunner().invoke(app, ["--help"], terminal_width=width, max_content_width=width).output
    assert root_help(width) == typer_help


def test_a_run_loads_neither_pydantic_nor_pyarrow(tmp_path: Path) -> None:
    """Typer built a Pydantic adapter for every option (0.3 s of imports); DuckDB results came to
    Polars through pyarrow, which loads numpy (0.25 s)."""
    sample = ROOT / "sample_data" / "orders.csv"
    result = _loaded_after(["--db", "r.duckdb", "-q", "run", str(sample), "--out-dir", "lists"], tmp_path)
    assert result["code"] == 0, result
    assert {"pydantic", "pyarrow", "numpy"}.isdisjoint(result["loaded"]), result
    # explain's predictions fit the models with NumPy and SciPy (issue 19); its own path loads neither.
    again = _loaded_after(["explain", "C00001", "--db", "r.duckdb", "-q", "--no-predictions"], tmp_path)
    assert again["code"] == 0 and {"pydantic", "pyarrow", "numpy"}.isdisjoint(again["loaded"]), again


def test_reopening_a_database_does_not_rerun_its_migrations(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema is set up once; the macros are never written to the database (opening it writes
    nothing: a damaged file is never written to): TEMP on a connection, or once on the DuckDB
    instance the process keeps (core/instances.py), which later stores find them on."""
    from rfm_cli.core import new_databases, store

    ran: list[str] = []
    real = store.run_script
    monkeypatch.setattr(store, "run_script", lambda con, name: (ran.append(name), real(con, name))[1])
    # as the process's first new database (later ones are copies of a template: test_new_databases.py)
    monkeypatch.setattr(new_databases, "_made", {"pid": 0, "created": 0, "template": None})
    with store.open_store(tmp_path / "s.duckdb"):
        pass
    assert "schema_current" in ran
    ran.clear()
    before = (tmp_path / "s.duckdb").read_bytes()
    with store.open_store(tmp_path / "s.duckdb") as opened:
        assert opened.con.execute("SELECT rfm_in_window(DATE '2024-01-02', NULL)").fetchall() == [(True,)]
    assert set(ran) <= {"macros"}
    assert (tmp_path / "s.duckdb").read_bytes() == before
