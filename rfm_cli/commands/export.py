"""rfm export --out-dir DIR: lists per tier and channel, from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    AsOf,
    RulesFile,
    Scheme,
    Window,
    check_list_options,
    load_rules,
    print_cut_points,
    print_summary,
    progress_on_terminal,
    state,
    window_option,
)

HELP = """Write the segment lists from the database into DIR: the state of every tier and
tonight's send lists, plus manifest.json (rows written and dropped with reasons, sha256, rules).

State, complete every night: DIR/tiers/<tier>.csv (every customer of the tier), summary.csv,
cut_points.csv. Sends, who to message tonight: DIR/send/<channel>/<list>.csv, one list per tier
(--tier keeps some) or the win-back list (--winback: silent 60-90 days, any tier). Channels: csv
(full rows, the default), sms, coupon, email, shopify, klaviyo, mailchimp, google, meta.
Selection, opt-outs (--exclude, `rfm suppress`, an accepts-marketing column) and --cooldown apply
to sends only, and are counted. Files appear whole or not at all; files the previous run in DIR
listed and this one does not write are removed.

\b
Examples:
  rfm export --out-dir segments
  rfm export --out-dir winback --winback --channel sms \\
    --sms-vars name,coupon --codes codes.txt
  rfm export --winback --channel coupon -o - > winback.csv
  rfm export --tier diamond --channel meta -o - > diamond-meta.csv
  rfm export --out-dir due --overdue 7 --channel sms"""

TierOption = Annotated[list[str] | None, typer.Option("--tier", "--segment", metavar="NAME",
                                                         help="Only this tier (classic scheme: segment). Repeatable.")]
ChannelOption = Annotated[list[str] | None, typer.Option(
    "--channel", "-c", metavar="NAME", help="csv, sms, coupon, email, shopify, klaviyo, mailchimp, google or "
                                           "meta; repeatable or comma-separated (default: csv).")]
ListFormat = Annotated[str, typer.Option("--format", "-f", metavar="csv|parquet|json|xlsx",
                                         help="Format of the lists.")]
RecencyDays = Annotated[str | None, typer.Option("--recency-days", metavar="FROM:TO",
                                                    help="Only customers whose last order was FROM..TO days ago.")]
MinOrders = Annotated[int | None, typer.Option("--min-orders", metavar="N", help="Only customers with N+ orders.")]
MinMonetary = Annotated[float | None, typer.Option("--min-monetary", metavar="X",
                                                      help="Only customers who spent at least X.")]
Exclude = Annotated[list[Path] | None, typer.Option("--exclude", metavar="FILE",
                                                       help="Opt-outs: phones, emails or ids in any column layout.")]
PhoneFormat = Annotated[str, typer.Option("--phone-format", metavar="national|e164",
                                          help="SMS/coupon phones as 11 digits or +86…")]
Region = Annotated[str, typer.Option("--region", metavar="CC", help="Country of numbers written without one.")]
SmsVars = Annotated[str | None, typer.Option("--sms-vars", metavar="name,tier,coupon",
                                                help="Template-variable columns of the SMS list.")]
BatchSize = Annotated[int | None, typer.Option("--batch-size", metavar="N",
                                                  help="Split SMS lists into numbered files of N rows.")]
CouponKey = Annotated[str, typer.Option("--coupon-key", metavar="customer_id|phone",
                                        help="The key of coupon/crowd uploads.")]
Codes = Annotated[Path | None, typer.Option("--codes", metavar="FILE",
                                               help="Coupon codes, one per line; a code is issued once, "
                                                    "ever (the database remembers).")]
NoHash = Annotated[bool, typer.Option("--no-hash", help="google/meta lists in plain normalised text.")]
Lang = Annotated[str, typer.Option("--lang", metavar="en|zh", help="zh: Chinese headers and tier labels.")]
Cooldown = Annotated[int | None, typer.Option("--cooldown", metavar="DAYS",
                                                 help="Leave out customers put on the same list in the "
                                                      "last DAYS days (by as-of date).")]
FromScores = Annotated[Path | None, typer.Option(
    "--from-scores", metavar="FILE",
    help="Write the lists from scores computed elsewhere (rfm score --engine ... -o FILE: csv, parquet "
         "or json) instead of scoring the database.")]
Overdue = Annotated[int | None, typer.Option(
    "--overdue", metavar="DAYS",
    help="Only customers past their next-order due date by DAYS or more (0: due today or earlier) "
         "and not dormant; the lists gain the due-date columns (see rfm predict).")]
ChurnRisk = Annotated[list[str] | None, typer.Option(
    "--churn-risk", metavar="high|medium|low",
    help="Only customers with this churn risk (rfm predict's rule); repeatable or comma-separated.")]
Bought = Annotated[list[str] | None, typer.Option(
    "--bought", metavar="KIND:VALUE",
    help="Only customers who bought it in a counted order: category:护肤 (exact), sku:A-100 (exact) or "
         "product:面膜 (a piece of the title); repeatable: any of them.")]
AovBand = Annotated[list[str] | None, typer.Option(
    "--aov-band", metavar="low|mid|high",
    help="Only customers in this average-order-value band (tertiles, or rfm.toml [tags] aov_bands); "
         "repeatable or comma-separated.")]
Winback = Annotated[bool, typer.Option(
    "--winback", help="Also write the win-back list send/<channel>/winback.csv: customers whose last order "
                      "was 60-90 days ago, whatever their tier (instead of one list per tier, unless --tier).")]
WinbackDays = Annotated[str | None, typer.Option(
    "--winback-days", metavar="FROM:TO",
    help="The win-back window in days (implies --winback; rfm.toml: winback_days) (default: 60:90).")]
Encoding = Annotated[str, typer.Option("--encoding", metavar="utf-8|utf-8-sig",
                                       help="utf-8-sig adds a BOM so Excel on Windows reads Chinese.")]
Template = Annotated[str | None, typer.Option(
    "--template", metavar="FILE|TEXT", help="The SMS text: checked against the provider's rules before any "
                                            "work (exit 78 naming the rule it breaks), kept in the manifest.")]
SmsProvider = Annotated[str, typer.Option("--sms-provider", metavar="aliyun|tencent|huawei",
                                          help="Whose SMS rules apply (template, sending hours).")]
SendWindow = Annotated[str | None, typer.Option(
    "--send-window", metavar="HH:MM-HH:MM", help="When the lists may be sent, in the recipients' local time "
                                                 "(default: the provider's; huawei 08:00-21:00); in the manifest.")]
RequireConsent = Annotated[bool, typer.Option(
    "--require-consent", help="Only customers with recorded consent for the channel (rfm consent).")]


def build_spec(out_dir, tiers, channels, fmt, recency_days, min_orders, min_monetary, phone_format, region, sms_vars,
               batch_size, coupon_key, codes, no_hash, lang, encoding, cooldown=None, winback=False, *,
               overdue=None, churn_risk=None, churn_thresholds=None, bought=None, aov_band=None,
               tag_settings=None, **sending):
    """The flags as the library's ListOptions (which checks them) and the list builder's spec.
    `sending`: template, sms_provider, send_window, require_consent (core/compliance/sending.py)."""
    from rfm_cli.core.options import ListOptions

    return ListOptions(tier=tiers, channel=channels or "csv", format=fmt, recency_days=recency_days,
                       min_orders=min_orders, min_monetary=min_monetary, phone_format=phone_format, region=region,
                       sms_vars=sms_vars, batch_size=batch_size, coupon_key=coupon_key, codes=codes,
                       hashed=not no_hash, lang=lang, encoding=encoding, cooldown=cooldown,
                       winback=winback, overdue=overdue, churn_risk=churn_risk,
                       churn_thresholds=churn_thresholds, bought=bought, aov_band=aov_band,
                       tag_settings=tag_settings, **sending).spec(out_dir)


def winback_window(st, winback: bool, winback_days: str | None) -> str | bool:
    """--winback / --winback-days as ListOptions' winback: the window, from the flag, RFM_WINBACK_DAYS
    or rfm.toml's winback_days (default 60:90); False when neither flag is given."""
    if not winback and winback_days is None:
        return False
    return str(st.settings.get("winback_days", winback_days))


def print_removed(st, removed: list[Path], out_dir: Path) -> None:
    """The files of the previous run that this one does not write, removed (layout.stale_files)."""
    if removed:
        names = ", ".join(p.relative_to(out_dir).as_posix() for p in removed[:5])
        more = f" and {len(removed) - 5:,} more" if len(removed) > 5 else ""
        st.say(f"removed {len(removed):,} files the previous run wrote and this one does not: {names}{more}")


def print_manifest(st, manifest: dict) -> None:
    from rfm_cli.commands._common import log

    log(files_written=len(manifest.get("files", [])),
        entered={f["tier"]: f["rows"] for f in manifest.get("files", []) if f["channel"] == "entered"} or None)

    for note in manifest.get("predictions", {}).get("notes", []):
        st.say(note)
    for entry in manifest.get("files", []):
        dropped = ", ".join(f"{k} {v:,}" for k, v in entry["dropped"].items())
        st.say(f"  {entry['path']}: {entry['rows']:,} rows" + (f" (dropped: {dropped})" if dropped else ""))
    if manifest.get("coupon_codes_left") is not None:
        st.say(f"  coupon codes left unused: {manifest['coupon_codes_left']:,}")
    sending = manifest.get("sending") or {}
    for each in (sending.get("template_check") or {}).get("lists", []):
        st.say(f"  SMS to {each['tier']}: longest message {each['longest_message']} characters, "
               f"{each['segments']} segment(s) each, {each['segments_total']:,} billed in all")
    if sending.get("may_send"):
        window = sending["may_send"]
        st.say(f"  send only between {window['from']} and {window['to']}, {window['local_time_of']}")


def command(
    ctx: typer.Context,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", "-d", metavar="DIR", help="Folder for the lists.")]
    = None,
    output: Annotated[str | None, typer.Option("--output", "-o", metavar="-",
                                                  help="- streams one send list (one tier or --winback, one channel) to stdout.")] = None,
    tiers: TierOption = None,
    channels: ChannelOption = None,
    fmt: ListFormat = "csv",
    recency_days: RecencyDays = None,
    min_orders: MinOrders = None,
    min_monetary: MinMonetary = None,
    exclude: Exclude = None,
    phone_format: PhoneFormat = "national",
    region: Region = "CN",
    sms_vars: SmsVars = None,
    batch_size: BatchSize = None,
    coupon_key: CouponKey = "customer_id",
    codes: Codes = None,
    no_hash: NoHash = False,
    lang: Lang = "en",
    encoding: Encoding = "utf-8",
    cooldown: Cooldown = None,
    winback: Winback = False,
    winback_days: WinbackDays = None,
    template: Template = None,
    sms_provider: SmsProvider = "aliyun",
    send_window: SendWindow = None,
    require_consent: RequireConsent = False,
    overdue: Overdue = None,
    churn_risk: ChurnRisk = None,
    bought: Bought = None,
    aov_band: AovBand = None,
    as_of: AsOf = None,
    window: Window = None,
    scheme: Scheme = None,
    rules_file: RulesFile = None,
    from_scores: FromScores = None,
) -> None:
    from rfm_cli.core import api, plan_results
    from rfm_cli.core.errors import UsageError
    from rfm_cli.core.scoring import parse_as_of
    from rfm_cli.core.sinks import write_stdout

    st = state(ctx)
    progress_on_terminal(st)
    if (out_dir is None) == (output is None) or (output is not None and output != "-"):
        raise UsageError("no destination for the lists; give --out-dir DIR, or -o - for one list on stdout")
    rules = load_rules(st, scheme, rules_file)
    check_list_options(tiers, channels, rules)
    spec = build_spec(out_dir or Path("."), tiers, channels, fmt, recency_days, min_orders, min_monetary,
                      phone_format, region, sms_vars, batch_size, coupon_key, codes, no_hash, lang, encoding,
                      cooldown, winback_window(st, winback, winback_days), overdue=overdue,
                      churn_risk=churn_risk, churn_thresholds=st.settings.churn_thresholds() if churn_risk else None,
                      bought=bought, aov_band=aov_band, tag_settings=st.settings.tag_settings() if aov_band else None,
                      template=template, sms_provider=sms_provider, send_window=send_window,
                      require_consent=require_consent)
    if window_option(window) and from_scores:
        raise UsageError("--window applies when rfm scores; scores from --from-scores were computed elsewhere: "
                         "leave out one of the two")
    scores = plan_results.read_scores(from_scores, rules, parse_as_of(as_of)) if from_scores else None
    if output == "-":
        def to_stdout(frame) -> None:
            write_stdout(frame, spec.fmt, encoding=spec.encoding)

        streamed, result = api.export_stream(st.db, spec, rules, parse_as_of(as_of), to_stdout,
                                             exclude=exclude or [], wait=st.wait, scores=scores, window=window,
                                             say=st.say)
        print_cut_points(st, result)
        st.say(f"{streamed.rows:,} rows" + (" (dropped: " + ", ".join(f"{k} {v:,}" for k, v in sorted(
            streamed.dropped.items())) + ")" if streamed.dropped else ""))
        return
    outcome = api.export(st.db, spec, rules, parse_as_of(as_of), exclude=exclude or [], wait=st.wait,
                         scores=scores, window=window)
    print_cut_points(st, outcome.score)
    print_summary(st, outcome.score)
    print_manifest(st, outcome.manifest)
    print_removed(st, outcome.removed, spec.out_dir)
    st.say(f"wrote {len(outcome.written)} files to {spec.out_dir}")
