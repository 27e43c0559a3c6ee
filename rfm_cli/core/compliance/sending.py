"""What a list must satisfy before it may be sent, checked before any work and recorded in its manifest.

- The SMS template (`--template`): checked with `sms_template.check_template` for the provider
  (`--sms-provider`) against the variables the list provides (`--sms-vars`); a failing template
  stops the export with exit 78 before the database is read. Once the lists are built, the check
  is run again with each SMS list's own values, so the manifest says how long the longest message
  of that list is and how many billing segments it costs.
- The sending window (`--send-window 08:00-21:00`, else the provider's own): when the list may be
  sent, in the recipients' local time; a window wider than the provider allows is refused.
- Which personal fields each file carries (`personal_fields`), so the manifest says what left the
  machine, file by file.

The manifest holds no clock time (segments.py): the window is a time of day, not a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rfm_cli.core.compliance.sms_template import PROVIDERS, TemplateCheck, check_template, read_template
from rfm_cli.core.errors import ConfigError, UsageError

if TYPE_CHECKING:
    import polars as pl

# The order in which the SMS list writes its variable columns (channels.build): a positional
# template ({1}, ${1}) numbers them in --sms-vars order, so that order must be the file's.
SMS_COLUMN_ORDER = ("name", "tier", "category", "coupon")
SMS_VALUE_COLUMNS = {"name": ("name", "姓名"), "tier": ("tier", "等级"), "category": ("category", "品类"),
                     "coupon": ("coupon_code", "优惠码")}
WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
TIMEZONES = {"CN": "Asia/Shanghai (UTC+08:00)", "HK": "Asia/Hong_Kong (UTC+08:00)",
             "TW": "Asia/Taipei (UTC+08:00)", "SG": "Asia/Singapore (UTC+08:00)"}


@dataclass(frozen=True)
class SendingRules:
    """The checked sending conditions of one export (None where not asked for)."""

    provider: str = "aliyun"
    template: str | None = None
    check: TemplateCheck | None = None
    send_window: tuple[str, str] | None = None
    window_source: str | None = None  # "--send-window" or the provider's name
    region: str = "CN"
    require_consent: bool = False

    def describe(self, lists: list[Any]) -> dict[str, Any]:
        """The manifest's `sending` object; `lists`: the export's SegmentLists (for each SMS list's
        longest message and segments)."""
        out: dict[str, Any] = {"sms_provider": self.provider, "require_consent": self.require_consent}
        if self.check is not None:
            out["template"] = self.template
            out["template_check"] = self.check.to_dict() | {"lists": _per_list(self, lists)}
        if self.send_window is not None:
            out["may_send"] = {"from": self.send_window[0], "to": self.send_window[1],
                               "local_time_of": TIMEZONES.get(self.region, f"the recipients ({self.region})"),
                               "set_by": self.window_source}
        return out


def _per_list(rules: SendingRules, lists: list[Any]) -> list[dict[str, Any]]:
    found = []
    for each in lists:
        if each.channel != "sms":
            continue
        values, missing = {}, []
        for variable in dict.fromkeys(rules.check.variables):
            column = next((c for c in SMS_VALUE_COLUMNS.get(variable, (variable,))
                           if c in each.frame.columns), None)
            values[variable] = [] if column is None else _texts(each.frame.get_column(column))
            missing += [variable] if column is None else []
        longest, parts = _longest(rules, values)
        found.append({"tier": each.tier, "rows": each.rows, "longest_message": longest, "segments": parts,
                      "segments_total": parts * each.rows,
                      # a variable of the template this list has no column for (another list's sms_vars)
                      **({"variables_missing": missing} if missing else {})})
    return found


def _texts(series: pl.Series) -> list[str]:
    return [v for v in series.cast(str).drop_nulls().unique().to_list()]


def _longest(rules: SendingRules, values: dict[str, list[str]]) -> tuple[int, int]:
    from rfm_cli.core.compliance.sms_template import longest_message, segments

    provider = PROVIDERS[rules.provider]
    characters = longest_message(rules.check.text, provider, rules.check.variables, values)
    return characters, segments(characters)


def parse_window(value: str, provider: str) -> tuple[str, str]:
    """`08:00-21:00` as (from, to); refused (78) when not a window or wider than the provider's."""
    found = WINDOW.fullmatch(value.strip())
    if not found or value.strip()[:5] >= value.strip()[6:]:
        raise UsageError(f"--send-window {value!r} is not a window of one day; write it like 08:00-21:00")
    window = (value.strip()[:5], value.strip()[6:])
    allowed = PROVIDERS[provider].send_window
    if allowed and (window[0] < allowed[0] or window[1] > allowed[1]):
        raise ConfigError(
            f"--send-window {value} is wider than {provider} allows ({allowed[0]}-{allowed[1]}); "
            f"send within {allowed[0]}-{allowed[1]}")
    return window


def sending_rules(*, channels: list[str], sms_vars: tuple[str, ...], template: str | None = None,
                  provider: str = "aliyun", send_window: str | None = None, region: str = "CN",
                  require_consent: bool = False,
                  sms_lists: list[tuple[str, ...]] | None = None) -> SendingRules:
    """The checked rules, or the error that stops the export before any work: a template for a list
    without SMS, a template that breaks a rule (78), variables out of the file's order. `sms_lists`:
    the template columns of each SMS list written, each set once (followups.sms_list_vars: a
    [[followups]] table may have its own); None: --sms-vars on every list, when sms is a channel. A
    named variable must be a column of some SMS list (the manifest says which lists lack it); a
    positional one ({1}) numbers the same columns on every list."""
    from rfm_cli.core.compliance.sms_template import refuse_unless_ok

    if provider not in PROVIDERS:
        raise UsageError(f"--sms-provider {provider!r} is not known; use one of {', '.join(PROVIDERS)}")
    if sms_lists is None:
        sms_lists = [sms_vars] if "sms" in channels else []
    check = text = None
    if template is not None:
        if not sms_lists:
            raise UsageError(
                "--template is the text of the SMS list; add --channel sms, or leave --template out")
        text = read_template(template)
        columns = _template_columns(sms_lists, provider)
        check = check_template(text, provider, list_vars=columns)
        refuse_unless_ok(check)
        if PROVIDERS[provider].positional:
            _refuse_out_of_file_order(columns, tuple(sms_vars), provider)
    window, source = None, None
    if send_window is not None:
        window, source = parse_window(send_window, provider), "--send-window"
    elif PROVIDERS[provider].send_window and sms_lists:
        window, source = PROVIDERS[provider].send_window, provider
    return SendingRules(provider=provider, template=text, check=check, send_window=window,
                        window_source=source, region=region.upper(), require_consent=require_consent)


def _refuse_out_of_file_order(columns: tuple[str, ...], run_vars: tuple[str, ...], provider: str) -> None:
    """A numbered template ({1}, {2} …) numbers the columns as the list writes them: the variables
    must be given in that order, where they were given (--sms-vars, or a follow-up's sms_vars)."""
    in_file = [v for v in SMS_COLUMN_ORDER if v in columns]
    if list(columns) == in_file:
        return
    if tuple(columns) == run_vars:
        raise UsageError(f"--sms-vars {','.join(columns)} numbers the columns of {provider}'s {{1}}, "
                         f"{{2}} … but the list writes them as {','.join(in_file)}; pass --sms-vars "
                         f"{','.join(in_file)} and number the template that way")
    toml = lambda names: "[" + ", ".join(f'"{n}"' for n in names) + "]"
    raise UsageError(f"a [[followups]] sms_vars = {toml(columns)} numbers the columns of {provider}'s {{1}}, "
                     f"{{2}} … but the list writes them as {','.join(in_file)}; write sms_vars = "
                     f"{toml(in_file)} in rfm.toml and number the template that way")


def _template_columns(sms_lists: list[tuple[str, ...]], provider: str) -> tuple[str, ...]:
    """The columns one template may use across the SMS lists: any list's (named variables), or the
    one numbering every list shares (positional {1}, {2} …)."""
    if not PROVIDERS[provider].positional:
        return tuple(dict.fromkeys(v for columns in sms_lists for v in columns))
    if len(sms_lists) > 1:
        shown = " / ".join(",".join(columns) or "none" for columns in sms_lists)
        raise UsageError(f"{provider}'s template numbers the columns {{1}}, {{2}} … but the SMS lists have "
                         f"different ones ({shown}: --sms-vars and a [[followups]] sms_vars); give them the "
                         "same variables, or write each list's SMS with its own template")
    return sms_lists[0]


# ------------------------------------------------------------------ personal fields per file

# A list's column (English or Chinese header) -> the personal field it carries.
PERSONAL_COLUMNS = {
    "customer_id": "customer_id", "客户ID": "customer_id",
    "customer_name": "name", "客户名": "name", "name": "name", "姓名": "name", "Name": "name",
    "First Name": "first_name", "Last Name": "last_name", "fn": "first_name", "ln": "last_name",
    "phone": "phone", "手机号码": "phone", "Phone": "phone", "Phone Number": "phone",
    "email": "email", "邮箱": "email", "Email": "email", "Email Address": "email",
    "Country": "country", "Zip": "zip", "ct": "city", "st": "state", "zip": "zip", "country": "country",
}
PROFILE_COLUMNS = {"recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_code",
                   "tier", "previous_tier", "first_order_at", "last_order_at", "Tier", "Tags", "距今天数",
                   "购买次数", "消费金额", "R分", "F分", "M分", "RFM编码", "等级", "原等级", "首次下单时间",
                   "最近下单时间"}


def personal_fields(frame: pl.DataFrame, channel: str, hashed: bool) -> dict[str, Any]:
    """What a file carries about people: identifiers with at least one value (a column the target
    needs but left empty carries nothing), whether they are SHA-256 hashed, and the profile columns
    (scores, spend, tier) that describe the person."""
    fields = sorted({PERSONAL_COLUMNS[c] for c in frame.columns
                     if c in PERSONAL_COLUMNS and frame.get_column(c).null_count() < frame.height})
    profile = sorted(c for c in frame.columns if c in PROFILE_COLUMNS)
    return {"personal_fields": fields, "hashed": bool(hashed and channel in ("google", "meta")),
            "profile_fields": profile}
