"""Day-N follow-ups: the customers whose first (or last) counted order was N days ago, as a send list.

A follow-up is a named list of the one list builder (selection.Selection.named_lists): "a category
coupon 7 days after delivery, useful content on day 15" (BRIEF §2). Its days count from the trigger
order's delivered date when the export gave one (签收时间, Shopify `Fulfilled at`), else from the day
it was placed, to the as-of date. A window `7:9` (both days in) keeps a customer on the list for
three nights, so a night the job did not run skips no one; the follow-up ledger (rfm_followup_sends)
then sends it once: a customer already sent this follow-up on an earlier night for the same trigger
order is left off, counted as "already sent for this order". That record, not the cooldown, is what
makes "once": it is exact whatever the window's width, and a new trigger order (a new last order)
is a new follow-up. `--cooldown` still applies on top, as to every list.

Only counted orders trigger (queries/followup_triggers.sql): a refunded first order is no first
order. `who = "first_time"` keeps the customers with exactly one counted order.

The list rows carry the trigger order, its day and what the day is (delivered or ordered), the
days since, and, when the store has product data (lines in rfm_order_lines), the order's top
category by line amount, so the coupon can be for what they bought.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rfm_cli.core.errors import ConfigError, UsageError

if TYPE_CHECKING:  # polars is imported where it is used: rfm.toml is checked without it
    import polars as pl

SINCE = ("first_order", "last_order")
WHO = ("all", "first_time")
ALREADY_SENT = "already sent for this order"
_NAME = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class Followup:
    """One follow-up list: send/<channel>/<name>.csv."""

    name: str
    window: tuple[int, int]  # days since the trigger order, both in
    since: str = "first_order"  # first_order | last_order
    who: str = "all"  # all | first_time (exactly one counted order)
    channel: str | None = None  # None: the export's channels
    # True (a --days-since-* flag): like --winback, it replaces the tiers' send lists unless --tier;
    # False (rfm.toml's [[followups]]): written beside the night's other lists.
    replaces_tiers: bool = True
    # The template columns of its SMS list (rfm.toml's sms_vars = ["name", "category"]); None: the
    # run's --sms-vars, as every other list.
    sms_vars: tuple[str, ...] | None = None

    def template_vars(self, run_vars: tuple[str, ...]) -> tuple[str, ...]:
        """The template columns of its SMS list: its own sms_vars, else the run's --sms-vars."""
        return run_vars if self.sms_vars is None else self.sms_vars

    @property
    def order_id_column(self) -> str:
        return f"{self.since}_id"

    def condition(self) -> pl.Expr:
        import polars as pl

        low, high = self.window
        days = pl.col(f"days_since_{self.since}")
        keep = days.is_between(low, high).fill_null(False)
        if self.who == "first_time":
            keep &= (pl.col("counted_orders") == 1).fill_null(False)
        return keep

    def with_trigger(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The list's rows with the trigger columns (the category only when the store has one)."""
        import polars as pl

        prefix = self.since
        columns = [pl.col(f"{prefix}_id").alias("trigger_order_id"),
                   pl.col(f"{prefix}_day").alias("trigger_date"),
                   pl.col(f"{prefix}_basis").alias("trigger_basis"),
                   pl.col(f"days_since_{prefix}").alias("days_since")]
        if f"{prefix}_category" in frame.columns:
            columns.append(pl.col(f"{prefix}_category").alias("trigger_category"))
        return frame.with_columns(columns)

    def describe(self) -> dict[str, Any]:
        low, high = self.window
        return {"name": self.name, "days": f"{low}:{high}", "since": self.since, "who": self.who,
                **({"channel": self.channel} if self.channel else {}),
                **({"sms_vars": list(self.sms_vars)} if self.sms_vars is not None else {})}


def parse_window(value: str | int, option: str) -> tuple[int, int]:
    """`7` or `7:9` (both days in) -> (7, 9); `option` names the flag or key in the message."""
    text = str(value).strip()
    low, sep, high = text.partition(":")
    try:
        bounds = (int(low), int(high) if sep else int(low))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not N or FROM:TO days; e.g. {option} 7 or {option} 7:9") from None
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise UsageError(
            f"{option} {text!r} is not a window of days (FROM >= 0, TO >= FROM); e.g. {option} 7:9")
    return bounds


def from_flags(first: str | int | None, last: str | int | None, who: str = "all") -> list[Followup]:
    """--days-since-first-order / --days-since-last-order [--who first_time] as follow-ups named by
    their window: send/<channel>/days_since_first_order_7.csv, …_last_order_7-9.csv."""
    if who not in WHO:
        raise UsageError(f"--who {who!r} is not a choice; use {' or '.join(WHO)}")
    made = []
    for since, value in (("first_order", first), ("last_order", last)):
        if value is None:
            continue
        option = f"--days-since-{since.replace('_', '-')}"
        low, high = parse_window(value, option)
        name = f"days_since_{since}_{low}" + (f"-{high}" if high != low else "")
        made.append(Followup(name + ("_first_time" if who == "first_time" else ""), (low, high), since, who))
    if who != "all" and not made:
        raise UsageError("--who applies to a day-N list; add --days-since-first-order N or "
                         "--days-since-last-order N")
    return made


_KEYS = ("name", "window", "since", "who", "channel", "sms_vars")


def _sms_vars(value: Any, where: str) -> tuple[str, ...]:
    """A [[followups]] table's sms_vars = ["name", "category"], checked (the variables of --sms-vars)."""
    from rfm_cli.core.compliance.sending import SMS_COLUMN_ORDER

    choices = ", ".join(SMS_COLUMN_ORDER)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: key 'sms_vars' = {value!r} is not a list of variables; write it as "
                          f'sms_vars = ["name", "category"] with some of {choices}')
    unknown = next((v for v in value if v not in SMS_COLUMN_ORDER), None)
    if unknown is not None:
        raise ConfigError(f"{where}: key 'sms_vars': {unknown!r} is not a variable; use some of {choices}, "
                          'e.g. sms_vars = ["name", "category"]')
    if len(set(value)) < len(value):
        raise ConfigError(f"{where}: key 'sms_vars' = {value!r} names a variable twice; name each once")
    return tuple(value)


def list_options(options: Any, followup: Followup | None) -> Any:
    """The channel options (channels.ChannelOptions) of one list: a follow-up's own sms_vars, else
    the run's."""
    import dataclasses

    if followup is None or followup.sms_vars is None:
        return options
    return dataclasses.replace(options, sms_vars=followup.template_vars(options.sms_vars))


def sms_list_vars(followups: list[Followup], run_vars: tuple[str, ...], channels: list[str],
                  other_sms: bool) -> list[tuple[str, ...]]:
    """The template columns of each SMS list a run writes, each set once: the run's --sms-vars for
    the tier and win-back lists (`other_sms`: they are written to sms) and for a follow-up with no
    sms_vars of its own; a follow-up's own for its list."""
    found = [run_vars] if other_sms else []
    for followup in followups:
        if "sms" in ([followup.channel] if followup.channel else channels):
            found.append(followup.template_vars(run_vars))
    return list(dict.fromkeys(found))


def from_config(entries: Any, source: str) -> list[Followup]:
    """rfm.toml's [[followups]] tables as follow-ups, each checked: one ConfigError line naming the
    table and the key, and how to write it. `source`: the file, for the message."""
    from rfm_cli.core.options import CHANNELS

    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{source}: key 'followups' is not a list of tables; write each as [[followups]] "
                          'with name = "day7", window = "7:9"')
    made: list[Followup] = []
    for number, entry in enumerate(entries, 1):
        where = f"{source}: [[followups]] #{number}" + (f" ({entry['name']})"
                                                        if isinstance(entry.get("name"), str) else "")
        unknown = sorted(set(entry) - set(_KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; keys: {', '.join(_KEYS)}")
        for key in ("name", "window"):
            if key not in entry:
                raise ConfigError(
                    f'{where}: key {key!r} is missing; write e.g. name = "day7", window = "7:9"')
        for key, allowed in (("since", SINCE), ("who", WHO), ("channel", CHANNELS)):
            value = entry.get(key, allowed[0])
            if value not in allowed:
                raise ConfigError(f"{where}: key {key!r} = {value!r} is not one of {', '.join(allowed)}; "
                                  f'write e.g. {key} = "{allowed[-1] if key == "since" else allowed[0]}"')
        name, window = entry["name"], entry["window"]
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name.lower() == "winback":
            raise ConfigError(f"{where}: key 'name' = {name!r} cannot name a list file; use letters, digits, "
                              '_ or - (not winback), e.g. name = "day7_coupon"')
        try:
            if isinstance(window, bool) or not isinstance(window, str | int):
                raise UsageError("a window is text or a number")
            bounds = parse_window(window, "window")
        except UsageError:
            raise ConfigError(f"{where}: key 'window' = {window!r} is not N or FROM:TO days (FROM <= TO); "
                              'write it as window = 7 or window = "7:9"') from None
        if name in {f.name for f in made}:
            raise ConfigError(
                f"{where}: key 'name' = {name!r} is used by another follow-up; give each its own name")
        sms_vars = _sms_vars(entry["sms_vars"], where) if "sms_vars" in entry else None
        made.append(Followup(name, bounds, entry.get("since", SINCE[0]), entry.get("who", WHO[0]),
                             entry.get("channel", CHANNELS[0]), replaces_tiers=False, sms_vars=sms_vars))
    return made


# ------------------------------------------------------------------ the columns they select on


def triggers(store: Any, as_of: date, since: date | None, categories: bool = True,
             customer_id: str | None = None) -> pl.DataFrame:
    """Per customer with a counted order (queries/followup_triggers.sql): counted_orders, and for
    first_order and last_order: _id, _day, _basis, days_since_<which> (to `as_of`), and _category when
    the store has product data and `categories`. `customer_id`: that customer's row only."""
    import polars as pl

    from rfm_cli.core.frames import frame as as_frame
    from rfm_cli.core.store import subquery

    query, params = subquery("followup_triggers"), {"as_of": as_of, "since": since}
    if customer_id is not None:  # the filter reaches the scan: one customer's orders are read
        query, params = f"SELECT * FROM ({query}) WHERE customer_id = $customer_id", params | {
            "customer_id": customer_id}
    found = as_frame(store.con.sql(query, params=params))
    found = found.with_columns(
        **{f"days_since_{which}": (pl.lit(as_of) - pl.col(f"{which}_day")).dt.total_days().cast(pl.Int64)
           for which in SINCE})
    top = top_categories(store, pl.concat([found["first_order_id"], found["last_order_id"]]).unique()) \
        if categories and found.height else None
    if top is None:
        return found
    for which in SINCE:
        named = top.rename({"order_id": f"{which}_id", "category": f"{which}_category"})
        found = found.join(named, on=f"{which}_id", how="left", maintain_order="left")
    return found


def top_categories(store: Any, order_ids: pl.Series) -> pl.DataFrame | None:
    """order_id, category: each order's top category by line amount (queries/order_top_category.sql);
    None when the store has no product data (no line in rfm_order_lines: no import had product
    columns), so the lists carry no category column at all rather than an empty one."""
    import polars as pl

    from rfm_cli.core.frames import ArrowStream
    from rfm_cli.core.frames import frame as as_frame
    from rfm_cli.core.products import has_lines
    from rfm_cli.core.store import sql

    if not has_lines(store.con):
        return None
    store.con.register("_rfm_trigger_orders",
                       ArrowStream(order_ids.cast(pl.String).alias("order_id").to_frame()))
    try:
        return as_frame(store.con.sql(sql("order_top_category")))
    finally:
        store.con.unregister("_rfm_trigger_orders")


def with_triggers(customers: pl.DataFrame, triggers: pl.DataFrame | None) -> pl.DataFrame:
    """The customers with the follow-ups' trigger columns (a scored customer has them: the same counted
    orders; the columns of one without would be empty and match no window)."""
    if triggers is None:
        raise AssertionError("follow-up lists need the trigger columns (core/followups.triggers)")
    return customers.join(triggers, on="customer_id", how="left", maintain_order="left")



def not_again(candidates: pl.DataFrame, sent: pl.Series | None) -> tuple[pl.DataFrame, Counter]:
    """A follow-up's customers less those it was sent to for the same trigger order (core/followups.py)."""
    import polars as pl

    if sent is None or not len(sent):
        return candidates, Counter()
    kept = candidates.filter(~pl.col("customer_id").is_in(sent.implode()))
    return kept, Counter({ALREADY_SENT: candidates.height - kept.height} if candidates.height > kept.height
                         else {})



def describe_customer(store: Any, customer_id: str, as_of: date, since: date | None) -> dict[str, Any] | None:
    """What a day-N follow-up counts from for one customer (rfm explain): per first_order and
    last_order, the order, its trigger day and basis, and the days since; None: no counted order."""
    row = triggers(store, as_of, since, categories=False, customer_id=customer_id)
    if row.is_empty():
        return None
    values = row.row(0, named=True)
    account: dict[str, Any] = {"counted_orders": values["counted_orders"]}
    for which in SINCE:
        account[which] = {"order_id": values[f"{which}_id"], "day": values[f"{which}_day"].isoformat(),
                          "basis": values[f"{which}_basis"], "days_since": values[f"days_since_{which}"]}
    return account


# ------------------------------------------------------------------ the ledger: sent once per trigger order


def already_sent(store: Any, as_of: date, followups: list[Followup], channels_of: dict[str, list[str]],
                 found: pl.DataFrame) -> dict[tuple[str, str], pl.Series]:
    """(channel, follow-up) -> the customers sent that follow-up on an earlier night for the trigger
    order they have tonight."""
    import polars as pl

    from rfm_cli.core.frames import ArrowStream

    out: dict[tuple[str, str], pl.Series] = {}
    store.con.register("_rfm_triggers",
                       ArrowStream(found.select("customer_id", "first_order_id", "last_order_id")))
    try:
        for followup in followups:
            rows = store.con.execute(
                "SELECT s.channel, s.customer_id FROM rfm_followup_sends AS s "
                "JOIN _rfm_triggers AS t ON t.customer_id = s.customer_id "
                f"AND t.{followup.order_id_column} = s.order_id "
                "WHERE s.followup = ? AND s.as_of < ? AND list_contains(?, s.channel)",
                [followup.name, as_of, channels_of[followup.name]]).fetchall()
            for channel in channels_of[followup.name]:
                ids = [customer for ch, customer in rows if ch == channel]
                out[(channel, followup.name)] = pl.Series("customer_id", ids, pl.String)
    finally:
        store.con.unregister("_rfm_triggers")
    return out


def record(store: Any, as_of: date, followups: list[Followup], lists: list[Any], found: pl.DataFrame) -> None:
    """Record tonight's follow-up sends (lists: segments.SegmentList), each with its trigger order.
    Writing a follow-up again for the same night replaces that night's record of it."""
    import polars as pl

    from rfm_cli.core.frames import ArrowStream

    by_name = {f.name: f for f in followups}
    for each in lists:
        followup = by_name.get(each.tier)
        if followup is None or each.is_tier:
            continue
        store.con.execute("DELETE FROM rfm_followup_sends WHERE as_of = ? AND followup = ? AND channel = ?",
                          [as_of, followup.name, each.channel])
        sent = (each.customer_ids.alias("customer_id").to_frame()
                .join(found.select("customer_id", pl.col(followup.order_id_column).alias("order_id")),
                      on="customer_id", how="inner"))
        if not sent.height:
            continue
        store.con.register("_rfm_followup_rows", ArrowStream(sent))
        try:
            store.con.execute("INSERT INTO rfm_followup_sends SELECT ?, ?, ?, customer_id, order_id "
                              "FROM _rfm_followup_rows", [as_of, followup.name, each.channel])
        finally:
            store.con.unregister("_rfm_followup_rows")
