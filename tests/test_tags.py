"""Tags (issue 21): categories bought, the average-order-value band, favourite weekday and hour,
worked out by hand for a small shop; selections on them combine with tiers in `rfm export` and
`rfm run`; `rfm score` keeps its columns unless --with-tags."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

AS_OF = "2024-03-31"
HEADER = "order_id,customer_id,order_date,amount,status,sku,product,category,quantity,unit_price"
# Hand-worked, per customer (orders counted: paid, and not refunded):
#   c1: O1 Mon 2024-03-04 10h (面膜 40 + 精华 60), O2 Mon 2024-03-11 10h (面膜 30), O3 Wed 2024-03-13 21h
#       (袜子 20): spend 护肤 130, 服饰 20; AOV 150/3 = 50.00; weekday Monday (2 of 3), hour 10 (2 of 3)
#   c2: O4 Tue 2024-03-05 09h (袜子 12): 服饰; AOV 12.00
#   c3: O5 Fri 2024-03-08 14h (精华 300): 护肤; O6 cancelled (面膜 99): not counted; AOV 300.00
#   c4: O7 Sat 2024-03-09 20h (Mug 30, no category) and O8 Sun 2024-03-10 08h (Mug 30): no category;
#       AOV 30.00; weekday tie 1:1 -> Saturday (the earlier), hour tie -> 8
#   AOV tertiles of 12, 30, 50, 300 (linear): 1/3 -> 30 + (50-30)*0 = 30.00, 2/3 -> 50 + (300-50)*0 = 50.00
#   -> low: c2 (12), c4 (30); mid: c1 (50); high: c3 (300)
ROWS = [
    "O1,c1,2024-03-04 10:00:00,40.00,paid,MASK-01,玻尿酸面膜,护肤,2,20.00",
    "O1,c1,2024-03-04 10:00:00,60.00,paid,SER-30,精华液 30ml,护肤,1,60.00",
    "O2,c1,2024-03-11 10:30:00,30.00,paid,MASK-01,玻尿酸面膜,护肤,1,30.00",
    "O3,c1,2024-03-13 21:00:00,20.00,paid,SOCK-5,加厚袜子,服饰,1,20.00",
    "O4,c2,2024-03-05 09:00:00,12.00,paid,SOCK-5,加厚袜子,服饰,1,12.00",
    "O5,c3,2024-03-08 14:00:00,300.00,paid,SER-30,精华液 30ml,护肤,5,60.00",
    "O6,c3,2024-03-09 14:00:00,99.00,cancelled,MASK-01,玻尿酸面膜,护肤,1,99.00",
    "O7,c4,2024-03-09 20:00:00,30.00,paid,MUG-1,Mug ceramic,,1,30.00",
    "O8,c4,2024-03-10 08:00:00,30.00,paid,MUG-1,Mug ceramic,,1,30.00",
]
TAGS = {  # customer: (categories, aov_band, favourite_weekday, favourite_hour)
    "c1": ("护肤|服饰", "mid", "Monday", "10"),
    "c2": ("服饰", "low", "Tuesday", "9"),
    "c3": ("护肤", "high", "Friday", "14"),
    "c4": ("", "low", "Saturday", "8"),
}


@pytest.fixture
def shop(rfm, tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("".join(f"{line}\n" for line in [HEADER, *ROWS]), encoding="utf-8")
    db = tmp_path / "shop.duckdb"
    done = rfm("--db", db, "import", path)
    assert done.returncode == 0, done.stderr
    return db


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_with_tags_adds_the_hand_worked_columns_after_the_tier(rfm, shop: Path) -> None:
    plain = rfm("--db", shop, "score", "--as-of", AS_OF, "-o", "-")
    tagged = rfm("--db", shop, "score", "--as-of", AS_OF, "-o", "-", "--with-tags")
    assert plain.returncode == 0 and tagged.returncode == 0, tagged.stderr
    plain_rows, tagged_rows = _table(plain.stdout), _table(tagged.stdout)
    header = tagged.stdout.splitlines()[0].split(",")
    assert header == plain.stdout.splitlines()[0].split(",") + [
        "categories", "aov_band", "favourite_weekday", "favourite_hour"]
    assert [{k: r[k] for k in plain_rows[0]} for r in tagged_rows] == plain_rows  # the scores unchanged
    assert {r["customer_id"]: (r["categories"], r["aov_band"], r["favourite_weekday"], r["favourite_hour"])
            for r in tagged_rows} == TAGS


def test_fixed_aov_bands_from_rfm_toml(rfm, shop: Path, tmp_path: Path) -> None:
    (tmp_path / "rfm.toml").write_text("[tags]\naov_bands = [30, 300]\ntop_categories = 1\n",
                                       encoding="utf-8")
    done = rfm("--db", shop, "score", "--as-of", AS_OF, "-o", "-", "--with-tags")
    assert done.returncode == 0, done.stderr
    rows = {r["customer_id"]: (r["categories"], r["aov_band"]) for r in _table(done.stdout)}
    # low below 30, mid 30 to below 300, high from 300: the edges belong to the band above
    assert rows == {"c1": ("护肤", "mid"), "c2": ("服饰", "low"), "c3": ("护肤", "high"), "c4": ("", "mid")}


def _send_ids(out: Path) -> dict[str, list[str]]:
    return {p.stem: [r["customer_id"] for r in csv.DictReader(p.open(encoding="utf-8"))]
            for p in sorted((out / "send" / "csv").glob("*.csv"))}


def _tiers(rfm, db: Path) -> dict[str, str]:
    done = rfm("--db", db, "score", "--as-of", AS_OF, "-o", "-")
    return {r["customer_id"]: r["tier"] for r in _table(done.stdout)}


@pytest.mark.parametrize(("selection", "bought_by"), [
    # c3's cancelled 面膜 does not count, its 精华 does
    (["--bought", "category:护肤"], {"c1", "c3"}),
    (["--bought", "sku:SOCK-5"], {"c1", "c2"}),
    (["--bought", "product:mug"], {"c4"}),                   # a piece of the title, any case
    (["--bought", "sku:MUG-1", "--bought", "category:服饰"], {"c1", "c2", "c4"}),  # any of them
    (["--aov-band", "high,low"], {"c2", "c3", "c4"}),
    (["--bought", "category:护肤", "--aov-band", "high"], {"c3"}),
])
def test_selections_pick_by_tags_in_every_tier(rfm, shop: Path, tmp_path: Path, selection, bought_by) -> None:
    out = tmp_path / "out"
    done = rfm("--db", shop, "export", "--out-dir", out, "--as-of", AS_OF, *selection)
    assert done.returncode == 0, done.stderr
    tiers = _tiers(rfm, shop)
    sent = _send_ids(out)
    assert {c for ids in sent.values() for c in ids} == bought_by
    assert all(tiers[c] == tier for tier, ids in sent.items() for c in ids)
    # the state files stay complete, and the send lists carry no tag columns
    listed = [r["customer_id"] for p in (out / "tiers").glob("*.csv") for r in csv.DictReader(p.open())]
    assert sorted(listed) == ["c1", "c2", "c3", "c4"]
    header = (out / "send" / "csv" / f"{next(iter(sent))}.csv").read_text().splitlines()[0]
    assert "aov_band" not in header and "bought" not in header


def test_a_tag_selection_combines_with_a_tier_in_run(rfm, shop: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "later.csv").write_text(f"{HEADER}\nO9,c5,2024-03-20 12:00:00,5.00,paid,PEN,Pen,文具,1,5.00\n",
                                     encoding="utf-8")
    out = tmp_path / "run"
    tier = "potential"
    done = rfm("--db", shop, "run", inbox, "--out-dir", out, "--as-of", AS_OF, "--tier", tier,
               "--bought", "category:护肤", "--bought", "category:文具")
    assert done.returncode == 0, done.stderr
    tiers = _tiers(rfm, shop)  # after the run's import
    expected = sorted(c for c in ("c1", "c3", "c5") if tiers[c] == tier)
    assert expected and sorted(_send_ids(out)[tier]) == expected


def test_no_product_data_is_one_line_for_a_product_selection(rfm, tmp_path: Path, write_orders,
                                                            assert_cli_error) -> None:
    plain = write_orders("plain.csv", [("A1", "c1", "2024-03-01", "10.00", "paid", "")])
    db = tmp_path / "p.duckdb"
    assert rfm("--db", db, "import", plain).returncode == 0
    before = db.read_bytes()
    line = assert_cli_error(rfm("--db", db, "export", "--out-dir", tmp_path / "out", "--as-of", AS_OF,
                                "--bought", "category:护肤"), 65)
    assert "no product data in these imports" in line
    assert not (tmp_path / "out").exists()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM rfm_sends").fetchall() == [(0,)]
    assert db.read_bytes() == before
    # --aov-band needs no products; --with-tags says what is missing in one note
    assert rfm("--db", db, "export", "--out-dir", tmp_path / "out", "--as-of", AS_OF,
               "--aov-band", "low").returncode == 0
    done = rfm("--db", db, "score", "--as-of", AS_OF, "-o", "-", "--with-tags")
    assert done.returncode == 0
    assert [ln for ln in done.stderr.splitlines() if "no product data in these imports" in ln] == [
        "note: no product data in these imports: the categories column is empty"]


@pytest.mark.parametrize(("args", "fix"), [
    (["--bought", "brand:x"], "category:护肤"),
    (["--bought", "category:"], "category:护肤"),
    (["--aov-band", "top"], "low, mid, high"),
])
def test_bad_tag_selections_are_usage_errors(rfm, shop: Path, tmp_path: Path, assert_cli_error, args,
                                             fix) -> None:
    line = assert_cli_error(rfm("--db", shop, "export", "--out-dir", tmp_path / "o", *args), 2)
    assert fix in line
