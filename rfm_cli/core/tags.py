"""Tags per customer (issue 21): what they buy and how much an order of theirs is worth.

- `categories`: the customer's top categories by spend (rfm.toml `[tags] top_categories`, default
  3), joined with `|`, biggest first (ties: by name). Spend of a category: the amounts of the lines of
  the customer's counted orders in it (queries/customer_lines.sql), as exported: before order-level
  discounts, shipping and refunds. Lines without a category (and no --categories map for them) are
  left out of it.
- `aov_band`: low / mid / high by the customer's average order value, AOV = monetary / frequency
  (net spend per counted order, as scored). By default by the scored customers' tertiles: low up to
  the 33⅓th percentile of AOV, high above the 66⅔th, mid between (percentiles interpolated
  linearly). Fixed bands instead with rfm.toml `[tags] aov_bands = [100, 300]`: low below 100, mid
  from 100 to below 300, high from 300.
- `favourite_weekday`, `favourite_hour`: the weekday (Monday..Sunday) and hour (0-23) of most of
  the customer's counted orders; a tie goes to the earlier weekday or hour.

Selections (`--bought KIND:VALUE`, `--aov-band BAND`) pick customers by them in the one list builder
(selection.conditions): `category:护肤` a line in that category (exactly), `sku:X` a line with that SKU
(exactly), `product:X` a line whose title contains X (Latin letters case-insensitive); several
`--bought` pick those who bought any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from rfm_cli.core.errors import ConfigError, DataError, UsageError
from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.products import NO_PRODUCTS, has_lines
from rfm_cli.core.store import Store, sql

AOV_BANDS = ("low", "mid", "high")
BOUGHT_KINDS = ("category", "sku", "product")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TAG_COLUMNS = ("categories", "aov_band", "favourite_weekday", "favourite_hour")


@dataclass(frozen=True)
class TagSettings:
    top_categories: int = 3
    aov_bands: tuple[float, float] | None = None  # fixed edges; None: the tertiles of the scored customers

    @classmethod
    def from_table(cls, table: dict[str, Any] | None, where: str = "rfm.toml [tags]") -> TagSettings:
        table = table or {}
        unknown = sorted(set(table) - {"top_categories", "aov_bands"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known keys: top_categories, aov_bands")
        top = table.get("top_categories", 3)
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ConfigError(f"{where}: top_categories = {top!r} is not a whole number >= 1; "
                              "write it like top_categories = 3")
        edges = table.get("aov_bands")
        if edges is not None:
            if (not isinstance(edges, list) or len(edges) != 2
                    or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in edges)
                    or not 0 <= edges[0] < edges[1]):
                raise ConfigError(f"{where}: aov_bands = {edges!r} is not two increasing amounts; write it "
                                  "like aov_bands = [100, 300] (low below 100, high from 300)")
            edges = (float(edges[0]), float(edges[1]))
        return cls(top_categories=top, aov_bands=edges)


def parse_bought(values: list[str] | tuple[str, ...] | None) -> list[tuple[str, str]]:
    """`--bought category:护肤` (repeatable) as (kind, value) pairs."""
    terms = []
    for value in values or []:
        kind, sep, wanted = str(value).partition(":")
        kind, wanted = kind.strip().lower(), wanted.strip()
        if not sep or kind not in BOUGHT_KINDS or not wanted:
            raise UsageError(
                f"--bought {value!r} is not KIND:VALUE; use category:护肤, sku:A-100 or product:面膜")
        terms.append((kind, wanted))
    return terms


def parse_bands(values: list[str] | tuple[str, ...] | None) -> list[str]:
    bands = [part.strip().lower() for value in values or [] for part in str(value).split(",") if part.strip()]
    unknown = [b for b in bands if b not in AOV_BANDS]
    if unknown:
        raise UsageError(f"--aov-band {unknown[0]!r} is not a band; use {', '.join(AOV_BANDS)}")
    return bands


def aov_edges(customers: pl.DataFrame, settings: TagSettings,
              basis: str = "total") -> tuple[float | None, float | None, str]:
    """The two AOV edges (low <= first < mid <= second < high) and how they were set."""
    if settings.aov_bands is not None:
        low, high = settings.aov_bands
        return low, high, f"fixed bands (rfm.toml [tags] aov_bands): low < {low:g} <= mid < {high:g} <= high"
    aov = _aov(basis)
    if not customers.height:
        return None, None, "tertiles of the scored customers' AOV"
    first, second = (customers.select(aov.quantile(q, interpolation="linear")).item() for q in (1 / 3, 2 / 3))
    return first, second, (f"tertiles of the scored customers' AOV: low <= {first:.2f} < mid <= {second:.2f} "
                           "< high")


def _aov(basis: str) -> pl.Expr:
    """AOV from the scored columns: monetary is the total spend, or already the average (rules'
    monetary basis "average")."""
    monetary = pl.col("monetary").cast(pl.Float64)
    return monetary if basis == "average" else monetary / pl.col("frequency")


def aov_band_column(customers: pl.DataFrame, settings: TagSettings, basis: str = "total") -> pl.Expr:
    first, second, _ = aov_edges(customers, settings, basis)
    aov = _aov(basis)
    if settings.aov_bands is not None:  # fixed: the edge belongs to the band above
        return (pl.when(aov < first).then(pl.lit("low")).when(aov < second).then(pl.lit("mid"))
                .otherwise(pl.lit("high")).alias("aov_band"))
    return (pl.when(aov <= first).then(pl.lit("low")).when(aov <= second).then(pl.lit("mid"))
            .otherwise(pl.lit("high")).alias("aov_band"))


def _lines_sql(condition: str = "true") -> str:
    return f"SELECT * FROM ({sql('customer_lines')}) AS l WHERE {condition}"


def _params(as_of: date, since: date | None) -> dict[str, Any]:
    return {"as_of": as_of, "since": since}


def category_tags(store: Store, as_of: date, since: date | None, top: int) -> pl.DataFrame:
    """customer_id, categories: the top categories by spend, `|`-joined."""
    query = f"""
SELECT customer_id, string_agg(category, '|' ORDER BY spend DESC, category) AS categories
FROM (
    SELECT customer_id, category, sum(coalesce(amount, 0)) AS spend,
           row_number() OVER (PARTITION BY customer_id ORDER BY sum(coalesce(amount, 0)) DESC, category) AS rank
    FROM ({_lines_sql('category IS NOT NULL')})
    GROUP BY customer_id, category
)
WHERE rank <= {int(top)}
GROUP BY customer_id"""  # noqa: E501
    return as_frame(store.con.sql(query, params=_params(as_of, since))).cast(
        {"customer_id": pl.String, "categories": pl.String})


def time_tags(store: Store, as_of: date, since: date | None, customer_id: str | None = None) -> pl.DataFrame:
    """customer_id, favourite_weekday, favourite_hour over the customer's counted orders (the rule of
    view rfm_order_net); `customer_id`: that customer's only (rfm explain)."""
    query = """
WITH counted AS (
    SELECT customer_id, isodow(ordered_at) AS weekday, hour(ordered_at) AS hour
    FROM rfm_order_net
    WHERE counted AND CAST(ordered_at AS DATE) <= $as_of AND rfm_in_window(ordered_at, $since)
      AND ($c IS NULL OR customer_id = $c)
)
SELECT d.customer_id, d.weekday, h.hour
FROM (SELECT customer_id, arg_max(weekday, count_key) AS weekday FROM (
          SELECT customer_id, weekday, count(*) * 10 + (7 - weekday) AS count_key
          FROM counted GROUP BY customer_id, weekday) GROUP BY customer_id) AS d
JOIN (SELECT customer_id, arg_max(hour, count_key) AS hour FROM (
          SELECT customer_id, hour, count(*) * 100 + (23 - hour) AS count_key
          FROM counted GROUP BY customer_id, hour) GROUP BY customer_id) AS h USING (customer_id)"""
    found = as_frame(store.con.sql(query, params={**_params(as_of, since), "c": customer_id}))
    return found.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("weekday").cast(pl.Int64).replace_strict(dict(enumerate(WEEKDAYS, 1)), return_dtype=pl.String)
        .alias("favourite_weekday"),
        pl.col("hour").cast(pl.Int64).alias("favourite_hour"))


def bought_ids(store: Store, as_of: date, since: date | None, terms: list[tuple[str, str]]) -> pl.DataFrame:
    """customer_id of those with a counted order's line matching any term (see the module)."""
    require_lines(store, "--bought")
    conditions, params = [], _params(as_of, since)
    for i, (kind, value) in enumerate(terms):
        params[f"v{i}"] = value
        if kind == "product":
            conditions.append(f"contains(lower(product), lower($v{i}))")
        else:
            conditions.append(f"{kind} = $v{i}")
    query = f"SELECT DISTINCT customer_id FROM ({_lines_sql(' OR '.join(conditions))})"
    return as_frame(store.con.sql(query, params=params)).cast({"customer_id": pl.String})


def require_lines(store: Store, option: str) -> None:
    if not has_lines(store.con):
        raise DataError(f"{option}: {NO_PRODUCTS}; import an export with product columns (SKU, title or "
                        "category) first")


def stored_tags(store: Store, as_of: date, since: date | None, settings: TagSettings | None = None, *,
                times: bool = True) -> pl.DataFrame:
    """The tags read from the store: customer_id, categories and, `times`, favourite_weekday and
    favourite_hour (a customer with no counted order in the window has no row)."""
    settings = settings or TagSettings()
    tags = category_tags(store, as_of, since, settings.top_categories)
    if times:
        tags = tags.join(time_tags(store, as_of, since), on="customer_id", how="full", coalesce=True)
    return tags


def with_tags(customers: pl.DataFrame, stored: pl.DataFrame, settings: TagSettings | None = None,
              basis: str = "total") -> pl.DataFrame:
    """`customers` (scored, in its order) with the tag columns after its own: categories, aov_band
    (from its frequency and monetary) and those of `stored` (see stored_tags)."""
    settings = settings or TagSettings()
    extra = [c for c in TAG_COLUMNS if c in stored.columns or c == "aov_band"]
    joined = customers.with_columns(aov_band_column(customers, settings, basis)).join(
        stored, on="customer_id", how="left", maintain_order="left")
    if "categories" not in joined.columns:
        joined = joined.with_columns(pl.lit(None, dtype=pl.String).alias("categories"))
        extra = ["categories", *extra]
    return joined.select(*customers.columns, *[c for c in TAG_COLUMNS if c in extra])


def customer_tags(store: Store, customers: pl.DataFrame, as_of: date, since: date | None,
                  settings: TagSettings | None = None, *, bought: list[tuple[str, str]] | None = None,
                  times: bool = True, basis: str = "total") -> pl.DataFrame:
    """customer_id and the tag columns of `customers` (scored: customer_id, frequency, monetary; in
    its order); with `bought`, a boolean `bought` (for the lists' --bought). `basis`: the rules'
    monetary basis."""
    base = customers.select("customer_id", "frequency", "monetary")
    tags = with_tags(base, stored_tags(store, as_of, since, settings, times=times), settings, basis)
    if bought:
        ids = bought_ids(store, as_of, since, bought).get_column("customer_id")
        tags = tags.with_columns(pl.col("customer_id").is_in(ids.implode()).alias("bought"))
    return tags.drop("frequency", "monetary")


def explain_lines(store: Store, result: Any, customer_id: str,
                  settings: TagSettings | None = None) -> list[str]:
    """The customer's tags and how each was computed, for `rfm explain` (one line each)."""
    settings = settings or TagSettings()
    row = result.customers.filter(pl.col("customer_id") == customer_id)
    if row.is_empty():
        return []
    values = row.row(0, named=True)
    lines = []
    if has_lines(store.con):
        spend = as_frame(store.con.sql(
            f"SELECT category, sum(coalesce(amount, 0)) AS spend FROM ({_lines_sql('customer_id = $c')}) "
            "GROUP BY category ORDER BY spend DESC, category NULLS LAST",
            params={**_params(result.as_of, result.since), "c": customer_id}))
        named = [(c, float(s)) for c, s in spend.iter_rows() if c is not None]
        unnamed = sum(float(s) for c, s in spend.iter_rows() if c is None)
        kept = "|".join(c for c, _ in named[:settings.top_categories]) or "(none)"
        parts = ", ".join(f"{c} {s:,.2f}" for c, s in named) or "none"
        lines.append(f"categories = {kept}: line spend of counted orders by category ({parts}"
                     + (f"; {unnamed:,.2f} without a category" if unnamed else "")
                     + f"), the top {settings.top_categories} kept")
    else:
        lines.append(f"categories: {NO_PRODUCTS}")
    basis = result.rules.monetary.basis
    frame = result.customers.select("customer_id", "frequency", "monetary")
    band, aov = frame.with_columns(aov_band_column(frame, settings, basis), _aov(basis).alias("aov")).filter(
        pl.col("customer_id") == customer_id).select("aov_band", "aov").row(0)
    _, _, how = aov_edges(frame, settings, basis)
    formula = ("monetary (the average counted order, by the rules' basis)" if basis == "average" else
               f"monetary {float(values['monetary']):,.2f} / {values['frequency']} counted orders")
    lines.append(f"aov_band = {band}: AOV = {formula} = {aov:,.2f}; {how}")
    times = time_tags(store, result.as_of, result.since, customer_id)
    if times.height:
        weekday, hour = times.row(0)[1:]
        lines.append(f"favourite_weekday = {weekday}, favourite_hour = {hour}: the weekday and hour of "
                     "most of the counted orders (a tie: the earlier)")
    return lines
