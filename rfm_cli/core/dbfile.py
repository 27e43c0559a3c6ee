"""The database file on disk: its lock, the files beside it, their modes, and telling damage apart.

- `exclusive_lock`: an exclusive `flock` on `<db>.lock`, which records who holds it (the process id
  and the command's name, never its arguments: they can be phones and emails).
- `private_umask`: the database holds names, phones and emails, and DuckDB creates the file, its
  .wal and its .tmp spill folder with the process umask: 077 while a store is open (0600/0700).
- `refuse_linked_companions`: `<db>.lock`, `.wal` and `.tmp` that are symbolic links are refused,
  never followed (DuckDB would write its log through a link, over the file it points at).
- `connect`, `check_whole`, `reported_as_damage_or_full_disk`: a damaged database (cut short, a page
  overwritten) is exit 66 and is never written to; a full disk is exit 74, wherever DuckDB says so.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from rfm_cli.core import instances, runtime
from rfm_cli.core.errors import BusyError, InputError, OutputError, StorageIOError, causes, disk_full_error


def lock_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _companions(db_path: Path) -> list[Path]:
    """The files rfm and DuckDB keep beside a database: the lock, the write-ahead log, the spill folder."""
    return [db_path.with_name(db_path.name + suffix) for suffix in (".lock", ".wal", ".tmp")]


def _open_lock_file(lock_path: Path) -> int:
    # O_NOFOLLOW: a <db>.lock that is a link to another file must not have that file truncated.
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock_path, flags, 0o600)
    except OSError as exc:
        if os.path.islink(lock_path):
            raise OutputError(f"lock file {lock_path} is a symbolic link, which rfm never follows; remove it "
                              "(rfm creates its own)") from exc
        full = disk_full_error(exc, lock_path)
        if full is not None:
            raise full from exc
        raise OutputError(
            f"cannot create lock file {lock_path}: {exc.strerror}; check the folder is writable"
        ) from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise OutputError(f"lock file {lock_path} is not a plain file of its own (a device, or a hard link "
                          "to another file); remove it (rfm creates its own)")
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o600)  # a lock file of an older rfm was 0644 and held the whole command line
    return fd


@contextlib.contextmanager
def exclusive_lock(db_path: Path, wait_seconds: float) -> Iterator[None]:
    lock_path = lock_file(db_path)
    fd = _open_lock_file(lock_path)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 400, 0).decode("utf-8", "replace").strip() or "another process"
                    raise BusyError(
                        f"database {db_path} is busy: {holder} holds its lock; "
                        "retry later or pass --wait SECONDS"
                    ) from None
                time.sleep(0.1)
        # The command's name only: its arguments can be phones and emails (rfm suppress add ...).
        holder = f"process {os.getpid()} (rfm{' ' + runtime.command if runtime.command else ''})"
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode("utf-8"), 0)
        yield
    finally:
        # Closing the descriptor releases the lock; the file stays (removing it would race a waiter).
        os.close(fd)


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """umask 077 while the store is open: DuckDB creates the database, its .wal and its .tmp folder
    with the process umask, and they hold names, phones and emails (0600 files, 0700 folders).
    The umask belongs to the process: a library user's thread creating files meanwhile gets 0600 too."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def refuse_linked_companions(db_path: Path) -> None:
    for companion in _companions(db_path):
        if os.path.islink(companion):
            raise OutputError(f"{companion} is a symbolic link, which rfm never follows (DuckDB would write "
                              f"through it); remove it (rfm and DuckDB create their own)")


# The start of a DuckDB file: a main header and two database headers of 4 KiB each, then the blocks.
_DUCKDB_HEADER_BYTES = 3 * 4096
# What DuckDB says when it reads a damaged file (a checksum that does not match, bytes missing, a header
# that is not DuckDB's); a query that merely fails says something else.
_DAMAGE_TEXT = ("Corrupt database file", "Could not read enough bytes", "not a valid DuckDB database file",
                "database has been invalidated", "Corrupt WAL", "Failure while replaying WAL")


def _damaged(db_path: Path, detail: str) -> InputError:
    return InputError(
        f"database {db_path} is damaged ({detail}); rfm wrote nothing to it: restore it from a backup, or "
        "move it aside and rebuild it with rfm import from your exports, or pass the right --db"
    )


def _damage_detail(exc: BaseException, db_path: Path) -> str | None:
    """DuckDB's words about the damage, when exc (or an error behind it) reports the database damaged.
    A message that names a file must name the database or its .wal: a truncated input file gives
    DuckDB's same words."""
    ours = {os.path.abspath(db_path), os.path.abspath(f"{db_path}.wal")}
    for error in causes(exc):
        text = str(error)
        if not isinstance(error, duckdb.Error) or not any(words in text for words in _DAMAGE_TEXT):
            continue
        named = re.search(r'file "([^"]+)"', text)
        if named and os.path.abspath(named.group(1)) not in ours:
            continue
        return re.sub(r"^(\w+ )?Error: ", "", text.strip().splitlines()[0])[:200]
    return None


def check_whole(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """A file too short for the blocks in use was cut short (a copy that did not finish, a full disk):
    refuse it before any work, since DuckDB notices only when it reads a missing block. (Free blocks
    at the end may be truncated away, so the used ones are the bound.)"""
    rows = con.execute("SELECT block_size, used_blocks FROM pragma_database_size() "
                       "WHERE database_name = current_database()").fetchall()
    block_size, used = rows[0] if rows else (0, 0)
    needed = _DUCKDB_HEADER_BYTES + int(used) * int(block_size)
    size = db_path.stat().st_size
    if used and size < needed:
        raise _damaged(db_path, f"the file is {size:,} bytes but holds {used:,} blocks in use, "
                                f"{needed:,} bytes: it was cut short")


@contextlib.contextmanager
def connected(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the database file for the block (core/instances.py: attached on an instance
    the process keeps; closed, that is checkpointed and unlocked, when the block ends). DuckDB
    spills to `<db>.tmp` beside it."""
    with contextlib.ExitStack() as stack:
        try:
            con = stack.enter_context(instances.connection(str(db_path), temp_directory=f"{db_path}.tmp"))
        except duckdb.Error as exc:
            raise _open_error(exc, db_path) from exc
        yield con


def _open_error(exc: duckdb.Error, db_path: Path) -> Exception:
    full = disk_full_error(exc, db_path)
    if full is not None:
        return full
    if "Could not set lock" in str(exc) or "Conflicting lock" in str(exc):
        return BusyError(f"database {db_path} is busy: another program has it open ({exc}); "
                         "retry later or close that program")
    detail = _damage_detail(exc, db_path)
    if detail is not None:
        return _damaged(db_path, detail)
    return InputError(f"cannot open database {db_path}: {exc}; check the file or pass --db PATH")


@contextlib.contextmanager
def reported_as_damage_or_full_disk(con: duckdb.DuckDBPyConnection, db_path: Path) -> Iterator[None]:
    """Turn DuckDB's report of a damaged file (exit 66) or a full disk (exit 74) into rfm's, wherever
    in the run it surfaces, even wrapped in another error (an import reports DuckDB's errors as the
    input's). After damage, the connection closes without a checkpoint: nothing is written to it."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, StorageIOError) or (isinstance(exc, InputError) and "is damaged" in str(exc)):
            raise  # already said
        full = disk_full_error(exc)
        if full is not None:
            raise full from exc
        detail = _damage_detail(exc, db_path)
        if detail is not None:
            with contextlib.suppress(duckdb.Error):
                con.execute("PRAGMA disable_checkpoint_on_shutdown")
            raise _damaged(db_path, detail) from exc
        raise
