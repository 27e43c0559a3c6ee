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
from typing import Any

from rfm_cli.core.errors import ConfigError

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
_OPTION_KEYS = ("status_columns", "amount_from", "refund_prefix", "cancelled_if_set", "fill_order_fields",
                "date_format", "packed_line_items")
_TOP_KEYS = ("name", "title", "detect", "columns", "status", "options")

_WIDTH_FOLD = str.maketrans({"（": "(", "）": ")", "\u3000": " ", "\ufeff": None})
_STATUS_FOLD = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "\u3000": " ",
                              "\ufeff": None})


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
                raise ConfigError(f"{where} needs at least two columns to multiply; "
                                  "write [\"quantity\", \"unit_price\"]")
        elif option == "refund_prefix":
            if (
                not isinstance(value, dict)
                or set(value) != {"column", "prefix"}
                or value["column"] not in CANONICAL_FIELDS
                or not isinstance(value["prefix"], str)
                or not value["prefix"]
            ):
                raise ConfigError(f"{where} must be {{ column = \"order_id\", prefix = \"C\" }}, "
                                  f"got {value!r}; fix it")
        elif option == "fill_order_fields" and not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}; fix it")
        elif option == "date_format" and (not isinstance(value, str) or "%" not in value):
            raise ConfigError(f"{where} must be a strftime format like \"%Y/%m/%d %H:%M\", "
                              f"got {value!r}; fix it")
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
    detect = (_string_list(data.get("detect", []), f"{key}.detect", "header names")
              if data.get("detect") else [])

    columns_data = data.get("columns", {})
    if not isinstance(columns_data, dict):
        raise ConfigError(f"{key}.columns must be a table of field = [headers]; see canonical.toml")
    columns = {}
    for field_name, candidates in columns_data.items():
        if field_name not in CANONICAL_FIELDS:
            raise ConfigError(f"{key}.columns.{field_name} is not a field; "
                              f"use one of {', '.join(CANONICAL_FIELDS)}")
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


__all__ = [
    "CANONICAL_FIELDS",
    "CANONICAL_STATUSES",
    "LINE_FIELDS",
    "REQUIRED_FIELDS",
    "STATUS_PRECEDENCE",
    "Profile",
    "combine_statuses",
    "load_profiles",
    "normalize_header",
    "normalize_status",
]
