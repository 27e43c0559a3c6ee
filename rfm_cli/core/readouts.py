"""The jobs behind `rfm score`, `rfm report` and `rfm explain` as the command line runs them: each takes
its options as one spec (core/specs.py), checked when it was made, and returns what the command shows.
None changes a database; rfm.score, rfm.Shop and the commands call them alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfm_cli.core import api
from rfm_cli.core.errors import UsageError

if TYPE_CHECKING:
    from rfm_cli.core.ingest.pipeline import FileReport, ImportOptions
    from rfm_cli.core.rules import RuleSet
    from rfm_cli.core.scoring import ScoreResult
    from rfm_cli.core.specs import ExplainOptions, ReportOptions, ScoreOptions


@dataclass
class Scored:
    """What `rfm score` shows: the scores (their table widened as the spec asked), the files' import
    reports, the fitted models when predictions were asked for, and notes for the reader."""

    score: ScoreResult
    reports: list[FileReport]
    predicted: Any = None  # core.predict.PredictionResult, with ScoreOptions.with_predictions
    notes: list[str] = field(default_factory=list)


def score_table(db: str, files: list[Path] | None, rules: RuleSet, as_of: date | None, options: ImportOptions,
                spec: ScoreOptions, *, wait: float = 0.0) -> Scored:
    """`score` with the columns `spec` adds: the tags, or `rfm predict`'s columns (core/predict/engine.py,
    default model and horizon) for the same customers and as-of date. Not for a spec on an engine."""
    if not spec.with_predictions:
        notes: list[str] = []
        result, reports = api.score(db, files, rules, as_of, options, wait=wait, window=spec.window,
                                    tags=spec.tags(), notes=notes)
        return Scored(result, reports, notes=notes)
    from rfm_cli.core.predict import predict_customers
    from rfm_cli.core.predict.lists import with_predictions
    from rfm_cli.core.scoring import score_frame, score_inputs

    with api.scoring_store(db, files, options, wait=wait, read_only=True) as (store, reports):
        inputs = score_inputs(store, rules, as_of, window=spec.window)  # the models read every order
        predicted = predict_customers(store, inputs[1], churn_thresholds=spec.churn_thresholds)
    result = score_frame(*inputs)
    result.customers = with_predictions(result.customers, predicted.customers)
    return Scored(result, reports, predicted)


def report(db: str, files: list[Path] | None, rules: RuleSet, as_of: date | str | None,
           options: ImportOptions, spec: ReportOptions, *, wait: float = 0.0,
           ) -> tuple[dict[str, Any], list[FileReport]]:
    """The report's numbers (core/report.py; `rfm report --format json`), with the look ahead when `spec`
    asks for predictions; and the files' import reports. `as_of`: read once the store is open."""
    from rfm_cli.core import report as numbers_of
    from rfm_cli.core.scoring import parse_as_of, score_store

    with api.scoring_store(db, files, options, wait=wait) as (store, reports):
        result = score_store(store, rules, as_of if isinstance(as_of, date | None) else parse_as_of(as_of))
        numbers = numbers_of.build(store, result, database=None if files else db)
        if spec.fits_predictions:
            from rfm_cli.core.predict.report import clv_numbers

            numbers["predictions"] = clv_numbers(store, result, holdout_from=spec.holdout_day(),
                                                 churn_thresholds=spec.churn_thresholds)
    return numbers, reports


def write_report_page(numbers: dict[str, Any], path: str | Path, lang: str = "en") -> int:
    """The report as one self-contained HTML page at `path`, written whole or not at all; its bytes."""
    from rfm_cli.core.report_html import render
    from rfm_cli.core.sinks import StagedFiles

    page = render(numbers, lang).encode("utf-8")
    with StagedFiles() as staged:
        staged.add_bytes(page, Path(path))
    return len(page)


def account(db: str, files: list[Path] | None, rules: RuleSet, as_of: date | None, options: ImportOptions,
            spec: ExplainOptions, *, wait: float = 0.0) -> api.Found:
    """`rfm explain`: the account of `spec.customer_id` (no matches listed), or what `spec.find` matched
    and, when it matched exactly one customer, that customer's account."""
    keywords = {"wait": wait, "predictions": spec.predictions(), "window": spec.window,
                "tags": spec.tag_settings}
    if spec.customer_id is not None:
        return api.Found(None, api.explain(db, files, spec.customer_id, rules, as_of, options, **keywords))
    found = api.find_and_explain(db, files, spec.find, rules, as_of, options, **keywords)
    if found.matches.is_empty():
        raise UsageError("no customer has a phone, email, name or id matching that; check it, or list "
                         "customers with rfm score -o customers.csv")
    return found

