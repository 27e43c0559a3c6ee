"""Member levels (会员等级): ordered levels a customer reaches by spend and/or orders over a rolling
window, held for a while once reached, so a level does not flap from one night to the next.

Rules (`[levels]` in a rules file; the built-in ones below when it has none):

    [levels]
    window_days = 365        # counted orders placed in the last 365 days, as-of day included
    hold_days = 90           # a level is kept this long after the customer last qualified for it
    match = "any"            # "any": one threshold met is enough; "all": every threshold given
    [[levels.level]]         # lowest first; the first has no thresholds: everyone with an order
    name = "regular"
    label_zh = "普通会员"
    [[levels.level]]
    name = "silver"
    label_zh = "白银会员"
    min_spend = 500          # net spend of counted orders in the window (BRIEF §3's counted rule)
    min_orders = 2           # counted orders in the window

Each night (`rfm run`, `rfm levels --save`), per customer, with q the highest level they qualify
for on the as-of day and (level, reached_on, qualified_on) their state from the night before:

- no state yet: level q, reached and qualified today;
- q above the level: upgrade at once to q (reached and qualified today);
- q equal to the level: kept, qualified today (the hold starts again);
- q below the level: kept while fewer than hold_days have passed since qualified_on; from then on
  down to q (reached and qualified today). A downgrade goes straight to q, not one step.

The night's state is saved with the one before it, so running the same night twice gives the
same levels; an as-of day before the saved one is refused (levels move forward in time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rfm_cli.core import rule_checks
from rfm_cli.core.errors import ConfigError, UsageError

MAX_LEVELS = 12


@dataclass(frozen=True)
class Level:
    name: str
    label_zh: str = ""
    min_spend: float | None = None
    min_orders: int | None = None


@dataclass(frozen=True)
class LevelRules:
    levels: tuple[Level, ...]
    window_days: int = 365
    hold_days: int = 90
    match: str = "any"
    source: str = "built-in"

    def names(self) -> list[str]:
        return [level.name for level in self.levels]

    def describe(self, level: Level) -> str:
        """The rule of one level in words (`rfm levels`, `rfm explain`)."""
        if level.min_spend is None and level.min_orders is None:
            return "any counted order"
        joiner = " or " if self.match == "any" else " and "
        parts = []
        if level.min_spend is not None:
            parts.append(f"spend >= {level.min_spend:,.2f}")
        if level.min_orders is not None:
            parts.append(f"orders >= {level.min_orders}")
        return joiner.join(parts) + f" in the last {self.window_days} days"


BUILT_IN = LevelRules(
    levels=(
        Level("regular", "普通会员"),
        Level("silver", "白银会员", min_spend=500, min_orders=3),
        Level("gold", "黄金会员", min_spend=2000, min_orders=6),
        Level("diamond", "钻石会员", min_spend=5000, min_orders=12),
    ),
)


def _number(value: Any, key: str, name: str, where: str, *, whole: bool) -> float | int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < 0
        or (whole and value != int(value))
    ):
        kind = "a whole number" if whole else "a number"
        raise ConfigError(
            f"{where}: level {name!r} {key} = {value!r} is not {kind} >= 0; write it like {key} = 500"
        )
    return int(value) if whole else float(value)


def parse_levels(spec: Mapping[str, Any] | None, where: str) -> LevelRules:
    """`[levels]` of a rules file, checked; None: the built-in levels."""
    if spec is None:
        return BUILT_IN
    where = f"{where} [levels]"
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: is not a table; write [levels] with [[levels.level]] entries")
    unknown = set(spec) - {"window_days", "hold_days", "match", "level"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {min(unknown)!r}; keys: window_days, hold_days, match, level"
        )
    window = spec.get("window_days", 365)
    hold = spec.get("hold_days", 90)
    for key, value, low in (("window_days", window, 1), ("hold_days", hold, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 36500:
            raise ConfigError(f"{where}: {key} = {value!r} is not a number of days ({low} to 36500)")
    match = spec.get("match", "any")
    if match not in ("any", "all"):
        raise ConfigError(f'{where}: match = {match!r}; use "any" (one threshold is enough) or "all"')
    items = spec.get("level")
    if not isinstance(items, list) or len(items) < 2 or len(items) > MAX_LEVELS:
        raise ConfigError(f"{where}: give 2 to {MAX_LEVELS} [[levels.level]] entries, lowest first")
    levels: list[Level] = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            raise ConfigError(f'{where}: level #{i} is not a table; write [[levels.level]] name = "..."')
        raw = item.get("name")
        name = rule_checks.check_tier_name(raw.strip() if isinstance(raw, str) else raw, i, where)
        extra = set(item) - {"name", "label_zh", "min_spend", "min_orders"}
        if extra:
            raise ConfigError(
                f"{where}: level {name!r} has unknown key {min(extra)!r}; "
                "keys: name, label_zh, min_spend, min_orders"
            )
        if name.lower() in {lv.name.lower() for lv in levels}:
            raise ConfigError(f"{where}: level {name!r} appears twice; give each level its own name")
        level = Level(
            name,
            rule_checks.check_text(item.get("label_zh", ""), "label_zh", name, where),
            _number(item.get("min_spend"), "min_spend", name, where, whole=False),
            _number(item.get("min_orders"), "min_orders", name, where, whole=True),
        )
        if i == 1 and (level.min_spend or level.min_orders):
            raise ConfigError(
                f"{where}: the first level ({name!r}) is everyone's: give it no min_spend or min_orders"
            )
        if i > 1 and level.min_spend is None and level.min_orders is None:
            raise ConfigError(
                f"{where}: level {name!r} has no threshold; give it min_spend, min_orders or both"
            )
        levels.append(level)
    return LevelRules(tuple(levels), window, hold, match, where)


# ---------------------------------------------------------------- the nightly step


@dataclass(frozen=True)
class State:
    rank: int  # index into LevelRules.levels
    reached_on: date
    qualified_on: date


def step(previous: State | None, qualified: int, today: date, hold_days: int) -> State:
    """One night of the rule in the module's docstring (the SQL in queries/levels_step.sql is the
    same rule for every customer at once; tests check the two agree)."""
    if previous is None or qualified > previous.rank:
        return State(qualified, today, today)
    if qualified == previous.rank:
        return State(previous.rank, previous.reached_on, today)
    if today - previous.qualified_on < timedelta(days=hold_days):
        return previous
    return State(qualified, today, today)


def check_as_of(saved: date | None, as_of: date) -> None:
    if saved is not None and as_of < saved:
        raise UsageError(
            f"levels were saved as of {saved}, after {as_of}; levels move forward in time: "
            f"give --as-of {saved} or later"
        )
