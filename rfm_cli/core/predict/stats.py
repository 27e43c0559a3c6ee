"""The models' inputs grouped into sufficient statistics.

The BG/NBD-family and Pareto/NBD likelihoods (and their predictions) depend on a customer only
through (x, t_x, T): repeat purchases, the time of the last purchase and the customer's age, both
measured from the first purchase. Customers who share a triple share every model number, so each
distinct triple is evaluated once and weighted by how many customers have it (t_x and T are whole
days: at 10 million generated orders, 1.87 million customers make 0.68 million triples).

Within the triples, terms that depend on x alone (gammaln, betaln, digamma), on T alone or on t_x
alone (their logs) are computed once per distinct value (`Levels`) and gathered; Pareto/NBD's
hypergeometric terms depend on (x, t_x) and on (x, T), each of which takes far fewer values still
(`Pairs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAYS_PER_WEEK = 7.0
# A triple packed into one int64 for grouping: x below 2**23, days below 2**20 (2,870 years).
_DAY_BITS = 20
_DAY_MASK = (1 << _DAY_BITS) - 1


def wsum(weights: np.ndarray, values: np.ndarray) -> float:
    """sum(weights * values) without BLAS: `weights @ values` goes to OpenBLAS, whose threads spin
    for the CPU when the machine is busy (a fit took 8x its CPU time on a loaded 2-core machine)."""
    return float(np.multiply(weights, values).sum())


@dataclass(frozen=True)
class Levels:
    """The distinct values of one input, and for each triple the index of its value."""

    values: np.ndarray  # float64
    index: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> Levels:
        distinct, index = np.unique(values, return_inverse=True)
        return cls(values=distinct.astype(np.float64), index=index.ravel())

    def gather(self, per_level: np.ndarray) -> np.ndarray:
        return per_level[self.index]


@dataclass(frozen=True)
class Pairs:
    """The distinct (x, t) pairs of a set of triples, and for each triple the index of its pair."""

    x: np.ndarray
    t: np.ndarray  # weeks
    index: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_days: np.ndarray) -> Pairs:
        keys, index = np.unique((x.astype(np.int64) << _DAY_BITS) | t_days, return_inverse=True)
        return cls(
            x=(keys >> _DAY_BITS).astype(np.float64),
            t=(keys & _DAY_MASK) / DAYS_PER_WEEK,
            index=index.ravel(),
        )


@dataclass(frozen=True)
class SufficientStats:
    """Distinct (x, t_x, T) triples, in weeks, with the number of customers that share each."""

    x: np.ndarray  # float64: repeat purchases (distinct purchase days after the first)
    t_x: np.ndarray  # weeks from the first purchase to the last
    T: np.ndarray
    weight: np.ndarray  # float64: customers with this triple
    x_levels: Levels
    t_x_levels: Levels
    T_levels: Levels
    recency: Pairs  # distinct (x, t_x)
    age: Pairs  # distinct (x, T)

    @property
    def customers(self) -> int:
        return int(self.weight.sum())

    @property
    def size(self) -> int:
        return len(self.x)

    def per_x(self, values: np.ndarray) -> np.ndarray:
        """Values computed on x_levels.values, gathered back to the triples."""
        return self.x_levels.gather(values)

    def weight_per_x(self) -> np.ndarray:
        """Customers per distinct x: sums over triples of a term in x alone are sums over levels."""
        return np.bincount(self.x_levels.index, weights=self.weight, minlength=len(self.x_levels.values))

    @classmethod
    def from_days(cls, x, t_x_days, T_days) -> tuple[SufficientStats, np.ndarray]:
        """Group customers given in whole days; returns the stats and, per customer, its triple's index."""
        x = np.asarray(x, dtype=np.int64)
        t_x_days = np.asarray(t_x_days, dtype=np.int64)
        age_days = np.asarray(T_days, dtype=np.int64)
        if len(x) and (x.min() < 0 or t_x_days.min() < 0 or (age_days < t_x_days).any()):
            raise ValueError("model inputs need x >= 0 and 0 <= t_x <= T")
        packed = (x << (2 * _DAY_BITS)) | (t_x_days << _DAY_BITS) | age_days
        keys, index, counts = np.unique(packed, return_inverse=True, return_counts=True)
        xs = keys >> (2 * _DAY_BITS)
        recency_days = (keys >> _DAY_BITS) & _DAY_MASK
        age = keys & _DAY_MASK
        stats = cls(
            x=xs.astype(np.float64),
            t_x=recency_days / DAYS_PER_WEEK,
            T=age / DAYS_PER_WEEK,
            weight=counts.astype(np.float64),
            x_levels=Levels.of(xs),
            t_x_levels=Levels.of(recency_days / DAYS_PER_WEEK),
            T_levels=Levels.of(age / DAYS_PER_WEEK),
            recency=Pairs.of(xs, recency_days),
            age=Pairs.of(xs, age),
        )
        return stats, index.ravel()

    @classmethod
    def from_weeks(cls, x, t_x, T) -> SufficientStats:
        """One triple per customer, t_x and T in (fractional) weeks, x whole: for tests and notebooks."""
        x, t_x, age = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (x, t_x, T))
        x, t_x, age = np.broadcast_arrays(x, t_x, age)
        own = np.arange(len(x))
        return cls(
            x=x,
            t_x=t_x,
            T=age,
            weight=np.ones(len(x)),
            x_levels=Levels.of(x),
            t_x_levels=Levels(values=t_x, index=own),
            T_levels=Levels(values=age, index=own),
            recency=Pairs(x=x, t=t_x, index=own),
            age=Pairs(x=x, t=age, index=own),
        )
