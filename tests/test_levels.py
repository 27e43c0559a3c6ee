"""Member levels (core/levels.py): the nightly rule worked by hand over a year, the SQL against an
independent replay in Python on random shops, and the command's contract."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from rfm_cli.core import levels_store
from rfm_cli.core.errors import ConfigError, UsageError
from rfm_cli.core.ingest.pipeline import ImportOptions, import_files
from rfm_cli.core.levels import Level, LevelRules, State, parse_levels, step
from rfm_cli.core.store import open_store

HEADER = "order_id,customer_id,order_date,amount,status,refund_amount\n"

# Orders only: regular (everyone), silver from 2 orders in the window, gold from 4 or from 1,000.
RULES = LevelRules(
    levels=(Level("regular"), Level("silver", min_orders=2), Level("gold", min_spend=1000, min_orders=4)),
    window_days=90,
    hold_days=30,
    match="any",
)


def write(path: Path, orders: list[tuple[str, str, date, float, str, str]]) -> Path:
    path.write_text(
        HEADER + "".join(f"{o},{c},{d} 12:00:00,{a:.2f},{s},{r}\n" for o, c, d, a, s, r in orders),
        encoding="utf-8",
    )
    return path


def nights(db: Path, files: list[Path], rules: LevelRules, days: list[date]) -> dict[date, dict[str, str]]:
    """Import the files, then save the levels of each night in turn; {night: {customer: level}}."""
    seen: dict[date, dict[str, str]] = {}
    with open_store(str(db)) as store:
        import_files(store, files, ImportOptions(rejects_dir=None))
        for day in days:
            with store.transaction():
                night = levels_store.compute(store, rules, day, save=True)
            seen[day] = dict(night.customers.select("customer_id", "level").iter_rows())
    return seen


def replay(
    orders: list[tuple[str, str, date, float, str, str]], rules: LevelRules, days: list[date]
) -> dict[date, dict[str, str]]:
    """The same nights computed without rfm's SQL: window totals in Python, the step of levels.py."""
    states: dict[str, State] = {}
    seen: dict[date, dict[str, str]] = {}
    for day in days:
        start = day - timedelta(days=rules.window_days - 1)
        levels: dict[str, str] = {}
        for customer in sorted({c for _, c, d, _, _, _ in orders if d <= day}):
            mine = [
                (d, a - (float(r) if r else 0.0))
                for _, c, d, a, s, r in orders
                if c == customer and s == "paid" and d <= day and a - (float(r) if r else 0.0) > 0
            ]
            if not mine:
                continue  # no counted order yet: no level
            in_window = [net for d, net in mine if d >= start]
            spend, count = sum(in_window), len(in_window)
            qualified = 0
            for rank, level in enumerate(rules.levels[1:], start=1):
                tests = [spend >= level.min_spend] if level.min_spend is not None else []
                tests += [count >= level.min_orders] if level.min_orders is not None else []
                if any(tests) if rules.match == "any" else all(tests):
                    qualified = rank
            states[customer] = step(states.get(customer), qualified, day, rules.hold_days)
            levels[customer] = rules.levels[states[customer].rank].name
        seen[day] = levels
    return seen


def test_a_year_with_an_upgrade_a_hold_and_a_downgrade(tmp_path: Path) -> None:
    """C1 buys every 10 days from January to mid-March, then stops. Window 90 days, hold 30:
    - silver on the night of the 2nd order (2 in the window), gold on the night of the 4th;
    - the orders leave the window from mid-April: C1 qualifies for less, but keeps gold for 30 days
      after the last night it qualified, then drops straight to what it qualifies for.
    Weekly nights over the year; the levels never go down inside the hold."""
    buys = [date(2026, 1, 5) + timedelta(days=10 * i) for i in range(8)]  # Jan 5 .. Mar 16
    orders = [(f"O{i}", "C1", d, 100.0, "paid", "") for i, d in enumerate(buys)]
    days = [date(2026, 1, 5) + timedelta(days=7 * i) for i in range(52)]
    seen = nights(tmp_path / "shop.duckdb", [write(tmp_path / "o.csv", orders)], RULES, days)

    level = {d: seen[d]["C1"] for d in days}
    assert level[date(2026, 1, 5)] == "regular"  # one order
    assert level[date(2026, 1, 19)] == "silver"  # Jan 5, 15
    assert level[date(2026, 2, 9)] == "gold"  # Jan 5, 15, 25, Feb 4
    # Last night gold was qualified for: 4 orders in the 90 days to the night. Feb 24 .. Mar 16 are the
    # last four orders (Feb 24, Mar 6, Mar 16, plus Feb 14): the window holds 4 until Feb 14 leaves it.
    last_gold = max(d for d in days if sum(1 for b in buys if d - timedelta(days=89) <= b <= d) >= 4)
    assert last_gold == date(2026, 5, 11)
    held = [d for d in days if last_gold < d < last_gold + timedelta(days=30)]
    assert held and all(level[d] == "gold" for d in held)
    after = min(d for d in days if d >= last_gold + timedelta(days=30))
    in_window = sum(1 for b in buys if after - timedelta(days=89) <= b <= after)
    assert level[after] == ("silver" if in_window >= 2 else "regular")
    assert level[days[-1]] == "regular"  # nothing left in the window, hold long over
    ranks = {"regular": 0, "silver": 1, "gold": 2}
    for a, b in itertools.pairwise(days):  # never down within the hold
        if ranks[level[b]] < ranks[level[a]]:
            assert b >= last_gold + timedelta(days=30)
    assert seen == replay(orders, RULES, days)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("match", ["any", "all"])
def test_the_sql_follows_the_rule_on_random_shops(tmp_path: Path, seed: int, match: str) -> None:
    """30 customers with random orders (some cancelled, some refunded in part or whole) over a year,
    nights at random gaps: every night's levels equal the Python replay."""
    rng = random.Random(seed)
    rules = LevelRules(
        levels=(
            Level("regular"),
            Level("silver", min_spend=300, min_orders=2),
            Level("gold", min_spend=900, min_orders=5),
        ),
        window_days=rng.choice([30, 60, 120]),
        hold_days=rng.choice([0, 14, 45]),
        match=match,
    )
    orders = []
    for i in range(400):
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        amount = rng.choice([40.0, 120.0, 250.0, 600.0])
        status = rng.choices(["paid", "cancelled"], [9, 1])[0]
        refund = rng.choices(["", f"{amount / 2:.2f}", f"{amount:.2f}"], [8, 1, 1])[0]
        orders.append((f"O{i}", f"C{rng.randrange(30)}", day, amount, status, refund))
    days, day = [], date(2025, 1, 10)
    while day <= date(2025, 12, 31):
        days.append(day)
        day += timedelta(days=rng.choice([1, 3, 7, 15]))
    seen = nights(tmp_path / "shop.duckdb", [write(tmp_path / "o.csv", orders)], rules, days)
    assert seen == replay(orders, rules, days)
    assert_one_row_per_key(tmp_path / "shop.duckdb")


def assert_one_row_per_key(db: Path) -> None:
    """The keys the tables have no primary key for (schema 19): one level per customer, one change
    per customer and night."""
    with open_store(str(db)) as store:
        assert store.con.execute(
            "SELECT count(*) - count(DISTINCT customer_id) FROM rfm_levels").fetchone() == (0,)
        assert store.con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT as_of, customer_id FROM rfm_level_changes)"
        ).fetchone() == store.con.execute("SELECT count(*) FROM rfm_level_changes").fetchone()


def test_a_night_saved_twice_is_the_same_night(tmp_path: Path) -> None:
    orders = [(f"O{i}", "C1", date(2026, 3, 1) + timedelta(days=i), 100.0, "paid", "") for i in range(5)]
    db, csv = tmp_path / "shop.duckdb", write(tmp_path / "o.csv", orders)
    first = nights(db, [csv], RULES, [date(2026, 3, 1), date(2026, 3, 10)])
    with open_store(str(db)) as store:
        with store.transaction():
            again = levels_store.compute(store, RULES, date(2026, 3, 10), save=True)
        assert dict(again.customers.select("customer_id", "level").iter_rows()) == first[date(2026, 3, 10)]
        assert again.changes()["customer_id"].to_list() == ["C1"]  # regular -> gold that night, still
        with pytest.raises(UsageError, match="levels move forward in time"):
            levels_store.compute(store, RULES, date(2026, 3, 9), save=False)
    assert_one_row_per_key(db)


def test_the_built_in_levels_read_as_a_seller_writes_them() -> None:
    rules = parse_levels(None, "built-in")
    assert rules.names() == ["regular", "silver", "gold", "diamond"]
    assert rules.describe(rules.levels[2]) == "spend >= 2,000.00 or orders >= 6 in the last 365 days"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"level": [{"name": "a", "min_orders": 1}, {"name": "b", "min_orders": 2}]}, "first level"),
        ({"level": [{"name": "a"}, {"name": "b"}]}, "has no threshold"),
        ({"level": [{"name": "a"}, {"name": "b", "min_orders": 1.5}]}, "not a whole number"),
        ({"level": [{"name": "a"}]}, "2 to 12"),
        ({"hold_days": -1, "level": [{"name": "a"}, {"name": "b", "min_orders": 2}]}, "hold_days"),
        ({"match": "most", "level": [{"name": "a"}, {"name": "b", "min_orders": 2}]}, "match"),
        ({"levle": []}, "unknown key 'levle'"),
        ({"level": [{"name": "a"}, {"name": "../x", "min_orders": 2}]}, "not a safe"),
    ],
)
def test_bad_levels_are_refused_with_the_key(spec: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_levels(spec, "rules.toml")


def test_the_command_shows_counts_lists_and_saves(tmp_path: Path, rfm, assert_cli_error) -> None:
    orders = [
        (f"O{i}", f"C{i % 7}", date(2026, 1, 1) + timedelta(days=5 * i), 150.0, "paid", "") for i in range(60)
    ]
    write(tmp_path / "o.csv", orders)
    (tmp_path / "rules.toml").write_text(
        "[levels]\nwindow_days = 120\nhold_days = 30\n"
        '[[levels.level]]\nname = "member"\nlabel_zh = "普通会员"\n'
        '[[levels.level]]\nname = "vip"\nlabel_zh = "VIP会员"\nmin_orders = 3\n',
        encoding="utf-8",
    )
    assert rfm("--db", "shop.duckdb", "import", "o.csv").returncode == 0
    counts = rfm("--db", "shop.duckdb", "levels", "--rules", "rules.toml", "-o", "-")
    assert counts.returncode == 0, counts.stderr
    lines = counts.stdout.splitlines()
    assert lines[0] == "level,label_zh,customers,rule" and lines[2].startswith("vip,VIP会员,")
    assert sum(int(line.split(",")[2]) for line in lines[1:]) == 7
    saved = rfm("--db", "shop.duckdb", "levels", "--rules", "rules.toml", "--save", "--changes", "-o", "-")
    assert saved.returncode == 0 and len(saved.stdout.splitlines()) == 1 + 7  # everyone's first level
    listed = rfm("--db", "shop.duckdb", "levels", "--rules", "rules.toml", "--list", "vip", "-o", "-")
    assert listed.returncode == 0 and all(",vip," in line for line in listed.stdout.splitlines()[1:])
    line = assert_cli_error(
        rfm("--db", "shop.duckdb", "levels", "--rules", "rules.toml", "--list", "gold"), 2
    )
    assert "member, vip" in line
    line = assert_cli_error(
        rfm("--db", "shop.duckdb", "levels", "--rules", "rules.toml", "--as-of", "2025-01-01"), 2
    )
    assert "2025-01-01" in line  # a date in an error is never masked as if it were a phone


def test_run_saves_the_levels_each_night_and_writes_who_reached_each(tmp_path: Path, rfm) -> None:
    """Night 1: C1 has 3 orders (silver by the built-in rule), C2 one (regular). Night 2: C1's 6th
    order makes gold. levels/entered/ holds who reached each level that night, with the level before;
    a run as of a day before the saved levels leaves them alone."""
    first = [(f"A{i}", "C1", date(2026, 1, 5) + timedelta(days=7 * i), 40.0, "paid", "") for i in range(3)]
    first.append(("B1", "C2", date(2026, 1, 9), 40.0, "paid", ""))
    second = [(f"A{i}", "C1", date(2026, 1, 5) + timedelta(days=7 * i), 40.0, "paid", "")
              for i in range(3, 6)]
    write(tmp_path / "night1.csv", first)
    write(tmp_path / "night2.csv", second)

    def entered(folder: str) -> dict[str, list[tuple[str, str]]]:
        found = {}
        for path in sorted((tmp_path / folder / "levels" / "entered").glob("*.csv")):
            rows = path.read_text(encoding="utf-8").splitlines()[1:]
            found[path.stem] = [(r.split(",")[0], r.split(",")[3]) for r in rows]
        return found

    assert rfm("--db", "shop.duckdb", "run", "night1.csv", "--out-dir", "n1", "--as-of",
               "2026-02-01").returncode == 0
    assert entered("n1") == {"regular": [("C2", "")], "silver": [("C1", "")], "gold": [], "diamond": []}
    assert rfm("--db", "shop.duckdb", "run", "night2.csv", "--out-dir", "n2", "--as-of",
               "2026-02-15").returncode == 0
    assert entered("n2") == {"regular": [], "silver": [], "gold": [("C1", "silver")], "diamond": []}
    manifest = (tmp_path / "n2" / "manifest.json").read_text(encoding="utf-8")
    assert '"levels/entered/gold.csv"' in manifest
    past = rfm("--db", "shop.duckdb", "run", "night1.csv", "--out-dir", "past", "--as-of", "2026-02-10")
    assert past.returncode == 0, past.stderr
    assert not (tmp_path / "past" / "levels").exists()
    shown = rfm("--db", "shop.duckdb", "levels", "--list", "gold", "-o", "-")
    assert [line.split(",")[0] for line in shown.stdout.splitlines()[1:]] == ["C1"]
    told = rfm("--db", "shop.duckdb", "explain", "C1", "--no-predictions", "--as-of", "2026-02-15")
    assert told.returncode == 0, told.stderr
    text = " ".join((told.stdout + told.stderr).split())
    assert "member level: gold 黄金会员 since 2026-02-15" in text and "6 counted orders" in text
