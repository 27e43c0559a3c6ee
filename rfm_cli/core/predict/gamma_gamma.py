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
    p, q, gamma = params
    px = p * x
    log_pool = np.log(gamma + x * mean_spend)
    digamma_all = digamma(px + q)
    grad = np.array(
        [
            (x * (digamma_all - digamma(px) + np.log(mean_spend) + np.log(x) - log_pool)).sum(),
            (digamma_all - digamma(q) + np.log(gamma) - log_pool).sum(),
            (q / gamma - (px + q) / (gamma + x * mean_spend)).sum(),
        ]
    )
    return float(log_likelihood(params, x, mean_spend).sum()), grad


def fit(x: np.ndarray, mean_spend: np.ndarray) -> FitResult:
    """x >= 1 and mean_spend > 0 for every customer given."""
    x = np.asarray(x, dtype=np.float64)
    mean_spend = np.asarray(mean_spend, dtype=np.float64)
    start = [1.0, 2.0, float(np.mean(mean_spend)) if len(mean_spend) else 1.0]
    return maximise(
        lambda params: log_likelihood_and_gradient(params, x, mean_spend),
        start,
        PARAMS,
        model=NAME,
        customers=len(x),
        distinct_inputs=len(x),
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
