"""Scores computed elsewhere (the plan on an engine, or a file from `rfm score --engine ... -o`) as
rfm's own ScoreResult, so the list writers, summaries and cut-point reports take them unchanged.

The frame gets exactly the columns and types scoring.py gives (money as Float64 rounded to the
cent, scores Int64, times to the microsecond), and it is checked before anything is written: the
columns are there, money has at most two decimals (read as text and parsed here: Polars' cast of
'12.345' to a decimal truncates where every engine rounds, so neither is allowed to decide), each
customer appears once, the as-of date is one date, and every tier is the one the rules in force
give the row's numbers (scores from other rules are refused, not listed under the wrong name).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.rules import RuleSet
from rfm_cli.core.scoring import OUTPUT_COLUMNS, ScoreResult, cut_points

_TEXT = ("customer_id", "customer_name", "phone", "email", "rfm_code", "tier")
_WHOLE = ("recency_days", "frequency", "r_score", "f_score", "m_score")
_TIMES = ("first_order_at", "last_order_at")
_MONEY = re.compile(r"^-?\d+(\.\d{1,2})?$")


def money_as_float(values: pl.Series, label: str) -> pl.Series:
    """Money written as text (or Decimal, or integers) as rfm's Float64 of cents; more than two
    decimals or anything unreadable is refused rather than truncated or rounded."""
    if values.dtype.is_integer():
        return values.cast(pl.Float64)
    if isinstance(values.dtype, pl.Decimal):
        if values.dtype.scale is not None and values.dtype.scale > 2:
            values = values.cast(pl.String)  # checked below: 12.340 is fine, 12.345 is not
        else:
            return values.cast(pl.Float64).round(2)
    text = values.cast(pl.String).str.strip_chars()
    trimmed = text.str.replace(r"^(-?\d+\.\d{2})0+$", "${1}")
    bad = trimmed.is_not_null() & ~trimmed.str.contains(_MONEY.pattern)
    if bad.any():
        raise DataError(
            f"{label}: monetary has a value that is not money with at most 2 decimals "
            f"(row {int(bad.arg_max()) + 2}); round it to the cent where it is computed "
            "(CAST(... AS DECIMAL(18, 2)))"
        )
    return trimmed.cast(pl.Float64).round(2)


def scores_frame(frame: pl.DataFrame, label: str) -> pl.DataFrame:
    """`frame` (the plan's columns, any order, extra columns ignored) as scoring.py's customers."""
    missing = [c for c in OUTPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{label} has no column {missing[0]!r}; scores need rfm score's columns: "
            f"{', '.join(OUTPUT_COLUMNS)}"
        )
    try:
        typed = frame.select(
            *[pl.col(c).cast(pl.String) for c in _TEXT],
            *[_timestamp(frame[c]) for c in _TIMES],
            *[pl.col(c).cast(pl.Int64) for c in _WHOLE],
        ).with_columns(monetary=money_as_float(frame["monetary"], label))
    except pl.exceptions.PolarsError as exc:
        raise DataError(
            f"{label}: a column does not hold what rfm score writes ({_first_line(exc)}); "
            "write the scores with rfm score --engine ... -o FILE"
        ) from None
    customers = typed.select(OUTPUT_COLUMNS).sort("customer_id")
    if customers["customer_id"].null_count() or customers["customer_id"].is_duplicated().any():
        raise DataError(f"{label}: a customer_id is empty or appears twice; scores have one row per customer")
    return customers


def _timestamp(values: pl.Series) -> pl.Expr:
    name = values.name
    if values.dtype == pl.String:
        return pl.col(name).str.to_datetime(time_unit="us", strict=True)
    if isinstance(values.dtype, pl.Datetime) and values.dtype.time_zone is not None:
        return pl.col(name).dt.replace_time_zone(None).dt.cast_time_unit("us")
    return pl.col(name).cast(pl.Datetime("us"))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def as_of_of(customers: pl.DataFrame, label: str) -> date:
    """The as-of date the scores describe: every row's last order day plus its recency."""
    days = customers.select(
        (pl.col("last_order_at").dt.date() + pl.duration(days=pl.col("recency_days"))).alias("as_of")
    ).unique()
    if days.height != 1 or days["as_of"][0] is None:
        raise DataError(
            f"{label}: the rows describe {days.height} different as-of dates (last_order_at + "
            "recency_days); score all customers in one run"
        )
    return days["as_of"][0]


def check_tiers(customers: pl.DataFrame, rules: RuleSet, label: str) -> None:
    """Every row's tier is what the rules in force give its numbers (and its code its scores)."""
    expected: Any = pl
    for tier in rules.tiers:
        expected = expected.when(tier.when.to_polars()).then(pl.lit(tier.name))
    code = (pl.col("r_score") * 100 + pl.col("f_score") * 10 + pl.col("m_score")).cast(pl.String)
    found = customers.select(
        wrong_tier=(expected.otherwise(pl.lit(None, pl.String)) != pl.col("tier")).fill_null(True),
        wrong_code=pl.col("rfm_code") != code,
        bad_score=~pl.all_horizontal(pl.col("r_score", "f_score", "m_score").is_between(1, 5)),
    )
    if found["bad_score"].any() or found["wrong_code"].any():
        raise DataError(
            f"{label}: a row's scores are not 1-5 or its rfm_code does not match them "
            f"(row {int((found['bad_score'] | found['wrong_code']).arg_max()) + 2} after sorting "
            "by customer_id); write the scores with rfm score --engine ... -o FILE"
        )
    if found["wrong_tier"].any():
        row = int(found["wrong_tier"].arg_max())
        raise DataError(
            f"{label}: customer row {row + 2} (by customer_id) has tier "
            f"{customers['tier'][row]!r} but the rules in force ({rules.source}) give another; "
            "pass the --rules and --scheme the scores were computed with"
        )


def score_result(frame: pl.DataFrame, rules: RuleSet, label: str, as_of: date | None = None) -> ScoreResult:
    customers = scores_frame(frame, label)
    if customers.is_empty():
        raise DataError(f"{label} holds no customers; score orders with counted orders first")
    found = as_of_of(customers, label)
    if as_of is not None and found != as_of:
        raise DataError(f"{label} describes {found}, not --as-of {as_of}; rescore, or leave --as-of out")
    check_tiers(customers, rules, label)
    return ScoreResult(as_of=found, rules=rules, customers=customers, cut_points=cut_points(customers, rules))


def empty_result(frame: pl.DataFrame, rules: RuleSet, label: str, as_of: date) -> ScoreResult:
    """No customer counted on or before `as_of`: what rfm score gives then, an empty table."""
    customers = scores_frame(frame, label)
    return ScoreResult(as_of=as_of, rules=rules, customers=customers, cut_points=cut_points(customers, rules))


def read_scores(path: Path, rules: RuleSet, as_of: date | None = None) -> ScoreResult:
    """A scores file (csv, parquet or json as `rfm score -o` writes them) as a ScoreResult."""
    label = f"scores file {path}"
    if not path.is_file():
        raise InputError(f"{label} does not exist; check the path")
    try:
        head = path.read_bytes()[:4]
        if head == b"PAR1":
            frame = pl.read_parquet(path)
        elif head[:1] in (b"[", b"{"):
            frame = pl.read_json(path, infer_schema_length=None)
        else:  # every column as text: money and ids are parsed here, not guessed
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
            frame = frame.rename({c: c.lstrip("\ufeff") for c in frame.columns})  # utf-8-sig
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            f"cannot read {label} ({_first_line(exc)}); give a CSV, Parquet or JSON file written by rfm score"
        ) from None
    return score_result(frame, rules, label, as_of)


def store_for(db: str, scores: ScoreResult | None) -> str | None:
    """The database an export opens: its own, or with scores from elsewhere and no database there,
    a throw-away one (no suppression list, no send ledger to keep)."""
    return None if scores is not None and not Path(db).exists() else db
