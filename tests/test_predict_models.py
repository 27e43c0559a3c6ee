"""The closed forms of the purchase models against their definitions, integrated numerically.

Each model is a mixture: an individual with rate λ (and dropout p or μ) has a likelihood, a chance
to be alive and expected future purchases that are elementary functions; the population mixes them
over Gamma / Beta distributions. Integrating those elementary functions over the mixing
distributions (Gauss-Legendre on a 600 x 600 grid of their quantiles) gives the log-likelihood,
P(alive) and E[Y(t)] without any hypergeometric function or closed form the models use. So these
tests check the formulas, the Euler transformation of Pareto/NBD's 2F1, and the analytic gradients.

Individual level, weeks, x repeat purchases, last at t_x, observed for T:
  BG/NBD   alive: (1-p)^x λ^x e^(-λT);   dropped after the last repeat purchase: p (1-p)^(x-1) λ^x e^(-λ t_x)
  MBG/NBD  alive: (1-p)^(x+1) λ^x e^(-λT);   dropped after the last purchase: p (1-p)^x λ^x e^(-λ t_x)
           future while alive: E[Y(t)] = (1 - e^(-λ p t)) / p
  Pareto/NBD alive: λ^x e^(-(λ+μ)T);   died between t_x and T: λ^x μ/(λ+μ) (e^(-(λ+μ)t_x) - e^(-(λ+μ)T))
           future while alive: E[Y(t)] = λ/μ (1 - e^(-μ t))
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as distributions
from scipy.optimize import approx_fprime

from rfm_cli.core.predict import gamma_gamma
from rfm_cli.core.predict.bg_family import BG_NBD, MBG_NBD
from rfm_cli.core.predict.pareto_nbd import PARETO_NBD
from rfm_cli.core.predict.stats import SufficientStats

NODES, WEIGHTS = np.polynomial.legendre.leggauss(600)
QUANTILES, QUANTILE_WEIGHTS = (NODES + 1) / 2, WEIGHTS / 2
HORIZON = 39.0


def mixture_grid(first, second):
    return (
        first.ppf(QUANTILES)[:, None],
        second.ppf(QUANTILES)[None, :],
        np.log(QUANTILE_WEIGHTS[:, None] * QUANTILE_WEIGHTS[None, :]),
    )


def integrate(log_weights, log_alive, log_gone, future):
    """(log E[likelihood], P(alive | data), E[future purchases | data]) over the grid, in logs (λ^900
    overflows a double)."""
    alive, gone = log_weights + log_alive, log_weights + log_gone
    scale = max(alive.max(), gone.max())
    mass_alive, mass_gone = np.exp(alive - scale), np.exp(gone - scale)
    total = mass_alive.sum() + mass_gone.sum()
    return scale + np.log(total), mass_alive.sum() / total, (mass_alive * future).sum() / total


def bg_by_quadrature(params, x, t_x, T, *, first_purchase_dropout):
    r, alpha, a, b = params
    lam, p, log_w = mixture_grid(distributions.gamma(r, scale=1 / alpha), distributions.beta(a, b))
    d = 1 if first_purchase_dropout else 0
    log_alive = (x + d) * np.log1p(-p) + x * np.log(lam) - lam * T
    if x + d > 0:
        log_dropped = np.log(p) + (x + d - 1) * np.log1p(-p) + x * np.log(lam) - lam * t_x
    else:
        log_dropped = np.full_like(log_alive, -np.inf)
    return integrate(log_w, log_alive, log_dropped, -np.expm1(-lam * p * HORIZON) / p)


def pareto_by_quadrature(params, x, t_x, T):
    r, alpha, s, beta = params
    lam, mu, log_w = mixture_grid(
        distributions.gamma(r, scale=1 / alpha), distributions.gamma(s, scale=1 / beta)
    )
    rate = lam + mu
    log_alive = x * np.log(lam) - rate * T
    with np.errstate(divide="ignore"):  # t_x = T: no time to die in
        log_died = x * np.log(lam) + np.log(mu / rate) - rate * t_x + np.log(-np.expm1(-rate * (T - t_x)))
    return integrate(log_w, log_alive, log_died, lam / mu * -np.expm1(-mu * HORIZON))


SMALL = [(0, 0.0, 30.0), (2, 30.43, 38.86), (5, 10.0, 38.0)]  # (x, t_x, T) in weeks
LARGE = [(300, 150.0, 160.0), (250, 150.0, 150.0)]  # a heavy buyer: Pareto/NBD's 2F1 via Euler
CASES = [
    # CDNOW's fitted parameters (α < β for Pareto/NBD), then other corners of the parameter space
    ("bg-nbd", (0.243, 4.414, 0.793, 2.426), SMALL),
    ("bg-nbd", (20.0, 10.0, 0.793, 2.426), LARGE),
    ("mbg-nbd", (0.525, 6.183, 0.891, 1.614), SMALL),
    ("mbg-nbd", (20.0, 10.0, 0.891, 5.0), LARGE),
    ("pareto-nbd", (0.553, 10.578, 0.606, 11.669), SMALL),
    ("pareto-nbd", (0.553, 30.0, 0.606, 3.0), SMALL),  # α >= β
    ("pareto-nbd", (2.0, 1.5, 0.8, 40.0), SMALL + LARGE),  # β far above α
    ("pareto-nbd", (20.0, 10.0, 0.8, 2.0), LARGE),  # α >= β with a heavy buyer
    # 2F1 itself is ~1e316 here (more than a double holds): only its Euler transformation is finite
    ("pareto-nbd", (20.0, 4.0, 0.8, 400.0), [(900, 200.0, 210.0)]),
]
MODELS = {"bg-nbd": BG_NBD, "mbg-nbd": MBG_NBD, "pareto-nbd": PARETO_NBD}


def by_quadrature(name, params, x, t_x, T):
    if name == "pareto-nbd":
        return pareto_by_quadrature(params, x, t_x, T)
    return bg_by_quadrature(params, x, t_x, T, first_purchase_dropout=name == "mbg-nbd")


@pytest.mark.parametrize(("name", "params", "inputs"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_closed_forms_match_the_mixture_integrated(name, params, inputs) -> None:
    model = MODELS[name]
    for x, t_x, T in inputs:
        stats = SufficientStats.from_weeks(x, t_x, T)
        log_likelihood, alive, future = by_quadrature(name, params, x, t_x, T)
        assert model.log_likelihood(params, stats)[0] == pytest.approx(log_likelihood, rel=1e-6), (x, t_x, T)
        assert model.p_alive(params, stats)[0] == pytest.approx(alive, rel=1e-5), (x, t_x, T)
        assert model.expected_purchases(params, stats, HORIZON)[0] == pytest.approx(future, rel=1e-5), (
            x,
            t_x,
            T,
        )


def test_the_papers_worked_customer() -> None:
    """Customer 0001 of CDNOW (x=2, t_x=30.43, T=38.86) under the paper's BG/NBD: 1.226 expected
    purchases in the 39 weeks after calibration, as integrated above."""
    stats = SufficientStats.from_weeks(2, 30.43, 38.86)
    assert BG_NBD.expected_purchases((0.243, 4.414, 0.793, 2.426), stats, 39.0)[0] == pytest.approx(
        1.226, abs=5e-4
    )


def random_customers(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    T_days = rng.integers(0, 800, n)
    x = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 40, n))
    t_x_days = np.where(x > 0, (rng.random(n) * T_days).astype(np.int64), 0)
    x = np.minimum(x, t_x_days)  # at most one purchase a day
    return x, t_x_days, T_days


@pytest.mark.parametrize("name", MODELS)
def test_grouped_likelihood_is_the_sum_over_customers(name) -> None:
    x, t_x_days, T_days = random_customers(1)
    x = np.concatenate([x, x[:100]])  # customers that share a triple
    t_x_days, T_days = np.concatenate([t_x_days, t_x_days[:100]]), np.concatenate([T_days, T_days[:100]])
    grouped, index = SufficientStats.from_days(x, t_x_days, T_days)
    single = SufficientStats.from_weeks(x, t_x_days / 7, T_days / 7)
    params = {"pareto-nbd": (0.6, 10.0, 0.7, 12.0)}.get(name, (0.6, 8.0, 0.9, 2.5))
    model = MODELS[name]
    assert grouped.size < len(x)
    assert (grouped.weight * model.log_likelihood(params, grouped)).sum() == pytest.approx(
        model.log_likelihood(params, single).sum(), rel=1e-12
    )
    np.testing.assert_allclose(
        model.p_alive(params, grouped)[index], model.p_alive(params, single), rtol=1e-10
    )


@pytest.mark.parametrize("model", [BG_NBD, MBG_NBD], ids=lambda m: m.name)
def test_analytic_gradient_matches_differences(model) -> None:
    x, t_x_days, T_days = random_customers(2)
    stats, _ = SufficientStats.from_days(x, t_x_days, T_days)
    for params in ([0.6, 8.0, 0.9, 2.5], [2.0, 30.0, 0.3, 7.0]):
        _, grad = model._log_likelihood_parts(params, stats, gradient=True)

        def total(p):
            return (stats.weight * model.log_likelihood(p, stats)).sum()

        np.testing.assert_allclose(grad, approx_fprime(np.array(params), total, 1e-6), rtol=1e-4)


def test_gamma_gamma_gradient_matches_differences() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 20, 300).astype(float)
    spend = rng.gamma(3.0, 12.0, 300)
    for params in ([6.0, 3.7, 15.0], [1.2, 0.8, 3.0]):
        value, grad = gamma_gamma.log_likelihood_and_gradient(params, x, spend)
        assert value == pytest.approx(gamma_gamma.log_likelihood(params, x, spend).sum())

        def total(p):
            return gamma_gamma.log_likelihood(p, x, spend).sum()

        np.testing.assert_allclose(grad, approx_fprime(np.array(params), total, 1e-6), rtol=1e-4)


def test_expected_spend_shrinks_a_customers_mean_toward_the_populations() -> None:
    params = (6.25, 3.74, 15.44)
    population = 6.25 * 15.44 / (3.74 - 1)  # E[M] for x = 0: pγ/(q-1)
    assert gamma_gamma.expected_spend(params, np.array([0.0]), np.array([np.nan]))[0] == pytest.approx(
        population
    )
    one, many = gamma_gamma.expected_spend(params, np.array([1.0, 30.0]), np.array([100.0, 100.0]))
    assert population < one < many < 100.0  # more purchases, more weight on the customer's own mean


@pytest.mark.parametrize("model", [BG_NBD, MBG_NBD], ids=lambda m: m.name)
def test_expected_purchases_are_continuous_through_a_equal_to_one(model) -> None:
    """(a+b+x-1)/(a-1) · [1 - ...] is 0/0 at a = 1 exactly (a fit can land there)."""
    stats = SufficientStats.from_weeks([0, 2, 9], [0.0, 10.0, 25.0], [30.0, 30.0, 30.0])
    below, at, above = (
        model.expected_purchases((0.5, 6.0, a, 1.6), stats, 12.0) for a in (0.999, 1.0, 1.001)
    )
    assert np.isfinite(at).all()
    assert ((np.minimum(below, above) <= at) & (at <= np.maximum(below, above))).all()


def test_hyp2f1_where_scipy_gives_nan() -> None:
    """c - a - b an integer, or within 1e-3 of one, and z near 1; references: mpmath.hyp2f1."""
    from rfm_cli.core.predict.special import hyp2f1

    a, b = 4.4816890703380645, 1.8976665503381187
    z = np.array([0.9, 245 / (0.5352614285189903 + 245)])
    np.testing.assert_allclose(hyp2f1(a, b, a + b - 1, z), [25.8022803518218, 1763.76935286847], rtol=1e-8)
    b = 199.71173463253027
    c = np.array([b + 1e-5, b + 1e-4, b + 1e-3])
    np.testing.assert_allclose(
        hyp2f1(1.0, b, c, 430 / 431), [430.995844913449, 430.958451622711, 430.584764926787], rtol=1e-8
    )


@pytest.mark.parametrize("model", [BG_NBD, MBG_NBD], ids=lambda m: m.name)
def test_the_quadrature_fallback_agrees_with_the_closed_form(model) -> None:
    """Where SciPy's 2F1 gives up (near z = 1 with a large b), E[Y(t) | alive] is integrated over p;
    where both work they agree."""
    for params in ((0.243, 4.414, 0.793, 2.426), (1.0, 1.0, 3.49, 20.0), (20.0, 10.0, 0.3, 50.0)):
        for x, t_x, T, weeks in ((0, 0.0, 30.0, 39.0), (2, 30.43, 38.86, 39.0), (40, 100.0, 120.0, 13.0)):
            closed = model.expected_purchases(
                params, SufficientStats.from_weeks(x, t_x, T), weeks, np.ones(1)
            )
            integrated = model._if_alive_by_quadrature(params, float(x), T, weeks)
            assert closed[0] == pytest.approx(integrated, rel=1e-9)
    # here the closed form's 2F1(1, 199.7; 202.2; 0.9975) is NaN in SciPy
    stats = SufficientStats.from_weeks(0, 0.0, 0.0)
    assert np.isfinite(model.expected_purchases((1.0, 1.0, 3.49, 199.7), stats, 396.0)).all()
