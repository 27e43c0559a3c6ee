"""The order of the lists and the work skipped for csv-only exports.

`list_order` sorts on one 64-bit key when the values fit and on the columns when they do not;
both must give the order the columns define. A csv-only export skips the contact normalisation,
so phones and emails to suppress must still be matched. Coupon codes go to the best customers
whatever their tier.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_cli.core import segments
from rfm_cli.core.selection import BEST_FIRST, by_tier, lend_in_list_order, list_order

TIERS = ["diamond", "gold", "potential", "dormant"]


def reference(frame: pl.DataFrame, tiers: list[str]) -> pl.DataFrame:
    """The order spelled out: tier in rule order, then monetary high to low, days, customer_id."""
    by, descending = BEST_FIRST
    rank = {t: i for i, t in enumerate(tiers)}
    rows = sorted(frame.iter_rows(named=True),
                  key=lambda r: (rank[r["tier"]], -r["monetary"], r["recency_days"], r["customer_id"]))
    assert by == ["monetary", "recency_days", "customer_id"] and descending == [True, False, False]
    return pl.DataFrame(rows, schema=frame.schema)


customer_rows = st.lists(
    st.tuples(
        st.sampled_from(TIERS),
        # Few distinct values, so ties on monetary and on days are common; some beyond the key's
        # 2^42 cents and 2^16 days, and negative days, which must take the column sort.
        st.one_of(st.sampled_from([0.01, 5.0, 5.01, 99.99, 100.0]),
                  st.sampled_from([44_000_000_000.0, 1e15])),
        st.one_of(st.integers(0, 3), st.sampled_from([65_535, 65_536, -1])),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customer_rows)
def test_list_order_is_tier_then_best_first(rows: list[tuple[str, float, int]]) -> None:
    frame = pl.DataFrame(
        [{"customer_id": f"C{i:03d}", "tier": t, "monetary": m, "recency_days": d}
         for i, (t, m, d) in enumerate(rows)],
        schema={"customer_id": pl.String, "tier": pl.String, "monetary": pl.Float64,
                "recency_days": pl.Int64},
    )  # sorted by customer_id, as scored
    ordered = list_order(frame, TIERS)
    assert ordered.equals(reference(frame, TIERS))
    parts = by_tier(ordered, TIERS)
    assert list(parts) == TIERS
    for tier, part in parts.items():
        assert part.equals(ordered.filter(pl.col("tier") == tier))


def _scored(rows: list[tuple[str, float, int]]):
    from rfm_cli.core.rules import load_rules
    from rfm_cli.core.scoring import ScoreResult

    frame = pl.DataFrame(
        [{"customer_id": f"C{i:03d}", "tier": t, "monetary": m, "recency_days": d}
         for i, (t, m, d) in enumerate(rows)],
        schema={"customer_id": pl.String, "tier": pl.String, "monetary": pl.Float64,
                "recency_days": pl.Int64},
    ).with_columns(pl.col("customer_id").set_sorted())
    return ScoreResult(as_of=date(2026, 6, 1), rules=load_rules(), customers=frame, cut_points=pl.DataFrame())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customer_rows, st.booleans())
def test_customers_lent_in_list_order_come_back_as_they_were(rows, with_extra: bool) -> None:
    """lend_in_list_order gives list_order's frame (and an extra column moved with its rows) while
    the result holds that same frame, not a second copy; reading result.customers puts them back in
    customer_id order, flagged sorted again."""
    result = _scored(rows)
    before = result.customers
    summary = result.summary()
    extra = [pl.Series("previous_tier", [f"p{i}" for i in range(len(rows))], pl.String)] if with_extra else []
    expected = list_order(before.with_columns(*extra), TIERS)
    ordered = lend_in_list_order(result, TIERS, extra)
    assert ordered.equals(expected)
    held = object.__getattribute__(result, "customers")  # as the result holds it, not put back
    assert held.equals(expected.select(before.columns))
    assert result.customers_scored == len(rows) and result.summary() is summary
    assert result.customers.equals(before)
    assert result.customers["customer_id"].flags["SORTED_ASC"]
    assert object.__getattribute__(result, "_positions") is None


def test_the_lists_hold_the_only_copy_of_the_customers(rfm, tmp_path: Path) -> None:
    """build_lists reorders the scored customers in place: after it, the result holds them in list
    order (the state lists are slices of that frame) until result.customers is read."""
    from rfm_cli.core.rules import load_rules
    from rfm_cli.core.scoring import score_store
    from rfm_cli.core.segments import ExportSpec, build_lists
    from rfm_cli.core.store import open_store

    rows = [f"O{i},{c},2026-06-0{1 + i % 3} 10:00:00,{amount},paid" for i, (c, amount) in
            enumerate([("A", 5), ("B", 500), ("C", 50), ("D", 70), ("E", 7)])]
    header = "order_id,customer_id,order_date,amount,status\n"
    (tmp_path / "orders.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    assert rfm("--db", "shop.duckdb", "import", "orders.csv").returncode == 0
    with open_store(tmp_path / "shop.duckdb", create=False) as store:
        result = score_store(store, load_rules(), None)
    before = result.customers
    lists = build_lists(result, ExportSpec(out_dir=tmp_path / "out"))
    held = object.__getattribute__(result, "customers")
    listed = pl.concat([each.customer_ids for each in lists.state])
    assert held["customer_id"].to_list() == listed.to_list()
    assert listed.to_list() != sorted(listed.to_list())  # list order is not customer_id order here
    assert result.customers.equals(before)  # put back once read


def test_run_and_export_never_put_the_customers_back(tmp_path: Path) -> None:
    """Nothing in `rfm run` or `rfm export` reads result.customers once the lists hold them (that
    would make the second copy the lending avoids: the snapshot, the levels and the code ledger read
    them in any order); the result comes back still lent, and equal once read."""
    from rfm_cli.core import api
    from rfm_cli.core.ingest.stage import ImportOptions
    from rfm_cli.core.rules import load_rules
    from rfm_cli.core.segments import ExportSpec

    _orders(tmp_path / "orders.csv")
    (tmp_path / "codes.txt").write_text("A1\nA2\n", encoding="utf-8")
    spec = ExportSpec(out_dir=tmp_path / "out", channels=["csv", "coupon"], codes=["A1", "A2"])
    ran = api.run(str(tmp_path / "shop.duckdb"), [tmp_path / "orders.csv"], spec, load_rules(), None,
                  ImportOptions(rejects_dir=None))
    exported = api.export(str(tmp_path / "shop.duckdb"), spec, load_rules(), None)
    for outcome in (ran, exported):
        assert object.__getattribute__(outcome.score, "_positions") is not None
        assert outcome.score.customers["customer_id"].to_list() == ["D1", "D2", "D3", "P1", "P2", "P3"]


def _orders(path: Path) -> Path:
    # Two tiers on 2026-06-01: D1..D3 (six orders each: gold) and P1..P3 (one order each, potential).
    header = "order_id,customer_id,order_date,amount,status,customer_name,phone,email\n"
    lines = []
    for c, amount, phone, email in [("D1", 50, "13800000001", "d1@example.com"),
                                    ("D2", 40, "13800000002", "d2@example.com"),
                                    ("D3", 30, "", "")]:
        lines += [f"{c}-{k},{c},2026-06-01 10:00:00,{amount},paid,,{phone},{email}" for k in range(6)]
    for c, amount, phone, email in [("P1", 900, "+86 138 0000 0011", "P1@Example.com"),
                                    ("P2", 800, "", "p2@example.com"),
                                    ("P3", 1, "", "")]:
        lines.append(f"{c}-0,{c},2026-06-01 10:00:00,{amount},paid,,{phone},{email}")
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row["customer_id"] for row in csv.DictReader(fh)]


def test_a_csv_only_export_still_suppresses_phones_and_emails(rfm, tmp_path: Path) -> None:
    _orders(tmp_path / "orders.csv")
    # P1's phone written another way and D2's email in other case: matched after normalisation.
    (tmp_path / "optouts.csv").write_text("contact\n13800000011\nD2@EXAMPLE.COM\n", encoding="utf-8")
    done = rfm("--db", "shop.duckdb", "run", "orders.csv", "--out-dir", "out", "--exclude", "optouts.csv")
    assert done.returncode == 0, done.stderr
    assert _ids(tmp_path / "out" / "send" / "csv" / "gold.csv") == ["D1", "D3"]
    assert _ids(tmp_path / "out" / "send" / "csv" / "potential.csv") == ["P2", "P3"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    dropped = {f["path"]: f["dropped"] for f in manifest["files"]}
    assert dropped["send/csv/gold.csv"] == {"excluded by optouts.csv": 1}
    assert dropped["send/csv/potential.csv"] == {"excluded by optouts.csv": 1}
    assert _ids(tmp_path / "out" / "tiers" / "gold.csv") == ["D1", "D2", "D3"]  # the state: every one


def test_coupon_codes_go_to_the_best_customers_whatever_their_tier(rfm, tmp_path: Path) -> None:
    _orders(tmp_path / "orders.csv")
    (tmp_path / "codes.txt").write_text("A1\nA2\nA3\n", encoding="utf-8")
    done = rfm("--db", "shop.duckdb", "run", "orders.csv", "--out-dir", "out", "--channel", "coupon",
               "--codes", "codes.txt")
    assert done.returncode == 0, done.stderr

    def codes(tier: str) -> dict[str, str]:
        with (tmp_path / "out" / "send" / "coupon" / f"{tier}.csv").open(encoding="utf-8", newline="") as fh:
            return {row["customer_id"]: row["coupon_code"] for row in csv.DictReader(fh)}

    # By monetary: P1 900, P2 800, D1 300 (6 x 50), D2 240, D3 180, P3 1. Gold comes before potential in
    # the rules, but the codes follow spend.
    assert codes("potential") == {"P1": "A1", "P2": "A2"}
    assert codes("gold") == {"D1": "A3"}


ids = st.lists(st.sampled_from([f"C{i}" for i in range(30)]), unique=True, max_size=20)


@settings(max_examples=100, deadline=None)
@given(ids, ids, st.booleans())
def test_previous_tiers_join_as_the_plain_join_does(now: list[str], before: list[str], collide: bool) -> None:
    """with_previous joins on a hash of the id and checks it; ids sharing a hash (forced here by a
    hash of the id's length) must fall back to the join on the text, with the same result."""
    customers = pl.DataFrame({"customer_id": sorted(now), "tier": ["gold"] * len(now)},
                             schema={"customer_id": pl.String, "tier": pl.String})
    previous = pl.DataFrame({"customer_id": sorted(before),
                             "previous_tier": [f"t{c}" for c in sorted(before)]},
                            schema={"customer_id": pl.String, "previous_tier": pl.String})
    expected = customers.join(previous, on="customer_id", how="left", maintain_order="left")
    original = segments._id_hash
    if collide:
        segments._id_hash = lambda s: s.str.len_bytes().cast(pl.UInt64).alias("_h")
    try:
        assert segments.with_previous(customers, previous).equals(expected)
    finally:
        segments._id_hash = original
