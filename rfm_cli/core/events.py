"""What the library tells its caller while it works, without knowing who listens.

The core never draws nor logs anything itself: long work runs inside `progress(label, poll)`, and
facts about the run a log keeps (counts, the as-of date, the files written) go to `record(**fields)`.
Whoever installed a `Reporter` (`set_reporter`, or `reporting` for a block) decides what that looks
like. The command line installs a Rich bar on a terminal (commands/_progress.py) and, with
--log-json, the run's JSON record (commands/_log_json.py), both at once (`add_reporter`); a notebook
or a service can install its own (a tqdm bar, a log line, a metric) or none: with no reporter,
`progress` and `record` cost one attribute lookup.

`poll` returns the running statement's progress in percent (DuckDB's `query_progress()`), or a
negative number when it does not know; a reporter calls it from its own thread (DuckDB releases the
GIL while it works) and must never let an error of its display reach the work it shows.

A reporter may leave out either method (a bar that keeps no record, a log that draws nothing); one
whose `shows_progress` is False is not asked to follow DuckDB's progress at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, Protocol


class Reporter(Protocol):
    def progress(self, label: str, poll: Callable[[], float]) -> AbstractContextManager[None]:
        """A context manager around one piece of long work."""
        ...

    def record(self, **fields: Any) -> None:
        """Facts about the run, by name; a later value of a name replaces the earlier one."""
        ...


_reporter: ContextVar[Reporter | None] = ContextVar("rfm_reporter", default=None)


def set_reporter(reporter: Reporter | None) -> None:
    """Install `reporter` for this thread/context (None: report nothing)."""
    _reporter.set(reporter)


@contextlib.contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Install `reporter` for the block; whatever was installed before (and nothing added inside the
    block, see `add_reporter`) is back after it."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


def add_reporter(reporter: Reporter) -> None:
    """Install `reporter` beside the one installed, if any: both see every event."""
    current = _reporter.get()
    _reporter.set(reporter if current is None else Reporters(current, reporter))


def reporter() -> Reporter | None:
    return _reporter.get()


def shows_progress() -> bool:
    """Whether anyone installed displays progress (so DuckDB should keep track of it)."""
    current = _reporter.get()
    return current is not None and getattr(current, "shows_progress", True)


@contextlib.contextmanager
def progress(label: str, poll: Callable[[], float]) -> Iterator[None]:
    """Run the block as reported long work (see the module's docstring)."""
    current = _reporter.get()
    show = getattr(current, "progress", None) if current is not None else None
    if show is None or not getattr(current, "shows_progress", True):
        yield
        return
    with show(label, poll):
        yield


def record(**fields: Any) -> None:
    """Report facts about the run (see the module's docstring)."""
    current = _reporter.get()
    keep = getattr(current, "record", None) if current is not None else None
    if keep is not None:
        keep(**fields)


class Reporters:
    """Several reporters as one: each sees every piece of long work and every record."""

    def __init__(self, *members: Reporter) -> None:
        self.members = members
        self.shows_progress = any(getattr(m, "shows_progress", True) for m in members)

    @contextlib.contextmanager
    def progress(self, label: str, poll: Callable[[], float]) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for member in self.members:
                if getattr(member, "shows_progress", True) and hasattr(member, "progress"):
                    stack.enter_context(member.progress(label, poll))
            yield

    def record(self, **fields: Any) -> None:
        for member in self.members:
            keep = getattr(member, "record", None)
            if keep is not None:
                keep(**fields)
