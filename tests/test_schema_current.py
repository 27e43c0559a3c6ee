"""A new database is created from schema_current.sql (one script, one transaction) instead of
schema_v2.sql and every migration; an old database is still upgraded by the migrations. Both ways
must give the same database, and the file must be what tools/schema_current.py writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb

from rfm_cli.core import new_databases, store

ROOT = Path(__file__).resolve().parent.parent

CATALOG = {
    "columns": "SELECT table_name, column_index, column_name, data_type, column_default, is_nullable, "
               "numeric_precision, numeric_scale FROM duckdb_columns() WHERE NOT internal "
               "AND database_name = current_database() ORDER BY ALL",
    "constraints": "SELECT table_name, constraint_type, constraint_text, expression, "
                   "constraint_column_names FROM duckdb_constraints() "
                   "WHERE database_name = current_database() ORDER BY ALL",
    "views": "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal "
             "AND database_name = current_database() ORDER BY ALL",
    "sequences": "SELECT sequence_name, start_value, min_value, max_value, increment_by, cycle "
                 "FROM duckdb_sequences() WHERE database_name = current_database() ORDER BY ALL",
    "indexes": "SELECT index_name, table_name, is_unique, expressions FROM duckdb_indexes() "
               "WHERE database_name = current_database() ORDER BY ALL",
    "meta": "SELECT * FROM rfm_meta ORDER BY ALL",
}


def catalog(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {name: con.execute(query).fetchall() for name, query in CATALOG.items()}


def test_the_file_is_what_the_migrations_give() -> None:
    spec = importlib.util.spec_from_file_location("rfm_schema_tool", ROOT / "tools" / "schema_current.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    written = (ROOT / "rfm_cli" / "queries" / "schema_current.sql").read_text(encoding="utf-8")
    assert written == tool.render(), "schema_current.sql is stale: run `python tools/schema_current.py`"


def test_a_new_database_equals_one_built_by_the_migrations(tmp_path: Path, monkeypatch) -> None:
    """The first new file of a process (the script), a later one (a copy of the process's template,
    core/new_databases.py) and an in-memory store."""
    monkeypatch.setattr(new_databases, "_made", {"pid": 0, "created": 0, "template": None})
    with duckdb.connect(str(tmp_path / "migrated.duckdb")) as con:
        store.built_by_migrations(con)
        migrated = catalog(con)
    with store.open_store(tmp_path / "new.duckdb") as new:
        created = catalog(new.con)
    with store.open_store(tmp_path / "copied.duckdb") as later:
        copied = catalog(later.con)
    assert new_databases._made["template"] is not None  # the second was a copy
    with store.open_store(None) as memory:
        in_memory = catalog(memory.con)
    assert migrated["columns"] and migrated["constraints"] and migrated["views"]  # the queries see them
    assert dict(migrated["meta"])["schema_version"] == str(store.SCHEMA_VERSION)
    for name in CATALOG:
        assert created[name] == migrated[name], name
        assert copied[name] == migrated[name], name
        assert in_memory[name] == migrated[name], name


def test_a_new_database_runs_one_script_and_an_old_one_its_migrations(tmp_path: Path,
                                                                      monkeypatch) -> None:
    ran: list[str] = []
    real = store.run_script
    monkeypatch.setattr(store, "run_script", lambda con, name: (ran.append(name), real(con, name))[1])
    # the process's first new database (later ones are copies of a template: test_new_databases.py)
    monkeypatch.setattr(new_databases, "_made", {"pid": 0, "created": 0, "template": None})
    with store.open_store(tmp_path / "s.duckdb"):
        pass
    # (macros.sql runs on a store's connection unless its kept DuckDB instance has them: core/instances.py)
    assert [name for name in ran if name != "macros"] == ["schema_current"]
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:  # a database last written at schema 17
        real(con, "schema_v2")
        con.execute("INSERT INTO rfm_meta VALUES ('schema_version', '2')")
        with monkeypatch.context() as then:
            then.setattr(store, "SCHEMA_VERSION", 17)
            store.upgrade(con, 2)
        con.execute("UPDATE rfm_meta SET value = '17' WHERE key = 'schema_version'")
    ran.clear()
    with store.open_store(tmp_path / "old.duckdb") as old:
        version = old.con.execute("SELECT value FROM rfm_meta WHERE key = 'schema_version'").fetchone()
    migrations = [store.MIGRATIONS[v] for v in sorted(store.MIGRATIONS) if v > 17]
    assert [name for name in ran if name != "macros"] == migrations
    assert version == (str(store.SCHEMA_VERSION),)


def test_set_meta_inserts_a_key_once_then_updates_it() -> None:
    with store.open_store(None) as memory:
        con = memory.con
        store.set_meta(con, "customer_stats", "current")
        store.set_meta(con, "customer_stats", "stale")
        store.set_meta(con, "schema_version", str(store.SCHEMA_VERSION))  # an existing key: updated
        rows = con.execute("SELECT key, value FROM rfm_meta WHERE key IN ('customer_stats', "
                           "'schema_version') ORDER BY key").fetchall()
    assert rows == [("customer_stats", "stale"), ("schema_version", str(store.SCHEMA_VERSION))]


def _tables(path: Path) -> set[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return set(con.execute("SELECT table_name, 'table' FROM duckdb_tables() WHERE NOT internal "
                               "UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE NOT internal "
                               "AND NOT temporary").fetchall())


def test_an_import_down_any_path_leaves_only_the_schemas_tables(tmp_path: Path, rfm) -> None:
    """The general path writes its raw rows into the store's own database (raw_rows, raw_rows_bad,
    raw_rows_lines); staging drops them whatever the path: a canonical CSV (the direct path), one
    with an unreadable row (read again the general way), a workbook, a GBK export with a title line,
    a shop with line items. (A table left behind kept buyers' rows in the file: `rfm forget` found them.)"""
    import platform_fixtures as pf

    empty = tmp_path / "empty.duckdb"
    with store.open_store(empty):
        pass
    schema = _tables(empty)
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,customer_id,order_date,amount\nO1,C1,2026-05-01,10.00\nO2,C2,not a day,5.00\n",
                   encoding="utf-8")
    files = [bad, pf.write_online_retail(tmp_path), pf.write_gbk_titled(tmp_path), pf.write_shopify(tmp_path),
             pf.write_ragged(tmp_path)]
    for path in files:
        db = tmp_path / f"{path.stem}.duckdb"
        done = rfm("import", path, "--db", db, "--max-rejects", "100%")
        assert done.returncode == 0, done.stderr
        assert _tables(db) == schema, path.name
