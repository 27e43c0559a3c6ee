"""Platform profiles: which headers of an export mean which canonical field, as data.

The shipped profiles live in `rfm_cli/profiles/*.toml` (the schema is described at the top of
`canonical.toml`); a user's `rfm.toml` can add or replace them with `[profiles.NAME]` tables of the
same shape. `match_profile` picks the profile for a file's headers and says which header feeds
which field.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from rfm_cli.core.errors import ConfigError, DataError, UsageError

CANONICAL_FIELDS = (
    "order_id", "customer_id", "order_date", "amount", "status", "refund_amount", "currency",
    "customer_name", "phone", "email",
    "accepts_marketing",  # a consent column (yes/no), honoured by every exported list
    "discount_code",  # the coupon/discount code(s) the order used: campaign redemption
    "accepts_email",  # consent per channel (yes/no): kept in the consent ledger (compliance/consent.py)
    "accepts_sms",
    "delivered_date",  # when the buyer received the order (签收时间, Fulfilled at): day-N follow-ups
    "quantity",  # item-level files: amount = quantity x unit_price; kept on the order's lines
    "unit_price",
    "sku",  # line items (rfm_order_lines): the product's code, title and category, when exported
    "product",
    "category",
)
LINE_FIELDS = ("sku", "product", "category", "quantity", "unit_price")
REQUIRED_FIELDS = ("order_id", "customer_id", "order_date", "amount")
CANONICAL_STATUSES = ("counted", "cancelled", "unpaid", "refunded", "ignore")
# when several status columns speak, the strongest reason not to count an order wins
STATUS_PRECEDENCE = ("cancelled", "refunded", "unpaid", "counted")
# built-ins in the order ties are broken: platforms before the generic fallbacks
BUILTIN_ORDER = (
    "taobao",
    "jd",
    "pinduoduo",
    "douyin",
    "shopify",
    "woocommerce",
    "amazon",
    "online_retail",
    "online_retail_ii",
    "canonical",
    "generic_en",
    "generic_zh",
)
_OPTION_KEYS = ("status_columns", "amount_from", "refund_prefix", "cancelled_if_set", "fill_order_fields", "date_format",
                "packed_line_items")
_TOP_KEYS = ("name", "title", "detect", "columns", "status", "options")

_WIDTH_FOLD = str.maketrans({"（": "(", "）": ")", "\u3000": " ", "\ufeff": None})
_STATUS_FOLD = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "\u3000": " ", "\ufeff": None})


def normalize_header(text: Any) -> str:
    """The form in which header names are compared: stripped, spaces collapsed, Latin letters
    case-folded, full-width parentheses as ASCII (and no spaces around them)."""
    folded = re.sub(r"\s+", " ", str(text).translate(_WIDTH_FOLD)).strip()
    return re.sub(r"\s*([()])\s*", r"\1", folded).casefold()


def normalize_status(text: Any) -> str:
    """The form in which raw status values are compared with a profile's [status] keys."""
    folded = re.sub(r"\s+", " ", str(text).translate(_STATUS_FOLD)).strip()
    return re.sub(r"\s*([(),:;])\s*", r"\1", folded).casefold()


def combine_statuses(statuses: Iterable[str | None]) -> str | None:
    """One canonical status from several columns' statuses: cancelled > refunded > unpaid >
    counted; "ignore" and None contribute nothing."""
    present = {s for s in statuses if s and s != "ignore"}
    return next((s for s in STATUS_PRECEDENCE if s in present), None)


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    detect: list[str]
    columns: dict[str, list[str]]
    status_map: dict[str, str]
    options: dict = field(default_factory=dict)
    source: str = ""  # where it was defined: "built-in" or "rfm.toml [profiles.NAME]"

    @property
    def generic(self) -> bool:
        """A generic profile (no detect headers) is only a fallback when no platform is detected."""
        return not self.detect

    @cached_property
    def _status_lookup(self) -> dict[str, str]:
        return {normalize_status(raw): status for raw, status in self.status_map.items()}

    def status_of(self, raw: Any) -> str | None:
        """The canonical status of a raw value (trimmed; Latin case-insensitive), or None."""
        if raw is None:
            return None
        return self._status_lookup.get(normalize_status(raw))


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


@functools.cache
def _builtin_profiles() -> tuple[Profile, ...]:
    """The shipped profiles, parsed once per process (sniffing and mapping a file both ask: 0.04 s each)."""
    builtins = {}
    folder = resources.files("rfm_cli") / "profiles"
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        where = f"rfm_cli/profiles/{entry.name}"
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{where} is not valid TOML ({error}); fix the file") from None
        profile = _parse_profile(data, entry.name[: -len(".toml")], where, "built-in")
        builtins[profile.name] = profile
    ordered = [builtins[n] for n in BUILTIN_ORDER if n in builtins]
    return tuple(ordered + [builtins[n] for n in sorted(builtins) if n not in BUILTIN_ORDER])


def load_profiles(user_profiles: dict | None = None) -> list[Profile]:
    """The built-in profiles plus the user's `[profiles.NAME]` tables from rfm.toml. A user
    profile with a built-in's name replaces it; user profiles come first, so they win ties."""
    ordered = list(_builtin_profiles())
    users: list[Profile] = []
    if user_profiles:
        if not isinstance(user_profiles, dict):
            raise ConfigError("rfm.toml: profiles must be a table of [profiles.NAME] tables; see the README")
        for key, data in user_profiles.items():
            where = f"rfm.toml [profiles.{key}]"
            if not isinstance(data, dict):
                raise ConfigError(f"{where} must be a table (name, detect, [columns] ...); see the README")
            users.append(_parse_profile(data, str(key), f"profiles.{key}", where))
    names = {p.name for p in users}
    return users + [p for p in ordered if p.name not in names]


def _string_list(value: Any, key: str, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{key} must be a list of {what}, got {value!r}; write it like [\"订单编号\"]")
    return [v.strip() for v in value]


def _parse_options(given: Any, key: str) -> dict[str, Any]:
    """A profile's [options], each checked; header lists normalised to lists of text."""
    if not isinstance(given, dict):
        raise ConfigError(f"{key}.options must be a table; see canonical.toml")
    options = dict(given)
    for option, value in options.items():
        where = f"{key}.options.{option}"
        if option not in _OPTION_KEYS:
            raise ConfigError(f"{where} is not an option; use one of {', '.join(_OPTION_KEYS)}")
        if option in ("status_columns", "cancelled_if_set", "packed_line_items"):
            options[option] = _string_list(value, where, "header names")
        elif option == "amount_from":
            options[option] = _string_list(value, where, "fields or header names")
            if len(options[option]) < 2:
                raise ConfigError(f"{where} needs at least two columns to multiply; write [\"quantity\", \"unit_price\"]")
        elif option == "refund_prefix":
            if (
                not isinstance(value, dict)
                or set(value) != {"column", "prefix"}
                or value["column"] not in CANONICAL_FIELDS
                or not isinstance(value["prefix"], str)
                or not value["prefix"]
            ):
                raise ConfigError(f"{where} must be {{ column = \"order_id\", prefix = \"C\" }}, got {value!r}; fix it")
        elif option == "fill_order_fields" and not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}; fix it")
        elif option == "date_format" and (not isinstance(value, str) or "%" not in value):
            raise ConfigError(f"{where} must be a strftime format like \"%Y/%m/%d %H:%M\", got {value!r}; fix it")
    return options


def _parse_profile(data: dict, default_name: str, key: str, source: str) -> Profile:
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]} is not a profile key; use {', '.join(_TOP_KEYS)}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ConfigError(f"{key}.name must be a word like \"myshop\", got {name!r}; fix the name")
    if name != default_name:
        raise ConfigError(f"{key}.name is {name!r} but the profile is {default_name!r}; make them the same")
    title = data.get("title", name)
    if not isinstance(title, str):
        raise ConfigError(f"{key}.title must be text, got {title!r}; quote it")
    detect = _string_list(data.get("detect", []), f"{key}.detect", "header names") if data.get("detect") else []

    columns_data = data.get("columns", {})
    if not isinstance(columns_data, dict):
        raise ConfigError(f"{key}.columns must be a table of field = [headers]; see canonical.toml")
    columns = {}
    for field_name, candidates in columns_data.items():
        if field_name not in CANONICAL_FIELDS:
            raise ConfigError(f"{key}.columns.{field_name} is not a field; use one of {', '.join(CANONICAL_FIELDS)}")
        columns[field_name] = _string_list(candidates, f"{key}.columns.{field_name}", "header names")

    status_data = data.get("status", {})
    if not isinstance(status_data, dict):
        raise ConfigError(f"{key}.status must be a table of \"raw value\" = \"status\"; see canonical.toml")
    status_map = {}
    for raw, status in status_data.items():
        if status not in CANONICAL_STATUSES:
            raise ConfigError(
                f"{key}.status.{raw} is {status!r}; use one of {', '.join(CANONICAL_STATUSES)}"
            )
        status_map[raw] = status

    options = _parse_options(data.get("options", {}), key)
    return Profile(name, title, detect, columns, status_map, options, source)


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
            resolved.append(mapping.get(entry) if entry in CANONICAL_FIELDS else present.get(normalize_header(entry)))
        if resolved and all(resolved):
            amount_from = [r for r in resolved if r]
    cancelled = [present[normalize_header(h)] for h in profile.options.get("cancelled_if_set", []) if normalize_header(h) in present]
    missing = [f for f in REQUIRED_FIELDS if f not in mapping and not (f == "amount" and amount_from)]
    return ProfileMatch(profile, mapping, status_columns, missing, amount_from, cancelled)


def _check_overrides(overrides: dict[str, str], present: dict[str, str], headers: list[str], label: str) -> dict[str, str]:
    checked = {}
    for field_name, header in overrides.items():
        if field_name not in CANONICAL_FIELDS:
            raise UsageError(f"--map {field_name}=…: unknown field {field_name!r}; use one of {', '.join(CANONICAL_FIELDS)}")
        if header is None or not str(header).strip():
            checked[field_name] = ""
            continue
        actual = present.get(normalize_header(header))
        if actual is None:
            raise UsageError(
                f"--map {field_name}={header}: no column {header!r} in {label}; use one of the headers {_format_headers(headers)}"
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
    match = ProfileMatch(match.profile, match.mapping, match.status_columns, match.missing, match.amount_from, match.cancelled_columns, how)

    if match.missing and require:
        missing = ", ".join(match.missing)
        found = _format_headers(headers)
        looked = "; ".join(f"{f}: {' / '.join(match.profile.columns.get(f, [])) or '-'}" for f in match.missing)
        if forced is not None:
            raise DataError(
                f"{label} has no column for {missing} of --source {match.profile.name} (looked for {looked}); "
                f"found headers {found}; use --map FIELD=HEADER or another --source"
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


__all__ = [
    "CANONICAL_FIELDS",
    "CANONICAL_STATUSES",
    "LINE_FIELDS",
    "REQUIRED_FIELDS",
    "STATUS_PRECEDENCE",
    "Profile",
    "ProfileMatch",
    "combine_statuses",
    "known_headers",
    "load_profiles",
    "match_profile",
    "normalize_header",
    "normalize_status",
]
