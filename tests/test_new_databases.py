"""New database files after a process's first are copies of a template it made
(core/new_databases.py): the same database as the script makes (test_schema_current.py compares the
catalogs), private, each its own, never written over an existing name, and gone when a run fails."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rfm_cli.core import new_databases, store
from rfm_cli.core.errors import InputError


@pytest.fixture
def fresh_process(monkeypatch):
    """The module's state as a process that has created no database yet."""
    monkeypatch.setattr(new_databases, "_made", {"pid": 0, "created": 0, "template": None})
    ran: list[str] = []
    real = store.run_script
    monkeypatch.setattr(store, "run_script", lambda con, name: (ran.append(name), real(con, name))[1])
    return ran


def _schema_runs(ran: list[str]) -> int:
    return sum(name == "schema_current" for name in ran)


def test_the_first_is_created_the_second_builds_the_template_the_rest_are_copies(fresh_process,
                                                                                 tmp_path: Path) -> None:
    ran = fresh_process
    counts = []
    for name in ("a", "b", "c", "d"):
        with store.open_store(tmp_path / f"{name}.duckdb") as s:
            s.con.execute("INSERT INTO rfm_meta VALUES (?, 'x')", [f"only-{name}"])
        counts.append(_schema_runs(ran))
    assert counts == [1, 2, 2, 2]  # the script: the first file, then the template, then never
    template = new_databases._made["template"]
    assert stat.S_IMODE(os.stat(template.parent).st_mode) == 0o700
    for name in ("a", "b", "c", "d"):
        path = tmp_path / f"{name}.duckdb"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with duckdb.connect(str(path), read_only=True) as con:  # each holds its own row only
            keys = {k for (k,) in con.execute("SELECT key FROM rfm_meta WHERE key LIKE 'only-%'").fetchall()}
        assert keys == {f"only-{name}"}
    with duckdb.connect(str(template), read_only=True) as con:  # the template is never written to
        assert con.execute("SELECT count(*) FROM rfm_meta WHERE key LIKE 'only-%'").fetchone() == (0,)


def test_an_existing_name_is_never_written_over(fresh_process, tmp_path: Path) -> None:
    with store.open_store(tmp_path / "first.duckdb"):
        pass
    taken = tmp_path / "taken.duckdb"
    taken.write_bytes(b"someone else's")
    assert new_databases.place_new(taken, store._create) is False
    assert taken.read_bytes() == b"someone else's"
    target = tmp_path / "elsewhere.duckdb"
    link = tmp_path / "link.duckdb"
    link.symlink_to(target)  # a dangling link: the copy never goes through it
    assert new_databases.place_new(link, store._create) is False
    assert not target.exists()


def test_a_failed_run_on_a_copied_database_leaves_no_file(fresh_process, tmp_path: Path) -> None:
    with store.open_store(tmp_path / "first.duckdb"):
        pass
    doomed = tmp_path / "doomed.duckdb"
    with pytest.raises(InputError), store.open_store(doomed):
        assert doomed.exists()  # the copy is there while the store is open
        raise InputError("the run fails")
    assert not doomed.exists()
    assert not Path(f"{doomed}.wal").exists()
    assert _schema_runs(fresh_process) == 2  # the second database was a copy


def test_a_process_removes_its_template_when_it_exits(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from rfm_cli.core import new_databases, store\n"
        "for name in 'abc':\n"
        "    with store.open_store(Path(sys.argv[1]) / f'{name}.duckdb'):\n"
        "        pass\n"
        "print(new_databases._made['template'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          check=True)
    template = Path(done.stdout.strip())
    assert template.name == "empty.duckdb"
    assert not template.parent.exists()
    assert sorted(p.name for p in tmp_path.glob("*.duckdb")) == ["a.duckdb", "b.duckdb", "c.duckdb"]
