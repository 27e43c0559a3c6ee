"""What the library tells its caller while it works, without knowing who listens.

The core never draws anything: long work runs inside `progress(label, poll)`, and whoever installed a
`Reporter` (`set_reporter`) decides what that looks like. The command line installs a Rich bar on a
terminal (commands/_progress.py); a notebook or a service can install its own (a tqdm bar, a log
line, a metric) or none: with no reporter, `progress` costs one attribute lookup.

`poll` returns the running statement's progress in percent (DuckDB's `query_progress()`), or a
negative number when it does not know; a reporter calls it from its own thread (DuckDB releases the
GIL while it works) and must never let an error of its display reach the work it shows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Protocol


class Reporter(Protocol):
    def progress(self, label: str, poll: Callable[[], float]) -> AbstractContextManager[None]:
        """A context manager around one piece of long work."""
        ...


_reporter: ContextVar[Reporter | None] = ContextVar("rfm_reporter", default=None)


def set_reporter(reporter: Reporter | None) -> None:
    """Install `reporter` for this thread/context (None: report nothing)."""
    _reporter.set(reporter)


def reporter() -> Reporter | None:
    return _reporter.get()


@contextlib.contextmanager
def progress(label: str, poll: Callable[[], float]) -> Iterator[None]:
    """Run the block as reported long work (see the module's docstring)."""
    current = _reporter.get()
    if current is None:
        yield
        return
    with current.progress(label, poll):
        yield
