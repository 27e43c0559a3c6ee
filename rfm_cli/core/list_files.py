"""The files of an output folder: every list built by segments.build_lists, summary.csv,
cut_points.csv and manifest.json, staged as one set where layout.py says each goes.

The manifest accounts for every file: its kind (`state` or `send`), list, channel, rows, the
customers left off it by reason, and sha256. It holds no clock time, so the same inputs give
byte-identical folders. Files the folder's previous manifest listed and this run does not write
(a tier or channel no longer asked for) are removed when the set is published, and only those:
a file rfm did not list, or one changed since rfm wrote it, is never touched.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from rfm_cli import __version__
from rfm_cli.core import layout
from rfm_cli.core.channels import safe_cells
from rfm_cli.core.compliance.sending import personal_fields
from rfm_cli.core.scoring import ScoreResult
from rfm_cli.core.segments import ExportSpec, Lists, SegmentList, Suppressions, build_lists
from rfm_cli.core.sinks import StagedFiles


def _paths(spec: ExportSpec, each: SegmentList) -> list[tuple[Path, pl.DataFrame]]:
    """Where a list's rows go: one file, or an SMS list's numbered parts with --batch-size."""
    if each.channel == layout.TIERS:
        return [(layout.tier_path(spec.out_dir, each.tier, spec.fmt), each.frame)]
    if each.channel == layout.ENTERED:
        return [(layout.entered_path(spec.out_dir, each.tier, spec.fmt), each.frame)]
    if each.channel == layout.LEVELS_ENTERED:
        return [(layout.level_entered_path(spec.out_dir, each.tier, spec.fmt), each.frame)]
    if each.channel == "sms" and spec.batch_size:
        starts = range(0, max(each.rows, 1), spec.batch_size)
        return [(layout.send_path(spec.out_dir, "sms", each.tier, spec.fmt, i),
                 each.frame.slice(start, spec.batch_size)) for i, start in enumerate(starts, 1)]
    return [(layout.send_path(spec.out_dir, each.channel, each.tier, spec.fmt), each.frame)]


def _describe(each: SegmentList, relative: str) -> dict[str, Any]:
    return {"kind": layout.kind_of(relative), "list": each.tier, "channel": each.channel,
            "tier": each.tier if each.is_tier else None}


def stage_lists(result: ScoreResult, spec: ExportSpec, staged: StagedFiles, built: Lists) -> dict[str, Any]:
    """Stage every list, summary.csv, cut_points.csv and manifest.json; returns the manifest."""
    staged.folder(spec.out_dir)
    files: list[dict[str, Any]] = []
    lists: list[dict[str, Any]] = []

    def add(frame: pl.DataFrame, path: Path, fmt: str, about: dict[str, Any], dropped: Counter[str],
            encoding: str = spec.encoding) -> str:
        digest = staged.add(frame, fmt, path, encoding=encoding, escaped=True)  # lists and tables: safe_cells
        relative = path.relative_to(spec.out_dir).as_posix()
        files.append({"path": relative, **about, "kind": layout.kind_of(relative), "rows": frame.height,
                      "dropped": dict(sorted(dropped.items())), "sha256": digest}
                     | personal_fields(frame, about["channel"] or "summary", spec.options.hashed))
        return relative

    for each in built.lists + built.state + built.entered:
        placed = _paths(spec, each)
        about = _describe(each, placed[0][0].relative_to(spec.out_dir).as_posix())
        paths = [add(frame, path, spec.fmt, about, each.dropped if i == 0 else Counter())
                 for i, (path, frame) in enumerate(placed)]
        lists.append({**about, "selected": each.selected, "rows": each.rows,
                      "dropped": dict(sorted(each.dropped.items())), "files": paths})

    as_of = pl.lit(result.as_of.isoformat())
    table = {"kind": layout.STATE, "list": None, "channel": None, "tier": None}
    add(safe_cells(result.summary().with_columns(as_of=as_of)), spec.out_dir / layout.SUMMARY, "csv", table,
        Counter(), "utf-8")
    add(safe_cells(result.cut_points.with_columns(as_of=as_of)), spec.out_dir / layout.CUT_POINTS, "csv",
        table, Counter(), "utf-8")
    manifest = {
        "rfm_version": __version__,
        "as_of": result.as_of.isoformat(),
        "customers_scored": result.customers_scored,
        "customers_selected": built.customers_selected,
        "selection": spec.selection.describe(),
        **({"predictions": built.predictions} if built.predictions is not None else {}),
        "channels": spec.channels,
        "format": spec.fmt,
        "layout": {"state": "summary.csv, cut_points.csv, tiers/<tier>, entered/<tier>: every customer, "
                            "complete", "send": "send/<channel>/<list>: who to message tonight"},
        "coupon_codes_left": built.codes_left,
        "rules": result.rules.to_dict(),
        "files": files,
        "lists": lists,
    }
    if spec.cooldown_days is not None:
        manifest["cooldown_days"] = spec.cooldown_days
    if result.since is not None:
        manifest["window_since"] = result.since.isoformat()
    if spec.sending is not None:
        manifest["sending"] = spec.sending.describe(built.lists)
    staged.add_bytes((json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
                     spec.out_dir / layout.MANIFEST)
    writing = {spec.out_dir / entry["path"] for entry in files} | {spec.out_dir / layout.MANIFEST}
    stale, _edited = layout.stale_files(spec.out_dir, writing)
    staged.remove_on_publish(spec.out_dir, stale)
    return manifest


def stage_segment_files(result: ScoreResult, spec: ExportSpec, staged: StagedFiles,
                        suppressions: Suppressions | None = None, *,
                        recent_sends: dict[tuple[str, str], pl.Series] | None = None,
                        previous: pl.DataFrame | None = None) -> dict[str, Any]:
    """Build every list (segments.build_lists) and stage the folder. Returns the manifest;
    `manifest["sent"]` lists (channel, list, customer ids) for the send ledger."""
    built = build_lists(result, spec, suppressions, recent_sends=recent_sends, previous=previous)
    return stage_lists(result, spec, staged, built) | {"sent": built.sent()}
