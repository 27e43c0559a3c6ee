"""The coupon-code ledger: a code written to a list once is never written to another.

`rfm export --codes`, `rfm run --codes` and `rfm campaign new --codes` read the same codes file
night after night; the ledger (rfm_coupon_codes, schema 11) remembers every code issued, to whom,
on which as-of date and list. Before a list is built the codes already issued are taken out of the
file's codes, so "codes left" counts the codes never issued. Writing the same night's list again
(same as-of date, list name and tier, as a cron re-run does) first gives that list's codes back:
the re-run writes the same codes to the same customers, and no code is lost or doubled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from rfm_cli.core.store import Store


def available(store: Store, codes: list[str] | None, as_of: date, list_name: str, tiers: Iterable[str],
              ) -> list[str] | None:
    """The file's codes (in file order) less those issued before, after giving back the codes of
    this as-of date, list name and tiers (the list is being written again). The caller owns the
    transaction: a failed run gives nothing back."""
    if codes is None:
        return None
    store.con.execute(
        "DELETE FROM rfm_coupon_codes WHERE as_of = ? AND list_name = ? AND list_contains(?, tier)",
        [as_of, list_name, sorted(set(tiers))])
    if not codes:
        return []
    issued = {row[0] for row in store.con.execute(
        "SELECT code FROM (SELECT unnest(CAST(? AS VARCHAR[])) AS code) JOIN rfm_coupon_codes USING (code)",
        [codes]).fetchall()}
    return [code for code in codes if code not in issued]


def record(store: Store, as_of: date, list_name: str, issued: Mapping[str, str],
           tier_of: Mapping[str, str]) -> None:
    """Remember the codes written tonight: customer_id -> code, and each customer's tier."""
    if not issued:
        return
    now = datetime.now().replace(microsecond=0)
    customers = sorted(issued)
    store.con.execute(
        "INSERT INTO rfm_coupon_codes SELECT unnest(CAST($codes AS VARCHAR[])), "
        "unnest(CAST($ids AS VARCHAR[])), $as_of, $name, unnest(CAST($tiers AS VARCHAR[])), $now",
        {"codes": [issued[c] for c in customers], "ids": customers, "as_of": as_of, "name": list_name,
         "tiers": [tier_of.get(c, "") for c in customers], "now": now})


def issued_count(store: Store) -> int:
    return store.con.execute("SELECT count(*) FROM rfm_coupon_codes").fetchone()[0]


def tiers_of(result, lists) -> dict[str, str]:
    """customer_id -> tier, for the customers given a code (result: ScoreResult, lists: segments.Lists)."""
    if not lists.codes_issued:
        return {}
    import polars as pl

    holders = result.customers_in_any_order.filter(pl.col("customer_id").is_in(list(lists.codes_issued)))
    return dict(holders.select("customer_id", "tier").iter_rows())
