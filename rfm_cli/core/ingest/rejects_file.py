"""rejects/<file>-<timestamp>.csv: the rows an import rejected, for the seller to fix.

The rows are personal data (names, phones, addresses), so the folder is made 0700 and the file
0600 whatever the umask, and neither is ever reached through a symbolic link: a `rejects` link
planted towards another folder, or a link named like the next rejects file, is refused with an
error instead of being followed. The file is written under a temporary name and published with
link(2), which never replaces an existing file: two imports of files with the same name in the
same second get `…-HHMMSS.csv` and `…-HHMMSS-2.csv`, and neither overwrites the other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

from rfm_cli.core.errors import OutputError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class LinkRefused(OutputError):
    """A symbolic link where the rejects folder or file goes: never followed."""


def _refuse_link(path: Path) -> LinkRefused:
    return LinkRefused(f"{path} is a symbolic link, and the rejects hold personal data: rfm does not follow "
                       "it; remove the link (or pass another folder) and import again")


def open_private_folder(folder: Path) -> int:
    """A descriptor of `folder`, created 0700 if missing; a symbolic link is refused."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    try:
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except OSError as error:
        if folder.is_symlink():
            raise _refuse_link(folder) from None
        raise OutputError(f"cannot open the rejects folder {folder}: {error.strerror}; "
                          "check that it is a folder you can write to") from None
    info = os.fstat(fd)
    if not stat.S_ISDIR(info.st_mode):
        os.close(fd)
        raise OutputError(f"{folder} is not a folder; remove it or pass another folder for the rejects")
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != 0o700:
        os.fchmod(fd, 0o700)  # ours, and it holds personal data: no one else reads it
    return fd


def write_rejects(frame: Any, folder: Path, stem: str, now: datetime | None = None) -> Path:
    """Write `frame` (polars) as CSV to `folder`/<stem>-<timestamp>[-N].csv; return its path."""
    base = f"{stem}-{(now or datetime.now()):%Y%m%d-%H%M%S}"
    folder_fd = open_private_folder(folder)
    temp = f".{base}.{secrets.token_hex(6)}.tmp"
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        fd = os.open(temp, flags, 0o600, dir_fd=folder_fd)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            with os.fdopen(fd, "wb") as sink:
                frame.write_csv(sink)
                sink.flush()
                os.fsync(sink.fileno())
            return folder / _publish(folder, folder_fd, temp, base)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=folder_fd)
    finally:
        os.close(folder_fd)


def _publish(folder: Path, folder_fd: int, temp: str, base: str) -> str:
    for attempt in range(1, 1000):
        name = f"{base}.csv" if attempt == 1 else f"{base}-{attempt}.csv"
        try:
            os.link(temp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
            return name
        except FileExistsError:
            if os.path.islink(folder / name):
                raise _refuse_link(folder / name) from None
            continue
    raise OutputError(f"{folder} already holds 999 rejects files named {base}; "
                      "clear the folder and import again")
