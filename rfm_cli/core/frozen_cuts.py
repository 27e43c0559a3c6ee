"""Frozen cut points: quantile scoring turned into fixed breakpoints taken from the data on the day they
were frozen (`rfm rules freeze`), so one customer's refund cannot move others between tiers overnight.

Kept apart from scoring and history: scoring reads them (with_frozen) and history must not be in a
circle with scoring.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from rfm_cli.core.rules import DIMENSIONS, RAW_OF, SCORE_OF, DimensionRule, RuleSet
from rfm_cli.core.store import Store

if TYPE_CHECKING:
    from rfm_cli.core.scoring import ScoreResult


def freeze(store: Store, result: ScoreResult) -> dict[str, list[float]]:
    """Freeze the quantile dimensions' cut points of this result. The caller owns the transaction."""
    import polars as pl

    frozen: dict[str, list[float]] = {}
    for dimension in DIMENSIONS:
        rule = result.rules.dimension(dimension)
        if rule.method != "quantile":
            continue
        raw, score = RAW_OF[dimension], SCORE_OF[dimension]
        frame = result.customers.select(raw, score)
        if dimension == "recency":  # score 5 - #(value > b): b_s = largest value scored >= 6 - s
            points = [frame.filter(pl.col(score) >= s)[raw].max() for s in (5, 4, 3, 2)]
        else:  # score 1 + #(value >= b): b_s = smallest value scored >= s
            points = [frame.filter(pl.col(score) >= s)[raw].min() for s in (2, 3, 4, 5)]
        fill = float("-inf") if dimension == "recency" else float("inf")
        frozen[dimension] = [float(p) if p is not None else fill for p in points]
    store.con.execute("DELETE FROM rfm_frozen_cuts")
    now = datetime.now().replace(microsecond=0)
    for dimension, points in frozen.items():
        store.con.execute("INSERT INTO rfm_frozen_cuts VALUES (?, ?, ?, ?)",
                          [dimension, json.dumps(points), result.as_of, now])
    return frozen


def unfreeze(store: Store) -> int:
    count = store.con.execute("SELECT count(*) FROM rfm_frozen_cuts").fetchall()[0][0]
    store.con.execute("DELETE FROM rfm_frozen_cuts")
    return count


def with_frozen(store: Store, rules: RuleSet) -> RuleSet:
    """The rules with frozen cut points in place of quantile scoring, where some were frozen."""
    rows = store.con.execute("SELECT dimension, breakpoints, as_of FROM rfm_frozen_cuts").fetchall()
    changes = {}
    for dimension, points, as_of in rows:
        rule = rules.dimension(dimension)
        if rule.method == "quantile":
            changes[dimension] = DimensionRule(dimension=dimension, method="fixed",
                                               breakpoints=tuple(json.loads(points)), basis=rule.basis,
                                               frozen_on=as_of)
    return replace(rules, **changes) if changes else rules
