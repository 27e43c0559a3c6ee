"""--log-json: the run's record, kept by a `core.events.Reporter` while the command works.

Commands and the library report facts (`events.record(files_written=3)`, `_common.log(...)`); this
reporter keeps them, and `rfm_cli.cli.main` writes them once at exit as one JSON line on stderr, with
the command, the exit code and the seconds it took. It draws nothing: a run with --log-json alone
does not make DuckDB keep track of its progress.
"""

from __future__ import annotations

from typing import Any


class JsonLog:
    """The fields of the run's --log-json record, by name (a later value replaces an earlier one)."""

    shows_progress = False

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}

    def record(self, **fields: Any) -> None:
        self.fields.update(fields)
