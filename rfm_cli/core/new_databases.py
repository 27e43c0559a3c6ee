"""New database files copied from an empty one the process made: for a process that creates many.

Creating a database runs schema_current.sql (~40 tables, views and sequences): 20-21 ms of CPU on
this machine, where copying an empty database of the current schema (768 KiB) and attaching it
costs 5 ms. A notebook, a scheduler or the test suite that makes many databases pays the script
once: the first new database of a process is created by the script as before (a one-shot command
pays nothing for a template it would use once), the second builds the template, a private file in
a folder of its own removed at exit, and every later one is a copy of it.

The copy is written like DuckDB's own new file (under the caller's private umask, never through
an existing name or link); when it cannot be written (a full disk, a name that appeared) the
caller creates the database the usual way, and DuckDB reports what is wrong.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb

from rfm_cli.core import instances

_lock = threading.Lock()
_made = {"pid": 0, "created": 0, "template": None}


def place_new(db_path: Path, create: Callable[[duckdb.DuckDBPyConnection], None]) -> bool:
    """Write an empty database of the current schema at `db_path` (which does not exist) from the
    process's template, whose first use builds it with `create`. False when the caller is to create
    it itself: the process's first new database, or a copy that could not be written."""
    with _lock:
        if _made["pid"] != os.getpid():  # a forked child builds its own (its parent removes theirs)
            _made.update(pid=os.getpid(), created=0, template=None)
        _made["created"] += 1
        if _made["created"] == 1:
            return False
        try:
            template = _made["template"] or _build(create)
        except (OSError, duckdb.Error):
            return False
        _made["template"] = template
    try:
        target = open(db_path, "xb")  # noqa: SIM115 - closed below; never through an existing name
    except OSError:
        return False
    try:
        with target, open(template, "rb") as source:
            shutil.copyfileobj(source, target)
    except OSError:
        with contextlib.suppress(OSError):
            db_path.unlink()  # ours: the partial copy
        return False
    return True


def _build(create: Callable[[duckdb.DuckDBPyConnection], None]) -> Path:
    folder = tempfile.mkdtemp(prefix="rfm-template-")  # 0700: the template is no one else's
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "empty.duckdb"
    with instances.connection(str(path), temp_directory=os.path.join(folder, "spill")) as con:
        create(con)
    return path
