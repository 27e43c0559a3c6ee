"""Member levels against the database: one night computed (queries/levels_night.sql), and saved
when asked (`rfm levels --save`, `rfm run`) with the changes of that night (rfm_level_changes)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rfm_cli.core.errors import DataError
from rfm_cli.core.levels import LevelRules, check_as_of
from rfm_cli.core.store import Store, fetch_one, run_statements

if TYPE_CHECKING:
    import polars as pl


@dataclass
class LevelsNight:
    """One night of member levels: every customer's level, and who changed (from `prev_level`)."""

    as_of: date
    rules: LevelRules
    customers: (
        pl.DataFrame
    )  # customer_id, level, label_zh, reached_on, qualified_on, spend, orders, prev_level
    saved: bool

    def counts(self) -> list[tuple[str, str, int]]:
        """(level, label_zh, customers) for every level of the rules, lowest first, zeros included."""
        counted = dict(self.customers.group_by("level").len().iter_rows())
        return [(lv.name, lv.label_zh, int(counted.get(lv.name, 0))) for lv in self.rules.levels]

    def changes(self) -> pl.DataFrame:
        """The customers whose level is not the one they had the night before (new customers included)."""
        import polars as pl

        return self.customers.filter(pl.col("prev_level").ne_missing(pl.col("level")))


def saved_as_of(store: Store) -> date | None:
    return fetch_one(store.con, "SELECT max(as_of) FROM rfm_levels")[0]


NIGHT_ROWS = ("SELECT n.customer_id, r.name AS level, r.label_zh, n.reached_on, n.qualified_on, n.spend, "
              "n.orders, q.name AS qualifies_for, n.prev_level, n.prev_reached_on FROM level_night AS n "
              "JOIN level_rules AS r ON r.rank = n.rank JOIN level_rules AS q ON q.rank = n.qualified "
              "ORDER BY n.customer_id")


def compute(store: Store, rules: LevelRules, as_of: date | None, *, save: bool) -> LevelsNight:
    """The levels on `as_of` (None: the day of the latest counted order), from the state saved the
    night before; saved (inside the caller's transaction) when `save`."""
    import polars as pl

    from rfm_cli.core.frames import frame as as_frame
    from rfm_cli.core.scoring import default_as_of

    con = store.con
    saved = saved_as_of(store)
    if as_of is None:  # the latest counted order's day, or the night last saved when that is later
        known = [d for d in (default_as_of(store), saved) if d is not None]
        as_of = max(known) if known else None
    if as_of is None:
        raise DataError(f"{store.label} has no counted order; import orders first (rfm import FILE)")
    check_as_of(saved, as_of)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE level_rules (rank INTEGER, name VARCHAR, label_zh VARCHAR, "
        "min_spend DECIMAL(18, 2), min_orders BIGINT)"
    )
    # one statement for the few levels (executemany ran one per level: 3.3 ms a night against 1.0)
    levels = list(enumerate(rules.levels))  # 2 or more (a rules file with fewer is refused: levels.py)
    con.execute("INSERT INTO level_rules VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(levels)),
                [v for rank, lv in levels for v in (rank, lv.name, lv.label_zh, lv.min_spend, lv.min_orders)])
    run_statements(
        con,
        "levels_night",
        {
            "as_of": as_of,
            "window_start": as_of - timedelta(days=rules.window_days - 1),
            "hold_days": rules.hold_days,
            "match_all": rules.match == "all",
        },
    )
    store.give_back_cache()  # what the levels' statements cached, before every customer's row is read
    frame = as_frame(con.sql(NIGHT_ROWS))
    if save:
        con.execute("DELETE FROM rfm_level_changes WHERE as_of = ?", [as_of])
        con.execute(
            "INSERT INTO rfm_level_changes SELECT ?, n.customer_id, n.prev_level, r.name "
            "FROM level_night AS n JOIN level_rules AS r ON r.rank = n.rank "
            "WHERE n.prev_level IS DISTINCT FROM r.name",
            [as_of],
        )
        con.execute("DELETE FROM rfm_levels")
        con.execute(
            "INSERT INTO rfm_levels SELECT n.customer_id, r.name, n.reached_on, n.qualified_on, ?, n.spend, "
            "n.orders, n.prev_level, n.prev_reached_on, n.prev_qualified_on, n.prev_as_of "
            "FROM level_night AS n JOIN level_rules AS r ON r.rank = n.rank",
            [as_of],
        )
    con.execute("DROP TABLE level_night")
    con.execute("DROP TABLE level_rules")
    return LevelsNight(as_of, rules, frame.with_columns(pl.col("spend").cast(pl.Float64)), save)


def entered_lists(night: LevelsNight, customers: pl.DataFrame, allowed: pl.Series | None = None) -> list[Any]:
    """One state list per level: the customers who reached it tonight (an upgrade, a downgrade after
    the hold, or a first level), with their contacts from the scores (`rfm run`'s levels/entered/).
    `allowed`: the customers the state files may name (the tier files'); the others — people erased
    by `rfm forget` — are left off and counted."""
    import polars as pl

    from rfm_cli.core import layout
    from rfm_cli.core.channels import safe_cells
    from rfm_cli.core.segments import SegmentList

    contacts = customers.select("customer_id", "customer_name", "phone", "email")
    moved = (night.changes()
             .select("customer_id", "level", "label_zh", pl.col("prev_level").alias("previous_level"),
                     "reached_on", "spend", "orders")
             .join(contacts, on="customer_id", how="left", maintain_order="left"))
    selected_by_level = dict(moved.group_by("level").len().iter_rows())
    if allowed is not None:  # one semi-join, not an is_in over every customer per level
        moved = moved.join(allowed.to_frame("customer_id"), on="customer_id", how="semi",
                           maintain_order="left")
    lists = []
    for level in night.rules.levels:
        frame = moved.filter(pl.col("level") == level.name)
        selected, dropped = int(selected_by_level.get(level.name, 0)), Counter()
        if selected - frame.height:
            dropped["erased (rfm forget)"] = selected - frame.height
        lists.append(SegmentList(layout.LEVELS_ENTERED, level.name, selected, safe_cells(frame), dropped,
                                 frame["customer_id"], is_tier=False))
    return lists


def describe_customer(store: Store, rules: LevelRules, customer_id: str) -> list[str]:
    """The customer's saved member level and why, as lines for `rfm explain` (the night last saved)."""
    row = fetch_one(store.con, "SELECT level, reached_on, qualified_on, as_of, spend, orders FROM rfm_levels "
                               "WHERE customer_id = ?", [customer_id])
    if not row:
        return ["member level: none saved (rfm run saves them each night; rfm levels shows them now)"]
    level, reached, qualified, as_of, spend, orders = row
    known = {lv.name: lv for lv in rules.levels}
    label = known[level].label_zh if level in known else ""
    lines = [(f"member level: {level} {label} since {reached} (saved {as_of}): spend {float(spend):,.2f} "
              f"and {orders} counted orders in the {rules.window_days} days to {as_of}")]
    if level in known:
        lines.append(
            f"  {level}: {rules.describe(known[level])}; kept {rules.hold_days} days after the customer "
            f"last qualified ({qualified})")
    return lines
