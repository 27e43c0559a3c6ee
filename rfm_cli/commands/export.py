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
    load_rules,
    print_cut_points,
    print_summary,
    progress_on_terminal,
    state,
    window_option,
)
from rfm_cli.commands._list_flags import ListFlags, with_list_flags

HELP = """Write the segment lists from the database into DIR: the state of every tier and
tonight's send lists, plus manifest.json (rows written and dropped with reasons, sha256, rules).

State, complete every night: DIR/tiers/<tier>.csv (every customer of the tier), summary.csv,
cut_points.csv. Sends, who to message tonight: DIR/send/<channel>/<list>.csv, one list per tier
(--tier keeps some) or the win-back list (--winback: silent 60-90 days, any tier). Channels: csv
(full rows, the default), sms, coupon, email, shopify, klaviyo, mailchimp, google, meta.
Day-N lists (--days-since-first-order, --days-since-last-order) go to the same place, once per
customer and trigger order.
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
  rfm export --out-dir due --overdue 7 --channel sms
  rfm export --out-dir day7 --days-since-first-order 7:9 --who first_time"""

FromScores = Annotated[Path | None, typer.Option(
    "--from-scores", metavar="FILE",
    help="Write the lists from scores computed elsewhere (rfm score --engine ... -o FILE: csv, parquet "
         "or json) instead of scoring the database.")]

def print_removed(st, removed: list[Path], out_dir: Path) -> None:
    """The files of the previous run that this one does not write, removed (layout.stale_files)."""
    if removed:
        names = ", ".join(p.relative_to(out_dir).as_posix() for p in removed[:5])
        more = f" and {len(removed) - 5:,} more" if len(removed) > 5 else ""
        st.say(f"removed {len(removed):,} files the previous run wrote and this one does not: {names}{more}")


def print_manifest(st, manifest: dict) -> None:
    from rfm_cli.commands._common import log

    log(files_written=len(manifest.get("files", [])),
        entered={f["tier"]: f["rows"] for f in manifest.get("files", [])
                 if f["channel"] == "entered"} or None)

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


@with_list_flags()
def command(
    ctx: typer.Context,
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", "-d", metavar="DIR", help="Folder for the lists.")] = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", metavar="-",
        help="- streams one send list (one tier or --winback, one channel) to stdout.")] = None,
    lists: ListFlags = None,
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
    lists.check(rules)
    spec = lists.options(st).spec(out_dir or Path("."))
    if window_option(window) and from_scores:
        raise UsageError("--window applies when rfm scores; scores from --from-scores were computed "
                         "elsewhere: leave out one of the two")
    scores = plan_results.read_scores(from_scores, rules, parse_as_of(as_of)) if from_scores else None
    if output == "-":
        def to_stdout(frame) -> None:
            write_stdout(frame, spec.fmt, encoding=spec.encoding)

        streamed, result = api.export_stream(st.db, spec, rules, parse_as_of(as_of), to_stdout,
                                             exclude=lists.exclude_files(), wait=st.wait, scores=scores,
                                             window=window, say=st.say)
        print_cut_points(st, result)
        st.say(f"{streamed.rows:,} rows" + (" (dropped: " + ", ".join(f"{k} {v:,}" for k, v in sorted(
            streamed.dropped.items())) + ")" if streamed.dropped else ""))
        return
    outcome = api.export(st.db, spec, rules, parse_as_of(as_of), exclude=lists.exclude_files(), wait=st.wait,
                         scores=scores, window=window)
    print_cut_points(st, outcome.score)
    print_summary(st, outcome.score)
    print_manifest(st, outcome.manifest)
    print_removed(st, outcome.removed, spec.out_dir)
    st.say(f"wrote {len(outcome.written)} files to {spec.out_dir}")
