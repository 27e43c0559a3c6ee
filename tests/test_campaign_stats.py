"""Campaign arithmetic: a worked case with a known truth, then properties of the draw and the statistics."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact

from rfm_cli.core.campaigns.assign import CONTROL, ArmPlan, assign_arms, parse_share
from rfm_cli.core.campaigns.stats import ArmOutcome, Costs, compare, prob_better

# The worked case: 200 customers sent the SMS, 24 bought (12%); 50 held back, 2 bought (4%).
# Every buyer spent 100.00 in the window, one order each, and redeemed the coupon.
TREATED = ArmOutcome("treatment", customers=200, buyers=24, orders=24, revenue=2400.0,
                     revenue_by_customer=(100.0,) * 24, codes_redeemed=24)
CONTROL_GROUP = ArmOutcome(CONTROL, customers=50, buyers=2, orders=2, revenue=200.0,
                           revenue_by_customer=(100.0,) * 2)


def test_the_worked_campaign_gives_the_hand_computed_numbers() -> None:
    # conversion 24/200 = 0.12 and 2/50 = 0.04: uplift 0.08, relative 0.08/0.04 = 2.0
    # incremental buyers 0.08 x 200 = 16; orders (24/200 - 2/50) x 200 = 16
    # revenue per customer 2400/200 = 12.00 and 200/50 = 4.00: incremental (12 - 4) x 200 = 1600.00
    # cost 200 messages x 0.045 + 24 coupons x 10 = 9 + 240 = 249; ROI (1600 - 249) / 249
    result = compare(TREATED, CONTROL_GROUP, Costs(per_message=0.045, coupon_value=10.0))
    assert TREATED.conversion == pytest.approx(0.12) and CONTROL_GROUP.conversion == pytest.approx(0.04)
    assert result.uplift == pytest.approx(0.08)
    assert result.relative_uplift == pytest.approx(2.0)
    assert result.incremental_buyers == pytest.approx(16.0)
    assert result.incremental_orders == pytest.approx(16.0)
    assert result.incremental_revenue == pytest.approx(1600.0)
    assert result.cost == pytest.approx(249.0)
    assert result.roi == pytest.approx((1600 - 249) / 249)
    assert result.fisher_p == pytest.approx(fisher_exact([[24, 176], [2, 48]]).pvalue, rel=1e-12)


def test_roi_on_margin_counts_only_the_kept_share() -> None:
    result = compare(TREATED, CONTROL_GROUP, Costs(per_message=0.045, coupon_value=10.0, margin=0.3))
    assert result.roi == pytest.approx((1600 * 0.3 - 249) / 249)


def test_coupons_without_a_code_column_are_estimated_as_buyers() -> None:
    no_codes = ArmOutcome("treatment", 200, 24, 24, 2400.0, (100.0,) * 24, codes_redeemed=None)
    assert compare(no_codes, CONTROL_GROUP, Costs(coupon_value=10.0)).cost == pytest.approx(240.0)


def test_posterior_agrees_with_sampling() -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    sampled = (rng.beta(25, 177, 200_000) > rng.beta(3, 49, 200_000)).mean()
    assert prob_better(TREATED, CONTROL_GROUP) == pytest.approx(sampled, abs=0.005)
    assert prob_better(TREATED, CONTROL_GROUP) + prob_better(CONTROL_GROUP, TREATED) == pytest.approx(1.0)


def test_bootstrap_interval_holds_the_observed_difference_and_is_reproducible() -> None:
    first = compare(TREATED, CONTROL_GROUP)
    again = compare(TREATED, CONTROL_GROUP)
    assert first.revenue_diff_low < 8.0 < first.revenue_diff_high
    assert ((first.revenue_diff_low, first.revenue_diff_high)
            == (again.revenue_diff_low, again.revenue_diff_high))


def test_a_small_list_says_it_cannot_tell() -> None:
    small = ArmOutcome("treatment", 20, 2, 2, 200.0, (100.0, 100.0))
    held = ArmOutcome(CONTROL, 5, 0, 0, 0.0)
    assert compare(small, held).verdict.startswith("too small to tell")
    # 12% against 4% is a real gap, but 50 held back cannot show it (Fisher p = 0.12) ...
    assert compare(TREATED, CONTROL_GROUP).verdict.startswith("too small to tell")
    # ... ten times the customers can.
    big = ArmOutcome("treatment", 2000, 240, 240, 24000.0, (100.0,) * 240)
    big_control = ArmOutcome(CONTROL, 500, 20, 20, 2000.0, (100.0,) * 20)
    assert compare(big, big_control).verdict.startswith("treatment bought more than control (8.0 points)")


def test_an_empty_control_group_cannot_be_compared() -> None:
    assert "empty" in compare(TREATED, ArmOutcome(CONTROL, 0, 0, 0, 0.0)).verdict


@pytest.mark.parametrize(("text", "share"), [("10%", 0.10), ("0.1", 0.10), ("25", 0.25), ("0%", 0.0)])
def test_holdout_shares_are_read_as_people_write_them(text: str, share: float) -> None:
    assert parse_share(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["100%", "-5%", "lots", "nan"])
def test_impossible_holdouts_are_refused(text: str) -> None:
    from rfm_cli.core.errors import UsageError

    with pytest.raises(UsageError):
        parse_share(text)


customers = st.lists(st.tuples(st.text("abcdef0123", min_size=1, max_size=6),
                               st.sampled_from(["diamond", "gold", "potential", "dormant"])),
                     max_size=300, unique_by=lambda c: c[0])


@settings(max_examples=60, deadline=None)
@given(customers, st.sampled_from([0.0, 0.05, 0.1, 0.33, 0.5]),
       st.sampled_from([("A",), ("A", "B"), ("A", "B", "C")]))
def test_the_draw_is_balanced_within_one_per_stratum_and_reproducible(pairs, holdout, arms) -> None:
    plan = ArmPlan(arms=arms, holdout=holdout)
    drawn = assign_arms(pairs, plan, seed="s1", campaign="winback")
    assert drawn == assign_arms(list(reversed(pairs)), plan, seed="s1", campaign="winback")  # order-free
    assert set(drawn) == {c for c, _ in pairs}
    by_stratum: dict[str, Counter] = {}
    for customer, stratum in pairs:
        by_stratum.setdefault(stratum, Counter())[drawn[customer]] += 1
    for stratum, counts in by_stratum.items():
        size = sum(counts.values())
        assert abs(counts[CONTROL] - size * holdout) < 1 + 1e-9, (stratum, counts)
        sent = [counts[a] for a in arms]
        assert max(sent) - min(sent) <= 1, (stratum, counts)
    total = sum(1 for a in drawn.values() if a == CONTROL)
    assert abs(total - len(pairs) * holdout) <= 0.5 + 1e-9


def test_another_seed_draws_other_customers() -> None:
    pairs = [(f"C{i:04d}", "dormant") for i in range(400)]
    plan = ArmPlan(holdout=0.1)
    one = {c for c, a in assign_arms(pairs, plan, seed="1", campaign="x").items() if a == CONTROL}
    two = {c for c, a in assign_arms(pairs, plan, seed="2", campaign="x").items() if a == CONTROL}
    assert len(one) == len(two) == 40 and one != two
    assert not math.isclose(len(one & two), 40)
