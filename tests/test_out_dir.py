"""The output folder (issue 17, items 2-4): state apart from sends, the win-back list, stale files.

A shop worked by hand, as of 2026-06-30 (days since the last order in brackets):

| customer | orders | spend | last order | tier | win-back (60-90 days)? |
|---|---:|---:|---|---|---|
| D75 | 5 | 5,000 | 2026-04-16 (75) | diamond (f 4, m 5) | yes |
| G60 | 3 | 300 | 2026-05-01 (60) | gold | yes |
| P90 | 1 | 120 | 2026-04-01 (90) | potential (r 3) | yes |
| P59 | 1 | 110 | 2026-05-02 (59) | potential | no: 59 days |
| X91 | 1 | 100 | 2026-03-31 (91) | dormant | no: 91 days |
| N01..N04 | 1 | 10-40 | 2026-06-29 (1) | potential | no |

So the win-back list is D75, G60, P90 (best first: by spend), and `--tier dormant --recency-days
60:90`, the README's old example, is empty by construction: dormant means over 90 days.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

AS_OF = date(2026, 6, 30)
HEADER = "order_id,customer_id,order_date,amount,status,customer_name,phone\n"


def _orders(folder: Path) -> Path:
    rows = []

    def buy(customer: str, days_ago: int, amount: float, phone: str) -> None:
        day = AS_OF - timedelta(days=days_ago)
        rows.append(
            f"O{len(rows) + 1:03d},{customer},{day} 10:00:00,{amount:.2f},paid,{customer} name,{phone}")

    for extra in (300, 250, 200, 150):  # D75's earlier orders
        buy("D75", extra, 1000, "13800000075")
    buy("D75", 75, 1000, "13800000075")
    for days in (200, 120, 60):
        buy("G60", days, 100, "13800000060")
    buy("P90", 90, 120, "13800000090")
    buy("P59", 59, 110, "13800000059")
    buy("X91", 91, 100, "13800000091")
    for i in range(1, 5):
        buy(f"N0{i}", 1, 10 * i, f"1380000010{i}")
    path = folder / "orders.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def shop(tmp_path: Path, rfm) -> Path:
    _orders(tmp_path)
    assert rfm("--db", "shop.duckdb", "import", "orders.csv").returncode == 0
    return tmp_path


def _ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row["customer_id"] for row in csv.DictReader(fh)]


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _export(rfm, *args: str):
    done = rfm("--db", "shop.duckdb", "export", "--as-of", str(AS_OF), *args)
    assert done.returncode == 0, done.stderr
    return done


# ------------------------------------------------------------------ the win-back list


def test_winback_lists_the_customers_silent_60_to_90_days_whatever_their_tier(shop: Path, rfm) -> None:
    _export(rfm, "--out-dir", "out", "--winback", "--channel", "csv,sms")
    out = shop / "out"
    assert _ids(out / "send" / "csv" / "winback.csv") == ["D75", "G60", "P90"]  # best first: 5,000, 300, 120
    with (out / "send" / "sms" / "winback.csv").open(encoding="utf-8", newline="") as fh:
        assert [row["phone"] for row in csv.DictReader(fh)] == ["13800000075", "13800000060", "13800000090"]
    # --winback replaces the per-tier send lists; the state is whole.
    assert sorted(p.name for p in (out / "send" / "csv").iterdir()) == ["winback.csv"]
    assert _ids(out / "tiers" / "diamond.csv") == ["D75"] and "X91" in _ids(out / "tiers" / "dormant.csv")
    [entry] = [f for f in _manifest(out)["files"] if f["path"] == "send/csv/winback.csv"]
    assert (entry["kind"], entry["list"], entry["tier"], entry["rows"]) == ("send", "winback", None, 3)
    assert _manifest(out)["selection"] == {"winback_days": [60, 90]}


def test_the_old_win_back_example_was_empty_by_construction(shop: Path, rfm) -> None:
    _export(rfm, "--out-dir", "old", "--tier", "dormant", "--recency-days", "60:90")
    assert _ids(shop / "old" / "send" / "csv" / "dormant.csv") == []


def test_the_window_moves_by_flag_and_by_rfm_toml(shop: Path, rfm) -> None:
    _export(rfm, "--out-dir", "a", "--winback-days", "59:60")  # implies --winback
    assert _ids(shop / "a" / "send" / "csv" / "winback.csv") == ["G60", "P59"]
    (shop / "rfm.toml").write_text('winback_days = "90:91"\n', encoding="utf-8")
    _export(rfm, "--out-dir", "b", "--winback")
    assert _ids(shop / "b" / "send" / "csv" / "winback.csv") == ["P90", "X91"]
    bad = rfm("--db", "shop.duckdb", "export", "--out-dir", "c", "--winback-days", "soon")
    assert bad.returncode == 2 and "--winback-days 'soon' is not FROM:TO" in bad.stderr
    assert not (shop / "c").exists()


def test_winback_with_a_tier_writes_both_and_streams_only_alone(shop: Path, rfm) -> None:
    _export(rfm, "--out-dir", "both", "--winback", "--tier", "dormant")
    assert (sorted(p.name for p in (shop / "both" / "send" / "csv").iterdir())
            == ["dormant.csv", "winback.csv"])
    streamed = _export(rfm, "--winback", "--channel", "csv", "-o", "-")
    assert streamed.stdout == (shop / "both" / "send" / "csv" / "winback.csv").read_text(encoding="utf-8")
    two = rfm("--db", "shop.duckdb", "export", "--winback", "--tier", "gold", "-o", "-")
    assert two.returncode == 2 and two.stdout == "" and "--winback alone" in two.stderr


def test_a_tier_named_winback_is_refused_with_the_win_back_list(shop: Path, rfm) -> None:
    (shop / "rules.toml").write_text(
        '[[tiers]]\nname = "winback"\nlabel_zh = "召回"\nwhen = "r_score == 3"\n'
        '[[tiers]]\nname = "rest"\nlabel_zh = "其他"\nwhen = "true"\n', encoding="utf-8")
    assert _export(rfm, "--out-dir", "fine", "--rules", "rules.toml")  # without --winback: a tier like any
    clash = rfm("--db", "shop.duckdb", "export", "--out-dir", "x", "--rules", "rules.toml", "--winback")
    assert clash.returncode == 2 and "tier named 'winback'" in clash.stderr


def test_run_writes_the_win_back_list_and_its_cooldown_applies_to_it(shop: Path, rfm) -> None:
    first = rfm("--db", "night.duckdb", "run", "orders.csv", "--out-dir", "seg", "--winback", "--channel",
                "sms", "--as-of", str(AS_OF))
    assert first.returncode == 0, first.stderr
    assert len(_ids_or_phones(shop / "seg" / "send" / "sms" / "winback.csv")) == 3
    again = rfm("--db", "night.duckdb", "run", "orders.csv", "--out-dir", "seg", "--winback", "--channel",
                "sms", "--as-of", str(AS_OF + timedelta(days=1)), "--cooldown", "30")
    assert again.returncode == 0, again.stderr
    # Tomorrow D75 is 76 days silent, G60 61, P59 60 (new in the window), P90 91 (out of it); D75 and
    # G60 got the message yesterday.
    assert _ids_or_phones(shop / "seg" / "send" / "sms" / "winback.csv") == ["13800000059"]
    [winback] = [each for each in _manifest(shop / "seg")["lists"] if each["list"] == "winback"]
    assert winback["dropped"] == {"sent within 30 days": 2} and winback["selected"] == 3


def _ids_or_phones(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row["phone"] for row in csv.DictReader(fh)]


def test_a_rerun_of_the_night_gives_the_win_back_codes_back_and_writes_the_same(shop: Path, rfm) -> None:
    """The coupon-code ledger gives back the codes of every tier the win-back list may hold."""
    (shop / "codes.txt").write_text("W1\nW2\nW3\nW4\n", encoding="utf-8")
    args = ("--winback", "--channel", "coupon", "--codes", "codes.txt")
    _export(rfm, "--out-dir", "a", *args)
    _export(rfm, "--out-dir", "b", *args)  # the same as-of date: a cron re-run
    coupon = Path("send") / "coupon" / "winback.csv"
    assert (shop / "a" / coupon).read_bytes() == (shop / "b" / coupon).read_bytes()
    with (shop / "b" / coupon).open(encoding="utf-8", newline="") as fh:
        assert [row["coupon_code"] for row in csv.DictReader(fh)] == ["W1", "W2", "W3"]
    assert _manifest(shop / "b")["coupon_codes_left"] == 1


# ------------------------------------------------------------------ state apart from sends


def test_the_cooldown_shrinks_the_send_list_never_the_tier_file(shop: Path, rfm) -> None:
    """Issue 17: night 2's diamond.csv held 9 of 90 diamond customers while summary.csv said 90."""
    _export(rfm, "--out-dir", "d0", "--tier", "potential")
    later = str(AS_OF + timedelta(days=1))
    done = rfm("--db", "shop.duckdb", "export", "--as-of", later, "--out-dir", "d1", "--cooldown", "7")
    assert done.returncode == 0, done.stderr
    with (shop / "d1" / "summary.csv").open(encoding="utf-8", newline="") as fh:
        summary = {row["tier"]: int(row["customers"]) for row in csv.DictReader(fh)}
    for tier, customers in summary.items():
        assert len(_ids(shop / "d1" / "tiers" / f"{tier}.csv")) == customers
    # P59 and N01-N04 were sent the potential list yesterday; P90 is dormant today.
    assert _ids(shop / "d1" / "send" / "csv" / "potential.csv") == []
    assert summary["potential"] == 5


# ------------------------------------------------------------------ a reused --out-dir


def test_a_reused_out_dir_loses_the_previous_runs_files_and_keeps_the_users(shop: Path, rfm) -> None:
    _export(rfm, "--out-dir", "seg", "--channel", "sms,coupon")
    seg = shop / "seg"
    (seg / "notes.txt").write_text("mine\n", encoding="utf-8")
    # the user's, in our folder
    (seg / "send" / "coupon" / "extra.csv").write_text("phone\n1\n", encoding="utf-8")
    edited = seg / "send" / "coupon" / "gold.csv"
    edited.write_text(edited.read_text(encoding="utf-8") + "added by hand\n", encoding="utf-8")
    done = _export(rfm, "--out-dir", "seg", "--channel", "sms")
    assert not (seg / "send" / "coupon" / "potential.csv").exists()  # rfm's, not written now: removed
    assert (seg / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert (seg / "send" / "coupon" / "extra.csv").exists() and edited.exists()  # never listed / changed
    assert "removed 3 files the previous run wrote" in done.stderr  # coupon/diamond, potential, dormant
    listed = {f["path"] for f in _manifest(seg)["files"]}
    on_disk = {p.relative_to(seg).as_posix() for p in seg.rglob("*") if p.is_file()}
    assert on_disk - listed == {"manifest.json", "notes.txt", "send/coupon/extra.csv", "send/coupon/gold.csv"}


def test_an_old_layout_folder_is_cleaned_of_what_its_manifest_listed(shop: Path, rfm) -> None:
    """A folder written before tiers/ and send/: its dormant.csv and sms/dormant.csv go, as listed."""
    seg = shop / "seg"
    (seg / "sms").mkdir(parents=True)
    files = []
    for relative in ("dormant.csv", "sms/dormant.csv"):
        (seg / relative).write_bytes(b"customer_id\nX91\n")
        files.append({"path": relative, "rows": 1,
                      "sha256": __import__("hashlib").sha256(b"customer_id\nX91\n")
                      .hexdigest()})
    (seg / "manifest.json").write_text(json.dumps({"files": files}), encoding="utf-8")
    (seg / "winback.xlsx").write_bytes(b"the user's own")
    _export(rfm, "--out-dir", "seg")
    assert not (seg / "dormant.csv").exists() and not (seg / "sms").exists()
    assert (seg / "winback.xlsx").read_bytes() == b"the user's own"


def test_a_manifest_cannot_make_rfm_delete_outside_its_folder(shop: Path, rfm) -> None:
    victim = shop / "victim.csv"
    victim.write_bytes(b"keep\n")
    digest = __import__("hashlib").sha256(b"keep\n").hexdigest()
    seg = shop / "seg"
    seg.mkdir()
    entries = [{"path": p, "sha256": digest} for p in ("../victim.csv", str(victim), "sub/../../victim.csv")]
    (seg / "manifest.json").write_text(json.dumps({"files": entries}), encoding="utf-8")
    _export(rfm, "--out-dir", "seg")
    assert victim.read_bytes() == b"keep\n"


def test_a_failed_run_removes_nothing(shop: Path, rfm) -> None:
    _export(rfm, "--out-dir", "seg", "--channel", "sms,coupon")
    seg = shop / "seg"
    before = {p.relative_to(seg).as_posix(): p.read_bytes() for p in seg.rglob("*") if p.is_file()}
    (seg / "send" / "sms" / "gold.csv").unlink()
    (seg / "send" / "sms" / "gold.csv").mkdir()  # a folder where a list must go: publishing fails
    del before["send/sms/gold.csv"]
    failed = rfm("--db", "shop.duckdb", "export", "--as-of", str(AS_OF), "--out-dir", "seg", "--channel",
                 "sms")
    assert failed.returncode == 73, failed.stderr
    after = {p.relative_to(seg).as_posix(): p.read_bytes() for p in seg.rglob("*") if p.is_file()}
    assert after == before  # the coupon lists the run would have removed are still there
