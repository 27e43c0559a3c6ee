"""Tiers over time: snapshots per as-of date, moves between them, frozen cut points, sends.

A snapshot holds every customer's values, scores and tier for one as-of date and scheme, with the
rules and cut points in force; re-running the same date replaces it. Moves compare two snapshots.
(Frozen cut points are in frozen_cuts.py.)
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import polars as pl

from rfm_cli.core.errors import DataError
from rfm_cli.core.frames import ArrowStream
from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.scoring import ScoreResult
from rfm_cli.core.store import Store

SNAPSHOT_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                    "tier"]


def _frame(store: Store, query: str, params: dict | None = None) -> pl.DataFrame:
    return as_frame(store.con.sql(query, params=params or {}))


# ------------------------------------------------------------------ snapshots


def save_snapshot(store: Store, result: ScoreResult) -> None:
    """Store (or replace) the snapshot of this as-of date and scheme. The caller owns the transaction."""
    key = {"as_of": result.as_of, "scheme": result.rules.scheme}
    store.con.execute("DELETE FROM rfm_snapshots WHERE as_of = $as_of AND scheme = $scheme", key)
    store.con.execute("DELETE FROM rfm_snapshot_runs WHERE as_of = $as_of AND scheme = $scheme", key)
    rows = result.customers_in_any_order.select(SNAPSHOT_COLUMNS)  # stored in whatever order
    store.con.register("_snapshot_rows", ArrowStream(rows))
    store.con.execute(
        "INSERT INTO rfm_snapshots SELECT $as_of, $scheme, customer_id, recency_days, frequency, monetary, "
        "r_score, f_score, m_score, tier FROM _snapshot_rows", key)
    store.con.unregister("_snapshot_rows")
    store.con.execute(
        "INSERT INTO rfm_snapshot_runs VALUES ($as_of, $scheme, $taken_at, $customers, $rules, $cuts)",
        key | {"taken_at": datetime.now().replace(microsecond=0), "customers": rows.height,
               "rules": json.dumps(result.rules.to_dict(), ensure_ascii=False),
               "cuts": json.dumps(result.cut_points.to_dicts(), ensure_ascii=False)})


def snapshot_dates(store: Store, scheme: str) -> list[date]:
    return [r[0] for r in store.con.execute(
        "SELECT as_of FROM rfm_snapshot_runs WHERE scheme = ? ORDER BY as_of", [scheme]).fetchall()]


def previous_date(store: Store, scheme: str, as_of: date) -> date | None:
    earlier = [d for d in snapshot_dates(store, scheme) if d < as_of]
    return earlier[-1] if earlier else None


def snapshot(store: Store, scheme: str, as_of: date) -> pl.DataFrame:
    return _frame(store, "SELECT customer_id, tier FROM rfm_snapshots WHERE scheme = $s AND as_of = $d",
                  {"s": scheme, "d": as_of})


def resolve_pair(store: Store, scheme: str, date_from: date | None,
                 date_to: date | None) -> tuple[date, date]:
    dates = snapshot_dates(store, scheme)
    if not dates:
        raise DataError(
            f"no snapshots of the {scheme} scheme in {store.label}; `rfm run` stores one per night")
    to = date_to or dates[-1]
    if to not in dates:
        raise DataError(f"no snapshot on {to}; snapshots: {', '.join(map(str, dates[-10:]))}")
    earlier = [d for d in dates if d < to]
    frm = date_from or (earlier[-1] if earlier else None)
    if frm is None:
        raise DataError(
            f"only one snapshot ({to}) in {store.label}; moves need two: run again on a later day")
    if frm not in dates:
        raise DataError(f"no snapshot on {frm}; snapshots: {', '.join(map(str, dates[-10:]))}")
    return frm, to


NEW = "(new)"
GONE = "(gone)"


def moves_table(store: Store, scheme: str, frm: date, to: date) -> pl.DataFrame:
    """One row per customer in either snapshot: from_tier, to_tier ((new) / (gone) when absent)."""
    before = snapshot(store, scheme, frm).rename({"tier": "from_tier"})
    after = snapshot(store, scheme, to).rename({"tier": "to_tier"})
    return (before.join(after, on="customer_id", how="full", coalesce=True)
            .with_columns(pl.col("from_tier").fill_null(NEW), pl.col("to_tier").fill_null(GONE))
            .sort("customer_id"))


def moves_matrix(moves: pl.DataFrame, tier_order: list[str]) -> pl.DataFrame:
    """from_tier x to_tier customer counts, tiers in rule order."""
    rows = [NEW, *tier_order]
    cols = [*tier_order, GONE]
    counts = {(f, t): n for f, t, n in moves.group_by("from_tier", "to_tier").len().iter_rows()}
    return pl.DataFrame([{"from_tier": f, **{t: counts.get((f, t), 0) for t in cols}} for f in rows],
                        schema={"from_tier": pl.String, **{t: pl.Int64 for t in cols}})


def previous_tiers(store: Store, result: ScoreResult) -> pl.DataFrame:
    """customer_id, previous_tier: the tiers of the previous snapshot (none before the first)."""
    prev = previous_date(store, result.rules.scheme, result.as_of)
    before = (snapshot(store, result.rules.scheme, prev) if prev else pl.DataFrame(
        schema={"customer_id": pl.String, "tier": pl.String}))
    return before.rename({"tier": "previous_tier"})


def entered(listed: pl.DataFrame) -> pl.DataFrame:
    """The listed customers (with previous_tier from `previous_tiers`) whose tier differs from the
    previous snapshot's, or who are new, in the order they came."""
    return listed.filter(pl.col("previous_tier").is_null() | (pl.col("previous_tier") != pl.col("tier")))


def history(store: Store, customer_id: str, scheme: str) -> pl.DataFrame:
    frame = _frame(store, "SELECT as_of, tier, r_score, f_score, m_score, recency_days, frequency, monetary "
                          "FROM rfm_snapshots WHERE customer_id = $c AND scheme = $s ORDER BY as_of",
                   {"c": customer_id, "s": scheme})
    if frame.is_empty():
        raise DataError(f"customer {customer_id!r} is in no {scheme} snapshot of {store.label}; "
                        "check the id, or run `rfm run` to take snapshots")
    return frame


# ------------------------------------------------------------------ sends (cooldown)


def _ids_blob(ids: pl.Series) -> bytes:
    buffer = io.BytesIO()
    ids.cast(pl.String).alias("customer_id").to_frame().write_ipc(buffer, compression="zstd")
    return buffer.getvalue()


def _blob_ids(blob: bytes) -> pl.Series:
    return pl.read_ipc(io.BytesIO(blob)).get_column("customer_id")


def record_sends(store: Store, as_of: date, sent: list[tuple[str, str, pl.Series]], *, list_name: str = "",
                 ) -> None:
    """Record who was written to which list, one row per list (rfm_send_lists). Writing a list again
    for the same as-of date and name replaces its record (and those of the older one-row-per-customer
    ledger); the date's other lists keep theirs, so `export --tier gold -o -` leaves the night's lists
    counted. `list_name`: '' for export and run, 'campaign NAME' for a campaign's lists."""
    keys = sorted({(channel, tier) for channel, tier, _ in sent})
    if keys:
        store.con.execute("DELETE FROM rfm_send_lists WHERE as_of = ? AND list_name = ? "
                          "AND list_contains(?, [channel, tier])",
                          [as_of, list_name, [list(k) for k in keys]])
        if not list_name:
            store.con.execute("DELETE FROM rfm_sends WHERE as_of = ? AND list_contains(?, [channel, tier])",
                              [as_of, [list(key) for key in keys]])
    now = datetime.now().replace(microsecond=0)
    for channel, tier, ids in sent:
        if len(ids):
            store.con.execute("INSERT INTO rfm_send_lists VALUES (?, ?, ?, ?, ?, ?, ?)",
                              [as_of, channel, tier, list_name, len(ids), _ids_blob(ids), now])


def recently_sent(store: Store, as_of: date, days: int) -> dict[tuple[str, str], pl.Series]:
    """(channel, tier) -> the customers written to that list (by a run, an export or a campaign)
    within `days` before this as-of date (distinct). With a week's cooldown at 10M orders that is ~13M
    ids: read list by list and made distinct as they come, so at most a list and the running set are
    held at once."""
    since = as_of - timedelta(days=days)
    window = {"as_of": as_of, "since": since}
    found: dict[tuple[str, str], pl.Series] = {}

    def add(key: tuple[str, str], ids: pl.Series) -> None:
        found[key] = (pl.concat([found[key], ids]) if key in found else ids).unique(maintain_order=True)

    for channel, tier, blob in store.con.execute(
            "SELECT channel, tier, customer_ids FROM rfm_send_lists WHERE as_of < $as_of AND as_of >= $since "
            "ORDER BY as_of, channel, tier", window).fetchall():
        add((channel, tier), _blob_ids(blob))
    legacy = _frame(store, "SELECT DISTINCT channel, tier, customer_id FROM rfm_sends "
                           "WHERE as_of < $as_of AND as_of >= $since", window)  # written before schema 8
    for (channel, tier), part in legacy.partition_by(["channel", "tier"], as_dict=True).items():
        add((channel, tier), part.get_column("customer_id"))
    return found
