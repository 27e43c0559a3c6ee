"""Invariants of the purchase models, for any parameters and any customer (hypothesis).

- P(alive) is a probability, and for a fixed number of repeat purchases and age, it does not rise
  as the gap since the last purchase (T - t_x) grows;
- expected purchases are non-negative and do not fall as the horizon grows;
- a customer with P(alive) = 0 expects no purchases, so their CLV is 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rfm_cli.core.predict import gamma_gamma
from rfm_cli.core.predict.bg_family import BG_NBD, MBG_NBD
from rfm_cli.core.predict.pareto_nbd import PARETO_NBD
from rfm_cli.core.predict.stats import SufficientStats

MODELS = [MBG_NBD, PARETO_NBD, BG_NBD]
CHECKS = settings(max_examples=150, deadline=None)


def positive(low: float, high: float):
    """Log-uniform: parameters of these models range over orders of magnitude."""
    return st.floats(np.log(low), np.log(high)).map(np.exp)


params = st.tuples(positive(0.05, 20), positive(0.5, 200), positive(0.05, 20), positive(0.5, 200))


@st.composite
def customers(draw):
    """(x, [t_x ...], T): repeat purchases, several last-purchase times (ascending), age; weeks."""
    T = draw(st.floats(0.0, 300.0))
    x = draw(st.integers(0, 100)) if T >= 15 else 0
    if x == 0:
        return 0, [0.0], T
    times = sorted(draw(st.lists(st.floats(x / 7.0, T), min_size=2, max_size=6)))
    return x, times, T


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
@CHECKS
@given(theta=params, customer=customers())
def test_p_alive_is_a_probability_that_falls_with_the_gap_since_the_last_purchase(
    model, theta, customer
) -> None:
    x, times, T = customer
    stats = SufficientStats.from_weeks(np.full(len(times), x), np.array(times), np.full(len(times), T))
    alive = model.p_alive(theta, stats)
    assert np.isfinite(alive).all()
    assert ((alive >= 0) & (alive <= 1)).all()
    # times ascend, so the gaps T - t_x descend: P(alive) must not fall along the array
    assert (np.diff(alive) >= -1e-9 * np.maximum(alive[:-1], 1e-300)).all(), alive


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
@CHECKS
# found by hypothesis: a = 1 exactly and a horizon of 1e-9 weeks, where rounding made the count negative
@example(theta=(1.0, 117.6, 1.0, 1.0), customer=(0, [0.0], 15.9140625), horizons=[0.0, 1e-09])
# and r = a: BG/NBD's 2F1 has c - a - b = -1, where SciPy's hyp2f1 gave NaN (see core/predict/special.py)
@example(
    theta=(4.4816890703380645, 0.5352614285189903, 4.4816890703380645, 1.8976665503381187),
    customer=(0, [0.0], 0.0),
    horizons=[0.0, 245.0],
)
@given(theta=params, customer=customers(), horizons=st.lists(st.floats(0.0, 520.0), min_size=2, max_size=6))
def test_expected_purchases_are_non_negative_and_grow_with_the_horizon(
    model, theta, customer, horizons
) -> None:
    x, times, T = customer
    stats = SufficientStats.from_weeks(x, times[-1], T)
    expected = np.array([model.expected_purchases(theta, stats, weeks)[0] for weeks in sorted(horizons)])
    assert np.isfinite(expected).all(), expected
    assert (expected >= -1e-12).all(), expected
    assert (np.diff(expected) >= -1e-9 * np.maximum(expected[1:], 1.0)).all(), expected


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
@CHECKS
@given(
    theta=params,
    customer=customers(),
    spend=st.tuples(positive(0.5, 20), positive(1.1, 20), positive(1, 1e4)),
    mean_spend=positive(0.01, 1e5),
)
def test_no_chance_of_being_alive_means_no_lifetime_value(model, theta, customer, spend, mean_spend) -> None:
    x, times, T = customer
    stats = SufficientStats.from_weeks(x, times[-1], T)
    purchases = model.expected_purchases(theta, stats, 90 / 7, alive=np.zeros(1))
    value = purchases * gamma_gamma.expected_spend(spend, np.array([float(x)]), np.array([mean_spend]))
    assert value[0] == 0.0


def test_a_customer_long_gone_gets_p_alive_and_clv_of_zero() -> None:
    """Forty purchases in the first weeks, then three years of silence: P(alive) underflows to 0,
    and so do their expected purchases, whatever they used to spend."""
    stats = SufficientStats.from_weeks(40, 6.0, 160.0)
    for model, theta in ((MBG_NBD, (0.5, 6.0, 0.9, 1.6)), (PARETO_NBD, (0.55, 10.6, 0.61, 11.7))):
        alive = model.p_alive(theta, stats)
        assert alive[0] < 1e-12
        expected = model.expected_purchases(theta, stats, 90 / 7, alive)
        clv = expected * gamma_gamma.expected_spend((6.25, 3.74, 15.44), np.array([40.0]), np.array([500.0]))
        assert round(float(clv[0]), 2) == 0.0
