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
