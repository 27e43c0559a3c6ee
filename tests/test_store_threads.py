"""A store sizes DuckDB's threads to its work (store.SMALL_WORK_BYTES): one thread while the database
file and the files imported into it are small, DuckDB's default (every core) once they are not, and
every store sets it again on the DuckDB instance the process keeps (core/instances.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rfm_cli.core import store
from rfm_cli.core.ingest.pipeline import import_files
from rfm_cli.core.ingest.stage import ImportOptions
from rfm_cli.core.inspect import inspect_file

HEADER = "order_id,customer_id,order_date,amount\n"


def _threads(s: store.Store) -> int:
    return int(s.con.execute("SELECT current_setting('threads')").fetchall()[0][0])


@pytest.fixture(scope="module")
def every_core() -> int:
    with duckdb.connect() as con:
        cores = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    if cores < 2:
        pytest.skip("one core: one thread is DuckDB's default too")
    return cores


def _export(path: Path, orders: int) -> Path:
    path.write_text(HEADER + "".join(f"O{i},C{i % 7},2026-05-01 10:00:00,{i}.50\n" for i in range(orders)),
                    encoding="utf-8")
    return path


def test_a_small_shop_runs_on_one_thread_a_large_one_on_every_core(tmp_path: Path, monkeypatch,
                                                                    every_core: int) -> None:
    small = _export(tmp_path / "small.csv", 20)
    db = tmp_path / "shop.duckdb"
    with store.open_store(db) as s:
        assert _threads(s) == 1
        import_files(s, [small], ImportOptions())
        assert _threads(s) == 1
    with store.open_store(None) as s:
        assert _threads(s) == 1
        big = _export(tmp_path / "big.csv", 400)  # past the bound set below
        monkeypatch.setattr(store, "SMALL_WORK_BYTES", small.stat().st_size + 100)
        import_files(s, [small, big], ImportOptions())
        assert s.work == small.stat().st_size + big.stat().st_size
        assert _threads(s) == every_core
    with store.open_store(db) as s:  # the database itself is past the bound now
        assert _threads(s) == every_core
    monkeypatch.setattr(store, "SMALL_WORK_BYTES", store.DENSE * db.stat().st_size + 1)
    with store.open_store(db) as s:  # the same kept instance, a small store again
        assert _threads(s) == 1
    monkeypatch.setattr(store, "SMALL_WORK_BYTES", store.DENSE * db.stat().st_size - 1)
    with store.open_store(db) as s:  # a database counts at DENSE times its bytes
        assert _threads(s) == every_core


def test_parquet_and_workbooks_count_at_dense_times_their_bytes(tmp_path: Path) -> None:
    for name in ("a.parquet", "b.XLSX", "c.xls", "d.csv", "e.tsv"):
        (tmp_path / name).write_bytes(b"x" * 100)
    assert [store.work_bytes(tmp_path / n) for n in ("a.parquet", "b.XLSX", "c.xls", "d.csv", "e.tsv")] == [
        100 * store.DENSE] * 3 + [100, 100]
    assert store.work_bytes(tmp_path / "d.csv", database=True) == 100 * store.DENSE  # any database name


def test_inspect_reads_a_large_file_on_every_core(tmp_path: Path, monkeypatch, every_core: int) -> None:
    path = _export(tmp_path / "orders.csv", 50)
    seen: list[int] = []
    real = store.Store.add_work

    def add_work(self: store.Store, path: Path) -> None:
        real(self, path)
        seen.append(_threads(self))

    monkeypatch.setattr(store.Store, "add_work", add_work)
    monkeypatch.setattr(store, "SMALL_WORK_BYTES", 10)
    inspect_file(path, ImportOptions())
    assert seen == [every_core]
