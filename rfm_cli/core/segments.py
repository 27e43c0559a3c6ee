"""Segment lists: the tiers' state, and the send lists per tier (or named list) and channel, with
suppression, cooldown and coupon codes; who is picked and in which order is selection.py's.

One builder (`build_lists`) makes every list, whether it goes to files or to stdout, so the two
cannot drift; every list is checked to add up (rows + dropped = selected). Where each file goes,
and which are state and which are sends, is layout.py's; list_files.py stages the folder and its
manifest as one set, published by the caller: a failed export leaves the output folder as it was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from rfm_cli.core import history
from rfm_cli.core.channels import (
    ChannelOptions,
    ChannelRows,
    build,
    safe_cells,
    takes_codes,
    with_codes,
    with_contacts,
)
from rfm_cli.core.compliance.consent import only_consented
from rfm_cli.core.errors import InputError, UsageError
from rfm_cli.core.followups import list_options, not_again, sms_list_vars, with_triggers
from rfm_cli.core.layout import ENTERED, TIERS
from rfm_cli.core.scoring import ScoreResult
from rfm_cli.core.selection import (
    BEST_FIRST,
    Selection,
    by_tier,
    check_tiers,
    conditions,
    lend_in_list_order,
)


@dataclass
class Suppressions:
    """Who must not be contacted: by id, phone (normalised) or email (lowercase), and why."""

    opted_out_ids: set[str] = field(default_factory=set)  # accepts-marketing = no in the export
    ids: dict[str, str] = field(default_factory=dict)  # customer_id -> reason
    phones: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    # People erased by `rfm forget`: keyed hashes of their ids, phones and emails (compliance/forget.py)
    hashed: set[str] = field(default_factory=set)
    hash_key: str | None = None
    # --require-consent: channel (sms, email, ads) -> customer ids with consent in force
    # (compliance/consent.py)
    consented: dict[str, set[str]] | None = None
    ads_consent: dict[str, str] | None = None  # customer_id -> granted | withdrawn, for google lists


@dataclass
class ExportSpec:
    out_dir: Path
    fmt: str = "csv"
    channels: list[str] = field(default_factory=lambda: ["csv"])
    selection: Selection = field(default_factory=Selection)
    options: ChannelOptions = field(default_factory=ChannelOptions)
    batch_size: int | None = None
    codes: list[str] | None = None
    encoding: str = "utf-8"
    cooldown_days: int | None = None
    sending: Any = None  # compliance.sending.SendingRules: template, window, consent (manifest "sending")
    churn_thresholds: Any = None  # core.predict.churn.ChurnThresholds for --churn-risk; None: defaults
    tag_settings: Any = None  # core.tags.TagSettings for --aov-band; None: the defaults


STAYED = "in the tier at the previous snapshot"  # why a listed customer is not on the entered list
def _id_hash(ids: pl.Series) -> pl.Series:
    return ids.hash(0x5EED).alias("_h")


def with_previous(customers: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """`customers` (scored) with `previous_tier` from `previous` (customer_id, previous_tier): one
    join for every tier's entered/ list, before the lists are sorted.

    Joined on a 64-bit hash of the id, then checked: at 2M customers the join on the text took
    0.58 s, on the hash 0.24 s. Two ids with one hash (a chance of about 1 in 10^7 at 2M) fail the
    check and take the join on the text."""
    return customers.with_columns(previous_tier_column(customers, previous))


def previous_tier_column(customers: pl.DataFrame, previous: pl.DataFrame) -> pl.Series:
    """with_previous's `previous_tier` column, row for row with `customers`."""
    ids = customers.get_column("customer_id")
    keyed = pl.DataFrame({"_h": _id_hash(previous.get_column("customer_id")),
                          "_id": previous.get_column("customer_id"),
                          "previous_tier": previous.get_column("previous_tier")})
    joined = _id_hash(ids).to_frame().join(keyed, on="_h", how="left", maintain_order="left")
    matched = joined.height == customers.height and not (
        joined.get_column("_id").is_not_null() & (joined.get_column("_id") != ids)).any()
    if not matched:
        joined = ids.to_frame().join(previous.select("customer_id", "previous_tier"), on="customer_id",
                                     how="left", maintain_order="left")
    return joined.get_column("previous_tier")


def needs_contacts(channels: list[str], sup: Suppressions) -> bool:
    """Whether the lists need with_contacts' normalised phones, emails and split names: a channel
    other than csv (which writes the cells as stored), or phones or emails to suppress."""
    return bool(set(channels) - {"csv"} or sup.phones or sup.emails or sup.hashed)


def suppress(contacts: pl.DataFrame, sup: Suppressions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split into (kept, removed with a `reason` column). Phones and emails are matched on
    with_contacts' columns, which `contacts` must hold when `sup` has any."""
    if sup.hashed and sup.hash_key:
        from rfm_cli.core.compliance.forget import hashed_matches
        from rfm_cli.core.suppression import ERASED

        erased = hashed_matches(contacts, sup.hash_key, sup.hashed)
        sup = Suppressions(sup.opted_out_ids, {**dict.fromkeys(erased, ERASED), **sup.ids},
                           sup.phones, sup.emails)
    checks = [(pl.col("customer_id"), sup.ids)]
    if sup.phones:
        checks += [(pl.col("phone_national"), sup.phones), (pl.col("phone_e164"), sup.phones)]
    if sup.emails:
        checks.append((pl.col("email_norm"), sup.emails))
    checks = [(column, reasons) for column, reasons in checks if reasons]
    if not sup.opted_out_ids and not checks:  # nothing to match: no pass over the rows, no copy
        return contacts, contacts.clear().with_columns(reason=pl.lit(None, pl.String))
    reason: Any = pl.when(pl.col("customer_id").is_in(list(sup.opted_out_ids))).then(
        pl.lit("opted out (accepts marketing: no)"))
    for column, reasons in checks:
        reason = reason.when(column.is_in(list(reasons))).then(column.replace_strict(reasons, default=None))
    marked = contacts.with_columns(reason=reason.otherwise(pl.lit(None, pl.String)))
    return marked.filter(pl.col("reason").is_null()).drop("reason"), marked.filter(
        pl.col("reason").is_not_null())


def contacts_and_suppressed(chosen: pl.DataFrame, channels: list[str], sup: Suppressions | None,
                            default_region: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, removed): the chosen customers, with_contacts when the lists need them, split by `sup`."""
    sup = sup or Suppressions()
    contacts = with_contacts(chosen, default_region) if needs_contacts(channels, sup) else chosen
    return suppress(contacts, sup)


def assign_codes(customers: pl.DataFrame, codes: list[str] | None) -> tuple[dict[str, str] | None, int]:
    """One code per customer (distinct ids), best customers first whatever their tier, each code used once.
    Returns the codes by customer and how many were left unused."""
    if codes is None:
        return None, 0
    by, descending = BEST_FIRST
    ids = customers.sort(by, descending=descending)["customer_id"].head(len(codes)).to_list()
    mapping = dict(zip(ids, codes))
    return mapping, len(codes) - len(mapping)


def read_codes(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read coupon codes {path}: {exc.strerror}; check the path") from exc
    codes = [line.split(",")[0].strip() for line in lines if line.strip()]
    if codes and not any(ch.isdigit() for ch in codes[0]) and codes[0].lower() in (
            "code", "coupon", "coupon_code", "优惠码", "券码"):
        codes = codes[1:]  # a header row
    if len(set(codes)) != len(codes):
        raise InputError(f"coupon codes in {path} repeat; each code must appear once")
    return codes


@dataclass
class SegmentList:
    """One list: for a send, a tier's (or a named list's) selected customers on one channel; for
    state, a tier's customers (`tiers`) or those who entered it (`entered`). The rows to write, and
    per reason the customers left off it. rows + sum(dropped) == selected, checked on every list."""

    channel: str  # a channel (send), or `tiers` / `entered` (state)
    tier: str  # the tier, or the named list's name (winback)
    selected: int
    frame: pl.DataFrame  # escaped (channels.safe_cells) where it is made: list_files writes it as it is
    dropped: Counter[str]
    customer_ids: pl.Series  # row for row
    is_tier: bool = True  # False for a named list such as winback

    @property
    def rows(self) -> int:
        return self.frame.height


@dataclass
class Lists:
    tiers: list[str]
    customers_selected: int
    lists: list[SegmentList]  # sends: list by list (tiers, then named lists), channel by channel
    entered: list[SegmentList]  # state, runs only: who entered each tier
    codes_left: int | None
    codes_issued: dict[str, str] = field(default_factory=dict)  # customer_id -> the code on their lists
    state: list[SegmentList] = field(default_factory=list)  # every customer of each tier
    predictions: dict[str, Any] | None = None  # with a prediction selection: model status and notes

    def sent(self) -> list[tuple[str, str, pl.Series]]:
        """(channel, tier, customer ids) of every channel list, for the send ledger."""
        return [(each.channel, each.tier, each.customer_ids) for each in self.lists]


def check_accounting(each: SegmentList) -> None:
    """Nothing lost: a list whose rows and drops do not add up to its tier's selected customers is a
    bug, and stops the export before any file is published."""
    dropped = sum(each.dropped.values())
    if each.rows + dropped != each.selected:
        raise AssertionError(f"list {each.channel}/{each.tier} does not add up: {each.rows:,} rows + "
                             f"{dropped:,} dropped != {each.selected:,} selected")


def _cooled(tier_kept: pl.DataFrame, recent: pl.Series | None, days: int | None,
            ) -> tuple[pl.DataFrame, Counter]:
    """The tier's customers less those put on the same list within the cooldown."""
    if recent is None or not len(recent):
        return tier_kept, Counter()
    candidates = tier_kept.filter(~pl.col("customer_id").is_in(recent.implode()))
    gone = tier_kept.height - candidates.height
    return candidates, Counter({f"sent within {days} days": gone} if gone else {})


def _attach_codes(built: list[tuple[str, str, int, ChannelRows]], kept_parts: list[pl.DataFrame],
                  spec: ExportSpec, options_of: dict[str, ChannelOptions],
                  ) -> tuple[list[tuple[str, str, int, ChannelRows]], int | None, dict[str, str]]:
    """Codes go to the customers of the lists that carry one, after every other filter of those lists:
    best first, one per customer (the same code on each of their lists), each used once.
    `options_of`: each list's channel options (a follow-up may have its own sms_vars)."""
    given = spec.codes is not None
    carrying = [i for i, (channel, name, *_) in enumerate(built)
                if takes_codes(channel, options_of[name], given)]
    if not carrying:
        return built, len(spec.codes) if given else None, {}
    listed = pl.concat([built[i][3].customer_ids for i in carrying]).unique()
    kept = pl.concat([part.select(BEST_FIRST[0]) for part in kept_parts]).unique("customer_id")
    codes, left = assign_codes(kept.filter(pl.col("customer_id").is_in(listed.implode())), spec.codes or [])
    for i in carrying:
        channel, tier, selected, rows = built[i]
        built[i] = (channel, tier, selected, with_codes(rows, codes, options_of[tier]))
    return built, left, codes or {}


def _send_lists(chosen: list[tuple[str, bool, pl.DataFrame]], spec: ExportSpec,
                suppressions: Suppressions | None, options: ChannelOptions,
                recent_sends: dict[tuple[str, str], pl.Series] | None,
                already_sent: dict[tuple[str, str], pl.Series] | None = None,
                ) -> tuple[list[SegmentList], int | None, int, dict[str, str]]:
    """Each chosen list (name, is a tier, customers in order) on each of its channels: opt-outs,
    cooldown, a follow-up's earlier sends, the channel's rules, then coupon codes over all of them,
    then escaping."""
    built: list[tuple[str, str, int, ChannelRows]] = []
    kept_parts, is_tier, options_of = [], {}, {}
    for name, tier_list, customers in chosen:
        is_tier[name] = tier_list
        options_of[name] = list_options(options, spec.selection.followup(name))
        channels = spec.selection.channels_of(name, spec.channels)
        kept, removed = contacts_and_suppressed(customers, channels, suppressions,
                                                spec.options.default_region)
        kept_parts.append(kept)
        suppressed = Counter(dict(removed.group_by("reason").len().iter_rows()))
        for channel in channels:
            candidates, cooled = _cooled(kept, (recent_sends or {}).get((channel, name)), spec.cooldown_days)
            candidates, again = not_again(candidates, (already_sent or {}).get((channel, name)))
            cooled.update(again)
            candidates, unconsented = only_consented(candidates, channel, spec.options.coupon_key,
                                                     suppressions.consented if suppressions else None)
            cooled.update(unconsented)
            rows = build(channel, candidates, options_of[name])
            rows.dropped = suppressed + cooled + rows.dropped
            built.append((channel, name, customers.height, rows))
    built, codes_left, codes_issued = _attach_codes(built, kept_parts, spec, options_of)
    lists = [SegmentList(channel, name, count, safe_cells(rows.frame), rows.dropped, rows.customer_ids,
                         is_tier[name]) for channel, name, count, rows in built]
    named = [customers for _, tier_list, customers in chosen if not tier_list]
    listed = sum(customers.height for _, tier_list, customers in chosen if tier_list)
    if named:  # a named list may hold customers of the tiers' lists too: count each once
        listed = pl.concat([c.select("customer_id") for _, _, c in chosen]).n_unique()
    return lists, codes_left, listed, codes_issued


def erased_only(sup: Suppressions | None) -> Suppressions | None:
    """The people `rfm forget` erased, out of `sup` (None when there are none): they are in no file,
    state included, where an opt-out only keeps a person off the send lists."""
    from rfm_cli.core.suppression import ERASED

    if sup is None:
        return None
    pick = lambda values: {k: v for k, v in values.items() if v == ERASED}
    erased = Suppressions(ids=pick(sup.ids), phones=pick(sup.phones), emails=pick(sup.emails),
                          hashed=sup.hashed, hash_key=sup.hash_key)
    return erased if erased.ids or erased.phones or erased.emails or erased.hashed else None


def _state_lists(ordered: pl.DataFrame, tiers: list[str], options: ChannelOptions, *, entered: bool,
                 erased: pl.DataFrame | None = None) -> list[SegmentList]:
    """State: every customer of each tier (`tiers`), or, with previous_tier, those who entered it;
    `erased`: customer ids of erased people, left out and counted."""
    out = []
    for tier, members in by_tier(ordered, tiers).items():
        gone = Counter()
        if erased is not None and erased.height:
            whole = members.height
            members = members.filter(~pl.col("customer_id").is_in(erased.get_column("customer_id").implode()))
            gone = Counter({"erased (rfm forget)": whole - members.height} if whole - members.height else {})
            selected = whole
        else:
            selected = members.height
        if entered:
            rows = build("csv", history.entered(members), options)
            stayed = members.height - rows.frame.height
            dropped = gone + Counter({STAYED: stayed} if stayed else {})
        else:
            rows = build("csv", members.drop("previous_tier", strict=False), options)
            dropped = gone
        out.append(SegmentList(ENTERED if entered else TIERS, tier, selected, safe_cells(rows.frame),
                               dropped, rows.customer_ids))
    return out


def _sms_coupon(spec: ExportSpec) -> bool:
    """Whether some SMS list names the coupon: the tiers' (--sms-vars), or a follow-up's on its own
    channel, with its own sms_vars or the run's."""
    lists = sms_list_vars(spec.selection.followups, spec.options.sms_vars, spec.channels,
                          other_sms="sms" in spec.channels)
    return any("coupon" in columns for columns in lists)


def build_lists(result: ScoreResult, spec: ExportSpec, suppressions: Suppressions | None = None, *,
                recent_sends: dict[tuple[str, str], pl.Series] | None = None,
                previous: pl.DataFrame | None = None, with_state: bool = True,
                predictions: pl.DataFrame | None = None, triggers: pl.DataFrame | None = None,
                already_sent: dict[tuple[str, str], pl.Series] | None = None,
                tags: pl.DataFrame | None = None) -> Lists:
    """Every list of the export, whatever it is written to (files or stdout), every one checked to add up.

    State (layout.py): each tier's customers, complete. Sends: the tiers' (or named lists')
    customers the selection picks, less opt-outs and the --cooldown, through each channel's rules,
    then coupon codes, then escaping. `previous` (customer_id, previous_tier), for runs: each tier's
    entered list holds the tier's customers whose previous tier was another or none. `with_state`:
    False when only the send lists are wanted (`-o -`). `predictions` (customer_id and
    core/predict/lists.py's LIST_COLUMNS): needed by a selection on --overdue or --churn-risk; the
    send lists of the csv channel then carry those columns too (the state files never do).
    `triggers` (core/followups.triggers): needed by follow-ups, whose lists carry the trigger
    order's columns; `already_sent` (followups.already_sent): who each was sent to for that order.
    `tags` (customer_id, aov_band, bought …: core/tags.py): needed by a selection on --bought or
    --aov-band; used to pick, never written."""
    if spec.codes is None and _sms_coupon(spec):
        raise UsageError("the coupon variable needs codes; pass --codes FILE (one coupon code per line)")
    names = check_tiers(result, spec.selection)
    # In place of result.customers until it is next read: one copy of every customer, not two.
    ordered = lend_in_list_order(result, names, [] if previous is None else [
        previous_tier_column(result.customers, previous)])
    options = ChannelOptions(**{**spec.options.__dict__,
                                "tier_labels": {t.name: t.label_zh for t in result.rules.tiers},
                                "ads_consent": (suppressions.ads_consent if suppressions else None) or {}})
    sending = ordered
    if predictions is not None:
        from rfm_cli.core.predict.lists import with_predictions

        sending = with_predictions(ordered, predictions)  # a left join keeps the list order
    if spec.selection.followups:
        sending = with_triggers(sending, triggers)
    if tags is not None:  # a left join in the frame's order: the list order stands
        sending = sending.join(tags, on="customer_id", how="left", maintain_order="left")
    picked = sending.filter(conditions(spec.selection)).drop(
        "previous_tier", *([] if tags is None else [c for c in tags.columns if c != "customer_id"]),
        strict=False)
    send_tiers = spec.selection.send_tiers(names)
    chosen = [(tier, True, part) for tier, part in by_tier(picked.filter(pl.col("tier").is_in(send_tiers)),
                                                            names).items() if tier in send_tiers]
    by, descending = BEST_FIRST
    for name, condition in spec.selection.named_lists():
        part = picked.filter(condition).sort(by, descending=descending)
        followup = spec.selection.followup(name)
        chosen.append((name, False, part if followup is None else followup.with_trigger(part)))
    lists, codes_left, listed, codes_issued = _send_lists(chosen, spec, suppressions, options, recent_sends,
                                                          already_sent)
    erased_sup = erased_only(suppressions) if with_state else None
    erased = (None if erased_sup is None else
              contacts_and_suppressed(ordered, [], erased_sup,
                                      spec.options.default_region)[1].select("customer_id"))
    state = _state_lists(ordered, names, options, entered=False, erased=erased) if with_state else []
    entered = (_state_lists(ordered, names, options, entered=True, erased=erased)
               if previous is not None and with_state else [])
    for each in lists + state + entered:
        check_accounting(each)
    return Lists(send_tiers, listed, lists, entered, codes_left, codes_issued, state)


def coded_tiers(result: ScoreResult, selection: Selection) -> list[str]:
    """The tiers whose customers the send lists may give a coupon code: the coupon-code ledger gives
    back those tiers' codes of the same night before a re-run writes its lists again. A named list
    (winback) may hold customers of any tier."""
    names = check_tiers(result, selection)
    return names if selection.named_lists() else selection.send_tiers(names)
