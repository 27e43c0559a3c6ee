"""Progress on long work is shown on a terminal only (issue 7, BRIEF §6): never in pipes or logs."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROWS = 30_000


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    lines = ["order_id,customer_id,order_date,amount,status,refund_amount"]
    lines += [f"O{i},C{i % 5000},2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00,{10 + i % 90}.50,paid,"
              for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFM_")}
    # the bar at once, however short the work  # show the bar at once, however short the work
    return {**env, "PYTHONIOENCODING": "utf-8", "RFM_PROGRESS_DELAY": "0"}


def _run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout and stdin not); return (exit, stderr)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "rfm_cli", *args], cwd=cwd, env=_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(leader)


@pytest.mark.parametrize("command",
                         [["score", "{orders}", "-o", "scores.csv"],
                          ["--db", "shop.duckdb", "import", "{orders}"]])
def test_no_progress_when_stderr_is_a_pipe(command, orders: Path, tmp_path: Path) -> None:
    args = [a.format(orders=orders) for a in command]
    done = subprocess.run([sys.executable, "-m", "rfm_cli", *args], cwd=tmp_path, env=_env(),
                          capture_output=True, check=False,
                          text=True, encoding="utf-8", stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "reading orders.csv" not in done.stderr
    assert "scoring customers" not in done.stderr
    assert "\x1b[" not in done.stderr and "\r" not in done.stderr  # no cursor tricks of a live display


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_shows_on_a_terminal(orders: Path, tmp_path: Path) -> None:
    code, stderr = _run_on_terminal(["score", str(orders), "-o", "scores.csv"], tmp_path)
    assert code == 0, stderr
    assert "reading orders.csv" in stderr
    assert (tmp_path / "scores.csv").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_quiet_hides_progress_on_a_terminal(orders: Path, tmp_path: Path) -> None:
    code, stderr = _run_on_terminal(["--quiet", "score", str(orders), "-o", "scores.csv"], tmp_path)
    assert code == 0, stderr
    assert "reading orders.csv" not in stderr
