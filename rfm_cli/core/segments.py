"""Segment lists: per tier and channel, with selection, suppression, coupon codes and a manifest.

Everything is staged (`StagedFiles`) and published as one set by the caller: a failed export
leaves the output folder as it was. `manifest.json` lists every file with its rows, the rows it
dropped and why, its sha256, the as-of date and the rules in force. It holds no clock time, so
the same inputs give byte-identical folders.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from rfm_cli import __version__
from rfm_cli.core import history
from rfm_cli.core.channels import ChannelOptions, build, with_contacts
from rfm_cli.core.errors import InputError, UsageError
from rfm_cli.core.scoring import ScoreResult
from rfm_cli.core.sinks import StagedFiles


@dataclass
class Selection:
    tiers: list[str] | None = None
    recency_days: tuple[int | None, int | None] | None = None  # inclusive
    min_orders: int | None = None
    min_monetary: float | None = None

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in {"tiers": self.tiers, "recency_days": self.recency_days,
                                  "min_orders": self.min_orders, "min_monetary": self.min_monetary}.items()
                if v is not None}


@dataclass
class Suppressions:
    """Who must not be contacted: by id, phone (normalised) or email (lowercase), and why."""

    opted_out_ids: set[str] = field(default_factory=set)  # accepts-marketing = no in the export
    ids: dict[str, str] = field(default_factory=dict)  # customer_id -> reason
    phones: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


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


def parse_range(value: str | None) -> tuple[int | None, int | None] | None:
    """`60:90`, `60:`, `:90` -> inclusive bounds."""
    if value is None:
        return None
    low, sep, high = value.partition(":")
    try:
        bounds = (int(low) if low.strip() else None, int(high) if high.strip() else None)
    except ValueError:
        bounds = None
    if not sep or bounds is None or bounds == (None, None):
        raise UsageError(f"--recency-days {value!r} is not FROM:TO; e.g. --recency-days 60:90")
    return bounds


def select(result: ScoreResult, selection: Selection) -> tuple[list[str], pl.DataFrame]:
    names = result.rules.tier_names()
    wanted = selection.tiers or names
    unknown = [t for t in wanted if t not in names]
    if unknown:
        raise UsageError(f"{unknown[0]!r} is not a tier of the {result.rules.scheme} scheme; "
                         f"tiers: {', '.join(names)}")
    tiers = [t for t in names if t in wanted]
    condition = pl.col("tier").is_in(tiers)
    if selection.recency_days:
        low, high = selection.recency_days
        if low is not None:
            condition &= pl.col("recency_days") >= low
        if high is not None:
            condition &= pl.col("recency_days") <= high
    if selection.min_orders is not None:
        condition &= pl.col("frequency") >= selection.min_orders
    if selection.min_monetary is not None:
        condition &= pl.col("monetary") >= selection.min_monetary
    chosen = (result.customers.filter(condition)
              .sort(["monetary", "recency_days", "customer_id"], descending=[True, False, False]))
    return tiers, chosen


def suppress(contacts: pl.DataFrame, sup: Suppressions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split into (kept, removed with a `reason` column)."""
    reason = (
        pl.when(pl.col("customer_id").is_in(list(sup.opted_out_ids))).then(pl.lit("opted out (accepts marketing: no)"))
        .when(pl.col("customer_id").is_in(list(sup.ids))).then(pl.col("customer_id").replace_strict(sup.ids, default=None))
        .when(pl.col("phone_national").is_in(list(sup.phones))).then(
            pl.col("phone_national").replace_strict(sup.phones, default=None))
        .when(pl.col("phone_e164").is_in(list(sup.phones))).then(
            pl.col("phone_e164").replace_strict(sup.phones, default=None))
        .when(pl.col("email_norm").is_in(list(sup.emails))).then(
            pl.col("email_norm").replace_strict(sup.emails, default=None))
    )
    marked = contacts.with_columns(reason=reason)
    return marked.filter(pl.col("reason").is_null()).drop("reason"), marked.filter(pl.col("reason").is_not_null())


def assign_codes(customers: pl.DataFrame, codes: list[str] | None) -> tuple[dict[str, str] | None, int]:
    """One code per customer, in list order (best customers first), each code used once."""
    if codes is None:
        return None, 0
    ids = customers["customer_id"].to_list()
    mapping = dict(zip(ids, codes))
    return mapping, len(codes) - len(mapping)


def read_codes(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read coupon codes {path}: {exc.strerror}; check the path") from exc
    codes = [line.split(",")[0].strip() for line in lines if line.strip()]
    if codes and not any(ch.isdigit() for ch in codes[0]) and codes[0].lower() in ("code", "coupon", "coupon_code",
                                                                                    "优惠码", "券码"):
        codes = codes[1:]  # a header row
    if len(set(codes)) != len(codes):
        raise InputError(f"coupon codes in {path} repeat; each code must appear once")
    return codes


def _file_path(spec: ExportSpec, channel: str, tier: str, batch: int | None = None) -> Path:
    name = f"{tier}-{batch:03d}" if batch is not None else tier
    folder = spec.out_dir if channel == "csv" else spec.out_dir / channel
    return folder / f"{name}.{spec.fmt}"


def stage_segment_files(result: ScoreResult, spec: ExportSpec, staged: StagedFiles,
                        suppressions: Suppressions | None = None, *,
                        recent_sends: dict[tuple[str, str], pl.Series] | None = None,
                        previous: pl.DataFrame | None = None) -> dict[str, Any]:
    """Stage every list, summary.csv, cut_points.csv, entered/ lists and manifest.json.

    `previous` (customer_id, previous_tier), for runs: each tier's entered/ list holds the listed
    customers of the tier whose previous tier was another or none.

    Returns the manifest; `manifest["sent"]` lists (channel, tier, customer ids) for the send ledger.
    """
    staged.folder(spec.out_dir)
    tiers, chosen = select(result, spec.selection)
    contacts = with_contacts(chosen, spec.options.default_region)
    kept, removed = suppress(contacts, suppressions or Suppressions())
    codes, codes_left = assign_codes(kept, spec.codes)
    labels = {t.name: t.label_zh for t in result.rules.tiers}
    options = ChannelOptions(**{**spec.options.__dict__, "tier_labels": labels})
    files: list[dict[str, Any]] = []
    sent: list[tuple[str, str, pl.Series]] = []

    def add(frame: pl.DataFrame, path: Path, channel: str, tier: str, dropped: Counter[str]) -> None:
        digest = staged.add(frame, spec.fmt, path, encoding=spec.encoding)
        files.append({"path": path.relative_to(spec.out_dir).as_posix(), "channel": channel, "tier": tier,
                      "rows": frame.height, "dropped": dict(sorted(dropped.items())), "sha256": digest})

    if previous is not None:  # one join for every tier's entered/ list (not one per tier)
        kept = kept.join(previous, on="customer_id", how="left", maintain_order="left")
    # One pass splits the lists by tier (a filter per tier would copy every column once per tier).
    kept_by_tier = kept.partition_by("tier", as_dict=True, maintain_order=True)
    removed_by_tier = removed.partition_by("tier", as_dict=True, maintain_order=True)
    for tier in tiers:
        tier_kept = kept_by_tier.get((tier,), kept.clear())
        if previous is not None:
            tier_kept = tier_kept.drop("previous_tier")
        tier_removed = removed_by_tier.get((tier,), removed.clear())
        suppressed = Counter(dict(tier_removed.group_by("reason").len().iter_rows()))
        for channel in spec.channels:
            candidates, cooled = tier_kept, Counter()
            recent = (recent_sends or {}).get((channel, tier))
            if recent is not None and len(recent):
                candidates = tier_kept.filter(~pl.col("customer_id").is_in(recent.implode()))
                if tier_kept.height - candidates.height:
                    cooled[f"sent within {spec.cooldown_days} days"] = tier_kept.height - candidates.height
            rows = build(channel, candidates, options, codes)
            sent.append((channel, tier, rows.customer_ids))
            dropped = suppressed + cooled + rows.dropped
            if channel == "sms" and spec.batch_size:
                for i, start in enumerate(range(0, max(rows.frame.height, 1), spec.batch_size), 1):
                    part = rows.frame.slice(start, spec.batch_size)
                    add(part, _file_path(spec, channel, tier, i), channel, tier, dropped if i == 1 else Counter())
            else:
                add(rows.frame, _file_path(spec, channel, tier), channel, tier, dropped)

    if previous is not None:
        # Customers who changed tier since the previous snapshot, from each tier's list as selected
        # and suppressed (so in its order, best first), the output columns and previous_tier.
        for tier in tiers:
            listed = kept_by_tier.get((tier,), kept.clear()).select(*result.customers.columns, "previous_tier")
            rows = build("csv", history.entered(listed), options)
            add(rows.frame, spec.out_dir / "entered" / f"{tier}.{spec.fmt}", "entered", tier, Counter())

    summary = result.summary().with_columns(as_of=pl.lit(result.as_of.isoformat()))
    staged.add(summary, "csv", spec.out_dir / "summary.csv")
    staged.add(result.cut_points.with_columns(as_of=pl.lit(result.as_of.isoformat())), "csv",
               spec.out_dir / "cut_points.csv")
    manifest = {
        "rfm_version": __version__,
        "as_of": result.as_of.isoformat(),
        "customers_scored": result.customers.height,
        "customers_selected": chosen.height,
        "selection": spec.selection.describe(),
        "channels": spec.channels,
        "format": spec.fmt,
        "coupon_codes_left": codes_left if codes is not None else None,
        "rules": result.rules.to_dict(),
        "files": files,
    }
    if spec.cooldown_days is not None:
        manifest["cooldown_days"] = spec.cooldown_days
    staged.add_bytes((json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
                     spec.out_dir / "manifest.json")
    return manifest | {"sent": sent}
