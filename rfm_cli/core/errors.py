"""Exit codes and the exceptions that carry them.

Every failure the user can act on is an `RfmError` subclass with a message of the form
"<what went wrong>; <how to fix it>". `rfm_cli.cli` prints it as one line,
`rfm: error: <message>`, and exits with the subclass's code. Anything else is a bug (exit 1).
"""

from __future__ import annotations

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
    ExitCode.NO_INPUT: "input file missing or unreadable",
    ExitCode.CANT_CREATE: "output cannot be created",
    ExitCode.IO: "I/O error (disk full ...)",
    ExitCode.BUSY: "database busy (another run holds the lock): retry later",
    ExitCode.CONFIG: "configuration error",
    ExitCode.INTERRUPTED: "interrupted",
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
