"""The plan's quantile cut points (plan_cuts.sql) give rfm's scores exactly, ties included.

rfm's definition (scoring.py, BRIEF §3): score = 1 + floor(5 x customers strictly worse / N). The
plan finds, over the distinct values with their customer counts, the least value d with
5 x (customers at or below d) >= (k-1) x N, and gives score >= k to the values above it: N counts
customers, not distinct values, and no division or rounding is involved.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rfm_cli.core.plan import compose_from_customers, translate
from rfm_cli.core.rules import build_rules, load_rules
from rfm_cli.core.scoring import score_frame

AS_OF = date(2026, 6, 30)
TIERS = load_rules()
ALL_QUANTILE = build_rules(
    {
        "recency": {"method": "quantile"},
        "frequency": {"method": "quantile"},
        "monetary": {"method": "quantile"},
        "tiers": [{"name": "top", "when": "r_score >= 4 and m_score == 5"}, {"name": "rest", "when": "true"}],
    },
    "all-quantile.toml",
)


def rfm_scores(customers: list[tuple[int, int, Decimal]], rules) -> pl.DataFrame:
    """rfm's own scoring (score_frame) of customers given as (recency_days, frequency, monetary)."""
    inputs = pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(len(customers))],
            "customer_name": [None] * len(customers),
            "phone": [None] * len(customers),
            "email": [None] * len(customers),
            "first_order_at": [datetime(2020, 1, 1)] * len(customers),
            "last_order_at": [
                datetime.combine(AS_OF - timedelta(days=r), datetime.min.time()) for r, _, _ in customers
            ],
            "frequency": [f for _, f, _ in customers],
            "spend": pl.Series([m for _, _, m in customers], dtype=pl.Decimal(18, 2)),
        },
        schema_overrides={"customer_name": pl.String, "phone": pl.String, "email": pl.String},
    )
    return score_frame(inputs, AS_OF, rules).customers.select(
        "customer_id", "r_score", "f_score", "m_score", "tier"
    )


@functools.cache
def plan_sql(rules) -> str:
    """The plan's statement over a `customers` table: it depends on the rules only, so each rule set
    is composed and translated once, not once an example (two thirds of this module's time)."""
    return translate(compose_from_customers(rules), "duckdb")


def plan_scores(customers: list[tuple[int, int, Decimal]], rules) -> pl.DataFrame:
    """The plan's parts 2 and 3 on DuckDB over the same customers (monetary DECIMAL(18, 2))."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers (customer_id VARCHAR, customer_name VARCHAR, phone VARCHAR, email VARCHAR, "
        "first_order_at TIMESTAMP, last_order_at TIMESTAMP, recency_days BIGINT, frequency BIGINT, "
        "monetary DECIMAL(18, 2))"
    )
    rows = pl.DataFrame(  # noqa: F841 - read by name below
        {
            "customer_id": [f"C{i:05d}" for i in range(len(customers))],
            "recency_days": [r for r, _, _ in customers],
            "frequency": [f for _, f, _ in customers],
            "monetary": pl.Series([m for _, _, m in customers], dtype=pl.Decimal(18, 2)),
        },
        schema_overrides={"recency_days": pl.Int64, "frequency": pl.Int64},
    )
    con.execute(
        "INSERT INTO customers SELECT customer_id, NULL, NULL, NULL, NULL, NULL, recency_days, frequency, "
        "monetary FROM rows"
    )
    found = pl.from_arrow(con.sql(plan_sql(rules)).to_arrow_table())
    return found.select(
        "customer_id", *(pl.col(c).cast(pl.Int64) for c in ("r_score", "f_score", "m_score")), "tier"
    ).sort("customer_id")


# Few distinct values: ties everywhere, and N not a multiple of 5 (where floor and ceil differ).
MONEY = st.sampled_from(
    [
        Decimal(x)
        for x in (
            "-5.00",
            "0.01",
            "0.10",
            "1.00",
            "9.99",
            "10.00",
            "10.01",
            "99.00",
            "120.50",
            "120.50",
            "5000.00",
        )
    ]
)
CUSTOMERS = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 9), MONEY), min_size=1, max_size=120)


@settings(max_examples=60, deadline=None)
@given(customers=CUSTOMERS)
@example(customers=[(1, 1, Decimal("10.00"))])  # one customer: score 1
@example(customers=[(i, 1, Decimal(i)) for i in range(7)])  # N = 7: q_k = ceil((k-1) 7 / 5)
@example(customers=[(0, 1, Decimal("1.00"))] * 4 + [(0, 1, Decimal("2.00"))])  # 4 tied below one
def test_cut_points_give_rfms_scores(customers: list[tuple[int, int, Decimal]]) -> None:
    for rules in (TIERS, ALL_QUANTILE):
        expected = rfm_scores(customers, rules)
        assert plan_scores(customers, rules).to_dicts() == expected.to_dicts()


def test_equal_values_share_a_score_and_n_counts_customers() -> None:
    """Worked by hand: 10 customers, monetary 1 x3, 2 x1, 3 x4, 4 x2 (4 distinct values).
    Strictly below: 1 -> 0, 2 -> 3, 3 -> 4, 4 -> 8; score = 1 + floor(5 x below / 10):
    1 -> 1, 2 -> 2, 3 -> 3, 4 -> 5. Counting distinct values instead (N = 4) would give 2 -> 2,
    3 -> 3, 4 -> 4: the plan must weigh each value by its customers."""
    values = [1] * 3 + [2] + [3] * 4 + [4] * 2
    customers = [(5, 1, Decimal(v)) for v in values]
    scores = plan_scores(customers, load_rules())
    by_value = dict(zip(values, scores["m_score"].to_list()))
    assert by_value == {1: 1, 2: 2, 3: 3, 4: 5}
    assert plan_scores(customers, load_rules()).to_dicts() == rfm_scores(customers, load_rules()).to_dicts()


@pytest.mark.parametrize("n", range(1, 41))
def test_the_integer_rule_is_the_definition(n: int) -> None:
    """Without an engine: for every N up to 40 and every count of customers strictly below L,
    `5 L >= (k-1) N` (the plan's test, no division) holds exactly when 1 + floor(5 L / N) >= k."""
    for below in range(n):
        score = 1 + (5 * below) // n
        for k in range(1, 6):
            assert (5 * below >= (k - 1) * n) == (score >= k)
