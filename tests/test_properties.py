"""Invariants of the numbers (BRIEF §3), checked on generated order sets with hypothesis.

Generated exports have up to a dozen customers, dates in a two-year window (many on the same
day), amounts with two decimals (many equal), statuses paid / cancelled / refunded, multi-line
orders, partial refunds in the refund column, negative refund lines and credit notes. Each is
run through the whole in-memory pipeline (CSV -> DuckDB -> scores) and compared with a small
reference model written here from the brief, not from the code:

- an order is its lines (same order_id); it counts when its status is paid and its amount
  (sum of positive lines) less its refunds (refund column + negative lines) is positive;
- a credit note (an order of only negative lines naming no purchase) reduces its customer's
  monetary and nothing else;
- as-of is the date of the latest counted order; recency is whole days to it;
- R and F by the fixed tables, M = 1 + floor(5 x customers with strictly smaller monetary / N).
"""

from __future__ import annotations

import math
import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_cli.core import api
from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest.pipeline import ImportOptions
from rfm_cli.core.rules import load_rules
from rfm_cli.core.scoring import OUTPUT_COLUMNS, score_frame, score_store

TIERS = load_rules("tiers")
CLASSIC = load_rules("classic")
HEADER = "order_id,customer_id,order_date,amount,status,refund_amount"
WINDOW_START = datetime(2024, 1, 1)
# Each pipeline run costs ~0.2 s of DuckDB planning, so the pipeline properties keep few examples.
PIPELINE = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PURE = settings(max_examples=100, deadline=None)

Row = tuple[str, str, str, str, str, str]  # order_id, customer_id, order_date, amount, status, refund_amount


# ------------------------------------------------------------------ the brief's tables, written out


def r_score_by_brief(recency_days: int) -> int:
    if recency_days <= 30:
        return 5
    if recency_days <= 60:
        return 4
    if recency_days <= 90:
        return 3
    if recency_days <= 180:
        return 2
    return 1


def f_score_by_brief(frequency: int) -> int:
    return {1: 1, 2: 2, 3: 3, 4: 4, 5: 4}.get(frequency, 5)


def m_scores_by_brief(monetary: dict[str, Decimal]) -> dict[str, int]:
    values = list(monetary.values())
    n = len(values)
    return {cid: 1 + math.floor(5 * sum(1 for v in values if v < mine) / n) for cid, mine in monetary.items()}


def tier_by_brief(r: int, f: int, m: int) -> str:
    if r <= 2:
        return "dormant"
    if f >= 4 and m >= 4:
        return "diamond"
    if f >= 3:
        return "gold"
    return "potential"


# ------------------------------------------------------------------ the reference model


@dataclass(frozen=True)
class Expected:
    as_of: date | None  # None: no counted order at all
    customers: dict[str, tuple[int, int, Decimal]]  # customer_id -> (recency_days, frequency, monetary)


def reference(rows: list[Row]) -> Expected:
    lines_of: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        lines_of[row[0]].append(row)
    counted: list[tuple[str, datetime, Decimal]] = []  # customer, ordered_at, net
    credit: dict[str, Decimal] = defaultdict(Decimal)
    for lines in lines_of.values():
        amounts = [Decimal(line[3]) for line in lines]
        customer = lines[0][1]
        if all(a < 0 for a in amounts):  # a credit note: the generator never reuses a purchase's id for one
            credit[customer] += -sum(amounts)
            continue
        gross = sum(a for a in amounts if a > 0)
        refunds = sum(Decimal(line[5]) for line in lines if line[5]) + sum(-a for a in amounts if a < 0)
        paid = any(line[4] == "paid" and Decimal(line[3]) >= 0 for line in lines)
        if paid and gross - refunds > 0:
            ordered_at = min(datetime.fromisoformat(line[2]) for line in lines)
            counted.append((customer, ordered_at, gross - refunds))
    if not counted:
        return Expected(None, {})
    as_of = max(at for _, at, _ in counted).date()
    per: dict[str, list[tuple[datetime, Decimal]]] = defaultdict(list)
    for customer, at, net in counted:
        per[customer].append((at, net))
    customers = {
        cid: (
            (as_of - max(at for at, _ in orders).date()).days,
            len(orders),
            sum(net for _, net in orders) - credit.get(cid, Decimal(0)),
        )
        for cid, orders in per.items()
    }
    return Expected(as_of, customers)


# ------------------------------------------------------------------ generated exports

SHARED_AMOUNTS = ["9.90", "19.90", "29.90", "99.00", "100.00", "0.01", "1234.56"]
amounts = st.one_of(
    st.sampled_from(SHARED_AMOUNTS).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(3000), places=2),
)
# Many orders on the same few days, so equal recencies are common.
days = st.one_of(st.sampled_from([0, 400, 640, 700, 715, 729]), st.integers(0, 729))


def _stamp(day: int, second: int) -> str:
    return (WINDOW_START + timedelta(days=day, seconds=second)).strftime("%Y-%m-%d %H:%M:%S")


@st.composite
def order_sets(draw) -> list[Row]:
    n_customers = draw(st.integers(1, 12))
    n_orders = draw(st.integers(1, 30))
    rows: list[Row] = []
    # The first order is a plain paid one, so most sets have someone to score.
    for i in range(n_orders):
        customer = f"C{draw(st.integers(0, n_customers - 1)):02d}"
        stamp = _stamp(draw(days), draw(st.integers(0, 86399)))
        status = (
            "paid" if i == 0 else draw(st.sampled_from(["paid", "paid", "paid", "cancelled", "refunded"]))
        )
        lines = draw(st.lists(amounts, min_size=1, max_size=3))
        refund = draw(st.one_of(st.none(), amounts)) if i and status == "paid" else None
        for j, amount in enumerate(lines):
            rows.append(
                (
                    f"O{i:03d}",
                    customer,
                    stamp,
                    f"{amount:.2f}",
                    status,
                    f"{refund:.2f}" if refund is not None and j == 0 else "",
                )
            )
        if i and draw(st.integers(0, 5)) == 0:  # a negative refund line of the same order
            rows.append((f"O{i:03d}", customer, stamp, f"-{draw(amounts):.2f}", "refunded", ""))
    customers = sorted({row[1] for row in rows})
    for k in range(draw(st.integers(0, 2))):  # credit notes naming no order
        rows.append(
            (
                f"CN{k}",
                draw(st.sampled_from(customers)),
                _stamp(draw(days), 0),
                f"-{draw(amounts):.2f}",
                "refunded",
                "",
            )
        )
    return rows


def _write(folder: Path, rows: list[Row], name: str = "orders.csv") -> Path:
    path = folder / name
    path.write_text(HEADER + "\n" + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


def score_rows(rows: list[Row], *schemes) -> list[pl.DataFrame] | None:
    """Score the rows through the in-memory pipeline under each rule set; None when nothing counts."""
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), rows)
        with api.scoring_store("unused.duckdb", [path], ImportOptions()) as (store, reports):
            assert all(r.reconciles() and r.rejected == 0 for r in reports), reports
            try:
                return [score_store(store, rules).customers for rules in schemes]
            except DataError as exc:
                assert "no counted orders" in str(exc)
                return None


def by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["customer_id"]: row for row in frame.iter_rows(named=True)}


# ------------------------------------------------------------------ the pipeline properties


@PIPELINE
@given(order_sets())
def test_pipeline_agrees_with_the_brief(rows: list[Row]) -> None:
    """Raw values, every score, one tier per customer under both schemes, ties share scores."""
    expected = reference(rows)
    scored = score_rows(rows, TIERS, CLASSIC)
    if expected.as_of is None:
        assert scored is None
        return
    assert scored is not None
    tiers_frame, classic_frame = scored
    assert tiers_frame.columns == OUTPUT_COLUMNS
    m_expected = m_scores_by_brief({cid: v[2] for cid, v in expected.customers.items()})

    for frame, rules in ((tiers_frame, TIERS), (classic_frame, CLASSIC)):
        # exactly one row, so exactly one tier, per scored customer; every tier is a rule's name
        assert frame["customer_id"].to_list() == sorted(expected.customers)
        assert frame["tier"].null_count() == 0
        assert set(frame["tier"]) <= set(rules.tier_names())
        for cid, row in by_id(frame).items():
            recency, frequency, monetary = expected.customers[cid]
            assert (row["recency_days"], row["frequency"]) == (recency, frequency), (cid, row)
            assert row["monetary"] == pytest.approx(float(monetary), abs=1e-9), (cid, row)
            assert row["r_score"] == r_score_by_brief(recency), (cid, row)
            assert row["f_score"] == f_score_by_brief(frequency), (cid, row)
            assert row["m_score"] == m_expected[cid], (cid, row)
            assert all(1 <= row[s] <= 5 for s in ("r_score", "f_score", "m_score"))
            assert row["rfm_code"] == f"{row['r_score']}{row['f_score']}{row['m_score']}"
        # equal raw values share a score
        for raw, score in (("monetary", "m_score"), ("recency_days", "r_score"), ("frequency", "f_score")):
            shared = frame.group_by(raw).agg(pl.col(score).n_unique().alias("scores"))
            assert shared["scores"].max() == 1, (raw, frame)

    for row in tiers_frame.iter_rows(named=True):
        assert row["tier"] == tier_by_brief(row["r_score"], row["f_score"], row["m_score"]), row


@PIPELINE
@given(order_sets(), st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rows: list[Row], rnd: random.Random) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    before, after = score_rows(rows, TIERS), score_rows(shuffled, TIERS)
    if before is None:
        assert after is None
        return
    assert after is not None
    assert after[0].equals(before[0]), (before[0], after[0])


@st.composite
def sets_with_a_refund(draw) -> tuple[list[Row], Row]:
    rows = draw(order_sets())
    order_ids = sorted({row[0] for row in rows})
    customers = sorted({row[1] for row in rows})
    if draw(st.booleans()):  # a refund line of an existing order (purchase or credit note)
        order_id = draw(st.sampled_from(order_ids))
        customer = next(row[1] for row in rows if row[0] == order_id)
    else:  # a credit note for an existing customer
        order_id, customer = "REFUND-NEW", draw(st.sampled_from(customers))
    amount = draw(amounts)
    refund = (
        order_id,
        customer,
        _stamp(draw(days), draw(st.integers(0, 86399))),
        f"-{amount:.2f}",
        "refunded",
        "",
    )
    return rows, refund


@PIPELINE
@given(sets_with_a_refund())
def test_a_refund_row_never_raises_frequency_or_monetary(case: tuple[list[Row], Row]) -> None:
    rows, refund = case
    position = len(rows) // 2
    with_refund = rows[:position] + [refund] + rows[position:]
    before, after = score_rows(rows, TIERS), score_rows(with_refund, TIERS)
    if after is None:
        return  # the refund cancelled the only counted order: nobody was raised
    assert before is not None, "a refund row made a customer appear"
    old, new = by_id(before[0]), by_id(after[0])
    assert set(new) <= set(old), "a refund row made a customer appear"
    for cid, row in new.items():
        assert row["frequency"] <= old[cid]["frequency"], (refund, old[cid], row)
        assert row["monetary"] <= old[cid]["monetary"] + 1e-9, (refund, old[cid], row)


# ------------------------------------------------------------------ scoring alone, on many customers

AS_OF = date(2026, 6, 30)


@st.composite
def customer_inputs(draw) -> pl.DataFrame:
    n = draw(st.integers(1, 120))
    recency = draw(
        st.lists(
            st.one_of(st.sampled_from([0, 30, 31, 60, 61, 90, 91, 180, 181]), st.integers(0, 900)),
            min_size=n,
            max_size=n,
        )
    )
    frequency = draw(st.lists(st.integers(1, 9), min_size=n, max_size=n))
    spend = draw(
        st.lists(
            st.one_of(
                st.sampled_from(SHARED_AMOUNTS).map(Decimal),
                st.decimals(min_value=Decimal(-50), max_value=Decimal(9999), places=2),
            ),
            min_size=n,
            max_size=n,
        )
    )
    last = [
        datetime.combine(AS_OF, datetime.min.time()) - timedelta(days=d) + timedelta(hours=9) for d in recency
    ]
    return pl.DataFrame(
        {
            "customer_id": [f"K{i:03d}" for i in range(n)],
            "customer_name": [None] * n,
            "phone": [None] * n,
            "email": [None] * n,
            "first_order_at": [t - timedelta(days=400) for t in last],
            "last_order_at": last,
            "frequency": frequency,
            "spend": [float(s) for s in spend],
        },
        schema_overrides={"customer_name": pl.String, "phone": pl.String, "email": pl.String},
    )


@PURE
@given(customer_inputs())
def test_score_frame_follows_the_tables_and_the_quantile_formula(inputs: pl.DataFrame) -> None:
    result = score_frame(inputs, AS_OF, TIERS)
    out = result.customers
    assert out.height == inputs.height and out["customer_id"].n_unique() == out.height
    spend = {row["customer_id"]: Decimal(str(row["spend"])) for row in inputs.iter_rows(named=True)}
    m_expected = m_scores_by_brief(spend)
    for row in out.iter_rows(named=True):
        assert row["r_score"] == r_score_by_brief(row["recency_days"]), row
        assert row["f_score"] == f_score_by_brief(row["frequency"]), row
        assert row["m_score"] == m_expected[row["customer_id"]], row
        assert row["tier"] == tier_by_brief(row["r_score"], row["f_score"], row["m_score"]), row
    classic = score_frame(inputs, AS_OF, CLASSIC).customers
    assert classic["tier"].null_count() == 0 and set(classic["tier"]) <= set(CLASSIC.tier_names())
    assert classic.select("r_score", "f_score", "m_score").equals(out.select("r_score", "f_score", "m_score"))


@PURE
@given(customer_inputs(), st.randoms(use_true_random=False))
def test_score_frame_ignores_input_order(inputs: pl.DataFrame, rnd: random.Random) -> None:
    order = list(range(inputs.height))
    rnd.shuffle(order)
    shuffled = inputs[order]
    assert score_frame(shuffled, AS_OF, TIERS).customers.equals(score_frame(inputs, AS_OF, TIERS).customers)


def test_reference_model_on_a_hand_worked_case() -> None:
    """The model the properties trust, checked once against numbers worked by hand."""
    rows = [
        ("O1", "A", "2026-01-01 10:00:00", "100.00", "paid", "30.00"),  # net 70
        ("O2", "A", "2026-01-31 09:00:00", "50.00", "paid", ""),
        ("O2", "A", "2026-01-31 09:00:00", "25.00", "paid", ""),  # O2: 75, one order
        ("O2", "A", "2026-01-31 09:00:00", "-5.00", "refunded", ""),  # O2: 70
        ("O3", "B", "2026-03-01 23:59:59", "70.00", "paid", ""),
        ("O4", "B", "2026-03-02 08:00:00", "999.00", "cancelled", ""),
        ("O5", "C", "2026-02-01 00:00:00", "10.00", "paid", "10.00"),  # fully refunded: C not scored
        ("CN1", "B", "2026-05-01 00:00:00", "-20.00", "refunded", ""),  # credit note: B 50, as-of unmoved
    ]
    expected = reference(rows)
    assert expected.as_of == date(2026, 3, 1)
    assert expected.customers == {"A": (29, 2, Decimal("140.00")), "B": (0, 1, Decimal("50.00"))}
    assert m_scores_by_brief({"A": Decimal(140), "B": Decimal(50)}) == {"A": 3, "B": 1}
    [frame] = score_rows(rows, TIERS)
    assert frame.select("customer_id", "recency_days", "frequency", "monetary", "m_score").rows() == [
        ("A", 29, 2, 140.0, 3),
        ("B", 0, 1, 50.0, 1),
    ]
