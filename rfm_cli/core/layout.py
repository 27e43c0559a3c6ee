"""The output folder of `rfm export` and `rfm run`: where each file goes and what it is.

One description of the layout, so every list (tiers, named lists such as `winback`, campaigns,
predictions) lands where the README says and the manifest can say what each file is:

    DIR/manifest.json                 every file: kind, rows, dropped by reason, sha256; the rules
    DIR/summary.csv                   state: customers and revenue per tier
    DIR/cut_points.csv                state: how the scores were cut
    DIR/tiers/<tier>.csv              state: every customer of the tier tonight, complete
    DIR/entered/<tier>.csv            state (rfm run): who entered the tier since the previous snapshot
    DIR/levels/entered/<level>.csv    state (rfm run): who reached the member level tonight (rfm levels)
    DIR/send/<channel>/<list>.csv     send: who to message tonight on that channel; <list> is a tier
                                      or a named list (winback). The selection, opt-outs, --cooldown
                                      and the channel's contact rules apply to these files only.

State files are complete every night: the same customers as summary.csv, whatever was sent before.
Everything under `send/` is a list to upload; nothing outside it is. A campaign's folder (`rfm
campaign new`) keeps the same rule: each arm's lists under `send/<arm>/`, control.csv outside it.
A new named list (predictions' overdue, churn risk) is a name and a condition in
selection.Selection.named_lists, and lands in send/<channel>/<name>.csv by itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath

STATE = "state"
SEND = "send"

MANIFEST = "manifest.json"
SUMMARY = "summary.csv"
CUT_POINTS = "cut_points.csv"
TIERS = "tiers"
ENTERED = "entered"
LEVELS_ENTERED = "levels/entered"
SEND_FOLDER = "send"


def tier_path(out_dir: Path, tier: str, fmt: str) -> Path:
    """State: every customer of the tier."""
    return out_dir / TIERS / f"{tier}.{fmt}"


def entered_path(out_dir: Path, tier: str, fmt: str) -> Path:
    """State: the customers who entered the tier since the previous snapshot."""
    return out_dir / ENTERED / f"{tier}.{fmt}"


def level_entered_path(out_dir: Path, level: str, fmt: str) -> Path:
    """State: the customers who reached the member level tonight (core/levels.py)."""
    return out_dir / "levels" / "entered" / f"{level}.{fmt}"


def send_path(out_dir: Path, channel: str, name: str, fmt: str, batch: int | None = None) -> Path:
    """Send: the list `name` (a tier or a named list) for one channel; `batch`: its numbered part."""
    stem = f"{name}-{batch:03d}" if batch is not None else name
    return out_dir / SEND_FOLDER / channel / f"{stem}.{fmt}"


def kind_of(relative: str) -> str:
    """`send` for a file under send/, `state` for every other file of the folder."""
    return SEND if PurePosixPath(relative).parts[:1] == (SEND_FOLDER,) else STATE


# ------------------------------------------------------------------ files a previous run left


def _inside(out_dir: Path, relative: str) -> Path | None:
    """The file a manifest names, if the name is a plain relative path inside out_dir (never `..`,
    never absolute, never through a link), else None."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
        return None
    path = out_dir.joinpath(*parts)
    for sub in [path, *path.parents]:
        if sub == out_dir:
            return path
        if os.path.islink(sub):
            return None
    return None


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def stale_files(out_dir: Path, writing: set[Path]) -> tuple[list[Path], list[Path]]:
    """(stale, edited): the files the folder's previous manifest.json lists that this run does not
    write. `stale` still hold the bytes rfm wrote (their sha256 matches the manifest): this run's
    to remove. `edited` were changed since (or the manifest gave no sha256): a person's now, kept.
    Files the manifest does not list are never looked at."""
    try:
        previous = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        entries = previous.get("files", []) if isinstance(previous, dict) else []
    except (OSError, ValueError):
        return [], []
    stale: list[Path] = []
    edited: list[Path] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        path = _inside(out_dir, entry["path"])
        if path is None or path in writing or not path.is_file():
            continue
        if entry.get("sha256") and _sha256(path) == entry["sha256"]:
            stale.append(path)
        else:
            edited.append(path)
    return stale, edited


def remove_stale(out_dir: Path, stale: list[Path]) -> list[Path]:
    """Delete the stale files, then the folders under out_dir they leave empty; returns those deleted."""
    removed = []
    for path in stale:
        try:
            path.unlink()
        except OSError:  # gone meanwhile, or not ours to delete: left as it is
            continue
        removed.append(path)
        for folder in path.parents:
            if folder == out_dir or out_dir not in folder.parents:
                break
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break
    return removed
