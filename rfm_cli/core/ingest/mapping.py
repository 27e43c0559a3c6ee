"""Which column feeds which canonical field, and what each status word means.

The column maps themselves are data (`rfm_cli/profiles/*.toml`, plus `[profiles.NAME]` tables in
rfm.toml); this module turns the matched profile into what the import SQL needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rfm_cli.core.errors import UsageError
from rfm_cli.core.ingest.profile_match import match_profile
from rfm_cli.core.ingest.profiles import (
    CANONICAL_FIELDS as PROFILE_FIELDS,
)
from rfm_cli.core.ingest.profiles import (
    LINE_FIELDS,
    Profile,
    load_profiles,
    normalize_header,
)

REQUIRED_FIELDS = ("order_id", "customer_id", "order_date", "amount")
CANONICAL_FIELDS = tuple(f for f in PROFILE_FIELDS if f not in LINE_FIELDS)
CANONICAL_STATUSES = ("counted", "cancelled", "unpaid", "refunded")
# Order-level fields: on a platform that writes them only on an order's first row
# (fill_order_fields), the other rows take them from it. Amounts are never filled: they add up.
ORDER_LEVEL = ("customer_id", "order_date", "status", "currency", "customer_name", "phone", "email",
               "accepts_marketing", "discount_code", "accepts_email", "accepts_sms", "delivered_date")


@dataclass
class ColumnMap:
    profile: Profile
    columns: dict[str, str]  # canonical field -> header in the file
    date_columns: list[str] = field(default_factory=list)  # every present date candidate, first wins per row
    status_columns: list[str] = field(default_factory=list)
    cancelled_columns: list[str] = field(default_factory=list)
    amount_from: list[str] = field(default_factory=list)
    how: str = ""
    packed_lines: str | None = None  # one cell holding every line of the order (options.packed_line_items)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def options(self) -> dict:
        return self.profile.options

    @property
    def headers_read(self) -> set[str]:
        """Every header a field, a status, a date or a profile option reads (the rest of the file is
        left out of an import)."""
        read = set(self.columns.values()) | set(self.status_columns) | set(self.date_columns)
        read |= set(self.cancelled_columns) | set(self.amount_from)
        prefix = self.options.get("refund_prefix") or {}
        read |= {h for h in (self.packed_lines, self.columns.get(prefix.get("column", ""))) if h}
        return read

    @property
    def has_products(self) -> bool:
        """The file names each line's product (a SKU or a title): its lines are kept."""
        return "sku" in self.columns or "product" in self.columns or self.packed_lines is not None


def parse_map_options(pairs: list[str]) -> dict[str, str]:
    """`--map field=Header` options, validated (an empty header unmaps the field)."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, header = pair.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(f"--map {pair!r} is not FIELD=HEADER; e.g. --map customer_id=买家会员名")
        if name not in PROFILE_FIELDS:
            raise UsageError(f"--map names unknown field {name!r}; fields: {', '.join(PROFILE_FIELDS)}")
        overrides[name] = header.strip()
    return overrides


def resolve(headers: list[str], *, overrides: dict[str, str], source: str | None, user_profiles: dict | None,
            label: str) -> ColumnMap:
    profiles = load_profiles(user_profiles)
    match = match_profile(headers, profiles, forced=source, overrides=overrides, path=label)
    present = {normalize_header(h): h for h in reversed(headers) if h}
    date_columns = []
    if "order_date" in match.mapping:
        date_columns.append(match.mapping["order_date"])
    if "order_date" not in overrides:
        for candidate in match.profile.columns.get("order_date", []):
            actual = present.get(normalize_header(candidate))
            if actual and actual not in date_columns:
                date_columns.append(actual)
    packed = next((present[normalize_header(h)] for h in match.profile.options.get("packed_line_items", [])
                   if normalize_header(h) in present), None)
    return ColumnMap(profile=match.profile, columns=dict(match.mapping), date_columns=date_columns,
                     status_columns=list(match.status_columns),
                     cancelled_columns=list(match.cancelled_columns), amount_from=list(match.amount_from),
                     how=match.how, packed_lines=packed)
