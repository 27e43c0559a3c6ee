"""rfm explain: the net that counts, a fitting error for an unknown id, and --find by what a seller
knows of a customer (phone in any written form, email, name)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "refund_amount", "customer_name",
          "phone", "email")
ROWS = [
    ("A1", "amy_shop", "2026-03-01 10:00:00", "120.00", "paid", "", "王小美", "138 1234 5678",
     "Amy@Example.com"),
    ("A2", "amy_shop", "2026-02-25 10:00:00", "649.00", "cancelled", "", "王小美", "138 1234 5678", ""),
    ("B1", "bob_88", "2026-03-02 10:00:00", "80.00", "paid", "", "Bob Li", "+86 139-0000-1111",
     "bob@example.com"),
    ("C1", "cat_99", "2026-03-03 10:00:00", "50.00", "paid", "", "王猫", "137****2222", ""),
]


@pytest.fixture
def shop(write_orders, rfm) -> Path:
    path = write_orders("shop.csv", ROWS, header=HEADER)
    done = rfm("import", path, "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    return path


def _order_line(text: str, order_id: str) -> str:
    [line] = [ln for ln in text.splitlines() if f" {order_id} " in ln]
    return line


def test_a_cancelled_order_adds_nothing_and_says_so(shop: Path, rfm) -> None:
    shown = rfm("explain", "amy_shop", "--db", "shop.duckdb")
    assert shown.returncode == 0, shown.stderr
    cancelled = _order_line(shown.stderr, "A2")
    assert "649.00" in cancelled and cancelled.count("649.00") == 1  # the amount, not a net
    assert "not counted: cancelled" in cancelled
    assert "120.00" in _order_line(shown.stderr, "A1").split("│")[-2]  # a counted order's net
    account = json.loads(rfm("explain", "amy_shop", "--db", "shop.duckdb", "-f", "json").stdout)
    by_id = {o["order_id"]: o for o in account["orders"]}
    assert by_id["A2"]["counted_net"] == 0.0 and by_id["A1"]["counted_net"] == 120.0
    assert sum(o["counted_net"] for o in account["orders"]) == account["values"]["monetary"]


def test_an_unknown_id_is_a_usage_error_pointing_at_find(shop: Path, rfm, assert_cli_error) -> None:
    line = assert_cli_error(rfm("explain", "C999", "--db", "shop.duckdb"), 2)
    assert "no customer 'C999' in shop.duckdb" in line and "rfm explain --find" in line
    phone_like = assert_cli_error(rfm("explain", "13812345678", "--db", "shop.duckdb"), 2)
    assert "13812345678" not in phone_like  # what looks like a phone stays out of messages


@pytest.mark.parametrize(("text", "customer", "how"), [
    ("138 1234 5678", "amy_shop", "phone"),
    ("13812345678", "amy_shop", "phone"),
    ("+86 138-1234-5678", "amy_shop", "phone"),
    ("8613812345678", "amy_shop", "phone"),
    ("5678", "amy_shop", "phone"),  # the last digits
    ("138****5678", "amy_shop", "phone"),  # a masked number as a platform shows it
    ("13900001111", "bob_88", "phone"),  # stored with +86 and dashes
    ("13711112222", "cat_99", "phone"),  # stored masked: agrees on every digit it shows
    ("AMY@example.COM", "amy_shop", "email"),
    ("bob li", "bob_88", "name"),
    ("小美", "amy_shop", "name"),
    ("cat_", "cat_99", "id"),
])
def test_find_one_customer_explains_them(text: str, customer: str, how: str, shop: Path, rfm) -> None:
    shown = rfm("explain", "--find", text, "--db", "shop.duckdb", "-f", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["customer_id"] == customer
    assert f"found customer {customer} by {how}" in shown.stderr


def test_find_several_lists_them_as_csv_when_piped(shop: Path, rfm) -> None:
    shown = rfm("explain", "--find", "王", "--db", "shop.duckdb")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "customer_id,customer_name,phone,email,orders,last_order_at,matched_on"
    assert [ln.split(",")[0] for ln in lines[1:]] == ["cat_99", "amy_shop"]  # latest order first


def test_find_nothing_is_an_error_that_does_not_echo_the_search(shop: Path, rfm, assert_cli_error) -> None:
    line = assert_cli_error(rfm("explain", "--find", "13500000000", "--db", "shop.duckdb"), 2)
    assert "13500000000" not in line


def test_find_in_export_files_without_a_database(tmp_path: Path, write_orders, rfm) -> None:
    path = write_orders("shop.csv", ROWS, header=HEADER)
    shown = rfm("explain", "--find", "5678", path, "-f", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["customer_id"] == "amy_shop"
    assert not (tmp_path / "rfm.duckdb").exists()


def test_explain_needs_an_id_or_find(rfm, assert_cli_error) -> None:
    assert "--find" in assert_cli_error(rfm("explain"), 2)


def test_find_explains_with_the_same_settings_as_the_id(shop: Path, tmp_path: Path, rfm) -> None:
    """rfm.toml's [tags] (fixed AOV bands) reach the account whether the customer is named by id or
    found by phone: the two accounts are the same text."""
    (tmp_path / "rfm.toml").write_text('db = "shop.duckdb"\n[tags]\naov_bands = [60, 100]\n',
                                       encoding="utf-8")
    by_id = rfm("explain", "bob_88")
    found = rfm("explain", "--find", "13900001111")
    assert by_id.returncode == 0 and found.returncode == 0, by_id.stderr + found.stderr
    assert "60" in by_id.stderr and found.stderr.endswith(by_id.stderr)
