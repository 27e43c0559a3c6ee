"""The flags of the lists, declared once: `rfm export`, `rfm run` and `rfm campaign new` get them from
here (`with_list_flags`) and hand them on as one `ListFlags`, which becomes the library's
core.options.ListOptions, where every check lives. A new list option is one `Flag` below and one
ListOptions field.

`with_list_flags` puts the flags into the command's signature in place of its `lists: ListFlags`
parameter, so Typer sees ordinary options in that position and the command gets them back as one
value: the commands do not repeat 25 parameters and cannot forget one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rfm_cli.commands._common import State
    from rfm_cli.core.options import ListOptions
    from rfm_cli.core.rules import RuleSet

def _option(kind: Any, *names: str, metavar: str | None = None, help: str) -> Any:
    return Annotated[kind, typer.Option(*names, metavar=metavar, help=help)]


Names = list[str] | None
TierOption = _option(Names, "--tier", "--segment", metavar="NAME",
                     help="Only this tier (classic scheme: segment). Repeatable.")
ChannelOption = _option(Names, "--channel", "-c", metavar="NAME",
                        help="csv, sms, coupon, email, shopify, klaviyo, mailchimp, google or meta; "
                             "repeatable or comma-separated (default: csv).")
ListFormat = _option(str, "--format", "-f", metavar="csv|parquet|json|xlsx", help="Format of the lists.")
RecencyDays = _option(str | None, "--recency-days", metavar="FROM:TO",
                      help="Only customers whose last order was FROM..TO days ago.")
MinOrders = _option(int | None, "--min-orders", metavar="N", help="Only customers with N+ orders.")
MinMonetary = _option(float | None, "--min-monetary", metavar="X",
                      help="Only customers who spent at least X.")
Exclude = _option(list[Path] | None, "--exclude", metavar="FILE",
                  help="Opt-outs: phones, emails or ids in any column layout.")
PhoneFormat = _option(str, "--phone-format", metavar="national|e164",
                      help="SMS/coupon phones as 11 digits or +86…")
Region = _option(str, "--region", metavar="CC", help="Country of numbers written without one.")
SmsVars = _option(str | None, "--sms-vars", metavar="name,tier,category,coupon",
                  help="Template-variable columns of the SMS list (category: the trigger order's top "
                       "category, on day-N lists).")
BatchSize = _option(int | None, "--batch-size", metavar="N",
                    help="Split SMS lists into numbered files of N rows.")
CouponKey = _option(str, "--coupon-key", metavar="customer_id|phone",
                    help="The key of coupon/crowd uploads.")
Codes = _option(Path | None, "--codes", metavar="FILE",
                help="Coupon codes, one per line; a code is issued once, ever (the database remembers).")
NoHash = _option(bool, "--no-hash", help="google/meta lists in plain normalised text.")
Lang = _option(str, "--lang", metavar="en|zh", help="zh: Chinese headers and tier labels.")
Encoding = _option(str, "--encoding", metavar="utf-8|utf-8-sig",
                   help="utf-8-sig adds a BOM so Excel on Windows reads Chinese.")
Cooldown = _option(int | None, "--cooldown", metavar="DAYS",
                   help="Leave out customers put on the same list in the last DAYS days (by as-of date).")
Winback = _option(bool, "--winback",
                  help="Also write the win-back list send/<channel>/winback.csv: customers whose last "
                       "order was 60-90 days ago, whatever their tier (instead of one list per tier, "
                       "unless --tier).")
WinbackDays = _option(str | None, "--winback-days", metavar="FROM:TO",
                      help="The win-back window in days (implies --winback; rfm.toml: winback_days) "
                           "(default: 60:90).")
Template = _option(str | None, "--template", metavar="FILE|TEXT",
                   help="The SMS text: checked against the provider's rules before any work (exit 78 naming "
                        "the rule it breaks), kept in the manifest.")
SmsProvider = _option(str, "--sms-provider", metavar="aliyun|tencent|huawei",
                      help="Whose SMS rules apply (template, sending hours).")
SendWindow = _option(str | None, "--send-window", metavar="HH:MM-HH:MM",
                     help="When the lists may be sent, in the recipients' local time (default: the "
                          "provider's; huawei 08:00-21:00); in the manifest.")
RequireConsent = _option(bool, "--require-consent",
                         help="Only customers with recorded consent for the channel (rfm consent).")
Overdue = _option(int | None, "--overdue", metavar="DAYS",
                  help="Only customers past their next-order due date by DAYS or more (0: due today or "
                       "earlier) and not dormant; the lists gain the due-date columns (see rfm predict).")
ChurnRisk = _option(Names, "--churn-risk", metavar="high|medium|low",
                    help="Only customers with this churn risk (rfm predict's rule); repeatable or "
                         "comma-separated.")
Bought = _option(Names, "--bought", metavar="KIND:VALUE",
                 help="Only customers who bought it in a counted order: category:护肤 (exact), sku:A-100 "
                      "(exact) or product:面膜 (a piece of the title); repeatable: any of them.")
AovBand = _option(Names, "--aov-band", metavar="low|mid|high",
                  help="Only customers in this average-order-value band (tertiles, or rfm.toml [tags] "
                       "aov_bands); repeatable or comma-separated.")
DaysSinceFirst = _option(str | None, "--days-since-first-order", metavar="N|FROM:TO",
                         help="Day-N list send/<channel>/days_since_first_order_N.csv: customers whose first "
                              "counted order was N days ago (FROM..TO, both in, so a missed night skips no "
                              "one), counted from its delivered date when the export has one; sent once per "
                              "order.")
DaysSinceLast = _option(str | None, "--days-since-last-order", metavar="N|FROM:TO",
                        help="As --days-since-first-order, from the last counted order.")
Who = _option(str, "--who", metavar="all|first_time",
              help="first_time: day-N lists keep only customers with exactly one counted order.")


@dataclass(frozen=True)
class Flag:
    name: str  # the parameter (Typer's name for the value)
    option: Any  # Annotated[type, typer.Option(...)]
    default: Any
    field: str | None  # the ListOptions field it fills as given; None: converted in ListFlags.options


# In the order the help lists them. Every command with lists takes all of them unless it names a subset.
FLAGS: tuple[Flag, ...] = (
    Flag("tiers", TierOption, None, "tier"),
    Flag("channels", ChannelOption, None, None),
    Flag("fmt", ListFormat, "csv", "format"),
    Flag("recency_days", RecencyDays, None, "recency_days"),
    Flag("min_orders", MinOrders, None, "min_orders"),
    Flag("min_monetary", MinMonetary, None, "min_monetary"),
    Flag("exclude", Exclude, None, None),
    Flag("phone_format", PhoneFormat, "national", "phone_format"),
    Flag("region", Region, "CN", "region"),
    Flag("sms_vars", SmsVars, None, "sms_vars"),
    Flag("batch_size", BatchSize, None, "batch_size"),
    Flag("coupon_key", CouponKey, "customer_id", "coupon_key"),
    Flag("codes", Codes, None, "codes"),
    Flag("no_hash", NoHash, False, None),
    Flag("lang", Lang, "en", "lang"),
    Flag("encoding", Encoding, "utf-8", "encoding"),
    Flag("cooldown", Cooldown, None, "cooldown"),
    Flag("winback", Winback, False, None),
    Flag("winback_days", WinbackDays, None, None),
    Flag("template", Template, None, "template"),
    Flag("sms_provider", SmsProvider, "aliyun", "sms_provider"),
    Flag("send_window", SendWindow, None, "send_window"),
    Flag("require_consent", RequireConsent, False, "require_consent"),
    Flag("overdue", Overdue, None, "overdue"),
    Flag("churn_risk", ChurnRisk, None, "churn_risk"),
    Flag("bought", Bought, None, "bought"),
    Flag("aov_band", AovBand, None, "aov_band"),
    Flag("days_since_first_order", DaysSinceFirst, None, "days_since_first_order"),
    Flag("days_since_last_order", DaysSinceLast, None, "days_since_last_order"),
    Flag("who", Who, "all", "who"),
)
# The flags of a campaign's selection and files (no win-back, template or prediction lists).
CAMPAIGN_FLAGS = ("tiers", "channels", "fmt", "recency_days", "min_orders", "min_monetary", "exclude",
                  "phone_format", "region", "sms_vars", "batch_size", "coupon_key", "codes", "no_hash",
                  "lang", "encoding", "cooldown")


@dataclass(frozen=True)
class ListFlags:
    """The list flags as given on the command line (defaults for those a command does not take)."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def check(self, rules: RuleSet) -> None:
        """--tier against the rules' tiers and --channel against the channels, before any work."""
        from rfm_cli.commands._common import check_list_options

        check_list_options(self.values["tiers"], self.values["channels"], rules)

    def exclude_files(self) -> list[Path]:
        return list(self.values["exclude"] or [])

    def options(self, st: State, *, with_exclude: bool = False, followups: Any = ()) -> ListOptions:
        """The library's ListOptions (which checks them): settings fill --winback-days (rfm.toml
        winback_days), the churn thresholds ([churn]) and the AOV bands ([tags]). `with_exclude`: the opt-out files ride in
        the options (campaigns) rather than beside them (export, run). `followups`: rfm.toml's
        [[followups]] (rfm run)."""  # noqa: E501
        from rfm_cli.core.options import ListOptions

        given = {flag.field: self.values[flag.name] for flag in FLAGS if flag.field}
        winback, winback_days = self.values["winback"], self.values["winback_days"]
        return ListOptions(
            **given,
            channel=self.values["channels"] or "csv",
            hashed=not self.values["no_hash"],
            winback=(str(st.settings.get("winback_days", winback_days))
                     if winback or winback_days is not None else False),
            churn_thresholds=st.settings.churn_thresholds() if self.values["churn_risk"] else None,
            tag_settings=st.settings.tag_settings() if self.values["aov_band"] else None,
            exclude=tuple(self.exclude_files()) if with_exclude else (),
            followups=followups,
        )


Command = Callable[..., Any]


def with_list_flags(only: Collection[str] | None = None) -> Callable[[Command], Command]:
    """Give the command the list flags (all, or the names in `only`) in place of its `lists` parameter."""
    flags = [f for f in FLAGS if only is None or f.name in only]
    unknown = set(only or ()) - {f.name for f in FLAGS}
    if unknown:
        raise AssertionError(f"no list flag named {sorted(unknown)}")

    def decorate(func: Command) -> Command:
        own = inspect.signature(func, eval_str=True)
        names = list(own.parameters)
        if "lists" not in names:
            raise AssertionError(f"{func.__qualname__} needs a `lists: ListFlags` parameter for the flags")
        at = names.index("lists")
        params = list(own.parameters.values())
        kind = params[at].kind
        generated = [inspect.Parameter(f.name, kind, default=f.default, annotation=f.option) for f in flags]
        signature = own.replace(parameters=params[:at] + generated + params[at + 1:])

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            values = {f.name: f.default for f in FLAGS}
            given = {f.name: bound.arguments.pop(f.name) for f in flags if f.name in bound.arguments}
            values.update(given)
            return func(**bound.arguments, lists=ListFlags(values))

        command.__signature__ = signature  # what Typer reads (inspect.signature honours it)
        command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        del command.__wrapped__  # or inspect.signature would unwrap to `func` and miss the flags
        return command

    return decorate
