"""What rfm must not leak (issue 16, "nothing leaked"): file modes, the lock file, error lines, links.

The database and every list hold names, phones and emails. Made as it happens in the field: a
seller's shell with the usual umask 022 (or a careless 000), `rfm suppress add 13812345678
someone@example.com` typed at the prompt, a cron job logging --log-json to a file others can read,
and a shared folder where someone left a `shop.duckdb.lock` or `segments/sms` link pointing elsewhere.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cli_runner import CliResult, invoke

from rfm_cli.core.store import open_store

ORDERS = "order_id,customer_id,order_date,amount,status,customer_name,phone,email\n" + "".join(
    f"O{i},C{i % 7},2026-06-{1 + i % 28:02d} 10:00:00,{10 + i * 7 % 300}.00,paid,顾客{i % 7},"
    f"1381234{i % 7:04d},c{i % 7}@example.com\n"
    for i in range(60)
)


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    return path


def run_with_umask(umask: int, *args: str | os.PathLike, cwd: Path) -> CliResult:
    """`rfm ARGS` in this process under `umask` (the process's own, put back after)."""
    previous = os.umask(umask)
    try:
        return invoke(args, cwd=cwd)
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# ------------------------------------------------------------------ file modes


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask 022", "umask 000"])
def test_database_lock_lists_and_their_folders_are_private_whatever_the_umask(
    umask: int, tmp_path: Path, orders: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)  # a folder the seller made: rfm leaves its mode alone
    done = run_with_umask(umask, "run", orders, "--out-dir", "mine/segments", "--channel", "csv,sms,email",
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    created = [tmp_path / "rfm.duckdb", tmp_path / "rfm.duckdb.lock", *(tmp_path / "mine").rglob("*")]
    assert len(created) > 15
    for path in created:
        expected = 0o700 if path.is_dir() else 0o600
        assert mode(path) == expected, (path, oct(mode(path)))
    assert mode(mine) == 0o755


def test_the_write_ahead_log_and_the_spill_folder_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        db = tmp_path / "shop.duckdb"
        with open_store(db, memory_limit="100MB") as store:  # a sort bigger than the cap spills to <db>.tmp
            store.con.execute("CREATE TEMP TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s "
                              "FROM range(4000000)")
            sort = store.con.execute("SELECT count(*) FROM (SELECT * FROM t ORDER BY s)").fetchall()
            assert sort == [(4000000,)]
            spill = tmp_path / "shop.duckdb.tmp"
            assert spill.is_dir() and mode(spill) == 0o700
            for path in spill.iterdir():
                assert mode(path) == 0o600, path
        with open_store(db) as store:  # a commit that stays in the log (no checkpoint yet)
            store.con.execute("SET checkpoint_threshold = '1GB'")
            store.con.execute("INSERT INTO rfm_meta VALUES ('probe', 'x')")
            wal = tmp_path / "shop.duckdb.wal"
            assert wal.exists() and mode(wal) == 0o600
        assert mode(db) == 0o600
    finally:
        os.umask(previous)


# ------------------------------------------------------------------ the lock file and error lines


def test_the_lock_file_records_the_command_not_the_phones_and_emails(tmp_path: Path, orders: Path) -> None:
    done = run_with_umask(0o022, "suppress", "add", "13812345678", "someone@example.com", "--note",
                          "asked by phone 13912345678", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    holder = (tmp_path / "rfm.duckdb.lock").read_text(encoding="utf-8")
    assert holder == f"process {holder.split()[1]} (rfm suppress)", holder
    for secret in ("13812345678", "someone", "13912345678"):
        assert secret not in holder


def test_error_lines_and_log_json_mask_phones_and_emails_from_the_arguments(
    tmp_path: Path, orders: Path, rfm, assert_cli_error
) -> None:
    """Pinduoduo keys customers by phone: `rfm explain 13812345678` names a phone, and so does its error."""
    from rfm_cli.cli import mask_contacts

    assert rfm("import", orders).returncode == 0
    line = assert_cli_error(rfm("explain", "13899990000"), 2)  # an unknown id: a usage error
    assert "13899990000" not in line, line
    logged = rfm("--log-json", "explain", "ann@example.com")
    assert logged.returncode == 2
    error_line, record = logged.stderr.splitlines()
    assert json.loads(record)["error"] == error_line.removeprefix("rfm: error: ")
    for text in (error_line, record):
        assert "ann@example.com" not in text, text
    # Whatever a message quotes of the arguments is masked on its way out.
    args = ["explain", "13899990000", "ann@example.com"]
    assert (mask_contacts("no '13899990000' nor ann@example.com", args)
            == "no '*******0000' nor a***@example.com")


def test_an_internal_error_shows_where_it_happened_but_not_its_text(
    tmp_path: Path, rfm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug whose exception quotes a value (KeyError('13812345678')) must not copy it into the cron log."""
    from rfm_cli.core import suppression

    def broken(*args, **kwargs):
        raise KeyError("13812345678 someone@example.com")

    monkeypatch.setattr(suppression, "add", broken)
    done = rfm("--log-json", "suppress", "add", "13812345678")
    assert done.returncode == 1, done.stderr
    line, record = done.stderr.splitlines()
    assert line.startswith("rfm: error: internal error: KeyError at rfm_cli/commands/suppress.py:"), line
    assert line.endswith("; rerun with --debug and report it")
    for text in (line, record):
        assert "13812345678" not in text and "someone@example.com" not in text, text
    assert json.loads(record)["command"] == "suppress"


@pytest.mark.parametrize("command", ["report", "import", "moves", "rules"])
def test_log_json_names_every_command(command: str, tmp_path: Path, orders: Path, rfm) -> None:
    assert rfm("import", orders).returncode == 0
    done = rfm("--log-json", *([command, orders] if command == "import" else [command]))
    record = json.loads(done.stderr.splitlines()[-1])
    assert record["command"] == command, done.stderr


# ------------------------------------------------------------------ links


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_kept(tmp_path: Path, orders: Path, rfm,
                                                                  assert_cli_error) -> None:
    victim = tmp_path / "notes.txt"
    victim.write_text("the seller's notes\n", encoding="utf-8")
    (tmp_path / "rfm.duckdb.lock").symlink_to(victim)
    line = assert_cli_error(rfm("import", orders), 73)
    assert "rfm.duckdb.lock is a symbolic link" in line, line
    assert victim.read_text(encoding="utf-8") == "the seller's notes\n"
    assert not (tmp_path / "rfm.duckdb").exists()


def test_a_write_ahead_log_that_is_a_link_is_refused(
    tmp_path: Path, orders: Path, rfm, assert_cli_error
) -> None:
    """DuckDB would write its log through the link, over the file it points at."""
    assert rfm("import", orders).returncode == 0
    victim = tmp_path / "notes.txt"
    victim.write_text("the seller's notes\n", encoding="utf-8")
    (tmp_path / "rfm.duckdb.wal").symlink_to(victim)
    line = assert_cli_error(rfm("suppress", "add", "13812345678"), 73)
    assert "rfm.duckdb.wal is a symbolic link" in line, line
    assert victim.read_text(encoding="utf-8") == "the seller's notes\n"


def test_a_linked_channel_folder_is_refused_and_nothing_lands_elsewhere(
    tmp_path: Path, orders: Path, rfm, assert_cli_error
) -> None:
    assert rfm("import", orders).returncode == 0
    elsewhere = tmp_path / "shared-with-everyone"
    elsewhere.mkdir()
    segments = tmp_path / "segments"
    segments.mkdir()
    (segments / "send").mkdir()
    (segments / "send" / "sms").symlink_to(elsewhere)
    line = assert_cli_error(rfm("export", "--out-dir", segments, "--channel", "csv,sms"), 73)
    assert f"output folder {segments}/send/sms is a symbolic link" in line, line
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.relative_to(segments).as_posix() for p in segments.rglob("*")) == ["send", "send/sms"]


def test_a_list_file_that_is_a_link_is_refused(tmp_path: Path, orders: Path, rfm, assert_cli_error) -> None:
    assert rfm("import", orders).returncode == 0
    segments = tmp_path / "segments"
    segments.mkdir()
    victim = tmp_path / "notes.txt"
    victim.write_text("keep\n", encoding="utf-8")
    (segments / "tiers").mkdir()
    (segments / "tiers" / "dormant.csv").symlink_to(victim)
    line = assert_cli_error(rfm("export", "--out-dir", segments), 73)
    assert f"output file {segments}/tiers/dormant.csv is a symbolic link" in line, line
    assert victim.read_text(encoding="utf-8") == "keep\n"
    assert (segments / "tiers" / "dormant.csv").is_symlink()


def test_an_out_dir_that_is_a_link_the_user_made_is_followed(tmp_path: Path, orders: Path, rfm) -> None:
    real = tmp_path / "big-disk" / "segments"
    real.mkdir(parents=True)
    (tmp_path / "segments").symlink_to(real)
    done = rfm("run", orders, "--out-dir", "segments", "--channel", "csv,sms")
    assert done.returncode == 0, done.stderr
    assert (real / "send" / "sms" / "potential.csv").is_file() and (real / "manifest.json").is_file()
