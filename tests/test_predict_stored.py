"""rfm_predict_inputs (schema 14): `rfm export` / `rfm run` keep the models' inputs, `rfm predict` reads
them while they match the orders, and any import or `rfm imports rm` makes them stale (so they are
computed from the orders again). The numbers are the same either way: checked against predicting
the same files in memory, which never uses the kept rows."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from rfm_cli.core.predict import stored
from rfm_cli.core.store import open_store
from tests.test_predict_lists import AS_OF, HEADER, _rows


def _later_rows() -> list[tuple[str, ...]]:
    """A second file: R00 and O1 buy again 10 days after the first file's last day."""
    day = (AS_OF + timedelta(days=10)).isoformat()
    return [("L1", "R00", day, "30.00", "paid", "13800000000"), ("L2", "O1", day, "12.00", "paid", "")]


def _state(db: str) -> tuple[bool, bool]:
    with open_store(db, create=False) as store:
        return stored.is_current(store), stored.usable(store, AS_OF + timedelta(days=10))


def test_kept_inputs_give_the_same_predictions_and_imports_keep_them(rfm, write_orders, tmp_path):
    first = write_orders("a.csv", _rows(), header=HEADER)
    second = write_orders("b.csv", _later_rows(), header=HEADER)
    db = str(tmp_path / "rfm.duckdb")
    assert rfm("import", first).returncode == 0
    assert _state(db) == (False, False)  # an import alone keeps nothing
    assert rfm("export", "--out-dir", "seg").returncode == 0
    assert _state(db) == (True, True)
    kept = rfm("predict", "-o", "-")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == rfm("predict", first, "-o", "-").stdout  # in memory: from the orders

    assert rfm("import", second).returncode == 0
    assert _state(db) == (True, True)  # once kept, each import keeps them current (its customers' rows)
    after = rfm("predict", "-o", "-")
    assert after.stdout == rfm("predict", first, second, "-o", "-").stdout
    assert "R00," in after.stdout and after.stdout != kept.stdout

    assert rfm("run", second, "--out-dir", "seg").returncode == 0  # run keeps them too
    assert _state(db) == (True, True)
    assert rfm("imports", "rm", "b.csv").returncode == 0
    assert _state(db)[0] is False
    assert rfm("predict", "-o", "-").stdout == kept.stdout


def test_an_earlier_as_of_reads_the_orders(rfm, write_orders):
    first = write_orders("a.csv", _rows(), header=HEADER)
    assert rfm("import", first).returncode == 0
    assert rfm("export", "--out-dir", "seg").returncode == 0
    earlier = (AS_OF - timedelta(days=30)).isoformat()
    from_db = rfm("predict", "--as-of", earlier, "-o", "-")
    assert from_db.returncode == 0, from_db.stderr
    assert from_db.stdout == rfm("predict", first, "--as-of", earlier, "-o", "-").stdout


def test_keeping_the_inputs_loads_no_scipy():
    code = ("import sys; from rfm_cli.core.predict import stored; "
            "print('scipy' in sys.modules, 'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
