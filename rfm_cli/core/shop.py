"""The library's front door: a shop's database, and every job `rfm` does, as methods with keyword defaults.

    import rfm
    shop = rfm.Shop("shop.duckdb")
    shop.import_files("orders-2026-11.xlsx")
    result = shop.score()                 # result.customers is a Polars DataFrame
    shop.export("winback", recency_days="60:90", channel="sms")

    rfm.score("orders.csv")               # a file scored in memory; nothing is written

Paths are `str` or `Path`. Nothing here reads rfm.toml or RFM_* variables (the command line does,
and passes what it found): a notebook gets what it asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfm_cli.core.ingest.pipeline import FileReport, ImportOptions

if TYPE_CHECKING:
    import polars as pl

    from rfm_cli.core.campaigns.library import Campaigns
    from rfm_cli.core.predict.engine import PredictionResult
    from rfm_cli.core.rules import RuleSet
    from rfm_cli.core.scoring import ScoreResult

PathLike = str | Path


def as_of_date(value: date | str | None) -> date | None:
    """A date, 'YYYY-MM-DD', 'today' or None (the latest counted order's date)."""
    from rfm_cli.core.scoring import parse_as_of

    return value if isinstance(value, date) or value is None else parse_as_of(value)


def rule_set(scheme: str = "tiers", rules: Any = None) -> RuleSet:
    """The built-in scheme, with a rules file (path), a dict of the same sections, or a RuleSet."""
    from rfm_cli.core.rules import RuleSet, load_rules, read_rules_file

    if isinstance(rules, RuleSet):
        return rules
    if rules is None:
        return load_rules(scheme)
    if isinstance(rules, Mapping):
        return load_rules(scheme, [("rules given in Python", rules)])
    return load_rules(scheme, [(str(rules), read_rules_file(Path(rules)))])


def import_options(*, source: str | None = None, mapping: Mapping[str, str] | None = None,
                   max_rejects: str | int = "1%", date_format: str | None = None,
                   rejects_dir: PathLike | None = None, profiles: Mapping[str, Any] | None = None,
                   ) -> ImportOptions:
    """How exports are read. `mapping`: {field: header}, e.g. {"customer_id": "买家会员名"}.
    `rejects_dir`: also write each file's unreadable rows there as CSV (they are always kept in the
    database's rfm_rejects table)."""
    from rfm_cli.core.ingest.dates import normalise_date_format
    from rfm_cli.core.ingest.pipeline import max_rejects_allowed

    limit = str(max_rejects)
    max_rejects_allowed(limit, 100)
    return ImportOptions(overrides=dict(mapping or {}), max_rejects=limit, source=source,
                         date_format=normalise_date_format(date_format),
                         user_profiles=dict(profiles) if profiles else None,
                         rejects_dir=Path(rejects_dir) if rejects_dir is not None else None)


def _paths(paths: tuple[PathLike, ...]) -> list[Path]:
    flat: list[Path] = []
    for item in paths:
        flat += [Path(p) for p in item] if isinstance(item, list | tuple) else [Path(item)]
    return flat


@dataclass
class ListsResult:
    """What `export` and `run` did: the scores, the files published and their manifest."""

    score: ScoreResult
    written: list[Path] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    imports: list[FileReport] = field(default_factory=list)


def score(*paths: PathLike, as_of: date | str | None = None, scheme: str = "tiers", rules: Any = None,
          window: str | None = None, with_tags: bool = False, with_predictions: bool = False,
          tag_settings: Any = None, churn_thresholds: Any = None, **import_kwargs: Any) -> ScoreResult:
    """Score order exports in memory: nothing is written anywhere (pass rejects_dir= to keep the
    unreadable rows as CSV). `result.customers` is one row per customer. `window`: only the orders
    of the last "12m", "365d" … (or since "YYYY-MM-DD") count. `with_tags` / `with_predictions`: the
    columns of `rfm score --with-tags` / `--with-predictions` after the tier (see ScoreOptions)."""
    from rfm_cli.core import readouts
    from rfm_cli.core.specs import ScoreOptions

    spec = ScoreOptions(window=window, with_tags=with_tags, with_predictions=with_predictions,
                        tag_settings=tag_settings, churn_thresholds=churn_thresholds)
    return readouts.score_table(":memory:", _paths(paths), rule_set(scheme, rules), as_of_date(as_of),
                                import_options(**import_kwargs), spec).score


class Shop:
    """A shop's database (created on first import), locked while a method works on it."""

    def __init__(self, db: PathLike = "rfm.duckdb", *, wait: float = 0.0) -> None:
        self.db = str(db)
        self.wait = wait  # seconds to wait for another run's lock before BusyError

    def __repr__(self) -> str:
        return f"Shop({self.db!r})"

    def import_files(self, *paths: PathLike, **import_kwargs: Any) -> list[FileReport]:
        """Import exports (files or folders); all land or none. Keyword options: see import_options."""
        from rfm_cli.core import api

        return api.import_to_db(self.db, _paths(paths), import_options(**import_kwargs), wait=self.wait)

    def score(self, *, as_of: date | str | None = None, scheme: str = "tiers", rules: Any = None,
              window: str | None = None, with_tags: bool = False, with_predictions: bool = False,
              tag_settings: Any = None, churn_thresholds: Any = None) -> ScoreResult:
        """The database's scores; keywords as for rfm.score."""
        from rfm_cli.core import readouts
        from rfm_cli.core.specs import ScoreOptions

        spec = ScoreOptions(window=window, with_tags=with_tags, with_predictions=with_predictions,
                            tag_settings=tag_settings, churn_thresholds=churn_thresholds)
        return readouts.score_table(self.db, None, rule_set(scheme, rules), as_of_date(as_of),
                                    ImportOptions(), spec, wait=self.wait).score

    def export(self, out_dir: PathLike = "segments", *, as_of: date | str | None = None,
               scheme: str = "tiers",
               rules: Any = None, window: str | None = None, **list_kwargs: Any) -> ListsResult:
        """Write the lists (see ListOptions for the keywords: tier, channel, recency_days, cooldown …)."""
        from rfm_cli.core import api
        from rfm_cli.core.options import ListOptions

        options = ListOptions(**list_kwargs)
        outcome = api.export(self.db, options.spec(out_dir), rule_set(scheme, rules), as_of_date(as_of),
                             exclude=options.exclude_files(), wait=self.wait, window=window)
        return ListsResult(outcome.score, outcome.written, outcome.manifest)

    def run(self, *paths: PathLike, out_dir: PathLike = "segments", as_of: date | str | None = None,
            scheme: str = "tiers", rules: Any = None, import_kwargs: Mapping[str, Any] | None = None,
            window: str | None = None, **list_kwargs: Any) -> ListsResult:
        """Import, score, snapshot and write the lists as one unit (the nightly job)."""
        from rfm_cli.core import api
        from rfm_cli.core.options import ListOptions

        options = ListOptions(**list_kwargs)
        outcome = api.run(self.db, _paths(paths), options.spec(out_dir), rule_set(scheme, rules),
                          as_of_date(as_of), import_options(**dict(import_kwargs or {})),
                          exclude=options.exclude_files(), wait=self.wait, window=window)
        return ListsResult(outcome.score, outcome.written, outcome.manifest, outcome.reports)

    def explain(self, customer_id: str | None = None, *, find: str | None = None,
                as_of: date | str | None = None, scheme: str = "tiers", rules: Any = None,
                window: str | None = None, with_predictions: bool = False, tag_settings: Any = None,
                churn_thresholds: Any = None) -> dict[str, Any]:
        """How each of the customer's numbers, scores and tier was computed. `find`: instead of an id, a
        phone (any written form, last digits, masked), email, or part of a name or id that matches one
        customer. `with_predictions`: add the customer's predictions, each with how it was computed."""
        from rfm_cli.core import readouts
        from rfm_cli.core.errors import UsageError
        from rfm_cli.core.specs import ExplainOptions

        spec = ExplainOptions(customer_id=customer_id, find=find, window=window,
                              with_predictions=with_predictions, tag_settings=tag_settings,
                              churn_thresholds=churn_thresholds)
        found = readouts.account(self.db, None, rule_set(scheme, rules), as_of_date(as_of), ImportOptions(),
                                 spec, wait=self.wait)
        if found.account is None:  # the command lists them; here, say how many and how to choose
            raise UsageError(f"{found.matches.height:,} customers match; explain one with its CUSTOMER_ID")
        return found.account

    def predict(self, *, as_of: date | str | None = None, horizon_days: int = 90,
                discount_rate: float | None = None, model: str = "mbg-nbd",
                holdout_from: date | str | None = None, churn_thresholds: Any = None) -> PredictionResult:
        """`rfm predict`: per customer expected purchases, P(alive), CLV, due date and churn risk
        (`.customers`), and the fitted models (`.model`). Keywords: see PredictOptions."""
        from rfm_cli.core.predict import predict
        from rfm_cli.core.specs import PredictOptions

        spec = PredictOptions(horizon_days=horizon_days, discount_rate=discount_rate, model=model,
                              holdout_from=holdout_from, churn_thresholds=churn_thresholds)
        result, _ = predict(self.db, None, wait=self.wait, as_of=as_of_date(as_of), **spec.settings())
        return result

    def report(self, *, as_of: date | str | None = None, scheme: str = "tiers", rules: Any = None,
               html: PathLike | None = None, lang: str = "en", with_predictions: bool = False,
               holdout_from: date | str | None = None, churn_thresholds: Any = None) -> dict[str, Any]:
        """The report's numbers (what `rfm report --format json` prints); `html`: also write the page
        there (`lang` "zh": in Chinese). `with_predictions`/`holdout_from`: see ReportOptions."""
        from rfm_cli.core import readouts
        from rfm_cli.core.specs import ReportOptions

        spec = ReportOptions(lang=lang, html=html, with_predictions=with_predictions,
                             holdout_from=holdout_from, churn_thresholds=churn_thresholds)
        numbers, _ = readouts.report(self.db, None, rule_set(scheme, rules), as_of_date(as_of),
                                     ImportOptions(), spec, wait=self.wait)
        if html is not None:
            readouts.write_report_page(numbers, html, lang)
        return numbers

    def moves(self, *, date_from: date | str | None = None, date_to: date | str | None = None,
              scheme: str = "tiers") -> pl.DataFrame:
        """One row per customer: tier on `date_from` and on `date_to` (default: the last two snapshots)."""
        from rfm_cli.core import history
        from rfm_cli.core.store import open_store

        with open_store(self.db, create=False, wait_seconds=self.wait) as store:
            frm, to = history.resolve_pair(store, scheme, as_of_date(date_from), as_of_date(date_to))
            return history.moves_table(store, scheme, frm, to)

    def history(self, customer_id: str, *, scheme: str = "tiers") -> pl.DataFrame:
        """The customer's tier in every snapshot."""
        from rfm_cli.core import history
        from rfm_cli.core.store import open_store

        with open_store(self.db, create=False, wait_seconds=self.wait) as store:
            return history.history(store, customer_id, scheme)

    def suppress(self, *values: str, note: str | None = None, kind: str = "auto") -> int:
        """Add phones, emails or customer ids to the opt-out list; returns how many were new."""
        from rfm_cli.core import suppression
        from rfm_cli.core.store import open_store

        with open_store(self.db, wait_seconds=self.wait) as store:
            return suppression.add(store, list(values), kind, note)

    @property
    def campaigns(self) -> Campaigns:
        """Campaigns with a hold-out: .new(name, out_dir, tier=..., holdout="10%"), .list(), .show(name),
        .report(name)."""
        from rfm_cli.core.campaigns.library import Campaigns

        return Campaigns(self)

    def suppressions(self) -> pl.DataFrame:
        from rfm_cli.core import suppression
        from rfm_cli.core.store import open_store

        with open_store(self.db, create=False, wait_seconds=self.wait) as store:
            return suppression.listing(store)
