"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader &
Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

A customer's purchases have mean ζ; each purchase's value is Gamma(p, ν) with ν ~ Gamma(q, γ).
The model is fitted on repeat buyers only (x >= 1), with m_x = the mean value of their x repeat
purchases (the first purchase is left out, as in the paper):

    L(p, q, γ | x, m_x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m_x^(px-1) · x^(px) / (γ + x m_x)^(px+q)
    E[M | x, m_x] = p (γ + x m_x) / (p x + q - 1)      (for x = 0: p γ / (q - 1), the population mean)

E[M] is finite only for q > 1. The model assumes spend per purchase is independent of how often a
customer buys; the fit reports the correlation of x and m_x among repeat buyers so that can be checked.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from rfm_cli.core.predict.mle import FitResult, maximise
from rfm_cli.core.predict.stats import wsum

NAME = "gamma-gamma"
TITLE = "Gamma-Gamma"
PARAMS = ("p", "q", "gamma")


def log_likelihood(params, x: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
    p, q, gamma = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(mean_spend)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * mean_spend)
    )


def log_likelihood_and_gradient(params, x: np.ndarray, mean_spend: np.ndarray) -> tuple[float, np.ndarray]:
    """The total log-likelihood and its derivatives in (p, q, γ)."""
    return _Totals(x, mean_spend)(params)


class _Totals:
    """The total log-likelihood and gradient of many customers, fast: the terms in x alone are summed
    per distinct x, those in m_x alone once for all; only log(γ + x m_x) depends on the parameters and
    the customer, and it is computed once per distinct (x, x m_x) pair, weighted by its customers
    (x m_x is the customer's repeat spend, a sum of cents: many customers share one)."""

    def __init__(self, x: np.ndarray, mean_spend: np.ndarray) -> None:
        import polars as pl  # a hash group-by: numpy's unique(axis=0) sorted rows, 3 s at 1M buyers

        pairs = pl.DataFrame({"x": x, "spent": x * mean_spend}).group_by("x", "spent").len()
        self.x, self.spent = pairs["x"].to_numpy(), pairs["spent"].to_numpy()
        self.weight = pairs["len"].to_numpy().astype(np.float64)
        self.weight_x = self.weight * self.x
        self.levels, index = np.unique(x, return_inverse=True)
        self.per_level = np.bincount(index.ravel(), minlength=len(self.levels)).astype(np.float64)
        self.n = float(len(x))
        log_spend = np.log(mean_spend)
        self.sum_x_log_spend, self.sum_log_spend = float((x * log_spend).sum()), float(log_spend.sum())
        self.sum_x_log_x = float((x * np.log(x)).sum())

    def __call__(self, params) -> tuple[float, np.ndarray]:
        p, q, gamma = params
        levels, count = self.levels, self.per_level
        pool = gamma + self.spent
        log_pool = np.log(pool)
        px_level = p * levels
        power = p * self.weight_x + q * self.weight  # per pair: customers × (p x + q)
        value = (
            wsum(count, gammaln(px_level + q) - gammaln(px_level))
            - self.n * (gammaln(q) - q * np.log(gamma))
            + p * (self.sum_x_log_spend + self.sum_x_log_x)
            - self.sum_log_spend
            - wsum(power, log_pool)
        )
        digamma_all = digamma(px_level + q)
        grad = np.array(
            [
                wsum(count * levels, digamma_all - digamma(px_level))
                + self.sum_x_log_spend
                + self.sum_x_log_x
                - wsum(self.weight_x, log_pool),
                wsum(count, digamma_all)
                - self.n * (digamma(q) - np.log(gamma))
                - wsum(self.weight, log_pool),
                self.n * q / gamma - wsum(power, 1.0 / pool),
            ]
        )
        return value, grad


def fit(x: np.ndarray, mean_spend: np.ndarray) -> FitResult:
    """x >= 1 and mean_spend > 0 for every customer given."""
    x = np.asarray(x, dtype=np.float64)
    mean_spend = np.asarray(mean_spend, dtype=np.float64)
    start = [1.0, 2.0, float(np.mean(mean_spend)) if len(mean_spend) else 1.0]
    totals = _Totals(x, mean_spend)
    return maximise(
        totals,
        start,
        PARAMS,
        model=NAME,
        customers=len(x),
        distinct_inputs=len(totals.x),
        gradient=True,
    )


def expected_spend(params, x: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
    """E[M | x, m_x]: the customer's expected spend per purchase; mean_spend is ignored where x = 0."""
    p, q, gamma = params
    x = np.asarray(x, dtype=np.float64)
    own = np.where(x > 0, np.nan_to_num(np.asarray(mean_spend, dtype=np.float64)), 0.0)
    return p * (gamma + x * own) / (p * x + q - 1.0)


def frequency_spend_correlation(x: np.ndarray, mean_spend: np.ndarray) -> float | None:
    if len(x) < 3 or np.std(x) == 0 or np.std(mean_spend) == 0:
        return None
    return float(np.corrcoef(x, mean_spend)[0, 1])
