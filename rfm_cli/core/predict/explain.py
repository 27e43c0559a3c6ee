"""One customer's predictions, and how each number was computed (for `rfm explain ID`).

The models are fitted on every customer, as `rfm predict` fits them (the same call, the same as-of
date as the scores); this picks out one customer's inputs and numbers and writes each rule out with
their values in it.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from rfm_cli.core.predict.engine import predict_customers
from rfm_cli.core.predict.intervals import NONE, OWN, PRIOR_GAPS
from rfm_cli.core.predict.stats import DAYS_PER_WEEK
from rfm_cli.core.store import Store


def _bg_p_alive(params: dict[str, float], x: int, t_x: float, age: float, *, modified: bool) -> str:
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    if not modified and x == 0:
        return "BG/NBD: 1 for a customer with no repeat purchase (nobody leaves before buying again)"
    shift = "" if modified else " - 1"
    return (f"1 / (1 + a / (b + x{shift}) * ((alpha + T) / (alpha + t_x))^(r + x)) with r={r:.4g}, "
            f"alpha={alpha:.4g}, a={a:.4g}, b={b:.4g}, x={x}, t_x={t_x:.4g}, T={age:.4g}")


def _p_alive_rule(model: dict[str, Any], x: int, t_x: float, age: float) -> str:
    params = model["params"]
    if model["title"] in ("MBG/NBD", "BG/NBD"):
        return _bg_p_alive(params, x, t_x, age, modified=model["title"] == "MBG/NBD")
    shown = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
    return (f"Pareto/NBD P(alive | x={x}, t_x={t_x:.4g}, T={age:.4g}) with {shown} (Fader, Hardie & Lee's "
            "note on the Pareto/NBD, through SciPy's 2F1)")


def _spend_rule(spend: dict[str, Any], x: int, repeat_spend: float, value: float | None) -> str:
    p, q, gamma = (spend["params"][k] for k in ("p", "q", "gamma"))
    shop_mean = p * gamma / (q - 1)
    if x == 0:
        return ("no repeat purchase: the shop's mean under Gamma-Gamma, p * gamma / (q - 1) = "
                f"{shop_mean:,.2f}")
    own = repeat_spend / x
    weight = p * x / (p * x + q - 1)
    return (f"Gamma-Gamma: {weight:.3f} x own mean of the repeat purchases ({own:,.2f}) + {1 - weight:.3f} x "
            f"the shop's mean ({shop_mean:,.2f}) = {value:,.2f}; own weight p*x / (p*x + q - 1) with "
            f"p={p:.4g}, q={q:.4g}, gamma={gamma:.4g}")


def _due_rule(inputs: dict[str, Any], row: dict[str, Any], shop_gap: float | None) -> str:
    if row["due_basis"] == NONE:
        return "no due date: one purchase, and too few repeat buyers for a shop median gap"
    if row["due_basis"] == OWN and shop_gap is not None:
        x, own = inputs["x"], inputs["median_gap_days"]
        gap = (f"typical gap (x * own median + {PRIOR_GAPS} * shop median) / (x + {PRIOR_GAPS}) = "
               f"({x} * {own:g} + {PRIOR_GAPS} * {shop_gap:g}) / {x + PRIOR_GAPS} = "
               f"{row['typical_gap_days']:g} days")
    elif row["due_basis"] == OWN:
        gap = (f"typical gap = own median gap {row['typical_gap_days']:g} days "
               "(too few repeat buyers to shrink it)")
    else:
        gap = f"one purchase: typical gap = the shop's median gap {row['typical_gap_days']:g} days"
    return (
        f"{gap}; due = last purchase {inputs['last_day']} + {math.floor(row['typical_gap_days'] + 0.5):d} "
        f"days = {row['next_order_due']}")


def explain_predictions(store: Store, as_of: date, customer_id: str,
                        **settings: Any) -> dict[str, Any] | None:
    """The customer's model inputs, predictions and rules as of `as_of` (None: not a customer then).
    `settings`: predict_customers' keywords."""
    result = predict_customers(store, as_of, **settings)
    found = result.customers.filter(result.customers["customer_id"] == customer_id)
    if found.is_empty():
        return None
    row = found.row(0, named=True)
    inputs = result.inputs.filter(result.inputs["customer_id"] == customer_id).row(0, named=True)
    horizon, model = result.horizon_days, result.model
    x, t_x, age = inputs["x"], inputs["t_x_days"] / DAYS_PER_WEEK, inputs["T_days"] / DAYS_PER_WEEK
    account: dict[str, Any] = {
        "as_of": result.as_of.isoformat(),
        "status": model["status"],
        "notes": list(result.notes),
        "inputs": {
            "x_repeat_purchases": x,
            "x_rule": f"{x + 1} purchase days (days with a counted order) less the first",
            "t_x_weeks": round(t_x, 4),
            "t_x_rule": f"({inputs['last_day']} - {inputs['first_day']}) = {inputs['t_x_days']} days / 7",
            "T_weeks": round(age, 4),
            "T_rule": f"({result.as_of} - {inputs['first_day']}) = {inputs['T_days']} days / 7",
            "repeat_spend": inputs["repeat_spend"],
        },
        "due": {key: row[key] for key in ("typical_gap_days", "next_order_due", "days_overdue", "due_basis")}
        | {"rule": _due_rule(inputs, row, model["intervals"]["shop_median_gap_days"])},
        "churn": {"churn_risk": row["churn_risk"], "rule": row["churn_rule"]},
    }
    if row["next_order_due"] is not None:
        account["due"]["days_overdue_rule"] = (f"{result.as_of} - {row['next_order_due']} = "
                                               f"{row['days_overdue']} days")
    if result.fitted:
        purchases = model["purchases"]
        account["model"] = {"purchases": purchases["title"], "params": purchases["params"]}
        if model["spend"] is not None:
            account["model"]["spend_params"] = model["spend"]["params"]
        account["p_alive"] = {"value": row["p_alive"], "rule": _p_alive_rule(purchases, x, t_x, age)}
        account["expected_orders"] = {
            "horizon_days": horizon,
            "value": row[f"expected_orders_{horizon}d"],
            "rule": f"{purchases['title']}'s expected purchases in the next {horizon / DAYS_PER_WEEK:.4g} "
                    f"weeks given x={x}, t_x={t_x:.4g}, T={age:.4g} "
                    "(P(alive) times the purchases of a live customer)",
        }
        spend = model["spend"]
        if row["expected_spend_per_order"] is not None and spend is not None:
            account["expected_spend_per_order"] = {
                "value": row["expected_spend_per_order"],
                "rule": _spend_rule(spend, x, inputs["repeat_spend"], row["expected_spend_per_order"]),
            }
            discounted = (f", each week's purchases discounted at {model['discount_rate']:.1%} a year"
                          if model["discount_rate"] else "")
            account["clv"] = {
                "horizon_days": horizon,
                "value": row[f"clv_{horizon}d"],
                "rule": f"expected purchases {row[f'expected_orders_{horizon}d']:g} x expected spend "
                f"{row['expected_spend_per_order']:,.2f}{discounted}",
            }
    return account


def describe(predictions: dict[str, Any] | None) -> list[str]:
    """The account of explain_predictions as lines for a person (no markup)."""
    if predictions is None:
        return ["predictions: none (no counted order on or before the as-of date)"]
    inputs = predictions["inputs"]
    lines = [f"predictions as of {predictions['as_of']} ({predictions['status']}):", *predictions["notes"]]
    lines += [
        f"  x   = {inputs['x_repeat_purchases']}: {inputs['x_rule']}",
        f"  t_x = {inputs['t_x_weeks']:g} weeks: {inputs['t_x_rule']}",
        f"  T   = {inputs['T_weeks']:g} weeks: {inputs['T_rule']}",
    ]
    for key, label in (("p_alive", "P(alive)"), ("expected_orders", "expected orders"),
                       ("expected_spend_per_order", "expected spend per order"), ("clv", "CLV")):
        if key in predictions:
            part = predictions[key]
            days = f" in {part['horizon_days']} days" if "horizon_days" in part else ""
            value = "(empty)" if part["value"] is None else f"{part['value']:,.4g}"
            lines.append(f"  {label}{days} = {value}: {part['rule']}")
    due = predictions["due"]
    if due["next_order_due"] is not None:
        lines.append(f"  next order due {due['next_order_due']}: {due['rule']}")
        lines.append(f"  days overdue = {due['days_overdue_rule']}")
    else:
        lines.append(f"  next order due: {due['rule']}")
    churn = predictions["churn"]
    lines.append(f"  churn risk {churn['churn_risk']}: {churn['rule']}")
    return lines
