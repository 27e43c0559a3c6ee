"""The wheel carries the SQL and rules, and they load by name from a regular (non-editable) install."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import pathlib, sys
import rfm_cli
from rfm_cli.core import store
from rfm_cli.core.rules import load_rules
assert 'site' in rfm_cli.__file__, rfm_cli.__file__
names = store.query_names()
expected = sorted(p.stem for p in pathlib.Path(sys.argv[1]).glob('*.sql'))
assert names == expected, (names, expected)
for name in names:
    assert store.sql(name).startswith('-- ' + name), name
assert load_rules('classic').tier_names()[0] == 'champions'
print(len(names))
"""


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    # The build backend from the test extra when it is there: pip's isolated build would set up a
    # fresh environment and fetch hatchling for it first (most of this fixture's time).
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--quiet", "-w", str(work / "dist"),
         str(ROOT)],
        check=False, capture_output=True, text=True, timeout=600,
    )
    if build.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{build.stderr[-2000:]}")
    [wheel] = (work / "dist").glob("rfm_cli-*.whl")
    site = work / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        check=False, capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr
    return site


def test_queries_load_by_name_from_an_installed_wheel(installed_wheel: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed_wheel)}
    done = subprocess.run([sys.executable, "-c", CHECK, str(ROOT / "rfm_cli" / "queries")], check=False,
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(list((ROOT / "rfm_cli" / "queries").glob("*.sql")))


def test_every_query_file_has_a_header() -> None:
    for path in (ROOT / "rfm_cli" / "queries").glob("*.sql"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(f"-- {path.stem}:"), path.name


LIBRARY = """
import sys
import rfm
assert 'site' in rfm.__file__, rfm.__file__
result = rfm.score(sys.argv[1])
print(result.customers.height)
"""


def test_the_library_works_from_an_installed_wheel(installed_wheel: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed_wheel)}
    done = subprocess.run([sys.executable, "-c", LIBRARY, str(ROOT / "sample_data" / "orders.csv")],
                          check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 992
    assert list(tmp_path.iterdir()) == []  # scoring in memory wrote nothing
