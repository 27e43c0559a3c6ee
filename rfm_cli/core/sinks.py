"""Every file rfm writes, written whole or not at all.

A file is written to a temporary name in its destination folder, flushed and fsynced, then
renamed over the final name (`os.replace` is atomic on one filesystem): a kill mid-write leaves
at most a `.rfm-tmp-*` file, never a truncated list at a final path. `StagedFiles` extends this to
a set: nothing appears until every file of the set is written.

The files hold names, phones and emails: every file is created 0600 and every folder rfm creates
0700, whatever the umask (a folder that already exists keeps its mode). The folder a caller names
(--out-dir, the folder of -o FILE) may be a symbolic link: that is the user's choice. Inside it,
rfm writes only into real folders and never through a link: a subfolder (sms/, entered/ …) or a
final file that is a symbolic link is refused (exit 73) instead of followed elsewhere.

A target that is a device, FIFO or socket (`-o /dev/null`) is a stream: written in place, as stdout
is, since renaming a temporary file over it would replace the device with a regular file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Self

import polars as pl

from rfm_cli.core import runtime
from rfm_cli.core.errors import OutputError, StorageIOError, disk_full_error

# The formats' bytes are frame_formats' job; importable from here, where every writer finds them.
from rfm_cli.core.frame_formats import DATETIME_FORMAT, FORMATS, format_for, write_frame  # noqa: F401

TMP_PREFIX = ".rfm-tmp-"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class PipeClosed(Exception):
    """The reader of stdout went away (`rfm score ... | head`): not an error, stop quietly.

    Deliberately not an OSError: typer turns an EPIPE OSError into exit 1 before rfm sees it.
    """


def write_stdout(frame: pl.DataFrame, fmt: str, *, encoding: str = "utf-8",
                 float_precision: int | None = 2) -> None:
    sink = sys.stdout.buffer
    try:
        write_frame(frame, fmt, sink, encoding=encoding, float_precision=float_precision)
        sink.flush()
    except BrokenPipeError as exc:
        raise PipeClosed() from exc
    except (OSError, pl.exceptions.ComputeError) as exc:
        # polars reports a closed pipe as a plain OSError / ComputeError naming "Broken pipe".
        if getattr(exc, "errno", None) == errno.EPIPE or "broken pipe" in str(exc).lower():
            raise PipeClosed() from exc
        full = disk_full_error(exc, "stdout")
        if full is not None:
            raise full from exc
        raise



def _io_error(path: Path, exc: OSError) -> Exception:
    full = disk_full_error(exc, path)
    if full is not None:
        return full
    if exc.errno == errno.EIO:
        return StorageIOError(f"cannot write {path}: {exc.strerror}; check the disk and rerun")
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {reason}; check the folder exists and is writable")


@contextlib.contextmanager
def _temp_beside(path: Path, prefix: str) -> Iterator[tuple[BinaryIO, Path]]:
    # mkstemp opens with O_CREAT | O_EXCL | O_NOFOLLOW and mode 0600: never an existing file or a link.
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise _io_error(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, FILE_MODE)  # 0600 even under a umask that would take the owner's write bit away
        with os.fdopen(fd, "wb") as fh:
            yield fh, tmp
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def is_stream(path: Path) -> bool:
    """A character device, FIFO or socket (`-o /dev/null`, `-o >(gzip > x.gz)`): written in place like
    stdout, never through a temporary file beside it (a rename would replace the device itself)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Tee:
    """A binary sink that hashes what passes through it on the way to another sink."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self._sink.write(data)

    def flush(self) -> None:
        self._sink.flush()


def _write_stream(path: Path, write: Callable[[BinaryIO], None]) -> str:
    """Write to a stream target as it comes (a reader sees it at once, as with `-o -`); its sha256."""
    try:
        with path.open("wb") as fh:
            tee = _Tee(fh)
            write(tee)  # type: ignore[arg-type]
        return tee.digest.hexdigest()
    except OSError as exc:
        raise _io_error(path, exc) from exc


def write_file(frame: pl.DataFrame, fmt: str, path: Path, *, encoding: str = "utf-8",
               float_precision: int | None = 2) -> None:
    """Write one file atomically."""
    with StagedFiles() as staged:
        staged.add(frame, fmt, path, encoding=encoding, float_precision=float_precision)


def check_target(path: Path, option: str, example: str) -> None:
    """Refuse an output file path that cannot be written, before any work is done (the
    write itself stays atomic: this only saves a long run that would fail at its end)."""
    if is_stream(path):
        return
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder; give {option} a file name such as {example}")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(
            f"cannot write {path}: {folder} is a file, not a folder; choose another {option} path")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {path}: {folder} is not writable; choose another {option} path")


def ensure_dir(folder: Path) -> list[Path]:
    """Create folder and any missing parents, each 0700; returns the folders created, deepest first."""
    missing = [p for p in [folder, *folder.parents] if not os.path.lexists(p)]
    for created in reversed(missing):
        try:
            created.mkdir(mode=FOLDER_MODE)
            os.chmod(created, FOLDER_MODE)  # mkdir's mode is narrowed by the umask; 0700 whatever it is
        except FileExistsError:
            continue  # made by another run meanwhile
        except OSError as exc:
            raise _folder_error(folder, exc) from exc
    if not folder.is_dir():
        raise OutputError(f"cannot create output folder {folder}: a file is in the way; "
                          "choose another --out-dir")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder {folder} is not writable; choose a writable --out-dir")
    return missing


def _folder_error(folder: Path, exc: OSError) -> Exception:
    full = disk_full_error(exc, folder)
    if full is not None:
        return full
    return OutputError(f"cannot create output folder {folder}: {exc.strerror}; choose a writable --out-dir")


def _refuse_link(path: Path, what: str) -> None:
    if os.path.islink(path):
        raise OutputError(f"{what} {path} is a symbolic link, and rfm does not write through links inside "
                          "its output; remove the link (rfm creates a real one) or choose another --out-dir")


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
        self._roots: list[Path] = []  # folders the caller chose (may be links); below them, real folders only
        # This set's temp files, .rfm-tmp-<pid>-<token>-*: a discard finds one even if it never got its name.
        self._prefix = f"{TMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}-"
        self._folders: set[Path] = set()  # every folder a file of this set goes to
        self._holding = False
        self._stale: list[tuple[Path, list[Path]]] = []  # (folder, files) to delete once published
        self.published: list[Path] = []
        self.removed: list[Path] = []

    def remove_on_publish(self, folder: Path, files: list[Path]) -> None:
        """Delete these files of `folder` (a previous run's, see layout.stale_files) once the set is
        published, and only then: a set that fails leaves them where they were."""
        if files:
            self._stale.append((folder, list(files)))

    def folder(self, folder: Path) -> None:
        """Create a destination folder the caller chose (--out-dir); on discard it is removed again if
        this set created it. It may be a symbolic link; the subfolders files go to may not."""
        if folder not in self._roots:
            self._roots.append(folder)
        self._prepare(folder)

    def _prepare(self, folder: Path) -> None:
        root = next((r for r in self._roots if folder == r or r in folder.parents), None)
        if root is None:  # the folder of a file the caller named (-o FILE): the caller's choice
            self._roots.append(folder)
            root = folder
        for sub in [folder, *folder.parents]:
            if sub == root:
                break
            _refuse_link(sub, "output folder")
        created = ensure_dir(folder)
        self._folders.add(folder)
        if not created and folder not in self._swept:
            remove_stale_temps(folder)
            self._swept.add(folder)
        self._created_dirs.extend(created)  # deepest first

    def add(self, frame: pl.DataFrame, fmt: str, path: Path, *, encoding: str = "utf-8",
            float_precision: int | None = 2, escaped: bool = False) -> str:
        """Stage one file; returns the sha256 of its bytes. `escaped`: see write_frame."""
        def write(fh: BinaryIO) -> None:
            write_frame(frame, fmt, fh, encoding=encoding, float_precision=float_precision, escaped=escaped)

        if is_stream(path):
            return _write_stream(path, write)
        self._prepare(path.parent)
        _refuse_link(path, "output file")
        try:
            with _temp_beside(path, self._prefix) as (fh, tmp):
                write(fh)
            digest = hashlib.sha256()
            with tmp.open("rb") as written:
                for chunk in iter(lambda: written.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise _io_error(path, exc) from exc
        except Exception as exc:  # Polars and pyarrow report a full disk as their own errors
            full = disk_full_error(exc, path)
            if full is not None:
                raise full from exc
            raise
        self._pending.append((tmp, path))
        return digest.hexdigest()

    def add_bytes(self, data: bytes, path: Path) -> None:
        if is_stream(path):
            _write_stream(path, lambda fh: fh.write(data))
            return
        self._prepare(path.parent)
        _refuse_link(path, "output file")
        try:
            with _temp_beside(path, self._prefix) as (fh, tmp):
                fh.write(data)
        except OSError as exc:
            raise _io_error(path, exc) from exc
        self._pending.append((tmp, path))

    def preflight(self) -> None:
        """Check every destination can take its file, before anything else (a database) commits.

        From here until the files are published (or discarded), SIGINT/SIGTERM wait (runtime.held):
        the database's COMMIT and the renames that follow are one step, never cut between them."""
        for _, final in self._pending:
            if final.is_dir():
                raise OutputError(f"cannot write {final}: a folder is in the way; move it or choose another "
                                  "--out-dir")
            _refuse_link(final, "output file")
            for folder in {final.parent, *self._created_dirs} - set(self._roots):
                _refuse_link(folder, "output folder")  # swapped for a link since it was staged
            if not os.access(final.parent, os.W_OK) or (final.exists() and not os.access(final, os.W_OK)):
                raise OutputError(f"cannot write {final}: permission denied; make it writable or choose "
                                  "another --out-dir")
        if not self._holding:
            runtime.hold()
            self._holding = True

    def commit(self) -> list[Path]:
        try:
            self.preflight()
            for tmp, final in self._pending:
                try:
                    os.replace(tmp, final)
                except OSError as exc:
                    raise _io_error(final, exc) from exc
                self.published.append(final)
            from rfm_cli.core.layout import remove_stale

            for folder, files in self._stale:
                self.removed += remove_stale(folder, files)
        except BaseException:
            self.discard()
            raise
        self._pending = []
        runtime.note_commit()
        self._release(raise_pending=True)
        return self.published

    def discard(self) -> None:
        try:
            for tmp, _ in self._pending:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            self._pending = []
            # A temp file whose creation a signal cut short is not in _pending: found by this set's prefix.
            for folder in self._folders:
                with contextlib.suppress(OSError):
                    for leftover in folder.glob(f"{self._prefix}*"):
                        leftover.unlink()
            for folder in sorted(self._created_dirs, key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if still empty; the deepest first
            self._created_dirs = []
        finally:
            self._release(raise_pending=False)  # an error is already on its way out

    def _release(self, *, raise_pending: bool) -> None:
        if self._holding:
            self._holding = False
            runtime.release(raise_pending=raise_pending)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
