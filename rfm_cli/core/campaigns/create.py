"""`rfm campaign new`: the export's lists, split into treatment arms and a control group that is sent nothing.

The lists come from the one list builder (segments.build_lists), with the export's selection,
suppression, cooldown, contact rules and coupon codes:

1. Who can be reached: the lists are built once without codes; every customer on at least one of
   them is drawn (a customer no channel can reach is in no group: holding back someone who could
   not be sent anything would make the control group look better reached than it is).
2. The draw (assign.assign_arms): seeded, reproducible, stratified by tier.
3. Each arm's lists: built again with everyone outside the arm left off by id, so an arm's lists
   are exactly its customers and the control group is on none; coupon codes go to the arms in
   turn, from the code ledger's codes never issued.

Files: DIR/send/<arm>/… (the upload folders, channel layout as `rfm export`), DIR/control.csv
(held back: kept for the record, never under send/) and DIR/campaign.json (no clock time, so the
same seed and inputs give byte-identical folders). The database gets the campaign, one ledger row
per customer drawn, the sends under list name 'campaign NAME' (so --cooldown sees them) and the
codes issued, all in the transaction that publishes the files.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfm_cli.core.campaigns.assign import CONTROL, ArmPlan, assign_arms
from rfm_cli.core.errors import DataError, UsageError
from rfm_cli.core.layout import SEND_FOLDER

if TYPE_CHECKING:
    import polars as pl

    from rfm_cli.core.options import ListOptions
    from rfm_cli.core.rules import RuleSet
    from rfm_cli.core.scoring import ScoreResult
    from rfm_cli.core.segments import ExportSpec, Lists, Suppressions
    from rfm_cli.core.sinks import StagedFiles
    from rfm_cli.core.store import Store

CONTROL_FILE = "control.csv"
NOT_REACHED = "not reachable on the campaign's channels"
HELD_BACK = "held back (control group)"


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign's name, arms, seed, window and costs (what `rfm campaign new` takes besides the lists)."""

    name: str
    plan: ArmPlan = field(default_factory=ArmPlan)
    seed: str | None = None  # None: the campaign's name
    window_days: int = 14
    cost_per_message: float | None = None
    coupon_value: float | None = None
    margin: float | None = None  # share of revenue kept; None: ROI on revenue
    sent_on: date | None = None  # the first day of the window; None: the day after the as-of date

    def send_day(self, as_of: date) -> date:
        return self.sent_on or as_of + timedelta(days=1)

    def __post_init__(self) -> None:
        if not self.name.strip() or any(ch in self.name for ch in "/\\\n\r\t"):
            raise UsageError(f"campaign name {self.name!r} is empty or holds a slash or a line break; "
                             "use a name like winback-2026-12")
        if self.sent_on is not None and not isinstance(self.sent_on, date):
            raise UsageError("--sent-on is not a date; write it like 2026-12-08")
        if self.window_days < 1:
            raise UsageError("--window is below 1 day; use e.g. --window 14d")
        for option, value in (("--cost-per-message", self.cost_per_message),
                              ("--coupon-value", self.coupon_value)):
            if value is not None and value < 0:
                raise UsageError(f"{option} is negative; give the cost in your currency, e.g. 0.045")
        if self.margin is not None and not 0 < self.margin <= 1:
            raise UsageError("--margin is not a share between 0 and 100%; write it like 30%")

    @property
    def list_name(self) -> str:
        return f"campaign {self.name}"

    @property
    def draw_seed(self) -> str:
        return self.name if self.seed is None else self.seed


def parse_window(text: str | int) -> int:
    """'14d', '14' or 14 -> 14 days; '2w' -> 14."""
    raw = str(text).strip().lower()
    unit = 7 if raw.endswith("w") else 1
    try:
        days = int(raw.rstrip("dw")) * unit
    except ValueError:
        raise UsageError(f"--window {text!r} is not a number of days; write it like 14d") from None
    if days < 1:
        raise UsageError(f"--window {text!r} is below 1 day; write it like 14d")
    return days


@dataclass
class Created:
    """What `new_campaign` did: the scores, the files published, the campaign's manifest."""

    score: ScoreResult
    written: list[Path]
    manifest: dict[str, Any]


# ListOptions fields a campaign's lists cannot be built on yet (the draw has no tags, trigger orders
# or predictions): the option as the command line spells it.
_NOT_FOR_CAMPAIGNS = {"bought": "--bought", "aov_band": "--aov-band", "days_since_first_order":
                      "--days-since-first-order", "days_since_last_order": "--days-since-last-order",
                      "followups": "follow-ups", "overdue": "--overdue", "churn_risk": "--churn-risk"}


def _refuse_unbuilt_selections(options: ListOptions) -> None:
    given = [flag for field, flag in _NOT_FOR_CAMPAIGNS.items() if getattr(options, field) not in (None, ())]
    if given:
        raise UsageError(f"a campaign cannot select by {given[0]} yet; draw it on tiers and the other "
                         "selections, or export that list with rfm export")


def campaign_spec(options: ListOptions, out_dir: Path, plan_has_codes: bool) -> ExportSpec:
    """The export's spec for the campaign's lists: with codes, an SMS list carries them (the coupon
    variable), as a seller sending a coupon by SMS expects."""
    from rfm_cli.core.channels import takes_codes

    _refuse_unbuilt_selections(options)
    spec = options.spec(out_dir)
    if plan_has_codes and "sms" in spec.channels and "coupon" not in spec.options.sms_vars:
        spec = dataclasses.replace(spec, options=dataclasses.replace(
            spec.options, sms_vars=(*spec.options.sms_vars, "coupon")))
    if plan_has_codes and not any(takes_codes(c, spec.options, True) for c in spec.channels):
        raise UsageError(
            f"--codes gives codes but no list of --channel {','.join(spec.channels)} carries one; "
            "add --channel sms or --channel coupon")
    return spec


def new_campaign(db: str, campaign: CampaignSpec, options: ListOptions, out_dir: str | Path, rules: RuleSet,
                 as_of: date | None, *, wait: float = 0.0) -> Created:
    from rfm_cli.core.compliance import audit
    from rfm_cli.core.scoring import score_store
    from rfm_cli.core.sinks import StagedFiles
    from rfm_cli.core.store import open_store

    spec = campaign_spec(options, Path(out_dir), options.codes is not None)
    with (open_store(db, create=False, wait_seconds=wait) as store, StagedFiles() as staged,
          store.transaction()):
        refuse_existing(store, campaign.name)
        result = score_store(store, rules, as_of, keep_totals=True)
        drawn = draw_and_build(store, result, campaign, spec, options)
        manifest = stage_campaign(result, campaign, spec, staged, drawn)
        record_campaign(store, result, campaign, spec, drawn)
        audit.record(store, f"campaign new {campaign.name}", manifest, out_dir=str(spec.out_dir))
        staged.preflight()
    return Created(result, staged.published, manifest)


def refuse_existing(store: Store, name: str) -> None:
    found = store.con.execute("SELECT created_at FROM rfm_campaigns WHERE name = ?", [name]).fetchone()
    if found:
        raise UsageError(f"a campaign named {name!r} exists already (created {found[0]:%Y-%m-%d %H:%M}); "
                         f"choose another name, or see it with rfm campaign show {name}")


@dataclass
class Drawn:
    """The draw and each arm's lists."""

    arms: dict[str, str]  # customer_id -> arm (control included)
    strata: dict[str, str]  # customer_id -> tier
    lists: dict[str, Lists]  # arm -> its lists
    reach: Lists  # the lists before the draw (who could be reached, and why others could not)
    codes_left: int | None = None


def _without_coupon_var(spec: ExportSpec) -> ExportSpec:
    sms_vars = tuple(v for v in spec.options.sms_vars if v != "coupon")
    return dataclasses.replace(spec, codes=None, options=dataclasses.replace(spec.options, sms_vars=sms_vars))


def draw_and_build(store: Store, result: ScoreResult, campaign: CampaignSpec, spec: ExportSpec,
                   options: ListOptions) -> Drawn:
    import polars as pl

    from rfm_cli.core import coupon_ledger, history
    from rfm_cli.core.segments import build_lists
    from rfm_cli.core.selection import select
    from rfm_cli.core.suppression import load_suppressions

    suppressions = load_suppressions(store, options.exclude_files(), spec.options.default_region)
    recent = history.recently_sent(store, result.as_of, spec.cooldown_days) if spec.cooldown_days else None
    reach = build_lists(result, _without_coupon_var(spec), suppressions, recent_sends=recent,
                        with_state=False)
    reached = sorted(set().union(*(each.customer_ids.to_list() for each in reach.lists)))
    if not reached:
        why = Counter()
        for each in reach.lists:
            why.update(each.dropped)
        reasons = "; ".join(f"{reason} {n:,}" for reason, n in why.most_common(3))
        raise UsageError(f"the selection reaches no customer on {', '.join(spec.channels)} "
                         f"({reach.customers_selected:,} selected" + (f": {reasons}" if reasons else "")
                         + "); widen --tier / --recency-days or choose another --channel; "
                           "nothing was written")
    tier_of = dict(result.customers.filter(pl.col("customer_id").is_in(reached))
                   .select("customer_id", "tier").iter_rows())
    arms = assign_arms([(cid, tier_of[cid]) for cid in reached], campaign.plan, seed=campaign.draw_seed,
                       campaign=campaign.name)
    _, chosen = select(result, spec.selection)
    codes = coupon_ledger.available(store, spec.codes, result.as_of, campaign.list_name, [])
    lists: dict[str, Lists] = {}
    for arm in campaign.plan.arms:
        others = {cid: (HELD_BACK if arms.get(cid) == CONTROL else
                        f"in arm {arms[cid]}" if cid in arms else NOT_REACHED)
                  for cid in chosen.get_column("customer_id").to_list() if arms.get(cid) != arm}
        arm_sup = _with_ids(suppressions, others)
        lists[arm] = built = build_lists(result, dataclasses.replace(spec, codes=codes), arm_sup,
                                         recent_sends=recent, with_state=False)
        if codes is not None:
            used = set(built.codes_issued.values())
            codes = [code for code in codes if code not in used]
    drawn = Drawn(arms, tier_of, lists, reach, None if codes is None else len(codes))
    _check(drawn, spec, options)
    return drawn


def _with_ids(sup: Suppressions, extra: dict[str, str]) -> Suppressions:
    """`sup` with more customer ids left off (its own reasons win)."""
    return dataclasses.replace(sup, ids={**extra, **sup.ids})


def _check(drawn: Drawn, spec: ExportSpec, options: ListOptions) -> None:
    """Codes enough for every customer sent one (else nothing is written), and no control customer
    on any list (a bug if so)."""
    short = sum(each.dropped.get("no coupon code left", 0) for lists in drawn.lists.values()
                for each in lists.lists)
    if short:
        needed = sum(len(lists.codes_issued) for lists in drawn.lists.values()) + short
        raise DataError(f"coupon codes file {options.codes} has too few codes never issued before for this "
                        f"campaign: {needed - short:,} left, {needed:,} needed (one per customer sent); add "
                        f"at least {short:,} codes to the file, or raise --holdout")
    for arm, lists in drawn.lists.items():
        for each in lists.lists:
            wrong = [cid for cid in each.customer_ids.to_list() if drawn.arms.get(cid) != arm]
            if wrong:
                raise AssertionError(f"list {arm}/{each.channel}/{each.tier} holds {len(wrong)} customers "
                                     "of another group")


def arm_folder(spec: ExportSpec, arm: str) -> Path:
    return spec.out_dir / SEND_FOLDER / arm


def stage_campaign(result: ScoreResult, campaign: CampaignSpec, spec: ExportSpec, staged: StagedFiles,
                   drawn: Drawn) -> dict[str, Any]:
    """Stage each arm's lists (the export's layout under send/<arm>/), control.csv and campaign.json."""
    import polars as pl

    from rfm_cli.core.channels import safe_cells
    from rfm_cli.core.compliance.sending import personal_fields

    staged.folder(spec.out_dir)
    files: list[dict[str, Any]] = []
    for arm, lists in drawn.lists.items():
        folder = arm_folder(spec, arm)
        for each in lists.lists:
            parts = [(each.frame, None)]
            if each.channel == "sms" and spec.batch_size:
                parts = [(each.frame.slice(start, spec.batch_size), i) for i, start in
                         enumerate(range(0, max(each.rows, 1), spec.batch_size), 1)]
            for frame, batch in parts:
                name = f"{each.tier}-{batch:03d}" if batch is not None else each.tier
                path = folder / each.channel / f"{name}.{spec.fmt}"  # as export's send/<channel>/<list>
                digest = staged.add(frame, spec.fmt, path, encoding=spec.encoding)
                files.append({"path": path.relative_to(spec.out_dir).as_posix(), "arm": arm,
                              "channel": each.channel, "tier": each.tier, "rows": frame.height,
                              "dropped": dict(sorted(each.dropped.items())) if batch in (None, 1) else {},
                              "sha256": digest}
                             | personal_fields(frame, each.channel, spec.options.hashed))
    held = sorted(cid for cid, arm in drawn.arms.items() if arm == CONTROL)
    control = (result.customers.filter(pl.col("customer_id").is_in(held))
               .select("customer_id", "tier", "recency_days", "frequency", "monetary")
               .with_columns(arm=pl.lit(CONTROL), note=pl.lit("held back: do not send")))
    control_digest = staged.add(safe_cells(control), "csv", spec.out_dir / CONTROL_FILE)
    manifest = campaign_manifest(result, campaign, spec, drawn)
    manifest["files"] = files
    manifest["control_file"] = {"path": CONTROL_FILE, "rows": control.height, "sha256": control_digest}
    staged.add_bytes((json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
                     spec.out_dir / "campaign.json")
    return manifest


def campaign_manifest(result: ScoreResult, campaign: CampaignSpec, spec: ExportSpec, drawn: Drawn,
                      ) -> dict[str, Any]:
    from rfm_cli import __version__

    sent_on = campaign.send_day(result.as_of)
    counts = Counter(drawn.arms.values())
    strata: dict[str, dict[str, int]] = {}
    for cid, arm in sorted(drawn.arms.items()):
        tier = drawn.strata[cid]
        strata.setdefault(tier, {})
        strata[tier][arm] = strata[tier].get(arm, 0) + 1
    not_reached = Counter()
    for each in drawn.reach.lists:
        not_reached.update({f"{each.channel}: {reason}": n for reason, n in each.dropped.items()})
    return {
        "rfm_version": __version__,
        "campaign": campaign.name,
        "as_of": result.as_of.isoformat(),
        "sent_on": sent_on.isoformat(),
        "window": {"days": campaign.window_days, "from": sent_on.isoformat(),
                   "to": (sent_on + timedelta(days=campaign.window_days - 1)).isoformat()},
        "seed": campaign.draw_seed,
        "holdout": campaign.plan.holdout,
        "arms": list(campaign.plan.arms),
        "selection": spec.selection.describe(),
        "channels": spec.channels,
        "customers_selected": drawn.reach.customers_selected,
        "customers_drawn": len(drawn.arms),
        "customers_by_arm": {arm: counts.get(arm, 0) for arm in (*campaign.plan.arms, CONTROL)},
        "customers_by_tier_and_arm": dict(sorted(strata.items())),
        "not_drawn": dict(sorted(not_reached.items())),
        "coupon_codes_issued": sum(len(lists.codes_issued) for lists in drawn.lists.values()),
        "coupon_codes_left": drawn.codes_left,
        "rules": result.rules.to_dict(),
    }


def record_campaign(store: Store, result: ScoreResult, campaign: CampaignSpec, spec: ExportSpec,
                    drawn: Drawn) -> None:
    """The campaign row, one ledger row per customer drawn, the sends and the codes issued."""
    import polars as pl

    from rfm_cli.core import coupon_ledger, history
    from rfm_cli.core.frames import ArrowStream

    now = datetime.now().replace(microsecond=0)
    store.con.execute(
        "INSERT INTO rfm_campaigns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [campaign.name, now, campaign.send_day(result.as_of), result.as_of, result.rules.scheme,
         json.dumps(spec.selection.describe(), ensure_ascii=False), json.dumps(spec.channels),
         json.dumps(list(campaign.plan.arms)), campaign.plan.holdout, campaign.draw_seed,
         campaign.window_days,
         campaign.cost_per_message, campaign.coupon_value, campaign.margin, str(spec.out_dir)])
    channels: dict[str, list[str]] = {}
    codes: dict[str, str] = {}
    merged: dict[tuple[str, str], list[pl.Series]] = {}
    for lists in drawn.lists.values():
        codes.update(lists.codes_issued)
        for channel, tier, ids in lists.sent():
            merged.setdefault((channel, tier), []).append(ids)
            for cid in ids.to_list():
                channels.setdefault(cid, []).append(channel)
    members = pl.DataFrame({"customer_id": list(drawn.arms)}, schema={"customer_id": pl.String}).with_columns(
        arm=pl.Series([drawn.arms[c] for c in drawn.arms], dtype=pl.String),
        stratum=pl.Series([drawn.strata[c] for c in drawn.arms], dtype=pl.String),
        channel=pl.Series([",".join(dict.fromkeys(channels[c])) if c in channels else None
                           for c in drawn.arms],
                          dtype=pl.String),
        coupon_code=pl.Series([codes.get(c) for c in drawn.arms], dtype=pl.String),
        sent=pl.Series([c in channels for c in drawn.arms], dtype=pl.Boolean))
    store.con.register("_campaign_members", ArrowStream(members))
    store.con.execute(
        "INSERT INTO rfm_campaign_members SELECT $name, customer_id, arm, stratum, $now, channel, "
        "coupon_code, sent FROM _campaign_members", {"name": campaign.name, "now": now})
    store.con.unregister("_campaign_members")
    sent = [(channel, tier, pl.concat(parts)) for (channel, tier), parts in merged.items()]
    history.record_sends(store, result.as_of, sent, list_name=campaign.list_name)
    coupon_ledger.record(store, result.as_of, campaign.list_name, codes, drawn.strata)
