"""Faults of the field (issue 16, "nothing lost"): a full disk, a damaged database, a signal, a bad rfm.toml.

Each is made the way it happens on a seller's machine or a cron box: a real filesystem that fills up
(a small tmpfs; mounting one needs root, which CI has), a database file cut short by an unfinished
copy or with a page overwritten, `kill -INT` / `kill -TERM` sent to the running program, an
rfm.toml saved as GBK by a Chinese Notepad. The contract in every case: the documented exit code,
one line `rfm: error: <what>; <fix>`, and the database and the output folder as they were.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from cli_runner import invoke

HEADER = "order_id,customer_id,order_date,amount,status,refund_amount,customer_name,phone,email"


def write_orders(path: Path, orders: int, customers: int, *, seed: int, prefix: str = "O") -> Path:
    """A canonical export with names, phones and emails: `orders` rows for `customers` customers."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER + "\n")
        for i in range(orders):
            c = rnd.randrange(customers)
            fh.write(f"{prefix}{i},C{c},2026-{rnd.randint(1, 6):02d}-{rnd.randint(1, 28):02d} 10:00:00,"
                     f"{rnd.randint(100, 90000) / 100:.2f},paid,,顾客{c},138{c:08d},c{c}@example.com\n")
    return path


def rfm_cmd(*args: str | os.PathLike) -> list[str]:
    return [sys.executable, "-m", "rfm_cli", *map(str, args)]


def env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("RFM_")}, "PYTHONIOENCODING": "utf-8"}


def table_rows(db: Path, *tables: str) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ a disk that fills up


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A real filesystem of `size` at path (tmpfs): writes past its end fail with ENOSPC."""
    if os.geteuid() != 0:
        pytest.skip("filling a disk needs a small tmpfs, and mounting one needs root (CI runs as root)")
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk with a ballast file, then free `leave` bytes of it: room for small writes only."""
    ballast = disk / "ballast"
    with ballast.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(ballast, max(0, ballast.stat().st_size - leave))
    return ballast


def test_import_into_a_database_on_a_full_disk_exits_74_and_loses_nothing_once_space_is_freed(
    tmp_path: Path, rfm, assert_cli_error
) -> None:
    night1 = write_orders(tmp_path / "night1.csv", 300, 100, seed=1, prefix="A")
    night2 = write_orders(tmp_path / "night2.csv", 20_000, 3_000, seed=2, prefix="B")
    with small_disk(tmp_path / "disk", "16m") as disk:
        db = disk / "shop.duckdb"
        assert rfm("--db", db, "import", night1).returncode == 0
        before = digest(db)
        ballast = fill(disk, leave=64 * 1024)
        line = assert_cli_error(rfm("--db", db, "import", night2), 74)
        assert "disk is full" in line and "free disk space" in line, line
        assert digest(db) == before
        ballast.unlink()  # the operator frees space; the next night's run simply works
        assert rfm("--db", db, "import", night2).returncode == 0
        stored = table_rows(db, "rfm_orders", "rfm_refunds")
    reference = tmp_path / "reference.duckdb"
    for night in (night1, night2):
        assert rfm("--db", reference, "import", night).returncode == 0
    assert stored == table_rows(reference, "rfm_orders", "rfm_refunds")


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of 2,000 customers: its lists are far bigger than the room left on a full disk."""
    work = tmp_path_factory.mktemp("shop")
    orders = write_orders(work / "orders.csv", 6_000, 2_000, seed=3)
    done = invoke(["--db", work / "shop.duckdb", "import", orders], cwd=work)
    assert done.returncode == 0, done.stderr
    return work / "shop.duckdb"


WRITERS = {
    "export": ["export", "--out-dir", "{out}", "--channel", "csv,sms,email"],
    "run": ["run", "{night}", "--out-dir", "{out}", "--channel", "csv,sms"],
    "score -o": ["score", "-o", "{out}/scores.csv"],
    "report --html": ["report", "--html", "{out}/report.html"],
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_writing_lists_to_a_full_disk_exits_74_and_leaves_folder_and_database(
    writer: str, shop_db: Path, tmp_path: Path, rfm, assert_cli_error
) -> None:
    db = tmp_path / "shop.duckdb"
    shutil.copy(shop_db, db)
    night = write_orders(tmp_path / "night.csv", 500, 700, seed=4, prefix="N")
    with small_disk(tmp_path / "disk", "16m") as disk:  # the report is ~5 MB (plotly inline)
        out = disk / "segments"
        out.mkdir()
        ballast = fill(disk, leave=16 * 1024)
        before_db, before_out = digest(db), files_under(out)
        args = [a.format(out=out, night=night) for a in WRITERS[writer]]
        line = assert_cli_error(rfm("--quiet", "--db", db, *args), 74)
        assert f"disk is full writing {out}/" in line, line
        assert files_under(out) == before_out  # no list, no half list, no temp file
        assert digest(db) == before_db
        ballast.unlink()
        done = rfm("--db", db, *args)
        assert done.returncode == 0, done.stderr
        assert files_under(out)


def test_duckdb_spilling_to_a_full_disk_exits_74(tmp_path: Path, rfm_process, assert_cli_error) -> None:
    """DuckDB's own report of a full disk: a --memory-limit run spills to a temp folder with no room.
    A process of its own: TMPDIR is read once per process (tempfile caches it)."""
    orders = write_orders(tmp_path / "orders.csv", 300_000, 50_000, seed=5)
    with small_disk(tmp_path / "tmp", "1m") as tmp:
        scoring = rfm_process("--memory-limit", "40MB", "score", orders, "-o", tmp_path / "scores.csv",
                      env={"TMPDIR": str(tmp)})
        line = assert_cli_error(scoring, 74)
    assert "disk is full" in line, line
    assert not (tmp_path / "scores.csv").exists()


def test_every_layer_s_word_for_a_full_disk_is_recognised() -> None:
    from rfm_cli.core.errors import disk_full_error

    said = {
        "python": OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        "quota": OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)),
        "polars": OSError("No space left on device (os error 28)"),
        "duckdb": duckdb.IOException(
            'IO Error: Could not write file "/srv/shop.duckdb.wal": No space left on device'),
    }
    for layer, error in said.items():
        full = disk_full_error(error)
        assert full is not None and full.exit_code == 74, layer
    assert "/srv/shop.duckdb.wal" in str(disk_full_error(said["duckdb"]))
    assert disk_full_error(OSError(errno.EACCES, "Permission denied")) is None
    assert disk_full_error(OSError("No such file or directory (os error 2)")) is None


# ------------------------------------------------------------------ a damaged database


def truncate_half(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)  # a copy to a USB stick that did not finish


def garbage_over(offset: int):
    def damage(db: Path) -> None:
        with db.open("r+b") as fh:  # a bad sector, a tool that wrote into the wrong file
            fh.seek(offset)
            fh.write(random.Random(offset).randbytes(4096))

    return damage


DAMAGE = {"cut short": truncate_half, "garbage over the catalog": garbage_over(3 * 4096),
          "garbage over a header": garbage_over(4096)}
COMMANDS = [["score", "-o", "-"], ["import", "{night}"], ["export", "--out-dir", "{out}"],
            ["suppress", "add", "13812345678"], ["report"]]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_database_exits_66_says_how_to_restore_and_is_never_written(
    damage: str, shop_db: Path, tmp_path: Path, rfm, assert_cli_error
) -> None:
    db = tmp_path / "shop.duckdb"
    shutil.copy(shop_db, db)
    DAMAGE[damage](db)
    os.utime(db, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    before = (digest(db), db.stat().st_mtime_ns, db.stat().st_size)
    night = write_orders(tmp_path / "night.csv", 50, 20, seed=6, prefix="N")
    for command in COMMANDS:
        args = [a.format(night=night, out=tmp_path / "segments") for a in command]
        line = assert_cli_error(rfm("--db", db, *args), 66)
        assert f"database {db} is damaged" in line and "restore it from a backup" in line, line
        assert (digest(db), db.stat().st_mtime_ns, db.stat().st_size) == before, args
        assert not db.with_name("shop.duckdb.wal").exists()
    assert not (tmp_path / "segments").exists()


# ------------------------------------------------------------------ signals


@pytest.fixture(scope="module")
def big_shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A database of 50,000 customers (its lists take a while to write) and a 300,000-row export
    (its import takes over a second)."""
    work = tmp_path_factory.mktemp("big")
    small = write_orders(work / "small.csv", 100_000, 50_000, seed=7, prefix="S")
    done = invoke(["--db", work / "shop.duckdb", "import", small], cwd=work)
    assert done.returncode == 0, done.stderr
    return {"db": work / "shop.duckdb", "export": write_orders(work / "big.csv", 300_000, 60_000, seed=8)}


def wait_until(condition, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "the run ended before the moment to interrupt it"
        assert time.monotonic() < deadline, "the moment to interrupt the run never came"
        time.sleep(0.002)


def has_open(proc: subprocess.Popen, path: Path) -> bool:
    with contextlib.suppress(OSError):
        fds = Path(f"/proc/{proc.pid}/fd").iterdir()
        return any(os.path.realpath(fd) == str(path.resolve()) for fd in fds)
    return False


def assert_interrupted(proc: subprocess.Popen, signum: int) -> None:
    stdout, stderr = proc.communicate(timeout=120)
    shown = f"exit {proc.returncode}, stderr {stderr!r}"
    assert proc.returncode == 130, shown
    assert stdout == ""
    name = signal.Signals(signum).name
    assert stderr == f"rfm: error: interrupted by {name}; nothing was changed: rerun the command\n", shown


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="watches the run through /proc")


@needs_proc
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay", [0.0, 0.5], ids=["reading the export", "in DuckDB's import query"])
def test_a_signal_during_an_import_exits_130_and_changes_nothing(
    signum: int, delay: float, big_shop: dict[str, Path], tmp_path: Path
) -> None:
    db = tmp_path / "shop.duckdb"
    shutil.copy(big_shop["db"], db)
    before = digest(db)
    proc = subprocess.Popen(rfm_cmd("--db", db, "import", big_shop["export"]), cwd=tmp_path, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: has_open(proc, big_shop["export"]), proc)
    time.sleep(delay)
    proc.send_signal(signum)
    assert_interrupted(proc, signum)
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.duckdb", "shop.duckdb.lock"]


@needs_proc
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_lists_are_written_exits_130_and_leaves_no_file(
    signum: int, big_shop: dict[str, Path], tmp_path: Path
) -> None:
    db = tmp_path / "shop.duckdb"
    shutil.copy(big_shop["db"], db)
    before = digest(db)
    out = tmp_path / "segments"
    export = rfm_cmd("--db", db, "export", "--out-dir", out, "--channel", "csv,email,google,meta")
    proc = subprocess.Popen(export, cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    wait_until(lambda: out.is_dir() and any(p.name.startswith(".rfm-tmp-") for p in out.rglob("*")), proc)
    proc.send_signal(signum)
    assert_interrupted(proc, signum)
    assert not out.exists()  # it created the folder, so it took it away again: no list, no temp file
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.duckdb", "shop.duckdb.lock"]


@needs_proc
def test_sigterm_while_waiting_for_the_lock_exits_130(tmp_path: Path) -> None:
    """A cron job's `timeout` kills a run that waits (--wait) behind another night's run."""
    import fcntl

    orders = write_orders(tmp_path / "orders.csv", 20, 5, seed=9)
    lock = os.open(tmp_path / "shop.duckdb.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        waiting = rfm_cmd("--db", "shop.duckdb", "--wait", "60", "import", orders)
        proc = subprocess.Popen(waiting, cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        wait_until(lambda: has_open(proc, tmp_path / "shop.duckdb.lock"), proc)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert_interrupted(proc, signal.SIGTERM)
    finally:
        os.close(lock)
    assert not (tmp_path / "shop.duckdb").exists()


# ------------------------------------------------------------------ rfm.toml


CONFIGS = {
    # A Chinese Notepad saves as GBK: not UTF-8.
    "gbk": ('db = "店铺.duckdb"\n'.encode("gbk"), "is not UTF-8 text"),
    "broken toml": (b'db = "shop.duckdb"\n[rules_inline\n', "is not valid TOML"),
    "number for a path": (b"db = 5\n", "key 'db' is a number"),
    "true for a platform": (b"source = true\n", "key 'source' is true/false"),
    "list for a scheme": (b'scheme = ["tiers"]\n', "key 'scheme' is a list"),
    "word for max_rejects": (b'max_rejects = "lots"\n', "key 'max_rejects'"),
    "number for rules_inline": (b"rules_inline = 3\n", "key 'rules_inline' is a number"),
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_a_bad_rfm_toml_exits_78_naming_the_file_and_the_key(
    case: str, tmp_path: Path, rfm, assert_cli_error
) -> None:
    text, says = CONFIGS[case]
    (tmp_path / "rfm.toml").write_bytes(text)
    orders = write_orders(tmp_path / "orders.csv", 20, 5, seed=10)
    line = assert_cli_error(rfm("import", orders), 78)
    assert str(tmp_path / "rfm.toml") in line and says in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv", "rfm.toml"]  # nothing created


def test_an_rfm_toml_saved_with_a_bom_is_read(tmp_path: Path, rfm) -> None:
    (tmp_path / "rfm.toml").write_bytes('\ufeffdb = "店铺.duckdb"\n'.encode())
    orders = write_orders(tmp_path / "orders.csv", 20, 5, seed=11)
    assert rfm("import", orders).returncode == 0
    assert (tmp_path / "店铺.duckdb").exists()
