"""Scores and tiers, in Polars (BRIEF §3).

`score_store` reads one row per customer from `queries/customer_rfm.sql`, then scores each
dimension 1-5 by its rule (fixed breakpoints or quantile), builds `rfm_code` and applies the
ordered tier rules: the first match wins and coverage was proved when the rules were loaded.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from rfm_cli.core import customer_stats
from rfm_cli.core.errors import DataError, UsageError
from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.frozen_cuts import with_frozen
from rfm_cli.core.rules import RAW_OF, SCORE_OF, DimensionRule, RuleSet, describe_band
from rfm_cli.core.store import Store, fetch_one, progress, sql

OUTPUT_COLUMNS = [
    "customer_id",
    "customer_name",
    "phone",
    "email",
    "first_order_at",
    "last_order_at",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
    "tier",
]


@dataclass
class ScoreResult:
    as_of: date
    rules: RuleSet
    customers: pl.DataFrame  # OUTPUT_COLUMNS, one row per scored customer, sorted by customer_id
    cut_points: pl.DataFrame  # dimension, score, rule, min_value, max_value, customers
    since: date | None = None  # the analysis window's first day (--window); None: all history
    _summary: pl.DataFrame | None = field(default=None, init=False, repr=False, compare=False)
    # While the lists hold the customers in list order (selection.lend_in_list_order): where each
    # row came from; the frame is put back in customer_id order when `customers` is next read.
    _positions: tuple[pl.Series, set[str]] | None = field(default=None, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value) -> None:
        if name in ("customers", "rules"):  # what the summary is of: computed again when asked
            object.__setattr__(self, "_summary", None)
        if name == "customers":
            object.__setattr__(self, "_positions", None)
        object.__setattr__(self, name, value)

    def __getattribute__(self, name: str) -> Any:
        if name == "customers" and object.__getattribute__(self, "_positions") is not None:
            object.__getattribute__(self, "_put_back")()
        return object.__getattribute__(self, name)

    @property
    def customers_in_any_order(self) -> pl.DataFrame:
        """The customers as held: in customer_id order, or in list order while the lists hold them
        (selection.lend_in_list_order). For what their order does not change: counts, lookups by
        id, the snapshot's rows."""
        return object.__getattribute__(self, "customers")

    @property
    def customers_scored(self) -> int:
        """How many customers were scored (without putting lent customers back in order)."""
        return self.customers_in_any_order.height

    def lend(self) -> list[pl.Series]:
        """The customers' columns, given up by this result until `lent` (selection.lend_in_list_order)."""
        columns = self.customers.get_columns()
        object.__setattr__(self, "customers", None)
        return columns

    def lent(self, reordered: pl.DataFrame, positions: pl.Series, ascending: set[str]) -> None:
        """The customers back from `lend`, as `reordered` (row i was row positions[i]); `ascending`:
        the columns flagged sorted before, flagged again when put back."""
        object.__setattr__(self, "customers", reordered)
        object.__setattr__(self, "_positions", (positions, ascending))

    def _put_back(self) -> None:
        """The lent customers back in their order, column by column (their sorted flags with them)."""
        positions, ascending = object.__getattribute__(self, "_positions")
        back = positions.arg_sort()
        columns = object.__getattribute__(self, "customers").get_columns()
        object.__setattr__(self, "customers", None)
        object.__setattr__(self, "_positions", None)
        reorder(columns, back)
        object.__setattr__(self, "customers", pl.DataFrame(
            [column.set_sorted() if column.name in ascending else column for column in columns]))

    def summary(self) -> pl.DataFrame:
        """tier_summary of the customers, computed once for them (the lists, the log line and the
        table each ask for it)."""
        if self._summary is None:
            self._summary = tier_summary(self.customers, self.rules)
        return self._summary


def parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    if value.strip().lower() == "today":
        return date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not a date; use YYYY-MM-DD or today") from None


_SPAN = re.compile(r"\s*(\d+)\s*([dwmy])\s*", re.IGNORECASE)


def window_start(value: str | None, as_of: date) -> date | None:
    """The first day of the analysis window `value` ending on `as_of` (both days in): `365d`, `52w`,
    `12m` or `2y` (the last N days, weeks, months or years), or a first day `YYYY-MM-DD`. None: no
    window. `12m` as of 2026-11-20 starts 2025-11-21."""
    if value is None:
        return None
    span = _SPAN.fullmatch(value)
    if span is None:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(f"--window {value!r} is not a span or a date; use e.g. --window 365d, 12m, 2y "
                             "or --since 2025-01-01") from None
    count, unit = int(span.group(1)), span.group(2).lower()
    if count < 1:
        raise UsageError(f"--window {value!r} is empty; use 1 or more days, weeks, months or years")
    if unit in "dw":
        return as_of - timedelta(days=count * (7 if unit == "w" else 1) - 1)
    months = as_of.year * 12 + as_of.month - 1 - count * (12 if unit == "y" else 1)
    year, month = divmod(months, 12)
    day = min(as_of.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day) + timedelta(days=1)


def default_as_of(store: Store) -> date | None:
    if customer_stats.is_current(store):  # the table keeps each customer's latest counted order
        return customer_stats.latest_counted_day(store.con)
    return fetch_one(store.con, sql("as_of_default"))[0]


def customer_inputs(store: Store, as_of: date, since: date | None = None, *,
                    last: bool = False) -> pl.DataFrame:
    """customer_rfm.sql's rows at `as_of` (in the window from `since`): from rfm_customers when it
    holds them (current, no window, and no stored order after `as_of`), else from the orders.

    `last`: nothing reads the store after this (`rfm score FILE`'s throw-away store): the customers
    are first kept in a table of their own and the file's orders dropped, so DuckDB gives the
    orders' memory back before Polars holds every customer (at 100M orders, 4 GB of DuckDB beside
    ~2 GB of customers while they were read out)."""
    from_table = (since is None and customer_stats.is_current(store)
                  and customer_stats.usable(store.con, as_of))
    if from_table:
        query, params = customer_stats.read_sql(), None
    else:
        query, params = sql("customer_rfm"), {"as_of": as_of, "since": since}
    # latest_key and unmatched_refunds (kept for the import's updates of rfm_customers) are no
    # scoring inputs; from the orders, DuckDB then drops their aggregates.
    query = f"SELECT * EXCLUDE (latest_key, unmatched_refunds) FROM ({query.rstrip().rstrip(';')})"
    with progress(store.con, "scoring customers"):
        if last:
            from rfm_cli.core.ingest.stage import drop_staging

            store.con.execute(f"CREATE TEMP TABLE _customer_inputs AS {query}", params)
            drop_staging(store.con)  # the file's orders (and lines): rfm_orders is a view over them
            query, params = "SELECT * FROM _customer_inputs", None
        frame = as_frame(store.con.sql(query, params=params))  # no pyarrow (core/frames.py)
    store.give_back_cache()  # DuckDB's cached blocks, before Polars' copy of the customers
    ids = frame.get_column("customer_id")
    # Read in storage order, which is checked, not trusted. rfm_customers is written in customer_id
    # order; the rows a nightly import replaced are appended at its end; the table of `last` holds
    # the query's ordered rows. (An ORDER BY in DuckDB cost 0.22 s at 1.87M customers, and the
    # memory of its sort stayed held while the lists were written.) The query's own rows come in
    # customer_id order (binary collation, as Polars compares strings): score_frame's final sort
    # then has nothing to do.
    positions = ids.arg_sort() if (from_table or last) and not ids.is_sorted() else None
    columns = frame.get_columns()
    del frame, ids
    return one_chunk(columns, positions, sorted_by="customer_id")


def _score_expr(rule: DimensionRule, column: str, customers: int) -> pl.Expr:
    value = pl.col(column)
    if rule.method == "fixed":
        if rule.dimension == "recency":  # fewer days is better: <= b1 -> 5 ... > b4 -> 1
            return pl.lit(5) - pl.sum_horizontal([(value > b).cast(pl.Int32) for b in rule.breakpoints])
        return pl.lit(1) + pl.sum_horizontal([(value >= b).cast(pl.Int32) for b in rule.breakpoints])
    # quantile: 1 + floor(5 * customers strictly worse / N); equal values share a rank, so a score.
    if rule.dimension == "recency":
        strictly_worse = pl.lit(customers) - value.rank("max").cast(pl.Int64)
    else:
        strictly_worse = value.rank("min").cast(pl.Int64) - 1
    return pl.lit(1) + (strictly_worse * 5) // customers


def score_frame(inputs: pl.DataFrame, as_of: date, rules: RuleSet, since: date | None = None) -> ScoreResult:
    """Score customers from their raw inputs (the columns of customer_rfm.sql)."""
    n = inputs.height
    # One chunk per column first (DuckDB's Arrow result comes in many): the expressions below over
    # misaligned chunks would each copy their inputs (at 10M orders ~290 MB more peak memory).
    frame = inputs.rechunk().with_columns(
        recency_days=(pl.lit(as_of) - pl.col("last_order_at").dt.date()).dt.total_days().cast(pl.Int64),
        frequency=pl.col("frequency").cast(pl.Int64),
        monetary=(
            pl.col("spend").cast(pl.Float64)
            if rules.monetary.basis == "total"
            else pl.col("spend").cast(pl.Float64) / pl.col("frequency")
        ).round(2),
    )
    if n:
        frame = frame.with_columns(
            r_score=_score_expr(rules.recency, "recency_days", n).cast(pl.Int64),
            f_score=_score_expr(rules.frequency, "frequency", n).cast(pl.Int64),
            m_score=_score_expr(rules.monetary, "monetary", n).cast(pl.Int64),
        )
    else:
        frame = frame.with_columns(
            r_score=pl.lit(None, pl.Int64), f_score=pl.lit(None, pl.Int64), m_score=pl.lit(None, pl.Int64)
        )
    tier_expr: Any = pl
    for tier in rules.tiers:
        tier_expr = tier_expr.when(tier.when.to_polars()).then(pl.lit(tier.name))
    frame = frame.with_columns(
        # Scores are 1-5: the three digits as one number, written as text (cheaper than concat_str).
        rfm_code=(pl.col("r_score") * 100 + pl.col("f_score") * 10 + pl.col("m_score")).cast(pl.String),
        tier=tier_expr.otherwise(pl.lit(None, pl.String)),
    )
    if frame["tier"].null_count():  # impossible after the coverage check; never write an untiered row
        raise AssertionError("a scored customer matched no tier")
    customers = frame.select(OUTPUT_COLUMNS).sort("customer_id")
    return ScoreResult(as_of=as_of, rules=rules, customers=customers, cut_points=cut_points(customers, rules),
                       since=since)


def score_inputs(store: Store, rules: RuleSet, as_of: date | None = None, *, keep_totals: bool = False,
                 window: str | None = None, last: bool = False,
                 ) -> tuple[pl.DataFrame, date, RuleSet, date | None]:
    """What score_frame needs from the store: the customers' raw inputs, the as-of date, the rules
    with any cut points frozen in the store (they replace quantile scoring) and the first day of the
    analysis window (`window`, see window_start; None: all history).

    `keep_totals` (export and run, inside their transaction): build rfm_customers first when it is
    not current, so this and every later rescoring read it."""
    if keep_totals:
        customer_stats.ensure_current(store)
        store.give_back_cache()  # what building the totals cached, before the customers are read
    rules = with_frozen(store, rules)
    if as_of is None:
        as_of = default_as_of(store)
        if as_of is None:
            raise DataError(f"no counted orders in {store.label}; import an export with paid orders first")
    since = window_start(window, as_of)
    return customer_inputs(store, as_of, since, last=last), as_of, rules, since


def score_store(store: Store, rules: RuleSet, as_of: date | None = None, *, keep_totals: bool = False,
                window: str | None = None) -> ScoreResult:
    """Score the store's customers; cut points frozen in the store replace quantile scoring. With
    `window`, only orders in the analysis window count (customer_rfm.sql's $since)."""
    return score_frame(*score_inputs(store, rules, as_of, keep_totals=keep_totals, window=window))


def reorder(columns: list[pl.Series], positions: pl.Series) -> None:
    """columns[i] becomes columns[i].gather(positions), two columns at a time, each old column freed
    as its new one is made (the caller lets go of every other reference to them): one copy of the
    customers, not two. Two at a time run on two cores (one at a time took twice as long)."""
    for i in range(0, len(columns), 2):
        columns[i:i + 2] = pl.DataFrame(columns[i:i + 2]).select(pl.all().gather(positions)).get_columns()


def one_chunk(columns: list[pl.Series], positions: pl.Series | None = None, *,
              sorted_by: str | None = None) -> pl.DataFrame:
    """A frame of `columns` (which the caller lets go of: DuckDB's result), each in one chunk and in
    memory of Polars' own, reordered by `positions` when given; `sorted_by`: the column flagged
    sorted after. Text is copied (`+ ""`), not rechunked: its values arrive as views into the
    buffers of DuckDB's result, which a rechunk keeps, and they held every column's chunks (at
    19.5M customers the frame took 3.8 GB rechunked, 2.8 GB copied, and scoring peaked 1 GB lower).
    Reordered column by column, not sorted whole: after a nightly import at 100M orders, sorting
    the frame read from rfm_customers peaked at 7.6 GB. score_frame's expressions over many chunks
    would copy too."""
    for i in range(len(columns)):
        column = columns[i]
        if column.dtype == pl.String:
            column = column.to_frame().select(pl.col(column.name) + "").to_series()
        column = column.rechunk() if positions is None else column.gather(positions)
        columns[i] = column.set_sorted() if column.name == sorted_by else column
        del column
    return pl.DataFrame(columns)


def cut_points(customers: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Per dimension and score: the rule and the raw values the scored customers actually had."""
    rows: list[dict[str, Any]] = []
    for dimension in ("recency", "frequency", "monetary"):
        rule = rules.dimension(dimension)
        raw, score = RAW_OF[dimension], SCORE_OF[dimension]
        stats = {
            row[score]: row
            for row in customers.group_by(score)
            .agg(
                pl.col(raw).min().cast(pl.Float64).alias("min_value"),
                pl.col(raw).max().cast(pl.Float64).alias("max_value"),
                pl.len().alias("customers"),
            )
            .iter_rows(named=True)
        }
        for s in range(5, 0, -1):
            found = stats.get(s, {})
            if rule.method == "fixed":
                text = f"{'recency_days' if dimension == 'recency' else dimension} {describe_band(rule, s)}"
            else:
                text = "quantile band" + (
                    f": {found['min_value']:,.2f} to {found['max_value']:,.2f}" if found else " (empty)"
                )
            rows.append(
                {
                    "dimension": dimension,
                    "score": s,
                    "method": "frozen" if rule.frozen_on else rule.method,
                    "rule": text,
                    "min_value": found.get("min_value"),
                    "max_value": found.get("max_value"),
                    "customers": found.get("customers", 0),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "dimension": pl.String,
            "score": pl.Int64,
            "method": pl.String,
            "rule": pl.String,
            "min_value": pl.Float64,
            "max_value": pl.Float64,
            "customers": pl.Int64,
        },
    )


def tier_summary(customers: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Customers, revenue and shares per tier, in rule order (empty tiers included)."""
    labels = pl.DataFrame(
        {
            "tier": rules.tier_names(),
            "label_zh": [t.label_zh for t in rules.tiers],
            "rule_order": list(range(1, len(rules.tiers) + 1)),
        }
    )
    per_tier = customers.group_by("tier").agg(customers=pl.len(), revenue=pl.col("monetary").sum())
    total_customers = max(customers.height, 1)
    total_revenue = customers["monetary"].sum() if customers.height else 0.0
    return (
        labels.join(per_tier, on="tier", how="left")
        .with_columns(pl.col("customers").fill_null(0).cast(pl.Int64), pl.col("revenue").fill_null(0.0))
        .with_columns(
            customer_pct=(100 * pl.col("customers") / total_customers).round(2),
            revenue_pct=(100 * pl.col("revenue") / (total_revenue or 1)).round(2),
            revenue=pl.col("revenue").round(2),
        )
        .sort("rule_order")
        .select("tier", "label_zh", "customers", "customer_pct", "revenue", "revenue_pct")
    )


def days_between(a: date, b: date) -> int:
    return (b - a) // timedelta(days=1)
