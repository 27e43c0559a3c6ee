"""The library reports through core/events.py, and the command line listens with reporters: a Rich
bar on a terminal and the --log-json record, two reporters of the same events (no global record, no
second path). A notebook installs its own."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from cli_runner import invoke

from rfm_cli.commands._log_json import JsonLog
from rfm_cli.core import events
from rfm_cli.core.store import open_store


class Notebook:
    """What a notebook might install: it keeps every label of long work and every record."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.records: list[dict] = []

    @contextlib.contextmanager
    def progress(self, label, poll):
        self.labels.append(label)
        yield

    def record(self, **fields) -> None:
        self.records.append(fields)


def _progress_tracked() -> bool:
    with open_store(None) as store:
        return store.con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]


def test_every_reporter_installed_sees_every_event() -> None:
    first, log = Notebook(), JsonLog()
    with events.reporting(first):
        events.add_reporter(log)
        with events.progress("scoring", lambda: 50.0):
            events.record(customers=3)
        events.record(customers=4, as_of="2026-06-30")
    assert first.labels == ["scoring"]
    assert first.records == [{"customers": 3}, {"customers": 4, "as_of": "2026-06-30"}]
    assert log.fields == {"customers": 4, "as_of": "2026-06-30"}  # a later value replaces the earlier
    assert events.reporter() is None  # the block's reporters are gone with it


def test_a_log_that_draws_nothing_does_not_make_duckdb_track_progress() -> None:
    assert _progress_tracked() is False
    with events.reporting(JsonLog()):
        assert _progress_tracked() is False
    with events.reporting(Notebook()):
        assert _progress_tracked() is True
    with events.reporting(JsonLog()):
        events.add_reporter(Notebook())
        assert _progress_tracked() is True


def test_without_a_reporter_events_cost_nothing_and_go_nowhere() -> None:
    with events.progress("anything", lambda: 1 / 0):  # the poll is never called
        events.record(customers=1)


def test_the_record_of_a_run_is_the_runs_own(tmp_path: Path, write_orders) -> None:
    """Two runs in one process (a test's, a notebook's): the second's record carries nothing of the
    first's, and after a run no reporter of the command line is left installed."""
    orders = write_orders("o.csv", [("O1", "C1", "2026-01-01", "10.00", "paid", "")])
    first = invoke(["--log-json", "--db", "shop.duckdb", "import", orders], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stderr.splitlines()[-1])
    assert record["command"] == "import" and record["files"][0]["imported"] == 1
    assert events.reporter() is None
    second = invoke(["--log-json", "--db", "shop.duckdb", "rules"], cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    record = json.loads(second.stderr.splitlines()[-1])
    assert record["command"] == "rules" and "files" not in record
    assert invoke(["--db", "shop.duckdb", "status"], cwd=tmp_path).returncode == 0
    assert events.reporter() is None
