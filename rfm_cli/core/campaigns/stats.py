"""What a campaign earned, arm against control, with the uncertainty a small list really has.

Per arm: customers, buyers, conversion, orders, revenue, revenue per customer. Against the control
group: uplift (difference in conversion, absolute and relative), incremental buyers, orders and
revenue (the per-customer difference times the customers sent), ROI, Fisher's exact test and the
Beta-Binomial posterior probability that the arm converts better, and a bootstrap interval of
revenue per customer. SciPy and NumPy are imported here only, when a campaign is reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

BOOTSTRAP_ROUNDS = 4000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class ArmOutcome:
    """One arm's customers and what they bought in the window (revenue per customer, one value each)."""

    arm: str
    customers: int
    buyers: int
    orders: int
    revenue: float
    revenue_by_customer: tuple[float, ...] = ()
    codes_redeemed: int | None = None

    @property
    def conversion(self) -> float:
        return self.buyers / self.customers if self.customers else 0.0

    @property
    def revenue_per_customer(self) -> float:
        return self.revenue / self.customers if self.customers else 0.0

    @property
    def orders_per_customer(self) -> float:
        return self.orders / self.customers if self.customers else 0.0

    def row(self) -> dict[str, Any]:
        return {"arm": self.arm, "customers": self.customers, "buyers": self.buyers,
                "conversion": round(self.conversion, 6), "orders": self.orders,
                "revenue": round(self.revenue, 2),
                "revenue_per_customer": round(self.revenue_per_customer, 4),
                "codes_redeemed": self.codes_redeemed}


@dataclass(frozen=True)
class Costs:
    per_message: float = 0.0
    coupon_value: float = 0.0
    margin: float | None = None  # share of revenue kept as gross margin; None: ROI on revenue


@dataclass(frozen=True)
class Comparison:
    arm: str
    against: str
    uplift: float  # conversion difference, absolute (0.08 = 8 points)
    relative_uplift: float | None  # uplift / the other's conversion; None when that is 0
    incremental_buyers: float
    incremental_orders: float
    incremental_revenue: float
    fisher_p: float  # two-sided
    p_better: float  # posterior P(arm converts better), Beta(1, 1) priors
    revenue_diff_low: float  # bootstrap interval of the revenue-per-customer difference
    revenue_diff_high: float
    cost: float | None = None
    roi: float | None = None
    verdict: str = ""

    def row(self) -> dict[str, Any]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def fisher_p(a: ArmOutcome, b: ArmOutcome) -> float:
    from scipy.stats import fisher_exact

    table = [[a.buyers, a.customers - a.buyers], [b.buyers, b.customers - b.buyers]]
    return float(fisher_exact(table, alternative="two-sided").pvalue)


def prob_better(a: ArmOutcome, b: ArmOutcome) -> float:
    """P(p_a > p_b) for p ~ Beta(1 + buyers, 1 + non-buyers), exactly (Evan Miller's sum over a's
    successes; integer parameters), in log space so lists of thousands do not overflow."""
    from scipy.special import betaln, logsumexp

    alpha_a, beta_a = a.buyers + 1, a.customers - a.buyers + 1
    alpha_b, beta_b = b.buyers + 1, b.customers - b.buyers + 1
    terms = [betaln(alpha_b + i, beta_a + beta_b) - math.log(beta_a + i) - betaln(1 + i, beta_a)
             - betaln(alpha_b, beta_b) for i in range(alpha_a)]
    return float(min(1.0, max(0.0, math.exp(logsumexp(terms)))))


def bootstrap_diff(a: ArmOutcome, b: ArmOutcome, *, seed: int = 0, rounds: int = BOOTSTRAP_ROUNDS,
                   ) -> tuple[float, float]:
    """Percentile interval of mean revenue per customer, a minus b, resampling each arm's customers
    (customers who did not buy count as 0). Seeded: the same outcomes give the same interval."""
    import numpy as np

    rng = np.random.default_rng(seed)
    values_a = _padded(a)
    values_b = _padded(b)
    if not len(values_a) or not len(values_b):
        return (math.nan, math.nan)
    means_a = rng.choice(values_a, size=(rounds, len(values_a)), replace=True).mean(axis=1)
    means_b = rng.choice(values_b, size=(rounds, len(values_b)), replace=True).mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means_a - means_b, [tail, 100 - tail])
    return float(low), float(high)


def _padded(arm: ArmOutcome):
    import numpy as np

    buyers = np.asarray(arm.revenue_by_customer, dtype=float)
    return np.concatenate([buyers, np.zeros(max(0, arm.customers - len(buyers)))])


def compare(arm: ArmOutcome, other: ArmOutcome, costs: Costs | None = None) -> Comparison:
    """`arm` against `other` (the control group, or another arm)."""
    uplift = arm.conversion - other.conversion
    relative = uplift / other.conversion if other.conversion else None
    incremental_revenue = (arm.revenue_per_customer - other.revenue_per_customer) * arm.customers
    low, high = bootstrap_diff(arm, other)
    p_value = fisher_p(arm, other)
    cost = roi = None
    if costs is not None:
        coupons = arm.codes_redeemed if arm.codes_redeemed is not None else arm.buyers
        cost = costs.per_message * arm.customers + costs.coupon_value * coupons
        gain = incremental_revenue * (costs.margin if costs.margin is not None else 1.0)
        roi = (gain - cost) / cost if cost else None
    return Comparison(
        arm=arm.arm, against=other.arm, uplift=uplift, relative_uplift=relative,
        incremental_buyers=uplift * arm.customers,
        incremental_orders=(arm.orders_per_customer - other.orders_per_customer) * arm.customers,
        incremental_revenue=incremental_revenue, fisher_p=p_value, p_better=prob_better(arm, other),
        revenue_diff_low=low, revenue_diff_high=high, cost=cost, roi=roi,
        verdict=verdict(arm, other, p_value))


def verdict(arm: ArmOutcome, other: ArmOutcome, p_value: float) -> str:
    """One sentence for someone who has never heard of a p-value."""
    if not arm.customers or not other.customers:
        return f"cannot tell: {'the ' + other.arm if not other.customers else arm.arm} group is empty"
    gap = (arm.conversion - other.conversion) * 100
    if p_value < 0.05:
        direction = "more" if gap > 0 else "fewer"
        return (f"{arm.arm} bought {direction} than {other.arm} ({abs(gap):.1f} points); a gap this large "
                f"would come from chance alone about {_one_in(p_value)}")
    return (f"too small to tell: a gap of {abs(gap):.1f} points between {arm.arm} and {other.arm} could be "
            f"chance (it would arise by chance about {_one_in(p_value)})")


def _one_in(p_value: float) -> str:
    if p_value <= 0:
        return "never"
    if p_value >= 0.5:
        return "half the time or more"
    return f"1 time in {max(2, round(1 / p_value)):,}"
