"""The files imported into a database: list them, take one back, and what the database holds.

Taking a file back (`remove`) follows the rule the import itself follows, that the later file's
state of an order wins: every order goes back to the state of the latest *other* file that carried
it, and an order no other file carried is removed (queries/imports_rm.sql). What each file
carried is recorded from schema version 10 on (queries/migrate_v10.sql); the customers' totals
are rebuilt from the orders that remain.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rfm_cli.core import customer_stats
from rfm_cli.core.errors import UsageError
from rfm_cli.core.store import Store, fetch_one, run_statements, sql


def list_imports(store: Store):
    """queries/imports_list.sql as a Polars DataFrame, oldest import first."""
    from rfm_cli.core.frames import frame

    return frame(store.con.sql(sql("imports_list")))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve(store: Store, ref: str) -> tuple[int, str]:
    """(import_id, source_file) of the import `ref` names: its id, its path as given, its file name,
    or a file on disk with the same bytes."""
    rows = store.con.execute(
        "SELECT import_id, source_file, file_sha256 FROM rfm_imports ORDER BY import_id").fetchall()
    if ref.isdigit():
        chosen = [r for r in rows if r[0] == int(ref)]
    else:
        chosen = [r for r in rows if r[1] == ref] or [r for r in rows if Path(r[1]).name == Path(ref).name]
        if not chosen and Path(ref).is_file():
            digest = _sha256(Path(ref))
            chosen = [r for r in rows if r[2] == digest]
    if not chosen:
        raise UsageError(f"no import of {ref!r} in {store.label}; "
                         "see rfm imports list for the files and their ids")
    if len(chosen) > 1:
        ids = ", ".join(str(r[0]) for r in chosen)
        raise UsageError(f"{ref!r} names {len(chosen)} imports (ids {ids}); give the id: rfm imports rm ID")
    return chosen[0][0], chosen[0][1]


def remove(store: Store, import_id: int) -> dict[str, Any]:
    """Take one import back, inside the caller's transaction; what happened, as counts."""
    con = store.con

    def count(query: str) -> int:
        return fetch_one(con, query, {"id": import_id})[0]

    outcome = {
        "import_id": import_id,
        "orders_set": count("SELECT count(*) FROM rfm_orders WHERE import_id = $id"),
        "orders_restored": count(
            "SELECT count(DISTINCT v.order_id) FROM rfm_order_versions AS v "
            "JOIN rfm_orders AS o USING (order_id) WHERE o.import_id = $id AND v.import_id <> $id"),
        "refunds_set": count("SELECT count(*) FROM rfm_refunds WHERE import_id = $id"),
        "refunds_kept": count(
            "SELECT count(DISTINCT c.refund_key) FROM rfm_refund_carriers AS c JOIN rfm_refunds AS f "
            "USING (refund_key) WHERE f.import_id = $id AND c.import_id <> $id"),
        "rejects": count("SELECT count(*) FROM rfm_rejects WHERE import_id = $id"),
    }
    # Imports older than the version-10 records did not note what they shared with other files.
    since = fetch_one(con, "SELECT value FROM rfm_meta WHERE key = 'versions_since_import'")
    unrecorded = count("SELECT count(*) FROM rfm_imports WHERE import_id <> $id "
                       f"AND import_id < {int(since[0])}")
    outcome["orders_removed"] = outcome["orders_set"] - outcome["orders_restored"]
    outcome["maybe_in_older_files"] = outcome["orders_removed"] if unrecorded else 0
    run_statements(con, "imports_rm", {"import_id": import_id})
    outcome["totals_rebuilt"] = customer_stats.is_current(store)
    if outcome["totals_rebuilt"]:
        customer_stats.rebuild(con)
    return outcome


def status(store: Store) -> dict[str, Any]:
    """queries/status.sql's row, with the database's file size, schema version and frozen cut points."""
    relation = store.con.sql(sql("status"))
    row = dict(zip(relation.columns, relation.fetchall()[0]))
    frozen = [d for (d,) in store.con.execute(
        "SELECT dimension FROM rfm_frozen_cuts ORDER BY dimension").fetchall()]
    version = fetch_one(store.con, "SELECT value FROM rfm_meta WHERE key = 'schema_version'")[0]
    size = Path(store.path).stat().st_size if Path(store.path).is_file() else None
    return {"database": store.label, "bytes": size, "schema_version": int(version), **row,
            "frozen_cut_points": frozen}
