"""How the command line reads to a person: global options before or after the command, help that
shows what people type, and usage errors that read as one sentence with its fix."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from rfm_cli.cli import app

ROWS = [("O1", "C1", "2026-01-01", "10.00", "paid", ""), ("O2", "C2", "2026-01-05", "20.00", "paid", "")]


@pytest.fixture
def orders(write_orders) -> Path:
    return write_orders("orders.csv", ROWS)


# ------------------------------------------------------------------ global options after the command


def test_db_after_the_command_is_the_database(tmp_path: Path, rfm, orders) -> None:
    done = rfm("import", orders, "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "shop.duckdb").is_file() and not (tmp_path / "rfm.duckdb").exists()
    scored = rfm("score", "--db", "shop.duckdb", "-o", "-")
    assert scored.returncode == 0, scored.stderr
    assert [line.split(",")[0] for line in scored.stdout.splitlines()[1:]] == ["C1", "C2"]


def test_db_after_a_sub_command(tmp_path: Path, rfm) -> None:
    assert rfm("suppress", "add", "13812345678", "--db", "shop.duckdb").returncode == 0
    listed = rfm("suppress", "list", "--db", "shop.duckdb")
    assert "13812345678" in listed.stdout
    assert not (tmp_path / "rfm.duckdb").exists()


def test_the_later_of_two_db_options_wins(tmp_path: Path, rfm, orders) -> None:
    done = rfm("--db", "first.duckdb", "import", orders, "--db", "second.duckdb")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "second.duckdb").is_file() and not (tmp_path / "first.duckdb").exists()


def test_quiet_and_log_json_after_the_command(rfm, orders) -> None:
    quiet = rfm("import", orders, "--db", "a.duckdb", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    logged = rfm("import", orders, "--db", "b.duckdb", "--log-json")
    [line] = logged.stderr.splitlines()
    assert json.loads(line)["command"] == "import"


def test_memory_limit_and_debug_after_the_command(rfm, orders, assert_cli_error) -> None:
    line = assert_cli_error(rfm("score", orders, "-o", "-", "--memory-limit", "lots"), 78)
    assert "--memory-limit" in line
    shown = rfm("score", orders, "-o", "-", "--memory-limit", "lots", "--debug")
    assert shown.returncode == 78 and "Traceback" in shown.stderr


def test_wait_after_the_command_waits_for_the_lock(tmp_path: Path, rfm, orders) -> None:
    import fcntl
    import os

    fd = os.open(tmp_path / "shop.duckdb.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    releaser = threading.Timer(1.0, os.close, [fd])
    releaser.start()
    started = time.monotonic()
    try:
        done = rfm("import", orders, "--db", "shop.duckdb", "--wait", "10")
    finally:
        releaser.join()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 1.0


# ------------------------------------------------------------------ help


def _commands(command, path=()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))
IDS = [" ".join(p) or "rfm" for p, _ in COMMANDS]


def _help(path: tuple[str, ...], width: int) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=width, max_content_width=width)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_at_80_columns_cuts_and_breaks_nothing(path: tuple[str, ...], command) -> None:
    """At 80 columns help only wraps between words: the same words as on an endless line, so no
    summary cut with "..." and no word (`mailchi`/`mp`) split across lines."""
    narrow, wide = _help(path, 78), _help(path, 2000)  # click leaves 2 columns of an 80-column terminal
    assert re.sub(r"(?<=\w-)\n\s+", "", narrow).split() == wide.split()  # a break after a hyphen is a wrap
    assert max(map(len, narrow.splitlines())) <= 80


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_shows_no_typer_internals(path: tuple[str, ...], command) -> None:
    text = _help(path, 78)
    assert "<list[" not in text and "<str>" not in text and "<path>" not in text, text
    assert not re.search(r"\{[A-Z_]+\}", text), text


LEAVES = [(path, command) for path, command in COMMANDS if path and not hasattr(command, "commands")]


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_lists_the_global_options(path: tuple[str, ...], command) -> None:
    text = _help(path, 78)
    assert "Global options (before or after the command):" in text
    for option in ("--db PATH", "--wait SECONDS", "--quiet", "--log-json", "--memory-limit SIZE", "--debug"):
        assert option in text, (path, option)


def test_import_help_names_every_file_type_it_reads() -> None:
    text = " ".join(_help(("import",), 78).split())
    for kind in ("CSV", "TSV", "XLSX", "XLS", "HTML", "Parquet"):
        assert kind in text, kind


# ------------------------------------------------------------------ usage errors


USAGE_ERRORS = [
    (["-x"], "-x"),
    (["-V"], "-V"),
    ([], "no command given"),
    (["import"], "FILE_OR_DIR"),
    (["scor"], "did you mean 'score'?"),
    (["rules", "freez"], "did you mean 'freeze'?"),
    (["suppress"], "add, remove, list"),
    (["export", "--format"], "--format"),
    (["score", "--as-of"], "--as-of"),
    (["import", "x.csv", "--dbb", "y"], "--dbb"),
    (["--wait", "soon", "import", "x.csv"], "--wait"),
    (["import", "x.csv", "--wait", "soon"], "--wait"),
]


@pytest.mark.parametrize(("args", "named"), USAGE_ERRORS, ids=[" ".join(a) or "-" for a, _ in USAGE_ERRORS])
def test_usage_errors_name_the_problem_in_one_sentence(args: list[str], named: str, rfm,
                                                       assert_cli_error) -> None:
    line = assert_cli_error(rfm(*args), 2)
    assert named in line
    assert not re.search(r"[.?!:;,]; ", line), line  # no `'FILE'.; see` or `'score'?; see`
    assert "--help" in line


def test_unknown_option_alone_is_not_called_a_missing_command(rfm) -> None:
    assert "no command given" not in rfm("-x").stderr


def test_counts_are_spelt_in_the_singular_for_one(rfm) -> None:
    done = rfm("suppress", "add", "someone@example.com", "--db", "s.duckdb")
    assert done.returncode == 0, done.stderr
    assert "1 entry added" in done.stderr


# ------------------------------------------------------------------ nothing written unless asked


@pytest.fixture
def one_bad_row(write_orders) -> Path:
    rows = [(f"O{i}", f"C{i}", "2026-01-01", "10.00", "paid", "") for i in range(20)]
    return write_orders("bad.csv", [*rows, ("X1", "C9", "not a date", "10.00", "paid", "")])


def test_score_in_memory_writes_nothing_unless_asked(tmp_path: Path, rfm, one_bad_row) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    done = rfm("score", one_bad_row, "-o", "-", "--max-rejects", "10%")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 21
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no rejects/, no database
    asked = rfm("score", one_bad_row, "-o", "-", "--max-rejects", "10%", "--rejects", "kept")
    [kept] = (tmp_path / "kept").iterdir()
    assert asked.returncode == 0 and "not a date" in kept.read_text(encoding="utf-8")


def test_the_library_default_writes_no_rejects_file(tmp_path: Path, one_bad_row) -> None:
    from rfm_cli.core import api
    from rfm_cli.core.ingest.pipeline import ImportOptions
    from rfm_cli.core.rules import load_rules

    result, [report] = api.score("unused.duckdb", [one_bad_row], load_rules(), None,
                                 ImportOptions(max_rejects="10%"))
    assert report.rejected == 1 and report.rejects_file is None
    assert result.customers.height == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_import_still_keeps_rejects_in_a_file(tmp_path: Path, rfm, one_bad_row) -> None:
    done = rfm("import", one_bad_row, "--db", "s.duckdb", "--max-rejects", "10%")
    assert done.returncode == 0, done.stderr
    [kept] = (tmp_path / "rejects").iterdir()
    assert kept.name.startswith("bad-")


# ------------------------------------------------------------------ options checked before any work


@pytest.mark.parametrize(("args", "suggestion"), [
    (["--tier", "diamnd"], "did you mean 'diamond'?"),
    (["--tier", "gold", "--tier", "golden"], "did you mean 'gold'?"),
    (["--scheme", "classic", "--segment", "champion"], "did you mean 'champions'?"),
    (["--channel", "sms,smss"], "did you mean 'sms'?"),
    (["--channel", "mailchip"], "did you mean 'mailchimp'?"),
])
def test_run_refuses_a_bad_tier_or_channel_before_importing(args: list[str], suggestion: str, tmp_path: Path,
                                                            rfm, orders, assert_cli_error) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    line = assert_cli_error(rfm("run", orders, "--out-dir", "lists", *args), 2)
    assert suggestion in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no database, no lock, no lists


def test_export_refuses_a_bad_tier_before_opening_the_database(tmp_path: Path, rfm, orders,
                                                               assert_cli_error) -> None:
    assert rfm("import", orders, "--db", "shop.duckdb").returncode == 0
    (tmp_path / "shop.duckdb.lock").unlink()
    line = assert_cli_error(rfm("export", "--db", "shop.duckdb", "--out-dir", "x", "--tier", "dormnt"), 2)
    assert "did you mean 'dormant'?" in line
    assert not (tmp_path / "shop.duckdb.lock").exists()  # the store was never opened


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_a_process_that_runs_many_command_lines_keeps_no_file_open(rfm) -> None:
    """Each run's signal pipe (runtime.install_signal_handlers) is closed at both ends when the run
    ends: a notebook or a test process running command after command once kept one per run."""

    def open_files() -> int:
        return len(list(Path("/proc/self/fd").iterdir()))

    assert rfm("--version").returncode == 0
    before = open_files()
    for _ in range(20):
        assert rfm("--version").returncode == 0
        # the run waited for its signal watcher: no thread of it is left to be inside DuckDB at exit
        assert [t for t in threading.enumerate() if t.name == "rfm-signals"] == []
    assert open_files() <= before
