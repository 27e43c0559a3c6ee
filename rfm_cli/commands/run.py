"""rfm run FILE_OR_DIR... --out-dir DIR: import, score and export in one go."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfm_cli.commands._common import (
    AsOf,
    Categories,
    DateFormat,
    MapOption,
    MaxRejects,
    RejectsDir,
    RulesFile,
    Scheme,
    Source,
    Window,
    check_list_options,
    import_options,
    load_rules,
    print_cut_points,
    print_import_reports,
    print_summary,
    progress_on_terminal,
    state,
    window_option,
)
from rfm_cli.commands.export import (
    AovBand,
    BatchSize,
    Bought,
    ChannelOption,
    ChurnRisk,
    Codes,
    Cooldown,
    CouponKey,
    Encoding,
    Exclude,
    Lang,
    ListFormat,
    MinMonetary,
    MinOrders,
    NoHash,
    Overdue,
    PhoneFormat,
    RecencyDays,
    Region,
    RequireConsent,
    SendWindow,
    SmsProvider,
    SmsVars,
    Template,
    TierOption,
    Winback,
    WinbackDays,
    build_spec,
    print_manifest,
    print_removed,
    winback_window,
)

HELP = """Import the exports, score every customer and write the segment lists, in one go.

Takes every option of `rfm export` and writes the same folder: DIR/tiers/<tier>.csv (every
customer of the tier), summary.csv, cut_points.csv, and the send lists DIR/send/<channel>/<list>.csv.
A file whose bytes were imported before (under any name) is skipped and said so. Each run stores
a snapshot of every customer's tier for its as-of date (re-running a date replaces it) and writes
DIR/entered/<tier>.csv: the customers who entered each tier since the previous snapshot
(everyone, on the first run). The database changes only if every list was written, and the lists
appear only once the database has committed: a failed run leaves both as they were.

\b
Examples:
  rfm run sample_data/orders.csv --out-dir segments
  rfm run sample_data/ --out-dir segments --channel sms --winback \\
    --cooldown 30"""


def command(
    ctx: typer.Context,
    inputs: Annotated[list[Path], typer.Argument(metavar="FILE_OR_DIR", help="Exports, or folders of them.",
                                                 show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-d", metavar="DIR", help="Folder for the lists.")] = Path(
        "segments"),
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
    maps: MapOption = None,
    max_rejects: MaxRejects = None,
    source: Source = None,
    date_format: DateFormat = None,
    rejects_dir: RejectsDir = Path("rejects"),
    categories: Categories = None,
) -> None:
    from rfm_cli.core import api
    from rfm_cli.core.scoring import parse_as_of

    st = state(ctx)
    progress_on_terminal(st)
    rules = load_rules(st, scheme, rules_file)
    check_list_options(tiers, channels, rules)
    spec = build_spec(out_dir, tiers, channels, fmt, recency_days, min_orders, min_monetary, phone_format, region,
                      sms_vars, batch_size, coupon_key, codes, no_hash, lang, encoding, cooldown,
                      winback_window(st, winback, winback_days), overdue=overdue, churn_risk=churn_risk,
                      churn_thresholds=st.settings.churn_thresholds() if churn_risk else None,
                      bought=bought, aov_band=aov_band,
                      tag_settings=st.settings.tag_settings() if aov_band else None,
                      template=template, sms_provider=sms_provider, send_window=send_window,
                      require_consent=require_consent)
    options = import_options(st, maps, max_rejects, source, date_format, rejects_dir, categories)
    outcome = api.run(st.db, inputs, spec, rules, parse_as_of(as_of), options, exclude=exclude or [], wait=st.wait,
                      window=window_option(window))
    print_import_reports(st, outcome.reports)
    print_cut_points(st, outcome.score)
    print_summary(st, outcome.score)
    print_manifest(st, outcome.manifest)
    print_removed(st, outcome.removed, out_dir)
    st.say(f"wrote {len(outcome.written)} files to {out_dir}; database {st.db}")
