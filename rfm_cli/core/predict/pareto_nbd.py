"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), as derived in Fader & Hardie (2005),
"A Note on Deriving the Pareto/NBD Model and Related Expressions".

While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); their lifetime is
exponential with rate μ ~ Gamma(s, β), so they can drop out at any moment, also before a first
repeat purchase. Time is in weeks. With (x, t_x, T) and, for α >= β (else swap α/β and use r + x
for s + 1),

    G(t)  = 2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+t)) / (α+t)^(r+s+x)
    A0    = G(t_x) - G(T)                  (the integral of dying between t_x and T)
    alive = (α+T)^-(r+x) (β+T)^-s
    died  = s/(r+s+x) · A0
    L     = Γ(r+x) α^r β^s / Γ(r) · (alive + died)
    P(alive | x, t_x, T) = alive / (alive + died)
    E[Y(t) | x, t_x, T]  = P(alive) · (r+x)/(α+T) · (β+T)/(s-1) · [1 - ((β+T)/(β+T+t))^(s-1)]

Everything is computed in logs; G per distinct (x, t) pair (see stats.Pairs). There is no closed
form for the likelihood's gradient (2F1's derivatives in its parameters), so the optimiser takes
differences; and where β is far above α (a shop whose customers show no dropout walks the fit
there) SciPy's 2F1 gets ~40x slower. MBG/NBD is the default for that reason; Pareto/NBD is
`--model pareto-nbd`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln

from rfm_cli.core.predict.mle import FitResult, maximise
from rfm_cli.core.predict.special import hyp2f1
from rfm_cli.core.predict.stats import Pairs, SufficientStats, wsum


def _log_g(r: float, alpha: float, s: float, beta: float, pairs: Pairs) -> np.ndarray:
    """log G(t) per pair; G(t) falls with t, so G(t_x) >= G(T)."""
    x, t = pairs.x, pairs.t
    rsx = r + s + x
    if alpha >= beta:
        base, second = alpha, s + 1.0
    else:
        base, second = beta, r + x
    z = abs(alpha - beta) / (base + t)
    return _log_hyp2f1_c_is_a_plus_1(rsx, second, z) - rsx * np.log(base + t)


def _log_hyp2f1_c_is_a_plus_1(a, b, z: np.ndarray) -> np.ndarray:
    """log 2F1(a, b; a+1; z) for 0 <= z < 1.

    Directly, 2F1 overflows a double for a few hundred repeat purchases when z is near 1 (|α-β|
    large next to t). Euler's transformation 2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z)
    turns it into (1-z)^(1-b) · 2F1(1, a+1-b; a+1; z): the power goes into the log and the
    remaining series stays small. Where SciPy cannot evaluate that one (z within ~1e-3 of 1 with
    thousands of purchases: far from any fitted optimum), the direct form is tried; a NaN left
    over makes that parameter point "very unlikely" to the optimiser."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    with np.errstate(all="ignore"):
        euler = (1.0 - b) * np.log1p(-z) + np.log(hyp2f1(1.0, a + 1.0 - b, a + 1.0, z))
        failed = ~np.isfinite(euler)
        if failed.any():
            zf = z[failed] if np.ndim(z) else z
            euler[failed] = np.log(hyp2f1(a[failed], b[failed], a[failed] + 1.0, zf))
    return euler


def _terms(params, stats: SufficientStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log Γ(r+x) α^r β^s / Γ(r), log alive, log died) per triple."""
    r, alpha, s, beta = params
    levels = stats.x_levels.values
    log_g_tx = _log_g(r, alpha, s, beta, stats.recency)[stats.recency.index]
    log_g_age = _log_g(r, alpha, s, beta, stats.age)[stats.age.index]
    with np.errstate(divide="ignore"):  # t_x == T: nothing between them to die in, log 0 = -inf
        log_a0 = log_g_tx + np.log1p(-np.exp(np.minimum(log_g_age - log_g_tx, 0.0)))
    log_alive = -(r + stats.x) * stats.T_levels.gather(
        np.log(alpha + stats.T_levels.values)
    ) - s * stats.T_levels.gather(np.log(beta + stats.T_levels.values))
    log_died = stats.per_x(np.log(s) - np.log(r + s + levels)) + log_a0
    log_base = stats.per_x(gammaln(r + levels) - gammaln(r) + r * np.log(alpha) + s * np.log(beta))
    return log_base, log_alive, log_died


def _active_weeks(s: float, start: np.ndarray, weeks) -> np.ndarray:
    """(β+T)/(s-1) · [1 - ((β+T)/(β+T+t))^(s-1)], `start` = β+T: the expected weeks of the next t that
    a customer alive now stays alive (an exponential lifetime, its rate ~ Gamma(s, β+T))."""
    log_ratio = np.log(start) - np.log(start + weeks)  # <= 0
    k = s - 1.0
    if abs(k) < 1e-9:  # s = 1: the limit of -expm1(k·L)/k is -L
        return -start * log_ratio
    return -start * np.expm1(k * log_ratio) / k


class ParetoNBD:
    name = "pareto-nbd"
    title = "Pareto/NBD"
    params = ("r", "alpha", "s", "beta")

    @staticmethod
    def log_likelihood(params, stats: SufficientStats) -> np.ndarray:
        """Each triple's log-likelihood (one customer's; times `stats.weight` for the group)."""
        log_base, log_alive, log_died = _terms(params, stats)
        return log_base + np.logaddexp(log_alive, log_died)

    @staticmethod
    def start_values(stats: SufficientStats) -> list[float]:
        """r = s = 1, α from the mean purchase rate, β from the mean age."""
        rate = wsum(stats.weight, stats.x) / max(wsum(stats.weight, stats.T), 1e-9)
        mean_age = wsum(stats.weight, stats.T) / max(stats.weight.sum(), 1.0)
        return [1.0, 1.0 / max(rate, 1e-6), 1.0, max(mean_age, 1.0)]

    def fit(self, stats: SufficientStats, start: list[float] | None = None) -> FitResult:
        def total(params: np.ndarray) -> float:
            return wsum(stats.weight, self.log_likelihood(params, stats))

        return maximise(
            total,
            start or self.start_values(stats),
            self.params,
            model=self.name,
            customers=stats.customers,
            distinct_inputs=stats.size,
        )

    @staticmethod
    def p_alive(params, stats: SufficientStats) -> np.ndarray:
        _, log_alive, log_died = _terms(params, stats)
        return expit(log_alive - log_died)

    def expected_purchases(
        self, params, stats: SufficientStats, weeks, alive: np.ndarray | None = None
    ) -> np.ndarray:
        """E[Y(weeks) | x, t_x, T] per triple; `weeks` a number or one per triple."""
        r, alpha, s, beta = params
        if alive is None:
            alive = self.p_alive(params, stats)
        return alive * (r + stats.x) / (alpha + stats.T) * _active_weeks(s, beta + stats.T, weeks)


PARETO_NBD = ParetoNBD()
