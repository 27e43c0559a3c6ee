"""Who is held back: a seeded, reproducible, stratified draw of arms for a campaign's customers.

Each customer's place in the draw is the SHA-256 of (seed, campaign, customer id): the same inputs
give the same arms on any machine and Python version, and adding a customer to the selection moves
no one else's place. Within each stratum (tier or segment) customers are taken in that order; the
first ones go to the control group, the rest are dealt to the treatment arms in turn. Control sizes
are rounded per stratum with the remainder carried to the next stratum, so every stratum is within
one customer of its exact share and the whole list is too.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

CONTROL = "control"


@dataclass(frozen=True)
class ArmPlan:
    """The arms of a campaign: treatment arm names and the share of each stratum held back."""

    arms: tuple[str, ...] = ("treatment",)
    holdout: float = 0.10

    def __post_init__(self) -> None:
        from rfm_cli.core.errors import UsageError

        if not 0 <= self.holdout < 1:
            raise UsageError(
                f"--holdout {self.holdout:.0%} is not a share below 100%; use e.g. --holdout 10%")
        if not self.arms:
            raise UsageError("a campaign needs at least one arm that is sent; e.g. --arms A or --arms A,B")
        if len(set(self.arms)) != len(self.arms) or CONTROL in self.arms:
            raise UsageError(f"--arms {','.join(self.arms)} repeats a name or uses {CONTROL!r}; "
                             "give distinct names such as A,B")


def parse_share(text: str) -> float:
    """'10%', '0.1' or '10' (percent when over 1) as a share of 1."""
    from rfm_cli.core.errors import UsageError

    raw = text.strip()
    try:
        value = float(raw.rstrip("%"))
    except ValueError:
        raise UsageError(f"--holdout {text!r} is not a share; write it like 10% or 0.1") from None
    share = value / 100 if raw.endswith("%") or value > 1 else value
    if not 0 <= share < 1 or math.isnan(share):
        raise UsageError(f"--holdout {text!r} is not a share below 100%; write it like 10%")
    return share


def draw_key(seed: str, campaign: str, customer_id: str) -> str:
    return hashlib.sha256(f"{seed}\x00{campaign}\x00{customer_id}".encode()).hexdigest()


def assign_arms(customers: list[tuple[str, str]], plan: ArmPlan, *, seed: str, campaign: str,
                ) -> dict[str, str]:
    """customer_id -> arm, for (customer_id, stratum) pairs. Deterministic in (seed, campaign, ids)."""
    strata: dict[str, list[str]] = {}
    for customer_id, stratum in customers:
        strata.setdefault(stratum, []).append(customer_id)
    arms: dict[str, str] = {}
    carried = 0.0  # expected control customers not yet placed (may be negative)
    for stratum in sorted(strata):
        ordered = sorted(strata[stratum], key=lambda cid: draw_key(seed, campaign, cid))
        expected = len(ordered) * plan.holdout + carried
        held = max(0, min(len(ordered), math.floor(expected + 0.5)))
        carried = expected - held
        for place, customer_id in enumerate(ordered):
            arms[customer_id] = CONTROL if place < held else plan.arms[(place - held) % len(plan.arms)]
    return arms
