"""The running rfm process: the command it runs, and how SIGINT and SIGTERM stop it.

`install_signal_handlers()` is called by `rfm_cli.cli.main` only: importing the library installs
nothing. Once installed, SIGINT and SIGTERM raise `Interrupted` in the main thread wherever it is, so
transactions roll back, staged files are removed and the lock is released as the stack unwinds. The
signal waits instead of raising:
- inside `held()`: a commit (the database's COMMIT, then the renames that publish the files) runs to
  its end, and the signal is raised after it;
- while a module is being imported: an exception raised inside a C extension's initialisation
  (duckdb, polars) can abort the process, so the signal is sent again 20 ms later.
A Python handler runs only between bytecodes, and DuckDB polls for SIGINT alone while a query runs,
so a watcher thread (woken by `signal.set_wakeup_fd`) interrupts the open DuckDB connections
(`connection.interrupt()`, registered by `interruptible`) on the first signal: a long query stops at
once on SIGTERM too.

Raised inside a callback from C (a finaliser, a library's hook), the exception is swallowed there;
it is not printed as "Exception ignored", and the CLI still ends the run as interrupted.

`command` is the name of the command being run (`import`, `suppress` …), set by the CLI: the lock
file and --log-json record it, never the arguments (they can be phones and emails).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from rfm_cli.core.errors import Interrupted

command: str | None = None

received: int | None = None  # the first SIGINT/SIGTERM this process got (set once the handlers are installed)
committed = False  # the run committed (database or files): an interrupt from now on changes nothing
_pending = False  # a signal waits for the end of a held() block or of an import
_held = 0
_connections: set = set()  # open DuckDB connections, interrupted from the watcher thread on a signal
_queries_interrupted = False
_RETRY_SECONDS = 0.02


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _handle(signum: int, frame) -> None:
    global received, _pending
    if received is None:
        received = signum
    elif not _pending:
        return  # already stopping: a second signal must not cut the clean-up short
    if _held or _importing(frame):
        _pending = True
        if not _held:
            _resend_later(signum)
        return
    _pending = False
    raise Interrupted(signal_name(received), after_commit=committed)


def _resend_later(signum: int) -> None:
    def resend() -> None:
        time.sleep(_RETRY_SECONDS)
        if _pending and not _held:
            os.kill(os.getpid(), signum)

    threading.Thread(target=resend, name="rfm-signal-retry", daemon=True).start()


def note_commit() -> None:
    """A commit completed (the database's, or the renames publishing files): from now on, an
    interrupt stops a run whose changes are complete."""
    global committed
    committed = True


def hold() -> None:
    """From now until `release()`, SIGINT/SIGTERM wait (a commit must not be cut in half). Nests."""
    global _held
    _held += 1


def release(*, raise_pending: bool = True) -> None:
    """End a `hold()`. A signal that arrived meanwhile is raised now (`Interrupted`, after_commit),
    unless `raise_pending` is False: an error already on its way out wins (the run stops anyway)."""
    global _held, _pending
    _held -= 1
    if not _held and _pending:
        _pending = False
        if raise_pending:
            raise Interrupted(signal_name(received or signal.SIGINT), after_commit=True)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """`hold()` for the block. Does nothing unless the CLI installed the handlers."""
    hold()
    try:
        yield
    except BaseException:
        release(raise_pending=False)
        raise
    release()


@contextlib.contextmanager
def interruptible(con) -> Iterator[None]:
    """While the block runs, a signal interrupts `con`'s running query (DuckDB polls only for SIGINT)."""
    _connections.add(con)
    try:
        yield
    finally:
        _connections.discard(con)


def _watch(read_fd: int) -> None:
    """Interrupt the running DuckDB queries as soon as a signal arrives (set_wakeup_fd writes its number).
    Ends when the run closes its end of the pipe, and closes this one."""
    global _queries_interrupted
    try:
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:
                return
            # Once only, and never during a commit: a later signal must not cut the rollback short.
            if (signal.SIGINT in data or signal.SIGTERM in data) and not _held and not _queries_interrupted:
                _queries_interrupted = True
                for con in list(_connections):
                    with contextlib.suppress(Exception):
                        con.interrupt()
    finally:
        with contextlib.suppress(OSError):
            os.close(read_fd)


def install_signal_handlers() -> Callable[..., None]:
    """Make SIGINT and SIGTERM stop the run cleanly (exit 130). The CLI calls this, in the main thread;
    it returns the function that puts the previous handlers back.

    A signal the parent process set to be ignored (a background job's SIGINT, nohup) stays ignored."""
    global received, committed, _pending, _held, _queries_interrupted
    received, committed, _pending, _held, _queries_interrupted = None, False, False, 0, False
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(signum, _handle)
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watcher = threading.Thread(target=_watch, args=(read_fd,), name="rfm-signals", daemon=True)
    watcher.start()
    previous_hook = sys.unraisablehook

    def quiet_unraisable(unraisable) -> None:
        # Raised where C code could not pass it on (a callback, a finaliser) and swallowed there: not
        # a bug to print. The CLI still reports the interrupt (runtime.received) as the outcome.
        if not isinstance(unraisable.exc_value, Interrupted):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_unraisable

    def restore(*, ignore: bool = False) -> None:
        """Put the previous handlers back, or (`ignore`) ignore both signals from now on."""
        signal.set_wakeup_fd(previous_wakeup)
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_IGN if ignore else handler)
        sys.unraisablehook = previous_hook
        os.close(write_fd)  # the watcher reads end-of-file and stops
        # Waited for: a daemon thread still inside DuckDB (con.interrupt) when the interpreter exits
        # is unwound through DuckDB's C++ frames, which aborts the process (exit -6, "FATAL:
        # exception not rethrown", seen once after a SIGINT during an export) instead of exit 130.
        watcher.join(timeout=10)

    return restore


# Where a store's memory limit comes from when its caller names none: set by the command line (its
# settings' precedence) or a library caller; else RFM_MEMORY_LIMIT. A context variable, not the
# environment: one run's choice never leaks into the process's other work.
_memory_limit: ContextVar[Callable[[], str | None] | None] = ContextVar("rfm_memory_limit", default=None)


def use_memory_limit(limit: str | Callable[[], str | None] | None) -> None:
    """Stores opened from now on (in this context) cap DuckDB's memory at `limit` (e.g. "4GB"), or at
    what the callable returns when a store opens; None: RFM_MEMORY_LIMIT or DuckDB's default."""
    _memory_limit.set(limit if callable(limit) or limit is None else (lambda: limit))


def memory_limit_setting() -> str | None:
    given = _memory_limit.get()
    return (given() if given else None) or os.environ.get("RFM_MEMORY_LIMIT")
