"""The options of the lists, declared once and checked where they are made.

`ListOptions` is what `rfm export` and `rfm run` take after the folder: the CLI builds one from its
flags, a notebook from keyword arguments (`shop.export("out", tier="dormant", channel="sms")`), and
both get the same checks, with the same messages, before any work is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rfm_cli.core.errors import UsageError

if TYPE_CHECKING:
    from rfm_cli.core.followups import Followup
    from rfm_cli.core.segments import ExportSpec

# The upload targets (core/channels.py builds each); here so rfm.toml is checked without Polars.
CHANNELS = ("csv", "sms", "coupon", "email", "shopify", "klaviyo", "mailchimp", "google", "meta")
PHONE_FORMATS = ("national", "e164")
LANGS = ("en", "zh")
ENCODINGS = ("utf-8", "utf-8-sig")
COUPON_KEYS = ("customer_id", "phone")
CHURN_RISKS = ("high", "medium", "low")  # core/predict/churn.py's RISKS, without loading the models


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """'a,b', ['a', 'b,c'] or None as a tuple of names (comma-separated values split)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(part.strip() for item in items for part in str(item).split(",") if part.strip())


def _one_of(option: str, value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise UsageError(f"{option} {value!r} is not {what}; use {' or '.join(allowed)}")


@dataclass(frozen=True)
class ListOptions:
    """Which customers go on the lists and how each list is written (every field has a default)."""

    tier: str | Sequence[str] | None = None  # tiers (classic scheme: segments); None: all
    channel: str | Sequence[str] = "csv"
    format: str = "csv"
    recency_days: str | tuple[int | None, int | None] | None = None  # "60:90" or (60, 90), inclusive
    min_orders: int | None = None
    min_monetary: float | None = None
    exclude: Sequence[str | Path] = ()  # opt-out files
    phone_format: str = "national"
    region: str = "CN"
    sms_vars: str | Sequence[str] | None = None
    batch_size: int | None = None
    coupon_key: str = "customer_id"
    codes: str | Path | None = None  # a file of coupon codes, one per line
    hashed: bool = True
    lang: str = "en"
    encoding: str = "utf-8"
    cooldown: int | None = None  # days
    # The win-back list: True for the default window (60:90 days), or the window itself ("45:75").
    winback: bool | str | tuple[int | None, int | None] = False
    # Sending lawfully (core/compliance/sending.py): the SMS template and its provider, the hours the
    # lists may be sent, and whether only customers with recorded consent go on them.
    template: str | None = None  # the text, or a .txt file holding it
    sms_provider: str = "aliyun"
    send_window: str | None = None  # "08:00-21:00"; default: the provider's
    require_consent: bool = False
    overdue: int | None = None  # days past the due date (core/predict/lists.py); None: no such filter
    churn_risk: str | Sequence[str] | None = None  # high, medium, low; None: no such filter
    churn_thresholds: object | None = None  # core.predict.churn.ChurnThresholds; None: the defaults
    # Day-N follow-ups (core/followups.py): days since the first / last counted order ("7" or "7:9",
    # both days in), counted from its delivered date when the export gave one; `who` "first_time":
    # only customers with exactly one counted order. `followups`: rfm.toml's [[followups]]
    # (followups.Followup, or the tables as dicts), written beside the other lists.
    days_since_first_order: str | int | None = None
    days_since_last_order: str | int | None = None
    who: str = "all"
    followups: Sequence[Followup | dict] = ()
    # Tags (core/tags.py): --bought category:护肤 (sku:X, product:X; several: any of them), --aov-band high
    bought: str | Sequence[str] | None = None
    aov_band: str | Sequence[str] | None = None
    tag_settings: object | None = None  # core.tags.TagSettings (rfm.toml [tags]); None: the defaults

    def __post_init__(self) -> None:
        from rfm_cli.core.channels import SMS_VARS
        from rfm_cli.core.sinks import format_for

        format_for(None, self.format)
        _one_of("--phone-format", self.phone_format, PHONE_FORMATS, "a phone format")
        _one_of("--lang", self.lang, LANGS, "a language of rfm")
        _one_of("--encoding", self.encoding, ENCODINGS, "supported")
        _one_of("--coupon-key", self.coupon_key, COUPON_KEYS, "a key")
        if self.cooldown is not None and self.cooldown < 1:
            raise UsageError(
                "--cooldown is below 1 day; pass --cooldown DAYS with DAYS >= 1, or leave it out")
        if self.batch_size is not None and self.batch_size < 1:
            raise UsageError("--batch-size is below 1; pass --batch-size N with N >= 1 (e.g. 1000), "
                             "or leave it out")
        unknown = [v for v in _names(self.sms_vars) if v not in SMS_VARS]
        if unknown:
            raise UsageError(
                f"--sms-vars {unknown[0]!r} is not a variable; use some of {', '.join(SMS_VARS)}")
        self.channels()  # an unknown channel is refused now, not after the import
        self.recency_range()
        self._check_predictions()
        self.bought_terms()
        self.aov_bands()
        self.winback_range()
        self.followup_lists()
        self._check_category_var()
        self.sending()  # a template that breaks a rule is refused now (78), before any work

    def sending(self):
        from rfm_cli.core.compliance.sending import sending_rules
        from rfm_cli.core.followups import sms_list_vars

        lists = sms_list_vars(self.followup_lists(), _names(self.sms_vars), self.channels(),
                              self._other_sms())
        return sending_rules(channels=self.channels(), sms_vars=_names(self.sms_vars), template=self.template,
                             provider=self.sms_provider, send_window=self.send_window, region=self.region,
                             require_consent=self.require_consent, sms_lists=lists)

    def _other_sms(self) -> bool:
        """Whether an SMS list with no trigger order (a tier or win-back list) is written."""
        from rfm_cli.core.selection import Selection

        selection = Selection(tiers=self.tiers(), winback=self.winback_range(),
                              followups=self.followup_lists())
        return "sms" in self.channels() and (selection.writes_tier_lists() or selection.winback is not None)

    def _check_category_var(self) -> None:
        """--sms-vars category is the trigger order's category: every SMS list written must be a
        day-N follow-up (a tier or win-back list has no trigger order)."""
        if "category" not in _names(self.sms_vars):
            return
        if not self.followup_lists() or self._other_sms():
            raise UsageError(
                "--sms-vars category is the category of a day-N list's trigger order, but this export "
                "writes an SMS list with no trigger order (a tier or win-back list); write the SMS list "
                "with --days-since-first-order/--days-since-last-order, or a [[followups]] channel = "
                "\"sms\" with the other lists on another --channel")

    def _check_predictions(self) -> None:
        if self.overdue is not None and self.overdue < 0:
            raise UsageError(f"--overdue {self.overdue} is below 0; pass --overdue DAYS with DAYS >= 0 "
                             "(0: due today or earlier)")
        unknown = [v for v in _names(self.churn_risk) if v.lower() not in CHURN_RISKS]
        if unknown:
            raise UsageError(f"--churn-risk {unknown[0]!r} is not a risk; use {', '.join(CHURN_RISKS)}")

    def bought_terms(self) -> list[tuple[str, str]] | None:
        from rfm_cli.core.tags import parse_bought

        return parse_bought([self.bought] if isinstance(self.bought, str) else self.bought) or None

    def aov_bands(self) -> list[str] | None:
        from rfm_cli.core.tags import parse_bands

        return parse_bands(_names(self.aov_band)) or None

    def churn_risks(self) -> list[str] | None:
        return [v.lower() for v in _names(self.churn_risk)] or None

    def tiers(self) -> list[str] | None:
        return list(_names(self.tier)) or None

    def channels(self) -> list[str]:
        from rfm_cli.core.channels import parse_channels

        return parse_channels(list(_names(self.channel)) or None)

    def recency_range(self) -> tuple[int | None, int | None] | None:
        from rfm_cli.core.selection import parse_range

        if self.recency_days is None or isinstance(self.recency_days, str):
            return parse_range(self.recency_days)
        low, high = self.recency_days
        return parse_range(f"{'' if low is None else low}:{'' if high is None else high}")

    def winback_range(self) -> tuple[int | None, int | None] | None:
        from rfm_cli.core.selection import WINBACK_DAYS, parse_range

        if self.winback is False or self.winback is None:
            return None
        if self.winback is True:
            return WINBACK_DAYS
        text = self.winback if isinstance(self.winback, str) else ":".join(
            "" if v is None else str(v) for v in self.winback)
        return parse_range(text, "--winback-days")

    def spec(self, out_dir: str | Path) -> ExportSpec:
        """The list builder's spec for `out_dir` (reads the codes file, if any)."""
        from rfm_cli.core.channels import ChannelOptions
        from rfm_cli.core.segments import ExportSpec, read_codes
        from rfm_cli.core.selection import Selection
        from rfm_cli.core.sinks import format_for

        return ExportSpec(
            out_dir=Path(out_dir), fmt=format_for(None, self.format), channels=self.channels(),
            selection=Selection(tiers=self.tiers(), recency_days=self.recency_range(),
                                min_orders=self.min_orders, min_monetary=self.min_monetary,
                                winback=self.winback_range(), overdue_days=self.overdue,
                                churn_risk=self.churn_risks(), followups=self.followup_lists(),
                                bought=self.bought_terms(), aov_band=self.aov_bands()),
            options=ChannelOptions(phone_format=self.phone_format, default_region=self.region.upper(),
                                   sms_vars=_names(self.sms_vars), coupon_key=self.coupon_key,
                                   hashed=self.hashed, lang=self.lang),
            batch_size=self.batch_size, codes=read_codes(Path(self.codes)) if self.codes else None,
            encoding=self.encoding, cooldown_days=self.cooldown, sending=self.sending(),
            churn_thresholds=self.churn_thresholds, tag_settings=self.tag_settings,
        )

    def followup_lists(self) -> list[Followup]:
        """The flags' follow-ups, then rfm.toml's; two lists of one name are refused."""
        from rfm_cli.core.channels import parse_channels
        from rfm_cli.core.followups import from_config, from_flags

        # a notebook may give rfm.toml's tables as dicts: the same checks, the same messages
        tables = [f for f in self.followups if isinstance(f, dict)]
        given = from_config(tables, "followups") if tables else []
        given += [f for f in self.followups if not isinstance(f, dict)]
        made = [*from_flags(self.days_since_first_order, self.days_since_last_order, self.who), *given]
        names = [f.name for f in made]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice:
            raise UsageError(f"two follow-up lists are named {twice!r}; give each its own name")
        for f in made:
            if f.channel:
                parse_channels([f.channel])
        return made

    def exclude_files(self) -> list[Path]:
        return [Path(p) for p in self.exclude]
