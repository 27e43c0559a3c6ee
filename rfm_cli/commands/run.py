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
    import_options,
    load_rules,
    print_cut_points,
    print_import_reports,
    print_summary,
    progress_on_terminal,
    state,
    window_option,
)
from rfm_cli.commands._list_flags import ListFlags, with_list_flags
from rfm_cli.commands.export import print_manifest, print_removed

HELP = """Import the exports, score every customer and write the segment lists, in one go.

Takes every option of `rfm export` and writes the same folder: DIR/tiers/<tier>.csv (every
customer of the tier), summary.csv, cut_points.csv, and the send lists DIR/send/<channel>/<list>.csv.
A file whose bytes were imported before (under any name) is skipped and said so. Each run stores
a snapshot of every customer's tier for its as-of date (re-running a date replaces it) and writes
DIR/entered/<tier>.csv: the customers who entered each tier since the previous snapshot
(everyone, on the first run). The database changes only if every list was written, and the lists
appear only once the database has committed: a failed run leaves both as they were.
The follow-ups of rfm.toml ([[followups]]: name, window, since, who, channel, sms_vars) are written
each night to DIR/send/<channel>/<name>.csv, each customer once per trigger order; sms_vars gives a
follow-up's SMS list its own template columns (the other lists keep --sms-vars).

\b
Examples:
  rfm run sample_data/orders.csv --out-dir segments
  rfm run sample_data/ --out-dir segments --channel sms --winback \\
    --cooldown 30"""


@with_list_flags()
def command(
    ctx: typer.Context,
    inputs: Annotated[list[Path], typer.Argument(metavar="FILE_OR_DIR", help="Exports, or folders of them.",
                                                 show_default=False)],
    out_dir: Annotated[Path, typer.Option(
        "--out-dir", "-d", metavar="DIR", help="Folder for the lists.")] = Path("segments"),
    lists: ListFlags = None,
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
    lists.check(rules)
    spec = lists.options(st, followups=st.settings.followups()).spec(out_dir)
    options = import_options(st, maps, max_rejects, source, date_format, rejects_dir, categories)
    outcome = api.run(st.db, inputs, spec, rules, parse_as_of(as_of), options, exclude=lists.exclude_files(),
                      wait=st.wait, window=window_option(window))
    print_import_reports(st, outcome.reports)
    print_cut_points(st, outcome.score)
    print_summary(st, outcome.score)
    print_manifest(st, outcome.manifest)
    print_removed(st, outcome.removed, out_dir)
    st.say(f"wrote {len(outcome.written)} files to {out_dir}; database {st.db}")
