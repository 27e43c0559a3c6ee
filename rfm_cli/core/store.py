"""The DuckDB store: connect, lock, schema and migrations, SQL loaded by name.

One process at a time writes a database: `open_store` takes an exclusive `flock` on
`<db>.lock` (which records who holds it) before DuckDB opens the file, so a second run
gets a clear "busy" error naming the holder instead of DuckDB's own lock error.

The file on disk is guarded by `rfm_cli.core.dbfile`: created 0600, no link followed, a damaged
file reported (exit 66) and never written to. Opening a database writes nothing to it (the macros
are TEMP), so a command that fails leaves its bytes as they were.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb

from rfm_cli.core import dbfile, events, instances, new_databases, runtime
from rfm_cli.core.errors import ConfigError, InputError, OutputError, StorageIOError, disk_full_error

SCHEMA_VERSION = 21
MIGRATIONS = {2: "migrate_v2", 3: "migrate_v3", 4: "migrate_v4", 5: "migrate_v5", 6: "migrate_v6",
              7: "migrate_v7", 8: "migrate_v8", 9: "migrate_v9", 10: "migrate_v10",
              11: "migrate_v11", 12: "migrate_v12", 14: "migrate_v14", 15: "migrate_v15",
              17: "migrate_v17", 19: "migrate_v19", 20: "migrate_v20",
              21: "migrate_v21"}  # version reached -> query file
MEMORY = ":memory:"


@cache
def sql(name: str) -> str:
    """The text of `rfm_cli/queries/<name>.sql` (package data, in a wheel as in a checkout)."""
    filename = f"{name}.sql"
    packaged = resources.files("rfm_cli").joinpath("queries", filename)
    if not packaged.is_file():
        raise FileNotFoundError(f"query {filename} is not shipped with rfm_cli")
    return packaged.read_text(encoding="utf-8")


def query_names() -> list[str]:
    packaged = resources.files("rfm_cli").joinpath("queries")
    return sorted(p.name[:-4] for p in packaged.iterdir() if p.name.endswith(".sql"))


def subquery(name: str) -> str:
    """A one-statement query file without its trailing semicolon, to be wrapped: FROM (...)."""
    return sql(name).strip().rstrip(";")


def macro_definition(macro: str) -> str:
    """The statement of queries/macros.sql that defines `macro`."""
    found = [s for s in statements("macros") if f"TEMP MACRO {macro}(" in s]
    if len(found) != 1:
        raise AssertionError(f"macros.sql defines {macro} {len(found)} times")
    return found[0]


@contextlib.contextmanager
def narrowed(con: duckdb.DuckDBPyConnection, macro: str, condition: str) -> Iterator[None]:
    """Inside: scope macro `macro` of macros.sql (rfm_stats_scope, rfm_inputs_scope) is `condition`
    on its argument `c`, so the one query that reads it covers those customers only; then it covers
    every customer again. The query text stays the one definition."""
    con.execute(f"CREATE OR REPLACE TEMP MACRO {macro}(c) AS {condition}")
    try:
        yield
    finally:
        # after a failed statement the transaction is aborted: its rollback restores the macro, and
        # the error that got us here is the one to tell
        with contextlib.suppress(duckdb.Error):
            con.execute(macro_definition(macro))


def run_script(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Run every statement of a multi-statement file (schema, macros)."""
    con.execute(sql(name))


@contextlib.contextmanager
def progress(con: duckdb.DuckDBPyConnection, label: str) -> Iterator[None]:
    """Report the block as long work to whoever listens (core/events.py), with DuckDB's own progress
    of the running statement; nothing at all when nobody does."""
    with events.progress(label, con.query_progress):
        yield


# DuckDB's memory for a throw-away in-memory store (`rfm score FILE`) unless RFM_MEMORY_LIMIT says
# otherwise: with Python and Polars beside it, scoring 10 million orders stays under 1 GiB of RSS
# (DuckDB spills the rest to a private folder). A database keeps DuckDB's default (80% of RAM).
IN_MEMORY_LIMIT = "600MB"


def configure(con: duckdb.DuckDBPyConnection, memory_limit: str | None = None) -> str | None:
    """Set the store's connection up; returns the memory limit set (None: DuckDB's default)."""
    # DuckDB's own bar would write to stdout; with a display asked for, it only keeps count.
    if not events.shows_progress():
        con.execute("SET enable_progress_bar = false")
    else:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
    limit = memory_limit or runtime.memory_limit_setting()
    if limit:
        if not re.fullmatch(r"\s*\d+(\.\d+)?\s*[KMGT]i?B\s*", limit, flags=re.IGNORECASE):
            raise ConfigError(f"memory limit {limit!r} (--memory-limit, RFM_MEMORY_LIMIT or rfm.toml) "
                              "is not a size; write it like 4GB or 512MB")
        # DuckDB keeps to it by spilling to its temp directory (the database's <db>.tmp, or a private
        # folder for an in-memory store: see open_store).
        con.execute(f"SET memory_limit = '{limit.strip()}'")
        return limit.strip()
    # else DuckDB's default: a kept instance comes back with it (core/instances.py resets it)
    return None


def _ensure_macros(con: duckdb.DuckDBPyConnection) -> None:
    """queries/macros.sql, for every store: TEMP on the first store of a DuckDB instance, then once
    on the instance for the stores after it (as define_import_macros). Opening a database writes
    nothing to it."""
    _define_once(con, "macros")


def _define_once(con: duckdb.DuckDBPyConnection, name: str) -> None:
    if instances.defined(con, name):
        return
    run_script(con, name)
    instances.define(con, name, sql(name).replace(" TEMP MACRO ", " MACRO "))


def define_import_macros(con: duckdb.DuckDBPyConnection) -> None:
    """queries/import_macros.sql, the cell cleaning, when a file is staged (9-12 ms). Defined once
    on the store's DuckDB instance (core/instances.py), never in the store's database: the first
    store of an instance defines them TEMP for each file, as before (its open transactions cannot
    see the instance's new ones); the stores after it find them there. (The raw-status pair is
    defined again TEMP for every file: staging.raw_status_macros.)"""
    _define_once(con, "import_macros")


@contextlib.contextmanager
def _all_or_nothing(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A schema change in one transaction, on a connection not yet wrapped in a Store."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def upgrade(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Bring a database of schema `version` to SCHEMA_VERSION, migration by migration, all or nothing."""
    with _all_or_nothing(con):
        for target in sorted(t for t in MIGRATIONS if version < t <= SCHEMA_VERSION):
            run_script(con, MIGRATIONS[target])


def built_by_migrations(con: duckdb.DuckDBPyConnection) -> None:
    """An empty database as the migrations make it: schema 2, then every migration. What
    schema_current.sql is written from (tools/schema_current.py) and checked against."""
    run_script(con, "schema_v2")
    con.execute("INSERT INTO rfm_meta VALUES ('schema_version', '2')")
    upgrade(con, 2)


def _create(con: duckdb.DuckDBPyConnection) -> None:
    """A new database at the current schema in one transaction: schema_current.sql, the migrations'
    result written out (opening a new database: 52-55 ms of CPU, against 72-77 ms migration by
    migration; an in-memory store 45 against 67)."""
    with _all_or_nothing(con):
        run_script(con, "schema_current")


def _migrate(con: duckdb.DuckDBPyConnection, db_label: str) -> None:
    try:  # rfm_meta itself, not information_schema (a query of the catalog cost 0.02 s a connection)
        version = int(fetch_one(con, "SELECT value FROM rfm_meta WHERE key = 'schema_version'")[0])
    except duckdb.CatalogException:
        _create(con)
        version = SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise InputError(
            f"database {db_label} has schema version {version}, newer than this rfm understands "
            f"({SCHEMA_VERSION}); upgrade rfm or use another --db"
        )
    if version < SCHEMA_VERSION:
        upgrade(con, version)
    _ensure_macros(con)


# DuckDB wakes its worker threads for every statement, and on a small shop's data a statement is
# one task: the wake-ups were ~10% of the CPU of `rfm run` at 5k-200k orders (benchmarks/startup.py,
# benchmarks/in_process.py), and the second thread bought no wall time below ~10 MB of CSV (200k
# orders, 13 MB: +3% wall on one thread; 500k, 33 MB: +22%). A store whose work is smaller than this
# runs on one thread; past it, on DuckDB's default (every core). Work is counted in bytes of CSV:
# a database file, Parquet or a workbook holds about three times the orders per byte (200k orders:
# 13 MB of CSV, a 6 MB database, 4.5 MB of Parquet).
SMALL_WORK_BYTES = 8 * 2**20
DENSE = 3  # CSV bytes a byte of a database, Parquet or workbook stands for


def work_bytes(path: Path, *, database: bool = False) -> int:
    """The work of reading `path` (an export, or the store's `database` file), in bytes of CSV."""
    dense = database or path.suffix.lower() in (".parquet", ".xlsx", ".xls")
    return path.stat().st_size * (DENSE if dense else 1)


# Store.give_back_cache's limits, tried in turn (instances.free_cached_blocks). After importing a
# night's orders into 100M, DuckDB held 3.7 GB of table blocks, refused 1 MB and 64 MB (the
# transaction's own blocks stay pinned) and went down to 0.35 GB at 256 MB.
GIVE_BACK_TO = ("1MB", "64MB", "256MB", "1GB")


@dataclass
class Store:
    con: duckdb.DuckDBPyConnection
    path: str  # MEMORY for an in-memory store
    work: int = 0  # bytes of CSV (work_bytes): the database file at open, then every file read into it
    memory_limit: str | None = None  # as configure() set it; None: DuckDB's default

    def __post_init__(self) -> None:
        self.con.execute("SET threads = 1" if self.work < SMALL_WORK_BYTES else "RESET threads")

    def add_work(self, path: Path) -> None:
        """File `path` is about to be read into the store: past SMALL_WORK_BYTES in all, every core."""
        small = self.work < SMALL_WORK_BYTES
        self.work += work_bytes(path) if path.is_file() else 0
        if small and self.work >= SMALL_WORK_BYTES:
            self.con.execute("RESET threads")

    def give_back_cache(self) -> None:
        """DuckDB frees the blocks it keeps cached, up to its memory limit, before Polars' work on
        what was read out: the limit lowered for a moment, then set as it was. Blocks of the file
        are read again when needed; what DuckDB holds pinned (an index, the transaction's own
        blocks) stays. Set through a connection of its own, so a refused limit fails there, not in
        the caller's transaction. Not for a small store (SMALL_WORK_BYTES): it holds little, and
        reading blocks again cost more than they held."""
        if self.work < SMALL_WORK_BYTES:
            return
        setter = self.con.cursor()
        try:
            instances.free_cached_blocks(setter, GIVE_BACK_TO)
            setter.execute(f"SET memory_limit = '{self.memory_limit}'" if self.memory_limit
                           else "RESET memory_limit")
        finally:
            setter.close()

    @property
    def label(self) -> str:
        return "(in memory)" if self.path == MEMORY else self.path

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: on any exception (an interrupt too) the database is as it was. A signal
        during the COMMIT waits for it (runtime.held)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # never mask the error that got us here
                self.con.execute("ROLLBACK")
            raise
        with runtime.held():
            try:
                self.con.execute("COMMIT")
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    self.con.execute("ROLLBACK")
                full = disk_full_error(exc, self.label)
                if full is not None:
                    raise full from exc
                if isinstance(exc, duckdb.IOException):
                    raise StorageIOError(
                        f"could not commit to {self.label}: {exc}; check the disk and rerun") from exc
                raise
            runtime.note_commit()


@contextlib.contextmanager
def open_store(
    db: str | os.PathLike[str] | None,
    *,
    create: bool = True,
    wait_seconds: float = 0.0,
    memory_limit: str | None = None,
) -> Iterator[Store]:
    """Open (creating and migrating if needed) the database, holding its lock until closed.

    `db=None` or ":memory:" gives a throw-away in-memory store. When the run fails and the file
    did not exist before, it is removed again: a failed run leaves things as they were.
    """
    if db is None or str(db) == MEMORY:
        yield from _memory_store(memory_limit)
        return

    db_path = Path(db)
    existed = db_path.exists()
    if not existed and not create:
        raise InputError(f"database {db_path} does not exist; run `rfm import FILE` first or pass --db PATH")
    if not db_path.parent.exists():
        raise OutputError(
            f"folder {db_path.parent} for database {db_path} does not exist; create it or pass --db PATH"
        )
    dbfile.refuse_linked_companions(db_path)
    with dbfile.private_umask(), dbfile.exclusive_lock(db_path, wait_seconds):
        ok = False
        try:
            if not existed:
                new_databases.place_new(db_path, _create)
            with dbfile.connected(db_path) as con:
                with runtime.interruptible(con), dbfile.reported_as_damage_or_full_disk(con, db_path):
                    if existed:
                        dbfile.check_whole(con, db_path)
                    limit = configure(con, memory_limit)
                    _migrate(con, str(db_path))
                    yield Store(con, str(db_path), work_bytes(db_path, database=True), limit)
                ok = True
        finally:
            if not ok and not existed:
                for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()


def _memory_store(memory_limit: str | None) -> Iterator[Store]:
    import shutil
    import tempfile

    # Where DuckDB spills what does not fit its memory limit: a private folder, not ./.tmp.
    spill = tempfile.mkdtemp(prefix="rfm-spill-")
    try:
        with instances.connection(MEMORY, temp_directory=spill) as con, runtime.interruptible(con):
            limit = configure(con, memory_limit or runtime.memory_limit_setting() or IN_MEMORY_LIMIT)
            _migrate(con, "(in memory)")
            try:
                yield Store(con, MEMORY, memory_limit=limit)
            except Exception as exc:
                full = disk_full_error(exc)
                if full is not None and not isinstance(exc, StorageIOError):
                    raise full from exc
                raise
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def statements(name: str) -> list[str]:
    """The statements of a query file, split at each `;` that ends a line."""
    text = sql(name)
    parts, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.rstrip().endswith(";") and not line.lstrip().startswith("--"):
            statement = "\n".join(current).strip()
            if any(not ln.strip().startswith("--") and ln.strip() for ln in current):
                parts.append(statement)
            current = []
    if any(ln.strip() and not ln.strip().startswith("--") for ln in current):
        parts.append("\n".join(current))
    return parts


def run_statements(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run a query file statement by statement, binding the named parameters each one uses."""
    for statement in statements(name):
        code = "\n".join(ln for ln in statement.splitlines() if not ln.lstrip().startswith("--"))
        used = {k: v for k, v in (params or {}).items() if f"${k}" in code}  # not those a comment names
        con.execute(statement, used or None)


def fetch_one(con: duckdb.DuckDBPyConnection, query: str, params: list | dict | None = None) -> tuple:
    """The first row of a query, with the result drained (DuckDB 2 refuses new work on a
    connection while a result is unfinished)."""
    rows = con.execute(query, params).fetchall() if params is not None else con.execute(query).fetchall()
    return rows[0] if rows else ()


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """rfm_meta's `key` set to `value`: an UPDATE of the row, inserted the first time (0.6 ms a
    write where INSERT OR REPLACE, which looks up the primary key as a conflict, cost 1.7)."""
    if not fetch_one(con, "UPDATE rfm_meta SET value = ? WHERE key = ?", [value, key])[0]:
        con.execute("INSERT INTO rfm_meta VALUES (?, ?)", [key, value])
