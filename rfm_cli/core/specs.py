"""The options of `score`, `report`, `predict` and `explain`, declared once and checked where they are made.

As `ListOptions` (core/options.py) for the lists: the command line builds one from its flags, a notebook
from keyword arguments (`rfm.score("orders.csv", with_tags=True)`, `shop.report(lang="zh")`), and both
get the same refusals, with the same one-line messages, before any work is done. Each spec is frozen:
what was checked is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rfm_cli.core.errors import UsageError


def parse_day(value: date | str | None, option: str) -> date | None:
    """'YYYY-MM-DD' (or a date) as a date; None stays None."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise UsageError(f"{option} {value!r} is not a date; use YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


def text(option: str, value: Any, refusal: str) -> None:
    """A notebook may pass what the command line's flags cannot: an option read as text must be text."""
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{option} {value!r} {refusal}")


@dataclass(frozen=True)
class ScoreOptions:
    """What `rfm score` adds to the scores, and where it scores (`engine`: on another engine)."""

    window: str | None = None  # "12m", "365d" … or "YYYY-MM-DD": only those orders count
    with_predictions: bool = False  # rfm predict's columns after the tier
    with_tags: bool = False  # categories, aov_band, favourite_weekday, favourite_hour after the tier
    engine: str | None = None  # an engine URL (core/engines): the plan runs there
    table: str | None = None  # the order lines on the engine
    into: str | None = None  # with engine: the table there the scores go to
    tag_settings: Any = None  # core.tags.TagSettings (rfm.toml [tags]); None: the defaults
    churn_thresholds: Any = None  # core.predict.churn.ChurnThresholds (rfm.toml [churn]); None: the defaults

    def __post_init__(self) -> None:
        """The options that read the orders here cannot go with an engine (nor tags with predictions)."""
        text("--window", self.window, "is not a span or a date; use e.g. --window 365d, 12m, 2y or "
                                      "--since 2025-01-01")
        if self.with_tags and (self.on_engine or self.with_predictions):
            raise UsageError("--with-tags reads the orders' lines here, not on an --engine nor with "
                             "--with-predictions; leave out one of them")
        if self.with_predictions and self.on_engine:
            raise UsageError("--with-predictions reads the orders here, not on an --engine; score here, or "
                             "run rfm predict on the database")
        if self.on_engine and self.window:
            raise UsageError("--window is not part of the scoring plan of --engine yet; score the database "
                             "or files without --engine, or leave out --window")
        if self.on_engine and not (self.engine and self.table):
            raise UsageError(
                "--engine URL and --table NAME go together; give both: the engine and the order lines there")

    @property
    def on_engine(self) -> bool:
        return bool(self.engine or self.table or self.into)

    def tags(self) -> Any:
        """The TagSettings to add the tag columns with, or None without --with-tags."""
        if not self.with_tags:
            return None
        from rfm_cli.core.tags import TagSettings

        return self.tag_settings or TagSettings()


@dataclass(frozen=True)
class ReportOptions:
    """What `rfm report` adds to the numbers, and the HTML page's file and language."""

    lang: str = "en"  # en or zh: the labels and tier names of the page and the terminal report
    html: str | Path | None = None  # write the self-contained HTML page here
    with_predictions: bool = False  # CLV, P(alive) and churn risk by tier (fits the models)
    holdout_from: date | str | None = None  # with predictions: checked against the orders from this day on
    churn_thresholds: Any = None  # core.predict.churn.ChurnThresholds; None: the defaults

    def __post_init__(self) -> None:
        from rfm_cli.core.report_labels import LANGS

        if self.lang not in LANGS:
            raise UsageError(f"--lang {self.lang!r} is not a language of rfm; use en or zh")
        if self.html is not None:
            from rfm_cli.core.sinks import check_target

            check_target(Path(self.html), "--html", "report.html")
        self.holdout_day()

    def holdout_day(self) -> date | None:
        return parse_day(self.holdout_from, "--holdout-from")

    @property
    def fits_predictions(self) -> bool:
        return bool(self.with_predictions or self.holdout_from)


@dataclass(frozen=True)
class PredictOptions:
    """`rfm predict`'s model settings (core/predict/engine.py predict_customers' keywords)."""

    horizon_days: int = 90
    discount_rate: float | None = None  # annual, e.g. 0.1; None: CLV not discounted
    model: str = "mbg-nbd"  # mbg-nbd, pareto-nbd or bg-nbd
    holdout_from: date | str | None = None  # fit before this day; check the predictions from it on
    churn_thresholds: Any = None  # core.predict.churn.ChurnThresholds; None: the defaults

    def __post_init__(self) -> None:
        from rfm_cli.core.predict.engine import check_options  # predict()'s own checks, not a copy

        self.holdout_day()
        check_options(self.horizon_days, self.discount_rate, self.model)

    def holdout_day(self) -> date | None:
        return parse_day(self.holdout_from, "--holdout-from")

    def settings(self) -> dict[str, Any]:
        """predict_customers' keywords (all but the store and the as-of date)."""
        return {"horizon_days": self.horizon_days, "discount_rate": self.discount_rate, "model": self.model,
                "holdout_from": self.holdout_day(), "churn_thresholds": self.churn_thresholds}


@dataclass(frozen=True)
class ExplainOptions:
    """Whose account `rfm explain` shows (a customer id, or a search), and what it adds to it."""

    customer_id: str | None = None
    find: str | None = None  # a phone (any written form, last digits, masked), email, or part of a name/id
    window: str | None = None
    with_predictions: bool = True  # the customer's predictions, each with how it was computed
    tag_settings: Any = None  # core.tags.TagSettings (rfm.toml [tags]); None: the defaults
    churn_thresholds: Any = None  # core.predict.churn.ChurnThresholds; None: the defaults

    def __post_init__(self) -> None:
        text("customer id", self.customer_id, "is not text; ids are exact text, e.g. '1001'")
        text("--find", self.find, "is not text; give a phone, email or name as text, e.g. '13800000001'")
        if self.find is None and self.customer_id is None:
            raise UsageError("say whose account to show; give a CUSTOMER_ID, or --find PHONE|EMAIL|NAME")
        if self.find is not None and self.customer_id is not None:  # the library only: the CLI takes one
            raise UsageError("give a customer id or a search (find=), not both; the search finds the id")

    def predictions(self) -> dict[str, Any] | None:
        """api.explain's `predictions`: predict_customers' keywords, or None to leave them out."""
        return {"churn_thresholds": self.churn_thresholds} if self.with_predictions else None
