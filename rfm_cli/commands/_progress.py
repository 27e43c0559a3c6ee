"""The command line's progress display: a transient Rich bar on stderr, on a terminal only."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator

# Seconds of quiet before a bar appears, so short work never flickers one (RFM_PROGRESS_DELAY: tests).
_DELAY = float(os.environ.get("RFM_PROGRESS_DELAY") or 0.5)


class RichBar:
    """A `core.events.Reporter` drawing DuckDB's own progress of the running statement."""

    def __init__(self, console) -> None:
        self.console = console

    @contextlib.contextmanager
    def progress(self, label: str, poll: Callable[[], float]) -> Iterator[None]:
        done = threading.Event()

        def show() -> None:
            if done.wait(_DELAY):
                return
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            ) as bar:
                task = bar.add_task(label, total=100)
                while not done.wait(0.1):
                    try:
                        value = poll()
                    except Exception:  # noqa: BLE001 - a display must never break the work it shows
                        return
                    if value >= 0:
                        bar.update(task, completed=value)

        thread = threading.Thread(target=show, name="rfm-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
