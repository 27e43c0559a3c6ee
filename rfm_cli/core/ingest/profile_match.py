"""Which profile reads a file, and which of its headers feeds which canonical field: `match_profile`
picks the profile for a file's headers (or the one --source names), applies --map overrides and
says what is missing, in one line naming the file and the fix. The profiles themselves are
profiles.py's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rfm_cli.core.errors import DataError, UsageError
from rfm_cli.core.ingest.profiles import (
    CANONICAL_FIELDS,
    REQUIRED_FIELDS,
    Profile,
    normalize_header,
)


@dataclass(frozen=True)
class ProfileMatch:
    profile: Profile
    mapping: dict[str, str]  # canonical field -> the file's header (status: the first status column)
    status_columns: list[str]  # every present status column, in precedence-free profile order
    missing: list[str]  # required fields without a column (empty unless require=False)
    amount_from: list[str] = field(default_factory=list)  # headers whose product is the amount
    cancelled_columns: list[str] = field(default_factory=list)  # present options.cancelled_if_set
    how: str = ""  # why this profile: for `rfm inspect`


# --------------------------------------------------------------------------------------------
# loading


def known_headers(profiles: Iterable[Profile]) -> set[str]:
    """Every header name any profile knows (for finding the header row under title rows)."""
    names: set[str] = set()
    for profile in profiles:
        names.update(profile.detect)
        for candidates in profile.columns.values():
            names.update(candidates)
        for option in ("status_columns", "cancelled_if_set", "packed_line_items"):
            names.update(profile.options.get(option, []))
        names.update(h for h in profile.options.get("amount_from", []) if h not in CANONICAL_FIELDS)
    return names


# --------------------------------------------------------------------------------------------
# matching


def _present(headers: list[str]) -> dict[str, str]:
    """normalized header -> the file's header (its first occurrence)."""
    index: dict[str, str] = {}
    for header in headers:
        if header:
            index.setdefault(normalize_header(header), header)
    return index


def _format_headers(headers: list[str], limit: int = 12) -> str:
    shown = [h if len(h) <= 30 else h[:29] + "…" for h in headers[:limit] if h is not None]
    more = f", … +{len(headers) - limit} more" if len(headers) > limit else ""
    return "[" + ", ".join(shown) + more + "]"


def _apply(profile: Profile, present: dict[str, str], overrides: dict[str, str]) -> ProfileMatch:
    mapping: dict[str, str] = {}
    for field_name, candidates in profile.columns.items():
        for candidate in candidates:
            actual = present.get(normalize_header(candidate))
            if actual is not None:
                mapping[field_name] = actual
                break
    status_columns: list[str] = []
    for candidate in profile.options.get("status_columns", []):
        actual = present.get(normalize_header(candidate))
        if actual is not None and actual not in status_columns:
            status_columns.append(actual)
    if status_columns:
        mapping["status"] = status_columns[0]
    elif "status" in mapping:
        status_columns = [mapping["status"]]

    for field_name, header in overrides.items():
        if header:
            mapping[field_name] = header
        else:  # --map status= : do not use this field
            mapping.pop(field_name, None)
        if field_name == "status":
            status_columns = [header] if header else []

    amount_from: list[str] = []
    if "amount" not in overrides:
        resolved = []
        for entry in profile.options.get("amount_from", []):
            resolved.append(mapping.get(entry) if entry in CANONICAL_FIELDS
                            else present.get(normalize_header(entry)))
        if resolved and all(resolved):
            amount_from = [r for r in resolved if r]
    cancelled = [present[normalize_header(h)] for h in profile.options.get("cancelled_if_set", [])
                 if normalize_header(h) in present]
    missing = [f for f in REQUIRED_FIELDS if f not in mapping and not (f == "amount" and amount_from)]
    return ProfileMatch(profile, mapping, status_columns, missing, amount_from, cancelled)


def _check_overrides(overrides: dict[str, str], present: dict[str, str], headers: list[str],
                     label: str) -> dict[str, str]:
    checked = {}
    for field_name, header in overrides.items():
        if field_name not in CANONICAL_FIELDS:
            raise UsageError(f"--map {field_name}=…: unknown field {field_name!r}; "
                             f"use one of {', '.join(CANONICAL_FIELDS)}")
        if header is None or not str(header).strip():
            checked[field_name] = ""
            continue
        actual = present.get(normalize_header(header))
        if actual is None:
            raise UsageError(
                f"--map {field_name}={header}: no column {header!r} in {label}; "
                f"use one of the headers {_format_headers(headers)}"
            )
        checked[field_name] = actual
    return checked


def match_profile(
    headers: list[str],
    profiles: list[Profile],
    *,
    forced: str | None = None,
    overrides: dict[str, str] | None = None,
    path: str | Path | None = None,
    require: bool = True,
) -> ProfileMatch:
    """The profile for a file with these headers and the header behind each canonical field.

    `forced` is --source NAME; `overrides` are --map FIELD=HEADER and win over the profile (an
    empty HEADER unmaps the field). `path` only names the file in messages. With require=True
    (the default) a match that lacks a required field raises DataError; require=False returns it
    with `missing` filled (for `rfm inspect`).
    """
    label = str(path) if path is not None else "the input"
    present = _present(headers)
    checked = _check_overrides(dict(overrides or {}), present, headers, label)

    if forced is not None:
        chosen = next((p for p in profiles if p.name.casefold() == forced.strip().casefold()), None)
        if chosen is None:
            raise UsageError(f"unknown source {forced!r}; use one of {', '.join(p.name for p in profiles)}")
        match = _apply(chosen, present, checked)
        how = f"--source {chosen.name}"
    else:
        detected = [p for p in profiles if p.detect and all(normalize_header(h) in present for h in p.detect)]
        if detected:
            scored = [(_apply(p, present, checked), p) for p in detected]
            match = max(scored, key=lambda pair: len(pair[0].mapping))[0]
            how = f"detected by {', '.join(match.profile.detect)}"
        else:
            generics = [p for p in profiles if p.generic] or list(profiles)
            scored = [_apply(p, present, checked) for p in generics]
            match = max(scored, key=lambda m: (len(REQUIRED_FIELDS) - len(m.missing), len(m.mapping)))
            how = "no platform detected: generic headers"
    match = replace(match, how=how)

    if match.missing and require:
        missing = ", ".join(match.missing)
        found = _format_headers(headers)
        looked = "; ".join(f"{f}: {' / '.join(match.profile.columns.get(f, [])) or '-'}"
                           for f in match.missing)
        if forced is not None:
            raise DataError(
                f"{label} has no column for {missing} of --source {match.profile.name} "
                f"(looked for {looked}); found headers {found}; use --map FIELD=HEADER or another --source"
            )
        if not match.profile.generic:
            raise DataError(
                f"{label} looks like a {match.profile.title} export but has no column for {missing} "
                f"(looked for {looked}); found headers {found}; use --map FIELD=HEADER"
            )
        raise DataError(
            f"no known export layout in {label}: found headers {found}; missing {missing}; "
            "use --map FIELD=HEADER or --source NAME"
        )
    return match

