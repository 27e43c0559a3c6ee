"""Nightly refresh (issue 5): a simulated month, idempotence, and faults in real processes.

The month: 30 nightly exports, each covering the last 7 days of orders in their state that night
(so exports overlap, and an order refunded or cancelled days after it was placed shows its new
state in later exports). Run night by night, the final tiers must equal one import of all the
orders in their final state; each night's entered/ lists must hold exactly the customers whose
tier changed since the night before.
"""

from __future__ import annotations

import csv
import hashlib
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from cli_runner import CliResult, invoke

from rfm_cli.core import api, history
from rfm_cli.core.ingest.pipeline import ImportOptions
from rfm_cli.core.rules import load_rules
from rfm_cli.core.segments import ExportSpec
from rfm_cli.core.store import open_store

HEADER = ["order_id", "customer_id", "order_date", "amount", "status", "refund_amount"]
START = date(2026, 10, 1)
NIGHTS = 30


def month_of_orders(seed: int = 7) -> list[dict]:
    """Orders with their state history: (day the state begins, status, refund)."""
    rng = random.Random(seed)
    orders = []
    for n in range(900):
        placed = START - timedelta(days=200) + timedelta(days=rng.randrange(200 + NIGHTS))
        customer = f"C{int(rng.paretovariate(1.2)) % 220:04d}"
        amount = rng.choice([49.9, 99.0, 99.0, 129.0, 299.0, 888.0])
        history = [(placed, "paid", "")]
        roll = rng.random()
        if roll < 0.08:
            history.append((placed + timedelta(days=rng.randrange(1, 5)), "refunded", ""))
        elif roll < 0.14:
            history.append((placed + timedelta(days=rng.randrange(1, 5)), "cancelled", ""))
        elif roll < 0.20:
            history.append((placed + timedelta(days=rng.randrange(1, 5)), "paid", f"{amount / 2:.2f}"))
        orders.append({"order_id": f"O{n:05d}", "customer_id": customer, "placed": placed,
                       "amount": f"{amount:.2f}", "history": history})
    return orders


def state_on(order: dict, day: date) -> tuple[str, str]:
    status, refund = "paid", ""
    for begins, s, r in order["history"]:
        if begins <= day:
            status, refund = s, r
    return status, refund


def write_export(path: Path, orders: list[dict], day: date, window: int | None) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for o in orders:
            if o["placed"] > day or (window is not None and o["placed"] < day - timedelta(days=window)):
                continue
            status, refund = state_on(o, day)
            out.writerow([o["order_id"], o["customer_id"], f"{o['placed']} 12:00:00", o["amount"], status,
                          refund])


def tiers_of(result) -> dict[str, str]:
    return dict(zip(result.customers["customer_id"], result.customers["tier"]))


def test_a_simulated_month_night_by_night_equals_one_import_at_the_end(tmp_path: Path) -> None:
    orders = month_of_orders()
    inbox, out = tmp_path / "inbox", tmp_path / "segments"
    inbox.mkdir()
    db = str(tmp_path / "nightly.duckdb")
    last_day = START + timedelta(days=NIGHTS - 1)
    # Night 0 brings the history; the nights after, a 7-day window each.
    write_export(inbox / f"orders-{START - timedelta(days=1)}.csv", orders, START - timedelta(days=1), None)
    previous: dict[str, str] = {}
    for night in range(NIGHTS):
        day = START + timedelta(days=night)
        write_export(inbox / f"orders-{day}.csv", orders, day, 7)
        outcome = api.run(db, [inbox], ExportSpec(out_dir=out), load_rules(), day,
                          ImportOptions(rejects_dir=None))
        tiers = tiers_of(outcome.score)
        moved = {c for c, t in tiers.items() if previous.get(c) != t}
        entered = set()
        for tier in load_rules().tier_names():
            entered |= set(pl.read_csv(out / "entered" / f"{tier}.csv", infer_schema=False)["customer_id"])
        assert entered == moved, (day, sorted(entered ^ moved)[:5])
        if night:  # earlier nights' files are in the ledger: skipped
            assert all(r.skipped_as is not None for r in outcome.reports[:-1])
            assert outcome.reports[-1].skipped_as is None

        previous = tiers

    everything = tmp_path / "all.csv"
    write_export(everything, orders, last_day, None)
    once, _ = api.score("unused", [everything], load_rules(), last_day, ImportOptions(rejects_dir=None))
    assert once.customers.equals(outcome.score.customers)
    # Late refunds and cancellations really happened in this month.
    assert sum(1 for o in orders if len(o["history"]) > 1 and o["history"][1][0] >= START) > 10


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_inputs_give_byte_identical_files(tmp_path: Path) -> None:
    orders = month_of_orders(seed=3)
    export = tmp_path / "orders.csv"
    write_export(export, orders, START, None)
    digests = []
    for attempt in ("a", "b"):
        spec = ExportSpec(out_dir=tmp_path / f"out-{attempt}", channels=["csv", "sms", "email"])
        api.run(str(tmp_path / f"{attempt}.duckdb"), [export], spec, load_rules(), None,
                ImportOptions(rejects_dir=None))
        digests.append(folder_digest(tmp_path / f"out-{attempt}"))
    assert digests[0] == digests[1]
    # Re-running the same as-of date on the same database replaces its snapshot: same files again.
    again = ExportSpec(out_dir=tmp_path / "out-a", channels=["csv", "sms", "email"])
    api.run(str(tmp_path / "a.duckdb"), [export], again, load_rules(), None, ImportOptions(rejects_dir=None))
    assert folder_digest(tmp_path / "out-a") == digests[0]


def test_xlsx_lists_are_byte_identical_across_runs() -> None:
    """Excel files carry a creation time; rfm fixes it, so a rerun a second later gives the same bytes."""
    import io
    import time

    import polars as pl

    from rfm_cli.core.sinks import write_frame

    frame = pl.DataFrame({"customer_id": ["C1", "C2"], "tier": ["diamond", "钻石"], "monetary": [1.5, 20.0]})
    first, second = io.BytesIO(), io.BytesIO()
    write_frame(frame, "xlsx", first)
    time.sleep(1.1)  # xlsx timestamps have one-second resolution
    write_frame(frame, "xlsx", second)
    assert first.getvalue() == second.getvalue()
    assert pl.read_excel(io.BytesIO(first.getvalue())).equals(frame)


# ------------------------------------------------------------------ faults, in real processes

def rfm_process(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rfm_cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def rfm(*args: str, cwd: Path) -> CliResult:
    return invoke(args, cwd=cwd)


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~400k orders: long enough to kill an import in the middle."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rng = random.Random(11)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for n in range(400_000):
            day = START - timedelta(days=rng.randrange(700))
            out.writerow([f"B{n:07d}", f"K{rng.randrange(90_000):06d}", f"{day} 10:00:00",
                          f"{rng.randrange(100, 99_999) / 100:.2f}", "paid", ""])
    return path


def counts(db: Path, cwd: Path) -> str:
    return rfm("--db", str(db), "score", "-o", "-", cwd=cwd).stdout


def kill_when_started(proc: subprocess.Popen, marker: Path, delay: float) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def test_kill_9_during_an_import_leaves_the_database_as_it_was(tmp_path: Path, big_export: Path) -> None:
    small = tmp_path / "small.csv"
    write_export(small, month_of_orders(), START, None)
    db = tmp_path / "shop.duckdb"
    assert rfm("--db", str(db), "import", str(small), cwd=tmp_path).returncode == 0
    before = counts(db, tmp_path)
    proc = rfm_process("--db", str(db), "import", str(big_export), cwd=tmp_path)
    kill_when_started(proc, db.with_name(db.name + ".lock"), 1.0)
    if proc.returncode == 0:
        pytest.skip("the import finished before the kill")
    assert proc.returncode == -signal.SIGKILL
    # A kill lands before the commit (the transaction is gone) or after it (the whole file is
    # in): never in between. The second happens when the import is quick, so check it, not skip it.
    state = counts(db, tmp_path)
    if state != before:
        whole = tmp_path / "whole.duckdb"
        for path in (small, big_export):
            assert rfm("--db", str(whole), "import", str(path), cwd=tmp_path).returncode == 0
        assert state == counts(whole, tmp_path)
    again = rfm("--db", str(db), "import", str(big_export), cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # and the next run succeeds


def test_kill_9_during_an_export_leaves_no_partial_file(tmp_path: Path, big_export: Path) -> None:
    db = tmp_path / "shop.duckdb"
    assert rfm("--db", str(db), "import", str(big_export), cwd=tmp_path).returncode == 0
    out = tmp_path / "segments"
    for delay in (0.5, 1.0, 1.5, 2.5):
        proc = rfm_process("--db", str(db), "export", "--out-dir", str(out), "--channel", "csv,email",
                           cwd=tmp_path)
        kill_when_started(proc, db.with_name(db.name + ".lock"), delay)
        for path in out.rglob("*.csv"):
            if path.name.startswith(".rfm-tmp-"):
                continue
            text = path.read_text(encoding="utf-8")
            assert text.endswith("\n")  # whole files only at final paths
            pl.read_csv(path, infer_schema=False)
    done = rfm("--db", str(db), "export", "--out-dir", str(out), "--channel", "csv,email", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # the killed runs' temp files are swept by the next run into the same folders
    assert [p.name for p in out.rglob(".rfm-tmp-*")] == []


def test_two_runs_at_once_one_waits_and_data_equals_one_run(tmp_path: Path, big_export: Path) -> None:
    db = tmp_path / "shop.duckdb"
    first = rfm_process("--db", str(db), "--wait", "120", "run", str(big_export), "--out-dir", "a",
                        cwd=tmp_path)
    time.sleep(0.3)
    second = rfm_process("--db", str(db), "--wait", "120", "run", str(big_export), "--out-dir", "b",
                         cwd=tmp_path)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert second.wait(timeout=300) == 0, second.stderr.read()
    single = tmp_path / "single.duckdb"
    assert rfm("--db", str(single), "import", str(big_export), cwd=tmp_path).returncode == 0
    assert counts(db, tmp_path) == counts(single, tmp_path)
    # skipped, but holds the lock
    busy = rfm_process("--db", str(db), "import", str(big_export), cwd=tmp_path)
    time.sleep(0.05)
    third = rfm("--db", str(db), "score", "-o", "-", cwd=tmp_path)
    busy.wait(timeout=120)
    assert third.returncode in (0, 75)
    if third.returncode == 75:
        assert third.stdout == "" and "busy" in third.stderr


def export_spec(tmp_path: Path, channels: list[str], cooldown_days: int | None = None):
    """ExportSpec into tmp_path/<name>, by name."""
    return lambda name: ExportSpec(out_dir=tmp_path / name, channels=channels, cooldown_days=cooldown_days)


def sent_ids(folder: Path, tier: str = "dormant") -> set[str]:
    """The customers of the folder's csv send list of the tier."""
    return set(pl.read_csv(folder / "send" / "csv" / f"{tier}.csv", infer_schema=False)["customer_id"])


def first_night(tmp_path: Path, db: str, spec):
    """`rfm run` of a month of orders as of START, its lists in tmp_path/d0."""
    export = tmp_path / "orders.csv"
    write_export(export, month_of_orders(seed=5), START, None)
    return api.run(db, [export], spec("d0"), load_rules(), START, ImportOptions(rejects_dir=None))


def test_cooldown_leaves_out_customers_sent_the_same_list_recently(tmp_path: Path) -> None:
    db, spec = str(tmp_path / "c.duckdb"), export_spec(tmp_path, ["csv"], cooldown_days=7)
    first = first_night(tmp_path, db, spec)
    sent_dormant = sent_ids(tmp_path / "d0")
    assert sent_dormant
    nextday = api.export(db, spec("d1"), load_rules(), START + timedelta(days=1))
    again = sent_ids(tmp_path / "d1")
    assert not again & sent_dormant
    entry = next(f for f in nextday.manifest["files"] if f["path"] == "send/csv/dormant.csv")
    assert entry["dropped"]["sent within 7 days"] == len(sent_dormant & set(
        nextday.score.customers.filter(pl.col("tier") == "dormant")["customer_id"]))
    # The cooldown shrinks the send list, never the state: tiers/ holds the whole tier, as summary.csv.
    summary = pl.read_csv(tmp_path / "d1" / "summary.csv").filter(pl.col("tier") == "dormant")["customers"][0]
    whole = pl.read_csv(tmp_path / "d1" / "tiers" / "dormant.csv", infer_schema=False)
    assert whole.height == summary == len(again) + entry["dropped"]["sent within 7 days"]
    assert sent_dormant & set(whole["customer_id"])
    later = api.export(db, spec("d9"), load_rules(), START + timedelta(days=9))
    assert sent_ids(tmp_path / "d9") & sent_dormant
    assert first.manifest["cooldown_days"] == 7 and later.written


def test_cooldown_is_per_list_a_customer_who_changed_tier_is_listed_in_the_new_tier(tmp_path: Path) -> None:
    db, spec = str(tmp_path / "c.duckdb"), export_spec(tmp_path, ["csv"], cooldown_days=30)
    first_night(tmp_path, db, spec)
    listed = lambda name, tier: set(pl.read_csv(tmp_path / name / "send" / "csv" / f"{tier}.csv",
                                                infer_schema=False)["customer_id"])
    tiers = ("diamond", "gold", "potential", "dormant")
    before = {tier: listed("d0", tier) for tier in tiers}
    later = api.export(db, spec("d20"), load_rules(), START + timedelta(days=20))
    now = later.score.customers.select("customer_id", "tier").rows()
    moved = [(c, t) for c, t in now if c not in before[t] and any(c in before[o] for o in tiers)]
    assert moved  # customers whose tier changed since they were sent a list
    for tier in tiers:
        after = listed("d20", tier)
        assert not after & before[tier]  # the same list within 30 days: left out
        assert {c for c, t in moved if t == tier} <= after  # another list: not held back by the cooldown


def test_the_send_ledger_holds_each_list_once_and_a_rerun_replaces_it(tmp_path: Path) -> None:
    db, spec = str(tmp_path / "c.duckdb"), export_spec(tmp_path, ["csv", "email"])
    first_night(tmp_path, db, spec)
    api.export(db, spec("d0-again"), load_rules(), START)  # the same as-of date: replaces the records
    with open_store(db, create=False) as store:
        rows = store.con.execute(
            "SELECT channel, tier, customers, customer_ids FROM rfm_send_lists").fetchall()
    list_path = lambda channel, tier: tmp_path / "d0-again" / "send" / channel / f"{tier}.csv"
    assert sorted((c, t) for c, t, _, _ in rows) == sorted(
        (c, t) for c in ("csv", "email") for t in ("diamond", "gold", "potential", "dormant")
        if list_path(c, t).exists() and len(pl.read_csv(list_path(c, t), infer_schema=False)))
    for channel, tier, count, blob in rows:
        listed = pl.read_csv(list_path(channel, tier), infer_schema=False)
        ids = history._blob_ids(blob)
        assert count == len(ids) == listed.height
        if channel == "csv":
            assert ids.to_list() == listed["customer_id"].to_list()


def test_cooldown_still_reads_sends_recorded_one_row_per_customer(tmp_path: Path) -> None:
    """Databases from before schema 8 hold their sends in rfm_sends: they still count."""
    db, spec = str(tmp_path / "c.duckdb"), export_spec(tmp_path, ["csv"], cooldown_days=7)
    first_night(tmp_path, db, spec)
    sent = sorted(sent_ids(tmp_path / "d0"))
    assert sent
    with open_store(db, create=False) as store:  # what an older rfm recorded instead
        store.con.execute("DELETE FROM rfm_send_lists")
        store.con.executemany("INSERT INTO rfm_sends VALUES (?, 'csv', 'dormant', ?, now())",
                              [[START, c] for c in sent])
    api.export(db, spec("d1"), load_rules(), START + timedelta(days=1))
    again = sent_ids(tmp_path / "d1")
    assert not again & set(sent)


def test_frozen_cut_points_keep_other_customers_scores(tmp_path: Path) -> None:
    orders = month_of_orders(seed=9)
    export = tmp_path / "orders.csv"
    write_export(export, orders, START, None)
    db = tmp_path / "f.duckdb"
    assert rfm("--db", str(db), "import", str(export), cwd=tmp_path).returncode == 0
    assert rfm("--db", str(db), "rules", "freeze", cwd=tmp_path).returncode == 0
    before = pl.read_csv(rfm("--db", str(db), "score", "-o", "-", cwd=tmp_path).stdout.encode())
    # The biggest spender refunds everything: with quantiles, everyone below would move up.
    top = before.sort("monetary", descending=True)["customer_id"][0]
    refunds = tmp_path / "refunds.csv"
    with refunds.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for o in orders:
            if o["customer_id"] == top and o["placed"] <= START and state_on(o, START)[0] == "paid":
                out.writerow([o["order_id"], top, f"{o['placed']} 12:00:00", o["amount"], "refunded", ""])
    assert rfm("--db", str(db), "import", str(refunds), cwd=tmp_path).returncode == 0
    after = pl.read_csv(rfm("--db", str(db), "score", "-o", "-", cwd=tmp_path).stdout.encode())
    others = lambda f: f.filter(pl.col("customer_id") != top).select("customer_id", "m_score")
    assert others(after).equals(others(before))
    cuts = rfm("--db", str(db), "rules", "--format", "json", cwd=tmp_path)
    assert '"frozen"' in cuts.stdout and "frozen_on" in cuts.stdout


def test_moves_matrix_and_history_read_the_snapshots(tmp_path: Path) -> None:
    orders = month_of_orders(seed=2)
    db = tmp_path / "m.duckdb"
    for day in (START, START + timedelta(days=20)):
        export = tmp_path / f"o-{day}.csv"
        write_export(export, orders, day, None)
        done = rfm("--db", str(db), "run", str(export), "--out-dir", "seg", "--as-of", str(day), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    matrix = pl.read_csv(rfm("--db", str(db), "moves", "-o", "-", cwd=tmp_path).stdout.encode())
    tiers = load_rules().tier_names()
    assert matrix["from_tier"].to_list() == ["(new)", *tiers]
    latest = pl.read_csv(rfm("--db", str(db), "score", "-o", "-", cwd=tmp_path).stdout.encode())
    assert int(matrix.select(tiers).sum().sum_horizontal()[0]) == latest.height
    slipped = pl.read_csv(rfm("--db", str(db), "moves", "--list", "*:dormant", "-o", "-",
                              cwd=tmp_path).stdout.encode(),
                          infer_schema=False)
    entered = pl.read_csv(tmp_path / "seg" / "entered" / "dormant.csv", infer_schema=False)
    assert set(slipped["customer_id"]) == set(entered["customer_id"])
    someone = latest["customer_id"][0]
    history = pl.read_csv(rfm("--db", str(db), "history", str(someone), "-o", "-",
                              cwd=tmp_path).stdout.encode())
    assert history["as_of"].cast(pl.String).to_list()[-1] == str(START + timedelta(days=20))
