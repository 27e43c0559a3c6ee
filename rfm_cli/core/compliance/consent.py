"""The consent ledger (rfm_consent): who agreed to which channel, when, where it was recorded, on what basis.

Filled two ways:
- by imports: an export's per-channel consent columns (Shopify `Accepts Email Marketing` /
  `Accepts SMS Marketing`, WooCommerce opt-in fields; canonical `accepts_email` / `accepts_sms`),
  one event per order carrying them, at the order's time, with the import as its source;
- by `rfm consent add|withdraw VALUE --channel C --source S --basis B`: consent kept elsewhere (a
  sign-up form, a paper register), by customer id, phone or email.

The latest event per person and channel is in force; an event for channel `any` counts for every
channel. `--require-consent` (export, run) keeps on each list only customers whose consent for the
list's channel is in force (`granted`): sms (and coupon lists keyed by phone) need sms consent; email,
klaviyo, mailchimp and shopify need email consent; google and meta need ads consent. The csv list
(the seller's own file) and coupon lists by customer id (the platform's own customers) are not
sends to a third party and are not filtered. A general `accepts_marketing` column is not consent
to any one channel (PIPL Art. 14 asks for specific consent): it only ever takes people off lists.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rfm_cli.core.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

    from rfm_cli.core.store import Store

CHANNELS = ("sms", "email", "ads", "any")
FIELD_CHANNELS = {"accepts_email": "email", "accepts_sms": "sms"}  # an export's consent columns
FIELDS = frozenset(FIELD_CHANNELS)
BASES = ("consent", "contract", "legitimate_interest", "legal_obligation")
LIST_CHANNEL = {"sms": "sms", "email": "email", "klaviyo": "email", "mailchimp": "email", "shopify": "email",
                "google": "ads", "meta": "ads"}


def consent_channel(list_channel: str, coupon_key: str = "customer_id") -> str | None:
    """The consent a list of `list_channel` needs (None: not filtered)."""
    if list_channel == "coupon":
        return "sms" if coupon_key == "phone" else None
    return LIST_CHANNEL.get(list_channel)


def record_import(con, import_id: int, label: str, fields: frozenset[str] | set[str]) -> int:
    """Consent events of an import's orders (order_outcomes: accepts_email, accepts_sms), inside the
    import's transaction: one INSERT for the consent `fields` the file has (a field it has no column
    for is NULL in every row, so an export without them costs no statement). Returns how many were
    new (the INSERT's count: ON CONFLICT DO NOTHING counts only the rows it inserted)."""
    channels = [(f, channel) for f, channel in FIELD_CHANNELS.items() if f in fields]
    if not channels:
        return 0
    events = " UNION ALL ".join(
        f"SELECT DISTINCT 'customer_id', customer_id, '{channel}', "
        f"CASE WHEN {field} THEN 'granted' ELSE 'withdrawn' END, ordered_at, $source, 'consent' "
        f"FROM order_outcomes WHERE {field} IS NOT NULL AND customer_id IS NOT NULL "
        "AND ordered_at IS NOT NULL AND outcome <> 'rejected'"
        for field, channel in channels)
    source = f"import {import_id} ({Path(label).name})"
    rows = con.execute(f"INSERT INTO rfm_consent {events} ON CONFLICT DO NOTHING", {"source": source})
    return rows.fetchall()[0][0]


def add(store: Store, values: list[str], channel: str, status: str, source: str, basis: str = "consent",
        at: datetime | None = None) -> int:
    """`rfm consent add|withdraw`: one event per value (classified like the suppression list)."""
    from rfm_cli.core.suppression import classify

    if channel not in CHANNELS:
        raise UsageError(f"--channel {channel!r} is not a consent channel; use one of {', '.join(CHANNELS)}")
    if basis not in BASES:
        raise UsageError(f"--basis {basis!r} is not a legal basis rfm records; use one of {', '.join(BASES)}")
    if not source.strip():
        raise UsageError("--source is empty; say where the consent was given (e.g. \"signup form 2026-05\")")
    when = (at or datetime.now()).replace(microsecond=0)
    pairs = [(k, v) for k, v in classify(values) if not (k == "phone" and v.startswith("+"))]
    with store.transaction():
        before = store.con.execute("SELECT count(*) FROM rfm_consent").fetchall()[0][0]
        store.con.executemany("INSERT INTO rfm_consent VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                              [(k, v, channel, status, when, source, basis) for k, v in pairs])
        return store.con.execute("SELECT count(*) FROM rfm_consent").fetchall()[0][0] - before


def status(store: Store, channel: str) -> dict[str, str]:
    """customer id -> 'granted' | 'withdrawn': the latest event for `channel` (or for `any`); phone and
    email events reach the customers whose orders carry that phone or email (queries/consent_status.sql)."""
    from rfm_cli.core.store import sql

    return dict(store.con.execute(sql("consent_status"), {"channel": channel}).fetchall())


def in_force(store: Store) -> dict[str, set[str]]:
    """channel (sms, email, ads) -> the customer ids whose consent for it is in force (granted)."""
    return {channel: {cid for cid, state in status(store, channel).items() if state == "granted"}
            for channel in CHANNELS if channel != "any"}


def only_consented(candidates: pl.DataFrame, channel: str, coupon_key: str,
                   consented: dict[str, set[str]] | None) -> tuple[pl.DataFrame, dict[str, int]]:
    """The candidates with consent in force for the list's channel, and the count of the others."""
    import polars as pl

    needed = consent_channel(channel, coupon_key)
    if consented is None or needed is None:
        return candidates, {}
    kept = candidates.filter(pl.col("customer_id").is_in(pl.Series(sorted(consented[needed]),
                                                                    dtype=pl.String).implode()))
    gone = candidates.height - kept.height
    return kept, ({f"no recorded {needed} consent": gone} if gone else {})


def listing(store: Store) -> pl.DataFrame:
    from rfm_cli.core.frames import frame

    return frame(store.con.sql("SELECT kind, value, channel, status, recorded_at, source, legal_basis "
                               "FROM rfm_consent ORDER BY kind, value, channel, recorded_at"))
