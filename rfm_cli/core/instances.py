"""DuckDB instances a process keeps between stores, so that opening a store costs an ATTACH.

Starting a DuckDB instance costs ~17 ms of CPU even for `:memory:` (its catalog of built-in
functions), and a process that runs many commands (a notebook, a scheduler, the test suite) starts
one per store: a third of what a small import or export costs. A store is instead a connection
(`cursor`) on a kept instance with its database ATTACHed as `db` and made the default (`USE`);
closing the store DETACHes it, which checkpoints and releases the file's lock exactly as closing
an instance did (another process may open it at once).

What stays as it was:
- a store never shares its instance: an instance holds one database at a time, so its settings
  (memory limit, spill folder) are that store's; a kept instance comes back with nothing
  attached, DuckDB's default memory limit and the new store's spill folder;
- an instance in which anything failed is closed, not kept (a damaged file's `disable checkpoint`
  must not outlive it); so is every instance after a fork (a child never uses its parent's);
- at most `IDLE_KEPT` idle instances are kept; the rest are closed; an idle one frees the memory
  DuckDB keeps for reuse (it would hold hundreds of MiB after a large store);
- the macros every store defines are run once on the instance (`define`) into its own catalog,
  never into a store's database; a store finds them after its own objects (`search_path`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb

IDLE_KEPT = 2
ALIAS = "db"

_lock = threading.Lock()


@dataclass
class _Instance:
    base: duckdb.DuckDBPyConnection  # the instance's own connection: ATTACH and DETACH run on it
    pid: int
    defined: set[str] = field(default_factory=set)  # scripts run once on the instance (define)


_idle: list[_Instance] = []
# id of a store's connection -> its instance, and what `define` had run on it when the store opened
_of_connection: dict[int, tuple[_Instance, frozenset[str]]] = {}


def _take_idle() -> _Instance | None:
    pid = os.getpid()
    with _lock:
        while _idle:
            instance = _idle.pop()
            if instance.pid == pid:
                return instance
            # a forked child's copy of its parent's instance: never touched (its threads are gone)
    return None


def _prepared(temp_directory: str) -> _Instance:
    """A kept instance, or a new one, spilling to `temp_directory`. DuckDB refuses to move the
    spill folder of an instance that has spilled: that instance is closed and a new one started,
    so a store never spills into another store's folder."""
    instance = _take_idle()
    if instance is not None:
        try:
            instance.base.execute(f"SET temp_directory = {_quoted(temp_directory)}")
            return instance
        except duckdb.Error:
            _close(instance)
    instance = _Instance(duckdb.connect(":memory:"), os.getpid())
    instance.base.execute(f"SET temp_directory = {_quoted(temp_directory)}")
    return instance


def _quoted(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


@contextlib.contextmanager
def connection(path: str, *, temp_directory: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default database is `path` (a file, or ":memory:" for a new empty one),
    attached on a kept instance of its own for the block, which spills to `temp_directory`. Errors
    of the ATTACH are DuckDB's own, as `duckdb.connect` raises them. The caller holds the file's
    lock (dbfile.exclusive_lock): one store at a time per file, so a file is never attached to two
    instances."""
    instance = _prepared(temp_directory)
    try:
        instance.base.execute(f"ATTACH {_quoted(path)} AS {ALIAS}")
        con = instance.base.cursor()
    except BaseException:
        _close(instance)
        raise
    ok = False
    _of_connection[id(con)] = instance, frozenset(instance.defined)
    try:
        con.execute(f"USE {ALIAS}")
        # the instance's own catalog is searched after the store's, for what `define` put there
        con.execute(f"SET search_path = '{ALIAS}.main,memory.main'")
        yield con
        ok = True
    finally:
        _of_connection.pop(id(con), None)
        try:
            con.close()
        except BaseException:
            _close(instance)
            raise
        _detach(instance, keep=ok)


def defined(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether `define` ran `name` on the instance of a store's connection before the store opened:
    what it defined is then visible to every transaction of the connection."""
    return name in _of_connection.get(id(con), (None, frozenset()))[1]


def define(con: duckdb.DuckDBPyConnection, name: str, script: str) -> None:
    """Run `script` (macros: CREATE MACRO, not TEMP) once on the instance of a store's connection,
    into the instance's own catalog, where the connection finds them after its database and its
    TEMP objects (a TEMP macro of the same name takes precedence). A transaction the connection
    has open already does not see them (DuckDB's catalog is versioned): the caller defines them
    TEMP for this store, and the stores after it find them here."""
    instance, _ = _of_connection.get(id(con), (None, frozenset()))
    if instance is not None and name not in instance.defined:
        instance.base.execute(script)
        instance.defined.add(name)


def free_cached_blocks(con: duckdb.DuckDBPyConnection, floors: tuple[str, ...]) -> bool:
    """DuckDB frees the blocks it keeps cached: its memory limit set to each of `floors` in turn
    until one is accepted (a limit below what DuckDB holds pinned is refused and frees nothing).
    True once one was; the caller sets the limit it wants after. A refusal on `con` inside a
    transaction aborts that transaction: callers in one pass a cursor of their own."""
    for floor in floors:
        try:
            con.execute(f"SET memory_limit = '{floor}'")
            return True
        except duckdb.Error:
            continue
    return False


def _detach(instance: _Instance, *, keep: bool) -> None:
    """The store is closed: DETACH its database (checkpoint, unlock) and keep the instance idle;
    after a failure, close the instance instead (which closes its database as closing a connection
    did, without a checkpoint when a damaged file disabled it)."""
    if not keep:
        _close(instance)
        return
    try:
        instance.base.execute(f"DETACH {ALIAS}")
    except BaseException:
        _close(instance)
        raise
    # DuckDB keeps the blocks its queries freed, for reuse, up to its memory limit: an idle instance
    # would hold them (the process 485 MiB after scoring 1M orders, 210 once freed). Lowering the
    # limit frees them; the reset gives the next store DuckDB's default. Nothing is pinned once the
    # database is detached: an instance that still refuses 1 MB is closed instead of kept.
    if not free_cached_blocks(instance.base, ("1MB",)):
        _close(instance)
        return
    try:
        instance.base.execute("RESET memory_limit")
    except duckdb.Error:
        _close(instance)
        return
    with _lock:
        kept = len(_idle) < IDLE_KEPT and instance.pid == os.getpid()
        if kept:
            _idle.append(instance)
    if not kept:
        _close(instance)


def _close(instance: _Instance) -> None:
    with contextlib.suppress(duckdb.Error):
        instance.base.close()
