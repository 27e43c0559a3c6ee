"""The report's category mix per tier and the top categories of repeat buyers (issue 21): they sum
back to the lines of the counted orders, worked out by hand; `rfm explain` shows the tags and how."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from test_tags import AS_OF, HEADER, ROWS

# Line spend of counted orders per customer and category, by hand from test_tags.ROWS (O6 is
# cancelled, so c3's 面膜 is not in it); frequency: counted orders.
SPEND = {("c1", "护肤"): 130.0, ("c1", "服饰"): 20.0, ("c2", "服饰"): 12.0, ("c3", "护肤"): 300.0,
         ("c4", "(no category)"): 60.0}
ORDERS = {("c1", "护肤"): 2, ("c1", "服饰"): 1, ("c2", "服饰"): 1, ("c3", "护肤"): 1,
          ("c4", "(no category)"): 2}
FREQUENCY = {"c1": 3, "c2": 1, "c3": 1, "c4": 2}


@pytest.fixture
def shop(rfm, tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("".join(f"{line}\n" for line in [HEADER, *ROWS]), encoding="utf-8")
    db = tmp_path / "shop.duckdb"
    assert rfm("--db", db, "import", path).returncode == 0
    return db


def _report(rfm, db: Path) -> dict:
    done = rfm("--db", db, "report", "--as-of", AS_OF, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_category_mix_sums_back_to_the_lines_of_each_tier(rfm, shop: Path) -> None:
    scores = rfm("--db", shop, "score", "--as-of", AS_OF, "-o", "-")
    tier_of = {r["customer_id"]: r["tier"] for r in csv.DictReader(io.StringIO(scores.stdout))}
    expected: dict[tuple[str, str], list] = defaultdict(lambda: [set(), 0, 0.0])
    for (customer, category), spend in SPEND.items():
        cell = expected[(tier_of[customer], category)]
        cell[0].add(customer)
        cell[1] += ORDERS[(customer, category)]
        cell[2] += spend
    products = _report(rfm, shop)["products"]
    mix = {(r["tier"], r["category"]): r for r in products["category_mix"]}
    assert {k: (r["customers"], r["orders"], r["spend"]) for k, r in mix.items()} == {
        k: (len(c), o, s) for k, (c, o, s) in expected.items()}
    for tier in set(tier_of.values()):  # shares add up to 1 in every tier
        assert sum(r["share"] for (t, _), r in mix.items() if t == tier) == pytest.approx(1.0)
    assert sum(r["spend"] for r in products["category_mix"]) == sum(SPEND.values())


def test_top_categories_of_repeat_buyers(rfm, shop: Path) -> None:
    repeat = _report(rfm, shop)["products"]["repeat_buyers"]
    # repeat buyers: c1 (3 orders) and c4 (2); c2 and c3 bought once
    spend = defaultdict(float)
    for (customer, category), amount in SPEND.items():
        if FREQUENCY[customer] >= 2:
            spend[category] += amount
    assert [(r["category"], r["spend"]) for r in repeat] == sorted(spend.items(), key=lambda kv: -kv[1])
    assert [r["customers"] for r in repeat] == [1, 1, 1]
    assert sum(r["share"] for r in repeat) == pytest.approx(1.0)


def test_html_report_has_the_section_or_says_there_is_no_product_data(rfm, shop: Path, tmp_path: Path,
                                                                       write_orders) -> None:
    page = tmp_path / "r.html"
    assert rfm("--db", shop, "report", "--as-of", AS_OF, "--html", page, "--lang", "zh").returncode == 0
    section = re.search(r'<section id="products">(.*?)</section>', page.read_text(encoding="utf-8"),
                        re.DOTALL)
    assert (section and "各层级品类构成" in section.group(1)
            and "<td class=\"text\">护肤</td>" in section.group(1))
    assert "300.00" in section.group(1)
    plain = write_orders("plain.csv", [("A1", "c1", "2024-03-01", "10.00", "paid", "")])
    assert rfm("--db", tmp_path / "p.duckdb", "import", plain).returncode == 0
    assert rfm("--db", tmp_path / "p.duckdb", "report", "--as-of", AS_OF, "--html", page).returncode == 0
    section = re.search(r'<section id="products">(.*?)</section>', page.read_text(encoding="utf-8"),
                        re.DOTALL)
    assert section and "no product data in these imports" in section.group(1)


def test_explain_shows_the_tags_and_how(rfm, shop: Path) -> None:
    done = rfm("--db", shop, "explain", "c1", "--as-of", AS_OF, "--no-predictions", "--format", "json")
    assert done.returncode == 0, done.stderr
    tags = json.loads(done.stdout)["tags"]
    assert tags[0] == ("categories = 护肤|服饰: line spend of counted orders by category "
                       "(护肤 130.00, 服饰 20.00), the top 3 kept")
    assert tags[1].startswith("aov_band = mid: AOV = monetary 150.00 / 3 counted orders = 50.00; tertiles")
    assert tags[2].startswith("favourite_weekday = Monday, favourite_hour = 10")
