"""The follow-ups `rfm run` writes each night from rfm.toml's [[followups]], their one-line errors,
and the category of the trigger order when the store has product data (lines in rfm_order_lines)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "delivered_date", "phone")
ORDERS = [  # days since the first counted order on 2026-03-10: amy 7 (delivered), bob 8, cat 37, dan 7
    ("A1", "amy", "2026-03-01 10:00:00", "10.00", "paid", "2026-03-03 15:00:00", "13800000001"),
    ("B1", "bob", "2026-03-02 10:00:00", "20.00", "paid", "", "13800000002"),
    ("C0", "cat", "2026-02-01 10:00:00", "30.00", "paid", "", "13800000003"),
    ("C1", "cat", "2026-03-02 10:00:00", "30.00", "paid", "", "13800000003"),
    ("D1", "dan", "2026-03-03 10:00:00", "15.00", "paid", "", "13800000004"),
]
TWO_FOLLOWUPS = """
db = "shop.duckdb"

[[followups]]
name = "day7_coupon"
window = "7:9"
since = "first_order"
who = "first_time"
channel = "sms"

[[followups]]
name = "repeat_thanks"
window = 8
since = "last_order"
"""


@pytest.fixture
def orders(write_orders) -> Path:
    return write_orders("orders.csv", ORDERS, header=HEADER)


def _run(rfm, src: Path, night: str, *flags: str) -> dict:
    done = rfm("run", src, "--out-dir", "night", "--as-of", night, *flags)
    assert done.returncode == 0, done.stderr
    return json.loads(Path("night/manifest.json").read_text(encoding="utf-8"))


def _rows(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[1:]


def test_run_writes_two_followups_beside_the_tier_lists(tmp_path: Path, orders: Path, rfm) -> None:
    (tmp_path / "rfm.toml").write_text(TWO_FOLLOWUPS, encoding="utf-8")
    manifest = _run(rfm, orders, "2026-03-10")
    assert sorted(_rows(Path("night/send/sms/day7_coupon.csv"))) == ["13800000001", "13800000002",
                                                                     "13800000004"]
    # since the last order, 8 days: bob (B1) and cat (C1, a repeat buyer: who = all)
    assert sorted(r.split(",")[0] for r in _rows(Path("night/send/csv/repeat_thanks.csv"))) == ["bob", "cat"]
    entries = {(f["path"]): (f["kind"], f["list"], f["channel"], f["tier"]) for f in manifest["files"]}
    assert entries["send/sms/day7_coupon.csv"] == ("send", "day7_coupon", "sms", None)
    assert entries["send/csv/repeat_thanks.csv"] == ("send", "repeat_thanks", "csv", None)
    assert "send/csv/potential.csv" in entries and "tiers/potential.csv" in entries  # the night's lists stay
    assert [f["name"] for f in manifest["selection"]["followups"]] == ["day7_coupon", "repeat_thanks"]


def test_run_three_nights_sends_once(tmp_path: Path, orders: Path, rfm) -> None:
    (tmp_path / "rfm.toml").write_text(TWO_FOLLOWUPS, encoding="utf-8")
    sent = {}
    for night in ("2026-03-09", "2026-03-10", "2026-03-11"):
        manifest = _run(rfm, orders, night)
        (entry,) = [e for e in manifest["lists"] if e["list"] == "day7_coupon"]
        sent[night] = (sorted(_rows(Path("night/send/sms/day7_coupon.csv"))), entry["selected"],
                       entry["dropped"])
    assert sent == {
        "2026-03-09": (["13800000002"], 1, {}),  # bob day 7; amy and dan day 6
        "2026-03-10": (["13800000001", "13800000004"], 3, {"already sent for this order": 1}),
        "2026-03-11": ([], 3, {"already sent for this order": 3}),
    }


def test_run_honours_suppression(tmp_path: Path, orders: Path, rfm) -> None:
    (tmp_path / "rfm.toml").write_text(TWO_FOLLOWUPS, encoding="utf-8")
    assert rfm("import", orders).returncode == 0
    assert rfm("suppress", "add", "13800000001").returncode == 0  # amy
    manifest = _run(rfm, orders, "2026-03-10")
    assert sorted(_rows(Path("night/send/sms/day7_coupon.csv"))) == ["13800000002", "13800000004"]
    (entry,) = [e for e in manifest["lists"] if e["list"] == "day7_coupon"]
    assert entry["selected"] == 3 and entry["rows"] == 2 and sum(entry["dropped"].values()) == 1


@pytest.mark.parametrize(("table", "expected"), [
    ('name = "d7"\nwindow = "7-9"', "[[followups]] #1 (d7): key 'window' = '7-9' is not N or FROM:TO"),
    ('name = "d7"\nwindow = "9:7"', "key 'window' = '9:7' is not N or FROM:TO days (FROM <= TO)"),
    ('name = "d7"\nwindow = 7\nsince = "delivery"',
     "key 'since' = 'delivery' is not one of first_order, last_order"),
    ('name = "d7"\nwindow = 7\nwho = "new"', "key 'who' = 'new' is not one of all, first_time"),
    ('name = "d7"\nwindow = 7\nchannel = "wechat"', "key 'channel' = 'wechat' is not one of csv, sms"),
    ('name = "d7"\nwindow = 7\ndays = 7', "[[followups]] #1 (d7): unknown key 'days'; keys: name, window"),
    ('window = 7', "[[followups]] #1: key 'name' is missing"),
    ('name = "../d7"\nwindow = 7', "key 'name' = '../d7' cannot name a list file"),
    ('name = "d7"\nwindow = 7\n\n[[followups]]\nname = "d7"\nwindow = 9',
     "[[followups]] #2 (d7): key 'name' = 'd7' is used by another follow-up"),
])
def test_a_bad_followup_table_is_one_line_naming_the_key(tmp_path: Path, orders: Path, rfm, assert_cli_error,
                                                         table: str, expected: str) -> None:
    (tmp_path / "rfm.toml").write_text(f"[[followups]]\n{table}\n", encoding="utf-8")
    line = assert_cli_error(rfm("run", orders, "--out-dir", "night"), 78)
    assert expected in line and str(tmp_path / "rfm.toml") in line
    assert not (tmp_path / "night").exists() and not (tmp_path / "rfm.duckdb").exists()


@pytest.mark.parametrize(("flags", "expected"), [
    (("--days-since-first-order", "seven"), "--days-since-first-order 'seven' is not N or FROM:TO days"),
    (("--days-since-last-order", "9:7"), "--days-since-last-order '9:7' is not a window of days"),
    (("--who", "first_time"), "--who applies to a day-N list"),
    (("--days-since-first-order", "7", "--who", "new"), "--who 'new' is not a choice"),
])
def test_bad_flags_are_usage_errors(orders: Path, rfm, assert_cli_error, flags, expected) -> None:
    assert rfm("import", orders, "--db", "shop.duckdb").returncode == 0
    line = assert_cli_error(rfm("export", "--db", "shop.duckdb", "--out-dir", "out", *flags), 2)
    assert expected in line
    assert not Path("out").exists()


# ------------------------------------------------------------------ the trigger order's category

def test_the_row_carries_the_top_category_of_the_trigger_order(tmp_path: Path, orders: Path, rfm) -> None:
    assert rfm("import", orders, "--db", "shop.duckdb").returncode == 0
    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    con.executemany("INSERT INTO rfm_order_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        # amy's A1: 护肤 6.00 + 4.00 beats 彩妆 8.00 (by amount, not by line count)
        (1, "A1", 1, "S1", "面霜", "护肤", 1, 6, 6), (1, "A1", 2, "S2", "口红", "彩妆", 1, 8, 8),
        (1, "A1", 3, "S3", "爽肤水", "护肤", 1, 4, 4),
        # bob's B1: a tie is broken by the category's name; a line without a category is left out
        (1, "B1", 1, "S4", "袜子", "服饰", 1, 10, 10), (1, "B1", 2, "S5", "帽子", "配件", 1, 10, 10),
        (1, "B1", 3, "S6", "赠品", None, 1, 50, 50),
        # cat's first order C0 has lines, her last C1 none; dan's D1 none
        (1, "C0", 1, "S7", "茶", "食品", 2, 15, 30),
    ])
    con.close()
    done = rfm("export", "--db", "shop.duckdb", "--out-dir", "out", "--as-of", "2026-03-10",
               "--days-since-first-order", "7:40")
    assert done.returncode == 0, done.stderr
    lines = Path("out/send/csv/days_since_first_order_7-40.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    category = {row.split(",")[0]: row.split(",")[header.index("trigger_category")] for row in lines[1:]}
    assert category == {"amy": "护肤", "bob": "服饰", "cat": "食品", "dan": ""}


def test_top_categories_is_none_without_product_data(tmp_path: Path, orders: Path, rfm) -> None:
    import polars as pl

    from rfm_cli.core.followups import top_categories
    from rfm_cli.core.store import open_store

    assert rfm("import", orders, "--db", "shop.duckdb").returncode == 0
    with open_store(str(tmp_path / "shop.duckdb"), create=False) as store:
        assert top_categories(store, pl.Series(["A1"])) is None


def test_the_readme_followups_run_on_the_sample(tmp_path: Path, rfm) -> None:
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"^```toml\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
               if b.startswith("# rfm.toml: follow-ups")]
    (tmp_path / "rfm.toml").write_text(block, encoding="utf-8")
    done = rfm("run", root / "sample_data" / "orders.csv", "--out-dir", "night")
    assert done.returncode == 0, done.stderr
    manifest = json.loads(Path("night/manifest.json").read_text(encoding="utf-8"))
    rows = {f["path"]: f["rows"] for f in manifest["files"]}
    assert rows["send/sms/day7_coupon.csv"] > 0 and rows["send/csv/day15_content.csv"] > 0
    day15 = Path("night/send/csv/day15_content.csv").read_text(encoding="utf-8").splitlines()
    header = day15[0].split(",")
    assert {int(line.split(",")[header.index("days_since")]) for line in day15[1:]} <= {15, 16, 17}


def test_checking_the_followups_of_rfm_toml_does_not_load_polars(tmp_path: Path, orders: Path) -> None:
    """rfm.toml is checked by every command; `rfm import` still never loads Polars."""
    import subprocess
    import sys

    (tmp_path / "rfm.toml").write_text(TWO_FOLLOWUPS, encoding="utf-8")
    probe = ("import sys\nfrom rfm_cli.launch import main\ntry:\n    main(['import', 'orders.csv', '-q'])\n"
             "except SystemExit as exc:\n    print(exc.code, 'polars' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout.split() == ["0", "False"], done.stderr


def test_a_followup_named_like_a_tier_is_refused(tmp_path: Path, orders: Path, rfm, assert_cli_error) -> None:
    (tmp_path / "rfm.toml").write_text('[[followups]]\nname = "gold"\nwindow = 7\n', encoding="utf-8")
    line = assert_cli_error(rfm("run", orders, "--out-dir", "night"), 2)
    assert "tier named 'gold'" in line and "give the follow-up another name" in line
    assert not (tmp_path / "night").exists()


def test_the_library_takes_the_same_followups(tmp_path: Path, orders: Path) -> None:
    import rfm

    shop = rfm.Shop(tmp_path / "shop.duckdb")
    shop.import_files(orders)
    shop.run(orders, out_dir="lib", as_of="2026-03-10",
             followups=[{"name": "day7_coupon", "window": "7:9", "who": "first_time", "channel": "sms"}])
    assert sorted(_rows(Path("lib/send/sms/day7_coupon.csv"))) == ["13800000001", "13800000002",
                                                                   "13800000004"]
    shop.export("flags", as_of="2026-03-11", days_since_last_order="8:9")
    assert sorted(r.split(",")[0] for r in _rows(Path("flags/send/csv/days_since_last_order_8-9.csv"))) == [
        "amy", "bob", "cat", "dan"]


LINE_HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "delivered_date", "phone", "sku",
               "product")
DELIVERED = "2026-03-03 15:00:00"
LINES = [  # one row per line; days since the first order on 2026-03-10: amy 7 (delivered), bob 8, dan 8
    ("A1", "amy", "2026-03-01 10:00:00", "60.00", "paid", DELIVERED, "13800000001", "S1", "玻尿酸面霜"),
    ("A1", "amy", "2026-03-01 10:00:00", "40.00", "paid", DELIVERED, "13800000001", "S2", "纯棉袜子"),
    ("B1", "bob", "2026-03-02 10:00:00", "10.00", "paid", "", "13800000002", "S2", "纯棉袜子"),
    ("B1", "bob", "2026-03-02 10:00:00", "25.00", "paid", "", "13800000002", "S3", "保湿面膜 10片"),
    ("D1", "dan", "2026-03-02 10:00:00", "15.00", "paid", "", "13800000004", "S9", "赠品"),
]
CATEGORIES = "pattern,category\n*面霜*,护肤\n*面膜*,护肤\nS2,服饰\n"


@pytest.fixture
def with_products(tmp_path: Path, write_orders) -> tuple[Path, Path]:
    """An export with one row per line (products, a delivered date) and a --categories map for it."""
    (tmp_path / "cats.csv").write_text(CATEGORIES, encoding="utf-8")
    return write_orders("lines.csv", LINES, header=LINE_HEADER), tmp_path / "cats.csv"


def _table(path: Path) -> list[list[str]]:
    return [row.split(",") for row in path.read_text(encoding="utf-8").splitlines()]


def test_the_category_comes_from_an_imported_export_and_the_category_map(with_products, rfm) -> None:
    """End to end, no table made by hand: the day-7 list of `rfm run` names the top category of each
    trigger order by line amount, from the lines of the export and the --categories map."""
    src, cats = with_products
    done = rfm("run", src, "--categories", cats, "--days-since-first-order", "7:9",
               "--out-dir", "night", "--as-of", "2026-03-10")
    assert done.returncode == 0, done.stderr
    header, *rows = _table(Path("night/send/csv/days_since_first_order_7-9.csv"))
    got = {r[0]: (r[header.index("trigger_category")], r[header.index("trigger_basis")]) for r in rows}
    # amy: delivered 03-03, 护肤 60 beats 服饰 40; bob: 护肤 25 beats 服饰 10; dan: no category for 赠品
    assert got == {"amy": ("护肤", "delivered"), "bob": ("护肤", "ordered"), "dan": ("", "ordered")}


def test_sms_vars_category_puts_the_trigger_category_in_the_sms_list(with_products, rfm) -> None:
    src, cats = with_products
    assert rfm("import", src, "--categories", cats).returncode == 0
    done = rfm("export", "--out-dir", "out", "--as-of", "2026-03-10", "--days-since-first-order", "7:9",
               "--channel", "sms", "--sms-vars", "name,category")
    assert done.returncode == 0, done.stderr
    assert _table(Path("out/send/sms/days_since_first_order_7-9.csv")) == [
        ["phone", "name", "category"], ["13800000001", "", "护肤"], ["13800000002", "", "护肤"],
        ["13800000004", "", ""]]
    zh = rfm("export", "--out-dir", "zh", "--as-of", "2026-03-10", "--days-since-first-order", "7:9",
             "--channel", "sms", "--sms-vars", "category", "--lang", "zh")
    assert zh.returncode == 0, zh.stderr
    assert _table(Path("zh/send/sms/days_since_first_order_7-9.csv"))[0] == ["手机号码", "品类"]


def test_rfm_run_writes_the_category_on_a_followups_sms_list_beside_the_tier_lists(
        tmp_path: Path, with_products, rfm) -> None:
    src, cats = with_products
    (tmp_path / "rfm.toml").write_text('[[followups]]\nname = "day7_coupon"\nwindow = "7:9"\n'
                                       'channel = "sms"\n', encoding="utf-8")
    done = rfm("run", src, "--categories", cats, "--out-dir", "night", "--as-of", "2026-03-10",
               "--sms-vars", "category")
    assert done.returncode == 0, done.stderr
    assert _table(Path("night/send/sms/day7_coupon.csv"))[1:] == [
        ["13800000001", "护肤"], ["13800000002", "护肤"], ["13800000004", ""]]
    assert any(Path("night/send/csv").glob("*.csv"))  # the tiers' lists, on csv, as every night


@pytest.mark.parametrize("flags", [
    ("--channel", "sms", "--sms-vars", "category"),  # the tiers' SMS lists have no trigger order
    ("--days-since-first-order", "7:9", "--winback", "--channel", "sms", "--sms-vars", "category"),
    # --tier keeps the named tiers' lists beside the day-N list
    ("--days-since-first-order", "7:9", "--tier", "potential", "--channel", "sms", "--sms-vars", "category"),
])
def test_sms_vars_category_on_a_list_without_a_trigger_is_refused_before_any_work(
        with_products, rfm, flags: tuple[str, ...]) -> None:
    src, cats = with_products
    assert rfm("import", src, "--categories", cats).returncode == 0
    done = rfm("export", "--out-dir", "out", "--as-of", "2026-03-10", *flags)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--sms-vars category" in done.stderr and "trigger order" in done.stderr
    assert not Path("out").exists()


def test_sms_vars_category_without_product_data_is_refused_and_writes_nothing(orders: Path, rfm) -> None:
    assert rfm("import", orders).returncode == 0
    done = rfm("export", "--out-dir", "out", "--as-of", "2026-03-10", "--days-since-first-order", "7:9",
               "--channel", "sms", "--sms-vars", "category")
    assert done.returncode != 0
    assert "no product data in these imports" in done.stderr and done.stderr.count("\n") == 1
    assert not Path("out").exists()


def test_the_sms_length_estimate_counts_the_category_in_either_language(with_products, rfm) -> None:
    """The manifest's longest message (what the provider bills by) fills ${category} with the list's
    values whether the column is named category or 品类."""
    src, cats = with_products
    assert rfm("import", src, "--categories", cats).returncode == 0
    longest = {}
    for lang in ("en", "zh"):
        done = rfm("export", "--out-dir", lang, "--as-of", "2026-03-10", "--days-since-first-order", "7:9",
                   "--channel", "sms", "--sms-vars", "category", "--lang", lang,
                   "--template", "【小店】您买的${category}有新品，拒收请回复R")
        assert done.returncode == 0, done.stderr
        manifest = json.loads(Path(lang, "manifest.json").read_text(encoding="utf-8"))
        longest[lang] = manifest["sending"]["template_check"]["lists"][0]["longest_message"]
    assert longest["en"] == longest["zh"] == len("【小店】您买的护肤有新品，拒收请回复R")
