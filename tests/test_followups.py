"""Day-N follow-ups (core/followups.py): `rfm export --days-since-first-order N|FROM:TO`, and the
[[followups]] of rfm.toml that `rfm run` writes each night.

The shop below, worked by hand (delivered = the export's delivered_date):

| customer | orders (placed, delivered)                          | first counted order, its day |
|----------|-----------------------------------------------------|------------------------------|
| amy      | A1 2026-03-01, delivered 2026-03-03                 | A1, 2026-03-03 (delivered)   |
| bob      | B1 2026-03-02                                       | B1, 2026-03-02 (ordered)     |
| cat      | C0 2026-02-01; C1 2026-03-02                        | C0, 2026-02-01: two orders   |
| dan      | D0 2026-03-01 cancelled; D1 2026-03-03              | D1, 2026-03-03               |
| eve      | E1 2026-03-02, refunded later (refunds.csv)         | none once refunded           |

As of 2026-03-10, days since the first counted order: amy 7, bob 8, cat 37, dan 7, eve 8.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "delivered_date", "phone")
ORDERS = [
    ("A1", "amy", "2026-03-01 10:00:00", "10.00", "paid", "2026-03-03 15:00:00", "13800000001"),
    ("B1", "bob", "2026-03-02 10:00:00", "20.00", "paid", "", "13800000002"),
    ("C0", "cat", "2026-02-01 10:00:00", "30.00", "paid", "", "13800000003"),
    ("C1", "cat", "2026-03-02 10:00:00", "30.00", "paid", "", "13800000003"),
    ("D0", "dan", "2026-03-01 10:00:00", "50.00", "cancelled", "", "13800000004"),
    ("D1", "dan", "2026-03-03 10:00:00", "15.00", "paid", "", "13800000004"),
    ("E1", "eve", "2026-03-02 10:00:00", "25.00", "paid", "", "13800000005"),
]


@pytest.fixture
def shop(tmp_path: Path, write_orders, rfm) -> Path:
    src = write_orders("orders.csv", ORDERS, header=HEADER)
    done = rfm("import", src, "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    return tmp_path / "shop.duckdb"


def _export(rfm, night: str, *flags: str, out: str = "out") -> dict:
    done = rfm("export", "--db", "shop.duckdb", "--out-dir", out, "--as-of", night, *flags)
    assert done.returncode == 0, done.stderr
    return json.loads(Path(out, "manifest.json").read_text(encoding="utf-8"))


def _list(manifest: dict, name: str, channel: str = "csv") -> dict:
    (found,) = [e for e in manifest["lists"] if e["list"] == name and e["channel"] == channel]
    return found


def _ids(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split(",")[0] for line in lines[1:]]


def test_the_trigger_day_is_the_delivered_date_and_only_counted_orders_trigger(shop: Path, rfm) -> None:
    manifest = _export(rfm, "2026-03-10", "--days-since-first-order", "7")
    listed = Path("out/send/csv/days_since_first_order_7.csv").read_text(encoding="utf-8").splitlines()
    header = listed[0].split(",")
    rows = {r.split(",")[0]: dict(zip(header, r.split(","))) for r in listed[1:]}
    # amy: placed 9 days ago, delivered 7 days ago; dan: his cancelled D0 is no first order, D1 is
    assert set(rows) == {"amy", "dan"}
    assert {k: (v["trigger_order_id"], v["trigger_date"], v["trigger_basis"], v["days_since"])
            for k, v in rows.items()} == {"amy": ("A1", "2026-03-03", "delivered", "7"),
                                          "dan": ("D1", "2026-03-03", "ordered", "7")}
    assert "trigger_category" not in header  # no product data in this store
    assert manifest["selection"]["followups"] == [
        {"name": "days_since_first_order_7", "days": "7:7", "since": "first_order", "who": "all"}]
    # --days-since-* replaces the tiers' send lists, as --winback does; the state files stay
    assert [e["list"] for e in manifest["lists"] if e["kind"] == "send"] == ["days_since_first_order_7"]


def test_on_the_7_to_9_list_three_nights_but_sent_once(shop: Path, rfm) -> None:
    """bob ordered on 03-02: days 7, 8, 9 are the nights of 03-09, 03-10 and 03-11."""
    sent, selected = {}, {}
    for night in ("2026-03-09", "2026-03-10", "2026-03-11"):
        manifest = _export(rfm, night, "--days-since-first-order", "7:9")
        entry = _list(manifest, "days_since_first_order_7-9")
        sent[night] = sorted(_ids(Path("out/send/csv/days_since_first_order_7-9.csv")))
        selected[night] = (entry["selected"], entry["dropped"])
    # days on 03-09: amy 6 (delivered 03-03), bob 7, dan 6, eve 7
    assert sent == {"2026-03-09": ["bob", "eve"], "2026-03-10": ["amy", "dan"], "2026-03-11": []}
    assert selected == {"2026-03-09": (2, {}),
                        "2026-03-10": (4, {"already sent for this order": 2}),
                        "2026-03-11": (4, {"already sent for this order": 4})}
    # the same night again writes the same list: its own earlier record is replaced, not "already sent"
    again = _export(rfm, "2026-03-10", "--days-since-first-order", "7:9")
    assert sorted(_ids(Path("out/send/csv/days_since_first_order_7-9.csv"))) == ["amy", "dan"]
    assert _list(again, "days_since_first_order_7-9")["dropped"] == {"already sent for this order": 2}
    con = duckdb.connect(str(shop), read_only=True)
    assert con.execute("SELECT as_of, customer_id, order_id FROM rfm_followup_sends "
                       "ORDER BY as_of, customer_id").fetchall() == [(d, c, o) for d, c, o in [
                           (_day("2026-03-09"), "bob", "B1"), (_day("2026-03-09"), "eve", "E1"),
                           (_day("2026-03-10"), "amy", "A1"), (_day("2026-03-10"), "dan", "D1")]]
    con.close()


def _day(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_a_missed_night_skips_no_one_with_a_window_but_does_with_a_single_day(shop: Path, rfm) -> None:
    # bob's day 7 was 03-09; the job did not run that night
    single = _export(rfm, "2026-03-10", "--days-since-first-order", "7", out="single")
    assert "bob" not in _ids(Path("single/send/csv/days_since_first_order_7.csv"))
    assert _list(single, "days_since_first_order_7")["selected"] == 2  # amy and dan, day 7
    window = _export(rfm, "2026-03-10", "--days-since-first-order", "7:9", out="window")
    assert sorted(_ids(Path("window/send/csv/days_since_first_order_7-9.csv"))) == [
        "amy", "bob", "dan", "eve"]
    assert _list(window, "days_since_first_order_7-9")["dropped"] == {}


def test_a_refunded_first_order_takes_the_customer_off(shop: Path, rfm, tmp_path: Path) -> None:
    first = _export(rfm, "2026-03-10", "--days-since-first-order", "7:9")
    assert "eve" in _ids(Path("out/send/csv/days_since_first_order_7-9.csv"))
    assert _list(first, "days_since_first_order_7-9")["selected"] == 4
    # a later export of the same order says it was refunded
    refunded = tmp_path / "later.csv"
    refunded.write_text(",".join(HEADER) + "\nE1,eve,2026-03-02 10:00:00,25.00,refunded,,13800000005\n",
                        encoding="utf-8")
    assert rfm("import", refunded, "--db", "shop.duckdb").returncode == 0
    after = _export(rfm, "2026-03-10", "--days-since-first-order", "7:9")
    assert sorted(_ids(Path("out/send/csv/days_since_first_order_7-9.csv"))) == ["amy", "bob", "dan"]
    # not selected at all: no counted order
    assert _list(after, "days_since_first_order_7-9")["selected"] == 3


def test_first_time_buyers_only_and_since_last_order(shop: Path, rfm) -> None:
    # cat's last order C1 was 8 days ago but she has two counted orders
    everyone = _export(rfm, "2026-03-10", "--days-since-last-order", "8", out="all")
    assert sorted(_ids(Path("all/send/csv/days_since_last_order_8.csv"))) == ["bob", "cat", "eve"]
    first_time = _export(rfm, "2026-03-10", "--days-since-last-order", "8", "--who", "first_time", out="new")
    assert sorted(_ids(Path("new/send/csv/days_since_last_order_8_first_time.csv"))) == ["bob", "eve"]
    assert _list(everyone, "days_since_last_order_8")["selected"] == 3
    assert _list(first_time, "days_since_last_order_8_first_time")["selected"] == 2


def test_suppression_and_cooldown_apply_as_to_every_list(shop: Path, rfm, tmp_path: Path) -> None:
    assert rfm("suppress", "add", "13800000002", "--db", "shop.duckdb").returncode == 0  # bob
    optouts = tmp_path / "optouts.csv"
    optouts.write_text("phone\n13800000001\n", encoding="utf-8")  # amy
    manifest = _export(rfm, "2026-03-10", "--days-since-first-order", "7:9", "--channel", "sms",
                       "--exclude", str(optouts))
    assert sorted(_ids(Path("out/send/sms/days_since_first_order_7-9.csv"))) == ["13800000004", "13800000005"]
    entry = _list(manifest, "days_since_first_order_7-9", "sms")
    assert entry["selected"] == 4 and entry["rows"] == 2 and sum(entry["dropped"].values()) == 2
    # the suppressed were not sent: lifted tomorrow, they would be sent then (not "already sent")
    con = duckdb.connect(str(shop), read_only=True)
    assert sorted(r[0] for r in con.execute("SELECT customer_id FROM rfm_followup_sends").fetchall()) == [
        "dan", "eve"]
    con.close()


def test_one_list_to_stdout_is_recorded_too(shop: Path, rfm) -> None:
    flags = ("--days-since-first-order", "7:9", "--channel", "coupon", "-o", "-")
    done = rfm("export", "--db", "shop.duckdb", "--as-of", "2026-03-10", *flags)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "customer_id"
    assert sorted(done.stdout.splitlines()[1:]) == ["amy", "bob", "dan", "eve"]
    again = rfm("export", "--db", "shop.duckdb", "--as-of", "2026-03-11", *flags)
    assert again.returncode == 0 and again.stdout.splitlines() == ["customer_id"]
    assert "already sent for this order 4" in again.stderr
