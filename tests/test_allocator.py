"""The command line gives Polars' allocator back the pages a step frees at once (launch.ALLOCATOR),
so the scoring's temporary columns do not stay resident beside the next step's: checked on the Polars
installed (a release that renamed the variable would make the setting silently do nothing)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cli_runner import clean_env

from rfm_cli import cli, launch

FREED = """
import polars as pl
def rss():
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')) // 1024
frame = pl.DataFrame({"a": range(10_000_000)})
doubled = frame.with_columns(b=pl.col("a") * 2, c=pl.col("a").rank())
held = rss()
del doubled
print(held, rss())
"""


def _held_then_freed(env: dict[str, str]) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", FREED], env=env, capture_output=True, text=True, timeout=60,
                          check=True)
    held, after = map(int, done.stdout.split())
    return held, after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_with_the_setting_polars_gives_freed_memory_back_at_once() -> None:
    env = {k: v for k, v in clean_env().items() if k != launch.ALLOCATOR[0]}
    held, after = _held_then_freed({**env, launch.ALLOCATOR[0]: launch.ALLOCATOR[1]})
    assert held - after > 100, (held, after)  # two 80 MB columns and the rank's, given back
    held, after = _held_then_freed(env)  # without it the pages stay (jemalloc's 10 s decay)
    assert held - after < 50, (held, after)


def test_the_launcher_sets_it_and_keeps_a_users_value(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(dict(os.environ)))
    monkeypatch.delenv(launch.ALLOCATOR[0], raising=False)
    launch.main(["score", "x.csv"])
    assert seen[-1][launch.ALLOCATOR[0]] == launch.ALLOCATOR[1]
    monkeypatch.setenv(launch.ALLOCATOR[0], "narenas:1")
    launch.main(["score", "x.csv"])
    assert seen[-1][launch.ALLOCATOR[0]] == "narenas:1"


def _limit(store) -> str:
    return store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize("limit", ["512MB", None])
def test_duckdb_gives_its_cache_back_and_keeps_its_limit(tmp_path, limit) -> None:
    """Store.give_back_cache: DuckDB frees the table blocks it cached (the process's RSS falls), and
    the memory limit is the store's again, a configured one or DuckDB's default."""
    from rfm_cli.core.store import SMALL_WORK_BYTES, open_store

    def rss() -> int:
        return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))

    with open_store(tmp_path / "shop.duckdb", memory_limit=limit) as store:
        store.work = SMALL_WORK_BYTES  # as a store of 200k orders and more (a small one keeps its cache)
        store.con.execute("CREATE TABLE t AS SELECT range AS i, repeat('x', 40) || range AS s "
                          "FROM range(3000000)")
        store.con.execute("CHECKPOINT")
        store.con.execute("SELECT count(DISTINCT s) FROM t").fetchall()
        before, cached = _limit(store), rss()
        store.give_back_cache()
        assert _limit(store) == before
        assert rss() < cached - 50_000  # kB: the blocks of t are no longer resident


def test_a_refused_give_back_leaves_the_transaction_going(tmp_path) -> None:
    """Lowering the limit below what DuckDB cannot drop (an index's memory) fails, and inside a
    transaction that failure would abort it; give_back_cache lowers it on a connection of its own,
    so the caller's transaction goes on and commits."""
    import duckdb

    from rfm_cli.core.store import SMALL_WORK_BYTES, open_store

    with open_store(tmp_path / "shop.duckdb", memory_limit="1GB") as store:
        store.work = SMALL_WORK_BYTES
        store.con.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)")
        before = _limit(store)
        with store.transaction():
            store.con.execute("INSERT INTO t SELECT range FROM range(300000)")
            probe = store.con.cursor()
            with pytest.raises(duckdb.OutOfMemoryException):  # what give_back_cache meets here
                probe.execute("SET memory_limit = '1MB'")
            probe.execute("SET memory_limit = '1GB'")
            probe.close()
            store.give_back_cache()
            store.con.execute("INSERT INTO t VALUES (-1)")
        assert store.con.execute("SELECT count(*) FROM t").fetchone()[0] == 300001
        assert _limit(store) == before


HELD_TEXT = """
import sys
import duckdb, polars as pl
from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.scoring import one_chunk
def rss():
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')) // 1024
con = duckdb.connect()
frame = as_frame(con.sql(
    "SELECT 'C' || range AS customer_id, CASE WHEN range % 10 = 2 THEN 'someone' || range || "
    "'@example.com' END AS email, TIMESTAMP '2024-01-01' + INTERVAL (range % 1000) MINUTE AS last_order_at, "
    "(range % 100)::BIGINT AS frequency, (range % 1000)::DECIMAL(38, 2) AS spend FROM range(4000000)"))
con.close()
held = rss()
columns = frame.get_columns()
del frame
kept = one_chunk(columns) if sys.argv[1] == "one_chunk" else pl.DataFrame([c.rechunk() for c in columns])
del columns
print(held, rss())
"""


def test_text_read_from_duckdb_is_copied_so_the_result_is_freed(tmp_path) -> None:
    """scoring.one_chunk copies text columns: their values arrive as views into the buffers of
    DuckDB's result, which a rechunk keeps alive, so the frame held the result beside its copy (at
    19.5M customers scoring peaked ~1 GB higher). Measured in fresh processes, allocator setting on."""
    env = {**clean_env(), launch.ALLOCATOR[0]: launch.ALLOCATOR[1]}

    def run(how: str) -> tuple[int, int]:
        done = subprocess.run([sys.executable, "-c", HELD_TEXT, how], env=env, capture_output=True, text=True,
                              timeout=120, check=True, cwd=tmp_path)
        held, after = map(int, done.stdout.split())
        return held, after

    held, copied = run("one_chunk")
    _, rechunked = run("rechunk")
    assert copied < held  # the result's buffers went
    assert rechunked > copied + 100  # MB: with a rechunk they stayed beside the new chunks


def test_one_chunk_keeps_values_order_and_sorted_flags() -> None:
    import polars as pl

    from rfm_cli.core.scoring import one_chunk

    parts = [pl.DataFrame({"customer_id": [f"C{i}" for i in range(k, k + 3)],
                           "email": [None, "a@b.cn", "x" * 30], "n": [1, 2, 3]}) for k in (10, 20)]
    frame = pl.concat(parts, rechunk=False).with_columns(pl.col("customer_id").set_sorted())
    assert frame.n_chunks("all") == [2, 2, 2]
    out = one_chunk(frame.get_columns(), sorted_by="customer_id")
    assert out.equals(frame) and out.n_chunks("all") == [1, 1, 1]
    assert out["customer_id"].flags["SORTED_ASC"] and not out["email"].flags["SORTED_ASC"]
    # Rows in storage order (a nightly import appends the rows it replaced): reordered on the way.
    shuffled = pl.concat([parts[1], parts[0]], rechunk=False)
    out = one_chunk(shuffled.get_columns(), shuffled["customer_id"].arg_sort(), sorted_by="customer_id")
    assert out.equals(frame) and out.n_chunks("all") == [1, 1, 1] and out["customer_id"].flags["SORTED_ASC"]
