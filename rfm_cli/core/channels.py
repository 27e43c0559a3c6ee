"""Upload targets (BRIEF §5): from a tier's scored customers to the rows a platform accepts.

Each builder returns the rows to write and, per reason, the customers it had to leave out
(no usable phone, masked, landline, no email, duplicate …): nothing is dropped silently. Coupon
codes are joined afterwards (`with_codes`), once every filter of every list has run, and
`safe_cells` escapes every text cell of the finished list so none starts a spreadsheet formula; a
phone in strict E.164 (`+` and 7-15 digits) is left as it is, because upload targets require the
`+` and such a cell cannot carry a formula.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from rfm_cli.core.cell_escaping import escape_text_columns
from rfm_cli.core.compliance.eea import consent_columns, countries
from rfm_cli.core.contact_hashing import google_hash, meta_hash
from rfm_cli.core.contacts import normalize_emails, normalize_phones, present_only
from rfm_cli.core.errors import UsageError
from rfm_cli.core.options import CHANNELS

# The SMS list's template variables; category: the trigger order's top category, on day-N follow-up
# lists only (options.ListOptions checks that every SMS list written is one).
SMS_VARS = ("name", "tier", "category", "coupon")

ZH_COLUMNS = {
    "customer_id": "客户ID", "customer_name": "客户名", "phone": "手机号码", "email": "邮箱",
    "first_order_at": "首次下单时间", "last_order_at": "最近下单时间", "recency_days": "距今天数",
    "frequency": "购买次数", "monetary": "消费金额", "r_score": "R分", "f_score": "F分", "m_score": "M分",
    "rfm_code": "RFM编码", "tier": "等级", "previous_tier": "原等级", "name": "姓名", "coupon_code": "优惠码",
    "category": "品类",
}
# The prediction columns a csv list carries when it selects on them (rfm export --overdue / --churn-risk).
ZH_COLUMNS |= {
    "p_alive": "仍活跃概率", "typical_gap_days": "典型购买间隔天数", "next_order_due": "预计下次下单日",
    "days_overdue": "逾期天数", "due_basis": "周期依据", "churn_risk": "流失风险", "churn_rule": "流失规则",
}
# The trigger order's columns of a day-N follow-up list (core/followups.py).
ZH_COLUMNS |= {
    "trigger_order_id": "触发订单号", "trigger_date": "触发日期", "trigger_basis": "日期依据",
    "days_since": "距触发天数", "trigger_category": "触发品类",
}


@dataclass(frozen=True)
class ChannelOptions:
    phone_format: str = "national"  # national | e164 (sms, coupon by phone)
    default_region: str = "CN"
    sms_vars: tuple[str, ...] = ()
    coupon_key: str = "customer_id"  # customer_id | phone
    hashed: bool = True  # google, meta
    lang: str = "en"  # en | zh: headers and tier labels of csv, sms, coupon
    tier_labels: dict[str, str] = field(default_factory=dict)  # tier -> Chinese label
    ads_consent: dict[str, str] = field(default_factory=dict)  # customer_id -> granted | withdrawn (google)


@dataclass
class ChannelRows:
    frame: pl.DataFrame
    dropped: Counter[str] = field(default_factory=Counter)
    # who is on the list, row for row (coupon codes, the send ledger)
    customer_ids: pl.Series = field(default_factory=lambda: pl.Series("customer_id", [], pl.String))


def parse_channels(values: list[str] | None) -> list[str]:
    chosen: list[str] = []
    for value in values or ["csv"]:
        for name in value.split(","):
            name = name.strip().lower()
            if name not in CHANNELS:
                raise UsageError(f"--channel {name!r} is not a channel; channels: {', '.join(CHANNELS)}")
            if name not in chosen:
                chosen.append(name)
    return chosen


def with_contacts(customers: pl.DataFrame, default_region: str) -> pl.DataFrame:
    """Add normalised phone/email columns and a first/last name split."""
    phones = normalize_phones(customers["phone"], default_region)
    emails = normalize_emails(customers["email"])
    names = present_only(customers["customer_name"], _split_names)
    return pl.concat([customers, phones, emails.rename({"email": "email_norm"}), names], how="horizontal")


def _split_names(names: pl.Series) -> pl.DataFrame:
    """first_name, last_name. Chinese names: family name first (one character). Others: family name
    last, when there are two words."""
    name = pl.col("n").str.strip_chars()
    han = name.str.contains(r"^\p{Han}").fill_null(False)
    two_words = name.str.contains(r"\S\s+\S").fill_null(False)
    return names.cast(pl.String).to_frame("n").select(
        first_name=pl.when(han).then(name.str.slice(1))
        .when(two_words).then(name.str.replace(r"\s+\S+$", ""))
        .otherwise(name),
        last_name=pl.when(han).then(name.str.slice(0, 1))
        .when(two_words).then(name.str.extract(r"(\S+)$", 1))
        .otherwise(pl.lit(None, pl.String)),
    )


def _drop(frame: pl.DataFrame, keep: pl.Expr, reason: pl.Expr, dropped: Counter[str]) -> pl.DataFrame:
    gone = frame.filter(~keep)
    if gone.height:
        # with_columns, not select: a literal reason must be counted once per row, not once.
        dropped.update(dict(gone.with_columns(_reason=reason).group_by("_reason").len().iter_rows()))
    return frame.filter(keep)


def _dedupe(frame: pl.DataFrame, key: str, label: str, dropped: Counter[str]) -> pl.DataFrame:
    unique = frame.unique(subset=[key], keep="first", maintain_order=True)
    if frame.height - unique.height:
        dropped[f"duplicate {label}"] += frame.height - unique.height
    return unique


def _phone_ok(frame: pl.DataFrame, dropped: Counter[str]) -> pl.DataFrame:
    return _drop(frame, pl.col("phone_drop_reason").is_null(), pl.lit("phone ") + pl.col("phone_drop_reason"),
                 dropped)


def _email_ok(frame: pl.DataFrame, dropped: Counter[str]) -> pl.DataFrame:
    return _drop(frame, pl.col("email_drop_reason").is_null(), pl.lit("email ") + pl.col("email_drop_reason"),
                 dropped)


def safe_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell escaped so none starts a spreadsheet formula (= + - @ tab CR), whatever the
    column: names, tier labels, coupon codes, ids. A strict E.164 phone keeps its `+`."""
    return escape_text_columns(frame)


def _tier_label(opts: ChannelOptions) -> pl.Expr:
    if opts.lang == "zh" and opts.tier_labels:
        return pl.col("tier").replace(opts.tier_labels)
    return pl.col("tier")


def _zh(frame: pl.DataFrame, opts: ChannelOptions) -> pl.DataFrame:
    if opts.lang != "zh":
        return frame
    return frame.rename({c: ZH_COLUMNS[c] for c in frame.columns if c in ZH_COLUMNS})


def build(channel: str, customers: pl.DataFrame, opts: ChannelOptions) -> ChannelRows:
    """Rows for one channel from `with_contacts(customers)` (already selected and suppressed), before
    coupon codes (`with_codes`) and escaping (`safe_cells`)."""
    builder = _BUILDERS.get(channel)
    if builder is None:
        raise UsageError(f"unknown channel {channel!r}")
    return builder(channel, customers, opts, Counter())


def _phone_column(opts: ChannelOptions) -> str:
    return "phone_e164" if opts.phone_format == "e164" else "phone_national"


def _csv_rows(channel: str, f: pl.DataFrame, opts: ChannelOptions, dropped: Counter[str]) -> ChannelRows:
    out = f.select(*[c for c in f.columns if c in ZH_COLUMNS and c not in ("name", "coupon_code")])
    out = out.with_columns(_tier_label(opts).alias("tier"))
    if "previous_tier" in out.columns and opts.lang == "zh" and opts.tier_labels:
        out = out.with_columns(pl.col("previous_tier").replace(opts.tier_labels))
    return ChannelRows(_zh(out, opts), dropped, f["customer_id"])


def _sms_rows(channel: str, f: pl.DataFrame, opts: ChannelOptions, dropped: Counter[str]) -> ChannelRows:
    phone_col = _phone_column(opts)
    f = _dedupe(_phone_ok(f, dropped), phone_col, "phone", dropped)
    columns = [pl.col(phone_col).alias("phone")]
    if "name" in opts.sms_vars:
        columns.append(pl.col("customer_name").alias("name"))
    if "tier" in opts.sms_vars:
        columns.append(_tier_label(opts).alias("tier"))
    if "category" in opts.sms_vars:
        columns.append(pl.col("trigger_category").alias("category"))
    return ChannelRows(_zh(f.select(columns), opts), dropped, f["customer_id"])


def _coupon_rows(channel: str, f: pl.DataFrame, opts: ChannelOptions, dropped: Counter[str]) -> ChannelRows:
    if opts.coupon_key == "phone":
        phone_col = _phone_column(opts)
        f = _dedupe(_phone_ok(f, dropped), phone_col, "phone", dropped)
        columns = [pl.col(phone_col).alias("phone")]
    else:
        columns = [pl.col("customer_id")]
    return ChannelRows(_zh(f.select(columns), opts), dropped, f["customer_id"])


def _email_rows(channel: str, f: pl.DataFrame, opts: ChannelOptions, dropped: Counter[str]) -> ChannelRows:
    """email, shopify, klaviyo and mailchimp: one row per usable email."""
    f = _dedupe(_email_ok(f, dropped), "email_norm", "email", dropped)
    e164 = pl.when(pl.col("phone_drop_reason").is_null()).then(pl.col("phone_e164"))
    if channel == "email":
        out = f.select(pl.col("email_norm").alias("Email"), pl.col("customer_name").alias("Name"),
                       _tier_label(opts).alias("Tier"))
        return ChannelRows(out, dropped, f["customer_id"])
    if channel == "shopify":
        out = f.select(pl.col("first_name").alias("First Name"), pl.col("last_name").alias("Last Name"),
                       pl.col("email_norm").alias("Email"), e164.alias("Phone"),
                       (pl.lit("rfm-") + pl.col("tier")).alias("Tags"))
        return ChannelRows(out, dropped, f["customer_id"])
    out = f.select(pl.col("email_norm").alias("Email Address"), pl.col("first_name").alias("First Name"),
                   pl.col("last_name").alias("Last Name"), e164.alias("Phone Number"),
                   pl.col("tier").alias("Tags"))
    return ChannelRows(out, dropped, f["customer_id"])


def _ad_rows(channel: str, f: pl.DataFrame, opts: ChannelOptions, dropped: Counter[str]) -> ChannelRows:
    """google and meta: one row per distinct usable email and phone (a landline is usable there)."""
    usable_phone = pl.col("phone_drop_reason").is_null() | (pl.col("phone_drop_reason") == "landline")
    f = _drop(f, pl.col("email_drop_reason").is_null() | usable_phone, pl.lit("no usable email or phone"),
              dropped)
    f = f.with_columns(
        email_out=pl.when(pl.col("email_drop_reason").is_null()).then(pl.col("email_norm")),
        phone_out=pl.when(usable_phone).then(pl.col("phone_e164")),
    )
    f = _dedupe(f.with_columns(key=pl.concat_str([pl.col("email_out").fill_null(""),
                                                  pl.col("phone_out").fill_null("")], separator="|")),
                "key", "email and phone", dropped)
    out = _google_columns(f, opts) if channel == "google" else _meta_columns(f, opts)
    return ChannelRows(out, dropped, f["customer_id"])


def _google_columns(f: pl.DataFrame, opts: ChannelOptions) -> pl.DataFrame:
    if opts.hashed:
        out = pl.DataFrame({
            "Email": google_hash("email", f["email_out"]), "Phone": google_hash("phone", f["phone_out"]),
            "First Name": google_hash("name", f["first_name"]),
            "Last Name": google_hash("name", f["last_name"]),
        })
    else:
        out = f.select(pl.col("email_out").alias("Email"), pl.col("phone_out").alias("Phone"),
                       pl.col("first_name").alias("First Name"), pl.col("last_name").alias("Last Name"))
    country = countries(f["phone_out"])
    return out.with_columns(Country=country, Zip=pl.lit(None, pl.String),
                            **consent_columns(country, f["customer_id"], opts.ads_consent))


def _meta_columns(f: pl.DataFrame, opts: ChannelOptions) -> pl.DataFrame:
    meta_phone = f["phone_out"].str.strip_prefix("+")
    if opts.hashed:
        out = pl.DataFrame({"email": meta_hash("email", f["email_out"]),
                            "phone": meta_hash("phone", f["phone_out"]),
                            "fn": meta_hash("fn", f["first_name"]), "ln": meta_hash("ln", f["last_name"])})
    else:
        out = pl.DataFrame({"email": f["email_out"], "phone": meta_phone, "fn": f["first_name"],
                            "ln": f["last_name"]})
    return out.with_columns(**{c: pl.lit(None, pl.String) for c in ("ct", "st", "zip", "country")})


_BUILDERS = {
    "csv": _csv_rows,
    "sms": _sms_rows,
    "coupon": _coupon_rows,
    **dict.fromkeys(("email", "klaviyo", "mailchimp", "shopify"), _email_rows),
    **dict.fromkeys(("google", "meta"), _ad_rows),
}


def takes_codes(channel: str, opts: ChannelOptions, codes_given: bool) -> bool:
    """Whether the channel's list carries a coupon code per row."""
    return (channel == "coupon" and codes_given) or (channel == "sms" and "coupon" in opts.sms_vars)


def with_codes(rows: ChannelRows, codes: Mapping[str, str], opts: ChannelOptions) -> ChannelRows:
    """The list with each row's code as its last column; a row whose customer has none is dropped."""
    code = (rows.customer_ids.replace_strict(codes, default=None, return_dtype=pl.String) if codes
            else pl.repeat(None, len(rows.customer_ids), dtype=pl.String, eager=True))
    has_code = code.is_not_null()
    dropped = rows.dropped.copy()
    if missing := len(code) - int(has_code.sum()):
        dropped["no coupon code left"] += missing
    column = ZH_COLUMNS["coupon_code"] if opts.lang == "zh" else "coupon_code"
    frame = rows.frame.with_columns(code.alias(column)).filter(has_code)
    return ChannelRows(frame, dropped, rows.customer_ids.filter(has_code))
