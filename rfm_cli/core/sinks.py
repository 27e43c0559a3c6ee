"""Every file rfm writes, written whole or not at all.

A file is written to a temporary name in its destination folder, flushed and fsynced, then
renamed over the final name (`os.replace` is atomic on one filesystem): a kill mid-write leaves
at most a `.rfm-tmp-*` file, never a truncated list at a final path. `StagedFiles` extends this to
a set: nothing appears until every file of the set is written.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Self

import polars as pl

from rfm_cli.core.errors import OutputError, StorageIOError, UsageError

FORMATS = ("csv", "parquet", "json", "xlsx")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TMP_PREFIX = ".rfm-tmp-"


def format_for(path: Path | None, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = path.suffix.lower().lstrip(".") if path else ""
    return suffix if suffix in FORMATS else "csv"


XLSX_CREATED = datetime(1980, 1, 1)


def _prepare(frame: pl.DataFrame, fmt: str) -> pl.DataFrame:
    if fmt in ("json", "xlsx"):  # timestamps as the same text the CSV carries
        return frame.with_columns(pl.col(pl.Datetime).dt.strftime(DATETIME_FORMAT))
    return frame


def write_frame(frame: pl.DataFrame, fmt: str, sink: BinaryIO, *, encoding: str = "utf-8") -> None:
    frame = _prepare(frame, fmt)
    if fmt == "csv":
        if encoding == "utf-8-sig":
            sink.write("\ufeff".encode())
        frame.write_csv(sink, datetime_format=DATETIME_FORMAT, float_precision=2)
    elif fmt == "parquet":
        frame.write_parquet(sink)
    elif fmt == "json":
        buffer = io.StringIO()
        frame.write_json(buffer)
        sink.write(buffer.getvalue().encode("utf-8"))
        sink.write(b"\n")
    elif fmt == "xlsx":
        import xlsxwriter

        buffer = io.BytesIO()
        # A fixed creation date (xlsxwriter's zip entries are already dated 1980-01-01): the same
        # table gives the same bytes every night, so a cron job's reruns compare equal. Text stays
        # text: by default xlsxwriter makes "{=...}" an array formula and "http://..." a hyperlink.
        options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        with xlsxwriter.Workbook(buffer, options) as workbook:
            workbook.set_properties({"created": XLSX_CREATED})
            frame.write_excel(workbook, autofit=True)
        sink.write(buffer.getvalue())
    else:  # format_for() validated it
        raise AssertionError(fmt)


class PipeClosed(Exception):
    """The reader of stdout went away (`rfm score ... | head`): not an error, stop quietly.

    Deliberately not an OSError: typer turns an EPIPE OSError into exit 1 before rfm sees it.
    """


def write_stdout(frame: pl.DataFrame, fmt: str, *, encoding: str = "utf-8") -> None:
    sink = sys.stdout.buffer
    try:
        write_frame(frame, fmt, sink, encoding=encoding)
        sink.flush()
    except BrokenPipeError as exc:
        raise PipeClosed() from exc
    except (OSError, pl.exceptions.ComputeError) as exc:
        # polars reports a closed pipe as a plain OSError / ComputeError naming "Broken pipe".
        if getattr(exc, "errno", None) == errno.EPIPE or "broken pipe" in str(exc).lower():
            raise PipeClosed() from exc
        raise



def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _io_error(path: Path, exc: OSError) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
        return StorageIOError(f"cannot write {path}: {exc.strerror}; free disk space and rerun")
    return OutputError(f"cannot write {path}: {exc.strerror}; check the folder exists and is writable")


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[tuple[BinaryIO, Path]]:
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise _io_error(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a list is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            yield fh, tmp
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_file(frame: pl.DataFrame, fmt: str, path: Path, *, encoding: str = "utf-8") -> None:
    """Write one file atomically."""
    with StagedFiles() as staged:
        staged.add(frame, fmt, path, encoding=encoding)


def check_target(path: Path, option: str, example: str) -> None:
    """Refuse an output file path that cannot be written, before any work is done (the
    write itself stays atomic: this only saves a long run that would fail at its end)."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder; give {option} a file name such as {example}")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: {folder} is a file, not a folder; choose another {option} path")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {path}: {folder} is not writable; choose another {option} path")


def ensure_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create output folder {folder}: {exc.strerror}; choose a writable --out-dir"
        ) from exc
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder {folder} is not writable; choose a writable --out-dir")


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temporary files a killed run (kill -9, power cut) left in folder.

    A temp file is named `.rfm-tmp-<pid>-…`; it is stale when no process has that pid any more.
    A live process with that pid (ours or not) keeps it: never a file another run is writing.
    """
    removed = []
    try:
        candidates = list(folder.glob(f"{TMP_PREFIX}*"))
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # alive (or not ours to signal): leave it
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


class StagedFiles:
    """Write several files; publish them all (rename into place) only when every one is written.

    Used as a context manager: leaving it with an exception removes the temporary files and leaves
    the destination folders as they were; `commit()` (or a clean exit) publishes.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._created_dirs: list[Path] = []
        self._swept: set[Path] = set()  # folders already cleared of a killed run's temp files
        self.published: list[Path] = []

    def folder(self, folder: Path) -> None:
        """Create a destination folder; on discard it is removed again if this set created it."""
        missing = [p for p in [folder, *folder.parents] if not p.exists()]
        ensure_dir(folder)
        if not missing and folder not in self._swept:
            remove_stale_temps(folder)
            self._swept.add(folder)
        self._created_dirs.extend(missing)  # deepest first

    def add(self, frame: pl.DataFrame, fmt: str, path: Path, *, encoding: str = "utf-8") -> str:
        """Stage one file; returns the sha256 of its bytes."""
        self.folder(path.parent)
        try:
            with _temp_beside(path) as (fh, tmp):
                write_frame(frame, fmt, fh, encoding=encoding)
            digest = hashlib.sha256()
            with tmp.open("rb") as written:
                for chunk in iter(lambda: written.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise _io_error(path, exc) from exc
        self._pending.append((tmp, path))
        return digest.hexdigest()

    def add_bytes(self, data: bytes, path: Path) -> None:
        self.folder(path.parent)
        try:
            with _temp_beside(path) as (fh, tmp):
                fh.write(data)
        except OSError as exc:
            raise _io_error(path, exc) from exc
        self._pending.append((tmp, path))

    def preflight(self) -> None:
        """Check every destination can take its file, before anything else (a database) commits."""
        for _, final in self._pending:
            if final.is_dir():
                raise OutputError(f"cannot write {final}: a folder is in the way; move it or choose another "
                                  "--out-dir")
            if not os.access(final.parent, os.W_OK) or (final.exists() and not os.access(final, os.W_OK)):
                raise OutputError(f"cannot write {final}: permission denied; make it writable or choose another "
                                  "--out-dir")

    def commit(self) -> list[Path]:
        self.preflight()
        try:
            for tmp, final in self._pending:
                try:
                    os.replace(tmp, final)
                except OSError as exc:
                    raise _io_error(final, exc) from exc
                self.published.append(final)
        except BaseException:
            self.discard()
            raise
        self._pending = []
        return self.published


    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._pending = []
        for folder in self._created_dirs:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty
        self._created_dirs = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
