"""The library behind each command: one function per job, usable from Python without a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfm_cli.core.ingest.pipeline import FileReport, ImportOptions, import_files
from rfm_cli.core.store import Store, open_store

# Polars (scoring, lists) is imported by the functions that need it: `rfm import` never loads it.
if TYPE_CHECKING:
    import polars as pl

    from rfm_cli.core.rules import RuleSet
    from rfm_cli.core.scoring import ScoreResult
    from rfm_cli.core.segments import ExportSpec, Lists, SegmentList


@dataclass
class RunResult:
    reports: list[FileReport]
    score: ScoreResult
    written: list[Path] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    removed: list[Path] = field(default_factory=list)  # a previous run's files this one does not write


@contextlib.contextmanager
def scoring_store(
    db: str, files: list[Path] | None, options: ImportOptions, *, wait: float = 0.0, read_only: bool = False
) -> Iterator[tuple[Store, list[FileReport]]]:
    """With files: a throw-away in-memory store holding just them. Without: the database.

    `read_only`: the caller only reads the store, so one file's orders need not be copied into it."""
    if files:
        with open_store(None) as store:
            yield store, import_files(store, files, options, read_only_after=read_only)
    else:
        with open_store(db, create=False, wait_seconds=wait) as store:
            yield store, []


def import_to_db(
    db: str, files: list[Path], options: ImportOptions, *, wait: float = 0.0
) -> list[FileReport]:
    with open_store(db, wait_seconds=wait) as store:
        return import_files(store, files, options)


def score(
    db: str,
    files: list[Path] | None,
    rules: RuleSet,
    as_of: date | None,
    options: ImportOptions,
    *,
    wait: float = 0.0,
    window: str | None = None,
    tags: Any = None,
    notes: list[str] | None = None,
) -> tuple[ScoreResult, list[FileReport]]:
    """`tags`: a core.tags.TagSettings to add the tag columns (categories, aov_band, favourite_weekday,
    favourite_hour) after the tier; None: the scores' own columns only. `notes` gets a line for the
    reader when the tags lack product data."""
    from rfm_cli.core.scoring import score_frame, score_inputs

    with scoring_store(db, files, options, wait=wait, read_only=True) as (store, reports):
        # With files, the store is thrown away once read: unless the tags read it too, the orders go
        # before the customers are read out (score_inputs' `last`).
        inputs = score_inputs(store, rules, as_of, window=window, last=bool(files) and tags is None)
        if tags is not None:
            from rfm_cli.core.products import NO_PRODUCTS, has_lines
            from rfm_cli.core.tags import stored_tags

            tagged = stored_tags(store, inputs[1], inputs[3], tags)
            if notes is not None and not has_lines(store.con):
                notes.append(f"note: {NO_PRODUCTS}: the categories column is empty")
    # Scored once the store is closed: DuckDB's memory is given back before Polars needs its own.
    result = score_frame(*inputs)
    del inputs
    if tags is not None:
        from rfm_cli.core.tags import with_tags

        result.customers = with_tags(result.customers, tagged, tags, result.rules.monetary.basis)
    return result, reports


def _lists_and_record(store: Store, result: ScoreResult, spec: ExportSpec, exclude: list[Path], *,
                      with_entered: bool, with_state: bool = True) -> Lists:
    """Build every list (segments.build_lists) and record the sends (and, for runs, the snapshot) inside
    the caller's transaction: files and stdout get the same lists, cooldown included. Coupon codes
    come from the code ledger: a code issued on an earlier night is never issued again. A selection on
    --overdue or --churn-risk gets the prediction columns from the same store and as-of date."""
    import dataclasses

    from rfm_cli.core import coupon_ledger, history
    from rfm_cli.core.segments import build_lists, coded_tiers
    from rfm_cli.core.suppression import load_suppressions

    suppressions = load_suppressions(store, list(exclude), spec.options.default_region)
    if spec.sending is not None and spec.sending.require_consent:
        from rfm_cli.core.compliance.consent import in_force

        suppressions.consented = in_force(store)
    if "google" in spec.channels:  # its EEA consent columns (compliance/eea.py)
        from rfm_cli.core.compliance.consent import status

        suppressions.ads_consent = status(store, "ads")
    recent = history.recently_sent(store, result.as_of, spec.cooldown_days) if spec.cooldown_days else None
    previous = history.previous_tiers(store, result) if with_entered else None
    predicted = None
    if spec.selection.uses_predictions:
        from rfm_cli.core.predict.lists import list_predictions

        predicted = list_predictions(store, result.as_of, churn=bool(spec.selection.churn_risk),
                                     thresholds=spec.churn_thresholds)
    tags = None
    if spec.selection.uses_tags:
        from rfm_cli.core.tags import customer_tags

        tags = customer_tags(store, result.customers, result.as_of, result.since, spec.tag_settings,
                             bought=spec.selection.bought, times=False, basis=result.rules.monetary.basis)
    if spec.codes is not None:
        spec = dataclasses.replace(spec, codes=coupon_ledger.available(store, spec.codes, result.as_of, "",
                                                                       coded_tiers(result, spec.selection)))
    followups, triggers, repeats = _followup_inputs(store, result, spec)
    lists = build_lists(result, spec, suppressions, recent_sends=recent, previous=previous,
                        with_state=with_state, predictions=None if predicted is None else predicted.columns,
                        triggers=triggers, already_sent=repeats, tags=tags)
    lists.predictions = None if predicted is None else predicted.describe()
    history.record_sends(store, result.as_of, lists.sent())
    if followups:
        from rfm_cli.core.followups import record

        record(store, result.as_of, followups, lists.lists, triggers)
    coupon_ledger.record(store, result.as_of, "", lists.codes_issued, coupon_ledger.tiers_of(result, lists))
    if with_entered:
        history.save_snapshot(store, result)
    return lists


def _followup_inputs(store: Store, result: ScoreResult, spec: ExportSpec) -> tuple[list, Any, Any]:
    """(follow-ups, their trigger columns, who each was already sent to for tonight's trigger order)
    for a selection with day-N follow-ups (core/followups.py); ([], None, None) without."""
    followups = spec.selection.followups
    if not followups:
        return [], None, None
    from rfm_cli.core.followups import already_sent, triggers
    from rfm_cli.core.tags import require_lines

    if "category" in spec.options.sms_vars:
        require_lines(store, "--sms-vars category")
    for followup in followups:
        if "category" in (followup.sms_vars or ()):
            require_lines(store, f"[[followups]] {followup.name}: sms_vars category")
    found = triggers(store, result.as_of, result.since)
    channels_of = {f.name: spec.selection.channels_of(f.name, spec.channels) for f in followups}
    return followups, found, already_sent(store, result.as_of, followups, channels_of, found)


def _keep_predict_inputs(store: Store, scores: ScoreResult | None) -> None:
    """The models' inputs kept beside the customers' totals (core/predict/stored.py), so predictions
    on this database read one row per customer. Not for scores computed elsewhere."""
    if scores is None:
        from rfm_cli.core.predict import stored

        stored.keep(store)


def export(db: str, spec: ExportSpec, rules: RuleSet, as_of: date | None, *, exclude: list[Path] = (),
           wait: float = 0.0, scores: ScoreResult | None = None, window: str | None = None) -> RunResult:
    """`scores`: computed elsewhere (plan_results.read_scores); the database then only gives the
    suppression list and keeps the send ledger, and need not exist."""
    from rfm_cli.core.list_files import stage_lists
    from rfm_cli.core.plan_results import store_for
    from rfm_cli.core.scoring import score_store
    from rfm_cli.core.sinks import StagedFiles

    path = store_for(db, scores)
    with (open_store(path, create=False, wait_seconds=wait) as store, StagedFiles() as staged,
          store.transaction()):
        _keep_predict_inputs(store, scores)  # DuckDB's work first: then Polars holds the customers
        result = scores if scores is not None else score_store(store, rules, as_of, keep_totals=True,
                                                                 window=window)
        lists = _lists_and_record(store, result, spec, list(exclude), with_entered=False)
        manifest = stage_lists(result, spec, staged, lists)
        _audit(store, "export", manifest, spec, exclude)
        staged.preflight()
    return RunResult(reports=[], score=result, written=staged.published, manifest=manifest,
                     removed=staged.removed)


def _audit(store: Store, command: str, manifest: dict[str, Any], spec: ExportSpec, exclude, *,
           stream: bool = False) -> None:
    """The lists' row in the audit trail (compliance/audit.py), in the same transaction as the sends."""
    from rfm_cli.core.compliance import audit

    audit.record(store, command, manifest, out_dir="(stdout)" if stream else str(spec.out_dir),
                 exclude=[Path(p).name for p in exclude])


def export_stream(db: str, spec: ExportSpec, rules: RuleSet, as_of: date | None,
                  write: Callable[[pl.DataFrame], None], *, exclude: list[Path] = (), wait: float = 0.0,
                  scores: ScoreResult | None = None, window: str | None = None,
                  say: Callable[[str], None] | None = None) -> tuple[SegmentList, ScoreResult]:
    """The one list (one tier, one channel) that `-o -` streams, built as `export` builds its files and
    handed to `write`. Its send is recorded (for --cooldown) only once `write` returned: a reader that
    went away mid-list leaves the database as it was. `scores`: as for `export`. `say`: gets the
    predictions' notes (a small shop's fallback to the interval rule), one line each."""
    from rfm_cli.core.errors import UsageError
    from rfm_cli.core.plan_results import store_for
    from rfm_cli.core.scoring import score_store

    if (len(spec.channels) != 1
            or len(set(spec.selection.tiers or [])) + len(spec.selection.named_lists()) != 1):
        raise UsageError("-o - streams one send list but this selects several; name one --tier (or --winback "
                         "alone) and at most one --channel, or use --out-dir")
    with open_store(store_for(db, scores), create=False, wait_seconds=wait) as store, store.transaction():
        result = scores if scores is not None else score_store(store, rules, as_of, keep_totals=True,
                                                                 window=window)
        lists = _lists_and_record(store, result, spec, list(exclude), with_entered=False, with_state=False)
        for note in (lists.predictions or {}).get("notes", []) if say else []:
            say(note)
        (only,) = lists.lists
        write(only.frame)
        from rfm_cli.core.compliance.audit import stream_manifest

        _audit(store, "export -o -", stream_manifest(only, result, spec), spec, exclude, stream=True)
    return only, result


def run(db: str, inputs: list[Path], spec: ExportSpec, rules: RuleSet, as_of: date | None,
        options: ImportOptions, *, exclude: list[Path] = (), wait: float = 0.0,
        window: str | None = None) -> RunResult:
    """Import, score, snapshot and export as one unit: the database commits only once every list is
    written, and the lists appear only after the database committed."""
    from rfm_cli.core.list_files import stage_lists
    from rfm_cli.core.scoring import score_store
    from rfm_cli.core.sinks import StagedFiles

    with open_store(db, wait_seconds=wait) as store, StagedFiles() as staged, store.transaction():
        reports = import_files(store, inputs, options, own_transaction=False)
        _keep_predict_inputs(store, None)  # DuckDB's work first: then Polars holds the customers
        result = score_store(store, rules, as_of, keep_totals=True, window=window)
        lists = _lists_and_record(store, result, spec, list(exclude), with_entered=True)
        lists.state += _save_levels(store, rules, result, lists)
        manifest = stage_lists(result, spec, staged, lists)
        _audit(store, "run", manifest, spec, exclude)
        staged.preflight()  # a list that cannot be published fails the run before the database commits

    return RunResult(reports=reports, score=result, written=staged.published, manifest=manifest,
                     removed=staged.removed)


def _save_levels(store: Store, rules: RuleSet, result: ScoreResult, lists: Lists) -> list:
    """Tonight's member levels saved (core/levels.py), and who reached each level as state lists. A
    run as of a day before the saved levels (a night of the past run again) leaves them as they are."""
    from rfm_cli.core import levels_store

    saved = levels_store.saved_as_of(store)
    if saved is not None and result.as_of < saved:
        return []
    import polars as pl

    from rfm_cli.core import layout

    night = levels_store.compute(store, rules.levels, result.as_of, save=True)
    named = [each.customer_ids for each in lists.state if each.channel == layout.TIERS]
    return levels_store.entered_lists(night, result.customers_in_any_order,  # joined in the levels' order
                                      pl.concat(named) if named else None)


def explain(
    db: str,
    files: list[Path] | None,
    customer_id: str,
    rules: RuleSet,
    as_of: date | None,
    options: ImportOptions,
    *,
    wait: float = 0.0,
    predictions: dict[str, Any] | None = None,
    window: str | None = None,
    tags: Any = None,
) -> dict[str, Any]:
    """`predictions`: predict_customers' keywords ({} for its defaults) to add the customer's
    predictions and how each was computed under `predictions` in the account; None leaves them out.
    `tags`: core.tags.TagSettings (rfm.toml [tags]) for the account's tags; None: the defaults."""
    from rfm_cli.core.explain import explain_customer
    from rfm_cli.core.scoring import score_store

    with scoring_store(db, files, options, wait=wait, read_only=True) as (store, _):
        result = score_store(store, rules, as_of, window=window)
        return _with_predictions(store, result, explain_customer(store, result, customer_id, tags),
                                 predictions)


def _with_predictions(store: Store, result: ScoreResult, account: dict[str, Any],
                      predictions: dict[str, Any] | None) -> dict[str, Any]:
    if predictions is not None and account.get("scored"):
        from rfm_cli.core.predict.explain import explain_predictions

        account["predictions"] = explain_predictions(store, result.as_of, account["customer_id"],
                                                     **predictions)
    return account


@dataclass
class Found:
    """The customers a search matched, and the account of the one when it matched exactly one."""

    matches: Any  # pl.DataFrame: queries/find_customers.sql's columns (None: explained by id)
    account: dict[str, Any] | None


def find_and_explain(
    db: str,
    files: list[Path] | None,
    text: str,
    rules: RuleSet,
    as_of: date | None,
    options: ImportOptions,
    *,
    wait: float = 0.0,
    predictions: dict[str, Any] | None = None,
    window: str | None = None,
    tags: Any = None,
) -> Found:
    """`rfm explain --find TEXT`: the customers whose phone, email, name or id match TEXT (see
    core/find.py); one match is explained at once, in the same store (`tags`: core.tags.TagSettings,
    as for `explain`)."""
    from rfm_cli.core.explain import explain_customer
    from rfm_cli.core.find import find_customers
    from rfm_cli.core.scoring import score_store

    with scoring_store(db, files, options, wait=wait, read_only=True) as (store, _):
        matches = find_customers(store, text)
        if matches.height != 1:
            return Found(matches, None)
        result = score_store(store, rules, as_of, window=window)
        account = explain_customer(store, result, matches["customer_id"][0], tags)
        return Found(matches, _with_predictions(store, result, account, predictions))
