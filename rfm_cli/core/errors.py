"""Exit codes and the exceptions that carry them.

Every failure the user can act on is an `RfmError` subclass with a message of the form
"<what went wrong>; <how to fix it>". `rfm_cli.cli` prints it as one line,
`rfm: error: <message>`, and exits with the subclass's code. Anything else is a bug (exit 1).
"""

from __future__ import annotations

import errno
import os
import re
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    DATA = 65  # input data rejected
    NO_INPUT = 66  # input file missing or unreadable
    CANT_CREATE = 73  # output cannot be created
    IO = 74  # I/O error (disk full ...)
    BUSY = 75  # database busy: another run holds the lock
    CONFIG = 78  # configuration error
    INTERRUPTED = 130


EXIT_CODE_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.INTERNAL: "internal error (a bug): rerun with --debug and report it",
    ExitCode.USAGE: "usage error",
    ExitCode.DATA: "input data rejected",
    ExitCode.NO_INPUT: "input file missing or unreadable, or the database damaged",
    ExitCode.CANT_CREATE: "output cannot be created",
    ExitCode.IO: "I/O error (disk full ...)",
    ExitCode.BUSY: "database busy (another run holds the lock): retry later",
    ExitCode.CONFIG: "configuration error",
    ExitCode.INTERRUPTED: "interrupted (SIGINT or SIGTERM)",
}


class RfmError(Exception):
    """An error the user can fix. The message says what went wrong and how to fix it."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(RfmError):
    exit_code = ExitCode.USAGE


class DataError(RfmError):
    exit_code = ExitCode.DATA


class InputError(RfmError):
    exit_code = ExitCode.NO_INPUT


class OutputError(RfmError):
    exit_code = ExitCode.CANT_CREATE


class StorageIOError(RfmError):
    exit_code = ExitCode.IO


class BusyError(RfmError):
    exit_code = ExitCode.BUSY


class ConfigError(RfmError):
    exit_code = ExitCode.CONFIG


class Interrupted(BaseException):
    """SIGINT or SIGTERM stopped the run (exit 130), raised by the handler `rfm_cli.core.runtime`
    installs for the CLI. A BaseException like KeyboardInterrupt, so no `except Exception` stops it
    while transactions roll back and staged files are removed; not a KeyboardInterrupt, which typer
    turns into a silent exit 130 before rfm can say anything."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, signal_name: str, *, after_commit: bool = False) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.after_commit = after_commit  # it arrived while a commit ran, and waited for it to finish

    def __str__(self) -> str:
        if self.after_commit:
            return (f"interrupted by {self.signal_name} after the run had committed; its changes are "
                    "complete (database and files): nothing to redo")
        return f"interrupted by {self.signal_name}; nothing was changed: rerun the command"


# A full disk, as each layer reports it: Python's OSError carries errno; Polars (Rust) says "No space
# left on device (os error 28)" in an OSError without errno or a ComputeError; DuckDB only in its
# message ("Could not write file \"x.wal\": No space left on device"), or, when its temp folder's disk
# is full while it spills, as "Out of Memory Error: failed to offload data block" (its spill limit is
# the disk's free space).
DISK_FULL_ERRNOS = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code)
_DISK_FULL_TEXT = re.compile(
    "|".join(re.escape(os.strerror(code)) for code in sorted(DISK_FULL_ERRNOS)) + r"|\(os error (\d+)\)"
)
_SPILL_FULL_TEXT = "failed to offload data block"
_QUOTED_FILE = re.compile(r'file "([^"]+)"')


def causes(exc: BaseException | None) -> list[BaseException]:
    """exc and what caused it: __cause__, else __context__ (kept even under `raise ... from None`,
    which only hides it from tracebacks)."""
    seen: list[BaseException] = []
    while exc is not None and all(exc is not other for other in seen):
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def disk_full(exc: BaseException) -> str | None:
    """"No space left on device" or "Disk quota exceeded" when exc, or an error behind it, says the
    disk is full; else None."""
    for error in causes(exc):
        code = getattr(error, "errno", None)
        if code in DISK_FULL_ERRNOS:
            return os.strerror(code)
        if isinstance(error, RfmError):
            continue  # rfm's own words, which may quote a cell of the input
        for match in _DISK_FULL_TEXT.finditer(str(error)):
            if match.group(1) is None:
                return match.group(0)
            if int(match.group(1)) in DISK_FULL_ERRNOS:
                return os.strerror(int(match.group(1)))
        if _SPILL_FULL_TEXT in str(error):
            return "no room left to spill to disk"
    return None


def disk_full_error(exc: BaseException, target: object | None = None) -> StorageIOError | None:
    """The exit-74 error for a full disk (naming the file being written when known), or None."""
    reason = disk_full(exc)
    if reason is None:
        return None
    if target is None:
        for error in causes(exc):
            named = getattr(error, "filename", None) or _QUOTED_FILE.search(str(error))
            if named:
                target = named if isinstance(named, str) else named.group(1)
                break
    where = f" writing {target}" if target is not None else ""
    return StorageIOError(f"the disk is full{where} ({reason}); free disk space and rerun: "
                          "nothing was changed")
