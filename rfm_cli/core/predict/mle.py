"""Maximum likelihood with SciPy: minimise the negative mean log-likelihood over log-parameters.

Every parameter of these models is positive, so the optimiser works on log(parameter): no
constraint to enforce, and a step means the same relative change at any scale. Bounds on the logs
keep a flat likelihood (say, no visible dropout) from walking a parameter off to 0 or infinity;
a parameter that ends on its bound is reported (`at_bound`). The objective is the mean over
customers, so the optimiser's tolerances mean the same for 2,000 customers and for 2 million.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LOG_BOUND = 12.0  # parameters between e**-12 (6e-6) and e**12 (1.6e5)
_AT_BOUND = LOG_BOUND - 1e-3


@dataclass
class FitResult:
    model: str
    params: dict[str, float]
    log_likelihood: float
    converged: bool
    iterations: int
    evaluations: int
    message: str
    customers: int  # customers the likelihood summed over
    distinct_inputs: int  # rows it was evaluated on (sufficient statistics)
    at_bound: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "params": {k: round(v, 6) for k, v in self.params.items()},
            "log_likelihood": round(self.log_likelihood, 4) if np.isfinite(self.log_likelihood) else None,
            "converged": self.converged,
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "message": self.message,
            "fitted_on": {"customers": self.customers, "distinct_inputs": self.distinct_inputs},
            "at_bound": self.at_bound,
        }


class _Objective:
    """What the optimiser minimises: minus the log-likelihood per customer, over the logs of the
    parameters (so every parameter stays positive), with its gradient when the model gives one."""

    def __init__(self, log_likelihood: Callable[[np.ndarray], Any], *, gradient: bool, scale: float,
                 size: int) -> None:
        self.log_likelihood, self.gradient, self.scale = log_likelihood, gradient, scale
        self.evaluations = 0
        # An overflow far from the optimum is "very unlikely", not an error.
        self.worst = (1e10, np.zeros(size))

    def __call__(self, log_params: np.ndarray):
        self.evaluations += 1
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            found = self.log_likelihood(params)
        if not self.gradient:
            value = -float(found) * self.scale
            return value if np.isfinite(value) else self.worst[0]
        # The chain rule for logs: d/d log p = p * d/dp.
        value, grad = -float(found[0]) * self.scale, -np.asarray(found[1]) * params * self.scale
        return (value, grad) if np.isfinite(value) and np.isfinite(grad).all() else self.worst

    def value(self, log_params: np.ndarray) -> float:
        """The value alone, for an optimiser that takes no gradient."""
        found = self(log_params)
        return found[0] if self.gradient else found


def maximise(
    log_likelihood: Callable[[np.ndarray], Any],
    start: Sequence[float],
    names: Sequence[str],
    *,
    model: str,
    customers: int,
    distinct_inputs: int,
    gradient: bool = False,
) -> FitResult:
    """Maximise `log_likelihood(params)` (the total over customers) from `start`. With `gradient`,
    it returns (total, d total / d params) and the optimiser uses that instead of differences.

    L-BFGS-B first; when it reports failure, Nelder-Mead from where it stopped (a hypergeometric
    term can make a numerical gradient noisy far from the optimum)."""
    from scipy.optimize import minimize

    scale = 1.0 / max(customers, 1)
    objective = _Objective(log_likelihood, gradient=gradient, scale=scale, size=len(names))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    x0 = np.clip(np.log(np.asarray(start, dtype=np.float64)), -LOG_BOUND + 1, LOG_BOUND - 1)
    result = minimize(objective, x0, jac=gradient, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
    iterations = int(result.nit)
    if not result.success:
        result = minimize(
            objective.value,
            result.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-12},
        )
        iterations += int(result.nit)
    params = np.exp(result.x)
    total = -float(result.fun) / scale
    converged = bool(result.success) and np.isfinite(total) and float(result.fun) < 1e10
    return FitResult(
        model=model,
        params={name: float(v) for name, v in zip(names, params, strict=True)},
        log_likelihood=total,
        converged=converged,
        iterations=iterations,
        evaluations=objective.evaluations,
        message=str(result.message),
        customers=customers,
        distinct_inputs=distinct_inputs,
        at_bound=[name for name, v in zip(names, result.x, strict=True) if abs(v) >= _AT_BOUND],
    )
