"""The consent ledger: Shopify's per-channel marketing consent columns imported, `rfm consent`, lists
that require consent, and Google's EEA consent columns (issue 23)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest

from rfm_cli.core.compliance.eea import countries

HEADERS = ["Name", "Email", "Financial Status", "Paid at", "Accepts Email Marketing", "Accepts SMS Marketing",
           "Currency", "Total", "Lineitem quantity", "Lineitem name", "Lineitem price", "Billing Name",
           "Phone", "Created at", "Cancelled at", "Refunded Amount"]
# name, email, paid at, accepts email, accepts sms, total, phone, line items
ORDERS = [
    ("#1001", "anna@example.com", "2026-05-01 10:00:00 +0800", "yes", "yes", "64.00", "+8613812345678", 2),
    ("#1002", "ben@example.com", "2026-05-02 10:00:00 +0800", "yes", "no", "25.00", "+8613912345678", 1),
    ("#1003", "carl@example.com", "2026-05-03 10:00:00 +0800", "", "yes", "80.00", "+8613712345678", 1),
    ("#1004", "carl@example.com", "2026-06-03 10:00:00 +0800", "", "no", "30.00", "+8613712345678", 1),
    ("#1005", "dora@example.com", "2026-05-05 10:00:00 +0800", "", "", "40.00", "+8613612345678", 1),
    ("#1006", "emma@example.co.uk", "2026-05-06 10:00:00 +0100", "yes", "", "55.00", "+447911123456", 1),
]


def shopify_export(path: Path) -> Path:
    """As Shopify writes it: one row per line item, order-level fields (consent included) on the first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    for name, email, paid, accepts_email, accepts_sms, total, phone, items in ORDERS:
        for item in range(items):
            cells = dict.fromkeys(HEADERS, "")
            cells.update({"Name": name, "Email": email, "Created at": paid, "Lineitem quantity": "1",
                          "Lineitem name": f"item {item}", "Lineitem price": "1.00"})
            if item == 0:
                cells.update({"Financial Status": "paid", "Paid at": paid,
                              "Accepts Email Marketing": accepts_email,
                              "Accepts SMS Marketing": accepts_sms, "Currency": "CNY", "Total": total,
                              "Billing Name": email.split("@")[0].title() + " Li", "Phone": phone,
                              "Refunded Amount": "0.00"})
            writer.writerow([cells[h] for h in HEADERS])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def db(rfm, tmp_path: Path) -> Path:
    db = tmp_path / "shop.db"
    done = rfm("import", shopify_export(tmp_path / "orders_export_1.csv"), "--db", db)
    assert done.returncode == 0, done.stderr
    return db


def ledger(rfm, db: Path) -> list[dict[str, str]]:
    shown = rfm("consent", "list", "--db", db)
    assert shown.returncode == 0, shown.stderr
    return list(csv.DictReader(io.StringIO(shown.stdout)))


def rows(folder: Path, relative: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / relative).read_text(encoding="utf-8"))))


def test_shopifys_consent_columns_go_to_the_ledger_with_time_and_source(rfm, db) -> None:
    events = {(e["value"], e["channel"], e["recorded_at"][:10]): e for e in ledger(rfm, db)}
    assert {key: e["status"] for key, e in events.items()} == {
        ("anna@example.com", "email", "2026-05-01"): "granted",
        ("anna@example.com", "sms", "2026-05-01"): "granted",
        ("ben@example.com", "email", "2026-05-02"): "granted",
        ("ben@example.com", "sms", "2026-05-02"): "withdrawn",
        ("carl@example.com", "sms", "2026-05-03"): "granted",
        ("carl@example.com", "sms", "2026-06-03"): "withdrawn",
        ("emma@example.co.uk", "email", "2026-05-06"): "granted"}
    assert {e["source"] for e in events.values()} == {"import 1 (orders_export_1.csv)"}
    assert ({e["legal_basis"] for e in events.values()} == {"consent"}
            and {e["kind"] for e in events.values()} == {"customer_id"})


def test_importing_the_same_export_again_adds_no_event(rfm, db, tmp_path) -> None:
    before = ledger(rfm, db)
    (tmp_path / "copy").mkdir()
    again = shopify_export(tmp_path / "copy" / "orders_export_1.csv")
    again.write_text(again.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # other bytes, same orders
    assert rfm("import", again, "--db", db).returncode == 0
    assert len(ledger(rfm, db)) == len(before)


def test_require_consent_lists_only_customers_whose_consent_is_in_force(rfm, db, tmp_path) -> None:
    done = rfm("export", "--db", db, "--out-dir", "out", "--channel", "sms,email,csv", "--require-consent")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    sms = [r["phone"] for f in (out / "send" / "sms").glob("*.csv") for r in rows(out, f"send/sms/{f.name}")]
    emails = sorted(r["Email"] for f in (out / "send" / "email").glob("*.csv")
                    for r in rows(out, f"send/email/{f.name}"))
    assert sms == ["13812345678"]  # ben refused, carl withdrew later, dora and emma never said
    assert emails == ["anna@example.com", "ben@example.com", "emma@example.co.uk"]
    full = sorted(r["customer_id"] for f in (out / "tiers").glob("*.csv")
                  for r in rows(out, f"tiers/{f.name}"))
    assert len(full) == 5  # the tiers' state is not a send: not filtered
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    dropped = sum(each["dropped"].get("no recorded sms consent", 0) for each in manifest["lists"])
    assert dropped == 4 and manifest["sending"]["require_consent"] is True
    # consent kept elsewhere, by phone: dora goes on the next list
    assert rfm("consent", "add", "136 1234 5678", "--channel", "sms", "--source", "门店登记表", "--db",
               db).returncode == 0
    again = rfm("export", "--db", db, "--out-dir", "out2", "--channel", "sms", "--require-consent")
    assert again.returncode == 0, again.stderr
    phones = sorted(r["phone"] for f in (tmp_path / "out2" / "send" / "sms").glob("*.csv")
                    for r in rows(tmp_path / "out2", f"send/sms/{f.name}"))
    assert phones == ["13612345678", "13812345678"]


def test_consent_add_refuses_unknown_channels_bases_and_empty_sources(rfm, db, assert_cli_error) -> None:
    assert_cli_error(rfm("consent", "add", "x@example.com", "--channel", "fax", "--source", "s", "--db", db),
                     2)
    assert_cli_error(rfm("consent", "add", "x@example.com", "--channel", "sms", "--source", "s", "--basis",
                         "vibes", "--db", db), 2)
    assert_cli_error(rfm("consent", "add", "x@example.com", "--channel", "sms", "--source", " ", "--db", db),
                     2)


def test_phone_country_codes() -> None:
    e164 = pl.Series(["+8613812345678", "+447911123456", "+4930123456", "+12025550123", "+35312345678", None])
    assert countries(e164).to_list() == ["CN", "GB", "DE", None, "IE", None]


def test_google_lists_with_eea_people_carry_their_ads_consent(rfm, db, tmp_path) -> None:
    assert rfm("consent", "add", "anna@example.com", "--channel", "ads", "--source", "cookie banner",
               "--db", db).returncode == 0
    assert rfm("consent", "withdraw", "ben@example.com", "--channel", "ads", "--source", "email", "--db",
               db).returncode == 0
    done = rfm("export", "--db", db, "--out-dir", "out", "--channel", "google", "--no-hash")
    assert done.returncode == 0, done.stderr
    listed = {r["Email"]: r for f in (tmp_path / "out" / "send" / "google").glob("*.csv")
              for r in rows(tmp_path / "out", f"send/google/{f.name}")}
    assert listed["emma@example.co.uk"]["Country"] == "GB" and listed["anna@example.com"]["Country"] == "CN"
    assert {e: (r["ad_user_data"], r["ad_personalization"]) for e, r in listed.items()} == {
        "anna@example.com": ("GRANTED", "GRANTED"), "ben@example.com": ("DENIED", "DENIED"),
        "carl@example.com": ("UNSPECIFIED", "UNSPECIFIED"),
        "dora@example.com": ("UNSPECIFIED", "UNSPECIFIED"),
        "emma@example.co.uk": ("UNSPECIFIED", "UNSPECIFIED")}
    strict = rfm("export", "--db", db, "--out-dir", "strict", "--channel", "google", "--require-consent")
    assert strict.returncode == 0
    assert sum(len(rows(tmp_path / "strict", f"send/google/{f.name}"))
               for f in (tmp_path / "strict" / "send" / "google").glob("*.csv")) == 1


def test_a_list_without_eea_people_has_no_consent_columns(rfm, write_orders, tmp_path) -> None:
    header = ("order_id", "customer_id", "order_date", "amount", "status", "phone", "email")
    orders = write_orders("o.csv",
                          [("O1", "C1", "2026-01-01", "10.00", "paid", "13812345678", "a@example.com")],
                          header=header)
    assert rfm("run", orders, "--db", tmp_path / "t.db", "--out-dir", "out", "--channel",
               "google").returncode == 0
    header_line = next((tmp_path / "out" / "send" / "google").glob("*.csv")).read_text(
        encoding="utf-8").splitlines()[0]
    assert header_line == "Email,Phone,First Name,Last Name,Country,Zip"


def test_an_export_with_one_consent_column_records_that_channel_only(rfm, tmp_path: Path) -> None:
    """The import writes the events of the consent columns the file has (accepts_sms here), and
    counts as new only the events the ledger did not hold (a later file repeating an order)."""
    header = "order_id,customer_id,order_date,amount,status,accepts_sms\n"
    first = tmp_path / "a.csv"
    first.write_text(header + "O1,C1,2026-05-01 10:00:00,10.00,paid,yes\n"
                              "O2,C2,2026-05-02 10:00:00,20.00,paid,no\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text(header + "O2,C2,2026-05-02 10:00:00,20.00,paid,no\n"
                               "O3,C3,2026-05-03 10:00:00,30.00,paid,\n", encoding="utf-8")
    db = tmp_path / "shop.duckdb"
    for path in (first, second):
        assert rfm("import", path, "--db", db).returncode == 0
    events = sorted((e["value"], e["channel"], e["status"], e["source"]) for e in ledger(rfm, db))
    assert events == [("C1", "sms", "granted", "import 1 (a.csv)"),
                      ("C2", "sms", "withdrawn", "import 1 (a.csv)")]

    from rfm_cli.core.compliance import consent
    from rfm_cli.core.store import open_store

    with open_store(db) as store, store.transaction():  # the count is of new events only
        store.con.execute("CREATE TEMP TABLE order_outcomes AS SELECT 'C2' AS customer_id, "
                          "TIMESTAMP '2026-05-02 10:00:00' AS ordered_at, false AS accepts_sms, "
                          "true AS accepts_email, 'new' AS outcome UNION ALL SELECT 'C4', "
                          "TIMESTAMP '2026-05-04 10:00:00', true, NULL, 'new'")
        assert consent.record_import(store.con, 9, "c.csv", {"accepts_sms"}) == 1
        assert consent.record_import(store.con, 9, "c.csv", {"accepts_sms", "accepts_email"}) == 1
        assert consent.record_import(store.con, 9, "c.csv", set()) == 0
        store.con.execute("DROP TABLE order_outcomes")
