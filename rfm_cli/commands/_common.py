"""What every command shares: global state, option types, the stderr console, report printing."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rfm_cli.core.config import Settings
    from rfm_cli.core.ingest.pipeline import FileReport, ImportOptions
    from rfm_cli.core.rules import RuleSet
    from rfm_cli.core.scoring import ScoreResult


def log(**fields: Any) -> None:
    """What this run did, for --log-json: facts by name, reported as events (core/events.py) to the
    run's record (commands/_log_json.py), which `rfm_cli.cli.main` prints once at exit."""
    from rfm_cli.core import events

    events.record(**fields)


@dataclass
class State:
    """One run's global options as given (flags), resolved through the settings' one precedence
    (flag > RFM_* environment > rfm.toml > default) when first used."""

    db_flag: Path | None = None
    quiet: bool = False
    debug: bool = False
    wait_flag: float | None = None
    memory_limit_flag: str | None = None
    _settings: Any = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from rfm_cli.core.config import load_settings

            self._settings = load_settings()
        return self._settings

    @property
    def db(self) -> str:
        return str(self.settings.get("db", str(self.db_flag) if self.db_flag else None))

    @property
    def wait(self) -> float:
        value = self.settings.get("wait", self.wait_flag)
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = -1.0
        if not seconds >= 0:  # also NaN
            from rfm_cli.core.errors import ConfigError

            raise ConfigError(f"wait {value!r} ({self.settings.source_of('wait', self.wait_flag)}) is not a "
                              "number of seconds; give it like 600")
        return seconds

    @property
    def memory_limit(self) -> str | None:
        return self.settings.get("memory_limit", self.memory_limit_flag)

    def say(self, message: str) -> None:
        """A message for a person, on stderr; silenced by --quiet."""
        if not self.quiet:
            # On a terminal (or with COLUMNS) a message wraps between words; in a log it stays one line.
            one_line = not sys.stderr.isatty() and not os.environ.get("COLUMNS", "").isdigit()
            console().print(message, highlight=False, markup=False, soft_wrap=one_line,
                            overflow=None if one_line else "fold")


_console = None


def console():
    global _console
    if _console is None:
        from rich.console import Console

        # Not a terminal (a log, a pipe): wide, so tables in logs keep one line per row; COLUMNS
        # (as on a terminal) says otherwise.
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else None if sys.stderr.isatty() else 200
        _console = Console(stderr=True, highlight=False, width=width)
    return _console


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 entry`, `2 entries`, `1,024 files`."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def state(ctx: typer.Context) -> State:
    return ctx.obj


def progress_on_terminal(st: State) -> None:
    """A progress bar for long work (big imports, scoring millions), on a terminal only: never in
    pipes, logs or cron mail, never with --quiet."""
    if not st.quiet and sys.stderr.isatty():
        from rfm_cli.commands._progress import RichBar
        from rfm_cli.core.events import add_reporter

        add_reporter(RichBar(console()))


# ------------------------------------------------------------------ shared options

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD|today",
        help="The day the scores describe (default: date of the latest counted order).",
    ),
]
Window = Annotated[
    str | None,
    typer.Option(
        "--window",
        "--since",
        metavar="SPAN|YYYY-MM-DD",
        help="Analysis window: only orders of the last SPAN (365d, 52w, 12m, 2y) up to the as-of date, or "
             "since a date, count for frequency and monetary; customers with none in it are not scored "
             "(default: all history).",
    ),
]


def window_option(value: str | None) -> str | None:
    """--window checked now (a bad span is a usage error before any work), passed on as given."""
    from datetime import date

    from rfm_cli.core.scoring import window_start

    window_start(value, date(2000, 1, 1))
    return value


Scheme = Annotated[
    str | None,
    typer.Option(
        "--scheme",
        metavar="tiers|classic",
        help="tiers (diamond/gold/potential/dormant) or classic (11 named segments) (default: tiers).",
    ),
]
RulesFile = Annotated[
    Path | None,
    typer.Option("--rules", metavar="FILE", help="A rules file (TOML) laid over the built-in rules."),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        metavar="FIELD=HEADER",
        help="Read FIELD from column HEADER, e.g. --map customer_id=买家会员名. Repeatable.",
    ),
]
MaxRejects = Annotated[
    str | None,
    typer.Option(
        "--max-rejects",
        metavar="N|P%",
        help="Fail the import when more rows than this are unreadable (default: 1%).",
    ),
]
Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        metavar="csv|parquet|json|xlsx",
        help="Output format (default: from the file name, else csv).",
    ),
]

# --format of the commands that show a result: text on the terminal (stderr), or JSON data on stdout.
TextOrJson = Annotated[
    str, typer.Option("--format", "-f", metavar="text|json", help="text (stderr) or json (stdout).")
]


def check_text_or_json(fmt: str) -> None:
    from rfm_cli.core.errors import UsageError

    if fmt not in ("text", "json"):
        raise UsageError(f"--format {fmt!r} is not supported here; use text or json")


def check_names(option: str, given: list[str], known: list[str] | tuple[str, ...], what: str) -> None:
    """Refuse an unknown name now, before any import or scoring, with the closest known one."""
    import difflib

    from rfm_cli.core.errors import UsageError

    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"{option} {name!r} is not {what}; {hint}use one of {', '.join(known)}")


def check_list_options(tiers: list[str] | None, channels: list[str] | None, rules: RuleSet) -> None:
    """--tier/--segment against the rules' tiers, --channel against the channels: before any work."""
    from rfm_cli.core.channels import CHANNELS

    names = [n.strip().lower() for value in channels or [] for n in value.split(",")]
    check_names("--channel", names, CHANNELS, "a channel")
    check_names("--segment" if rules.scheme == "classic" else "--tier", tiers or [], rules.tier_names(),
                f"a tier of the {rules.scheme} scheme")


def load_rules(st: State, scheme: str | None, rules_file: Path | None) -> RuleSet:
    from rfm_cli.core.rules import load_rules as _load

    return _load(st.settings.get("scheme", scheme), st.settings.rules_overrides(rules_file))


Source = Annotated[str | None, typer.Option(
    "--source", metavar="NAME",
    help="Force a platform profile (taobao, jd, pinduoduo, douyin, shopify, "
         "woocommerce, amazon, online_retail, online_retail_ii, canonical, "
         "generic_en, generic_zh, or one from rfm.toml) (default: detected).")]
DateFormat = Annotated[str | None, typer.Option(
    "--date-format", metavar="FORMAT",
    help="Day/month order of slashed dates, e.g. %d/%m/%Y or %m/%d/%Y "
         "(default: settled by the data, else an error).")]


Categories = Annotated[Path | None, typer.Option(
    "--categories", metavar="FILE",
    help="A CSV of pattern,category rows: a SKU (exact) or a piece of the product title (a glob with * "
         "or ?) and its category, for lines whose export has none; stored for later imports and lists.")]
RejectsDir = Annotated[Path | None, typer.Option(
    "--rejects", metavar="DIR", help="Write the unreadable rows to DIR/<file>-<time>.csv.")]
# `rfm score FILE` and the other in-memory readers write nothing unless asked.
RejectsDirIfAsked = Annotated[Path | None, typer.Option(
    "--rejects", metavar="DIR",
    help="Write the unreadable rows to DIR/<file>-<time>.csv (default: not written).")]


def import_options(st: State, maps: list[str] | None, max_rejects: str | None, source: str | None = None,
                   date_format: str | None = None, rejects_dir: Path | None = None,
                   categories: Path | None = None) -> ImportOptions:
    from rfm_cli.core.ingest.dates import normalise_date_format
    from rfm_cli.core.ingest.mapping import parse_map_options
    from rfm_cli.core.ingest.pipeline import ImportOptions, max_rejects_allowed

    limit = str(st.settings.get("max_rejects", max_rejects))
    max_rejects_allowed(limit, 100)  # refuse a bad value now, not on the night a bad row arrives
    return ImportOptions(overrides=parse_map_options(maps or []), max_rejects=limit,
                         source=st.settings.get("source", source),
                         date_format=normalise_date_format(st.settings.get("date_format", date_format)),
                         user_profiles=st.settings.file_values.get("profiles"), rejects_dir=rejects_dir,
                         categories=categories)




def print_import_reports(st: State, reports: list[FileReport]) -> None:
    log(files=[
        {"file": r.source_file, "skipped_as": r.skipped_as} if r.skipped_as else
        {"file": r.source_file, "rows_read": r.rows_read, "imported": r.imported, "duplicates": r.duplicates,
         "excluded": r.excluded, "rejected": r.rejected, "orders_updated": r.orders_updated,
         "warnings": r.warnings}
        for r in reports])
    if st.quiet:
        return
    from rfm_cli.commands._tables import Col
    from rfm_cli.core.ingest.stage import reject_place

    rows = []
    for r in reports:
        if r.skipped_as:
            st.say(f"{r.source_file}: skipped, the same bytes were imported from {r.skipped_as}")
            continue
        excluded = f"{r.excluded_total:,}"
        if r.excluded:
            excluded += " (" + ", ".join(f"{k} {v:,}" for k, v in r.excluded.items()) + ")"
        rows.append([r.source_file, f"{r.rows_read:,}", f"{r.imported:,}", f"{r.duplicates:,}", excluded,
                     f"{r.rejected:,}"])
    if rows:
        columns = [Col("file", min_text=16), Col("rows read", True), Col("imported", True),
                   Col("duplicates", True, drop=1), Col("excluded", min_text=12), Col("rejected", True)]
        print_table("Import", columns, rows)
    for r in reports:
        for warning in r.warnings:  # ids that lost digits, dates far from the rest, the decimal comma…
            st.say(f"{r.source_file}: warning: {warning}")
        if r.orders_updated:
            st.say(f"{r.source_file}: {r.orders_updated:,} stored orders updated to this file's state")
        for reject in r.first_rejects[:3]:
            st.say(
                f"{r.source_file}: {reject_place(reject)} rejected ({reject['column']}: {reject['reason']})"
            )
        if r.rejected > 3:
            st.say(
                f"{r.source_file}: {r.rejected:,} rows rejected in all; they are kept in the database's "
                "rfm_rejects table"
            )


def print_cut_points(st: State, result: ScoreResult) -> None:
    """The cut points in force, reported with every run (BRIEF §3)."""
    if st.quiet:
        return
    rules = result.rules
    st.say(
        f"as of {result.as_of}: {result.customers_scored:,} customers scored, "
        f"{rules.scheme} scheme ({rules.source})"
    )
    if result.since:
        st.say(f"  analysis window: orders from {result.since} to {result.as_of}; customers with none in it "
               "are not scored")
    for dimension in ("recency", "frequency", "monetary"):
        rule = rules.dimension(dimension)
        if rule.method == "fixed":
            st.say(f"  {rule.describe()}")
        else:
            bands = result.cut_points.filter(dimension=dimension)
            parts = [
                f"{row['score']}: {row['min_value']:,.2f}-{row['max_value']:,.2f}"
                for row in bands.iter_rows(named=True)
                if row["customers"]
            ]
            st.say(f"  {dimension}: quantile; " + ", ".join(parts))


def print_summary(st: State, result: ScoreResult) -> None:
    log(as_of=result.as_of.isoformat(), customers=result.customers_scored,
        tiers={row["tier"]: row["customers"] for row in result.summary().iter_rows(named=True)})
    if st.quiet:
        return

    from rfm_cli.commands._tables import Col

    rows = [[row["tier"], row["label_zh"], f"{row['customers']:,}", f"{row['customer_pct']:.1f}%",
             f"{row['revenue']:,.2f}", f"{row['revenue_pct']:.1f}%"]
            for row in result.summary().iter_rows(named=True)]
    columns = [Col("tier", min_text=9), Col("", min_text=4, drop=1), Col("customers", True),
               Col("share", True), Col("revenue", True), Col("revenue share", True)]
    print_table(f"Tiers as of {result.as_of}", columns, rows)


def print_table(title: str | None, columns: list, rows: list, **table_options: Any) -> None:
    """A table on the stderr console, fitted to its width (see _tables.fitted)."""
    from rfm_cli.commands._tables import fitted

    out = console()
    out.print(fitted(title, columns, rows, out.width, **table_options))


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


OutputOption = Annotated[str | None, typer.Option("--output", "-o", metavar="PATH|-",
                                                     help="Write the table to PATH, or - for stdout "
                                                          "(default: stdout when piped, else shown).")]


def emit_table(st: State, frame: Any, title: str, output: str | None) -> None:
    """A table for people or programs: CSV on stdout when piped (or -o -), a file with -o PATH,
    else shown on the terminal (stderr)."""
    from rfm_cli.core.sinks import format_for, write_file, write_stdout

    if output == "-" or (output is None and not stdout_is_terminal()):
        write_stdout(frame, "csv")
        return
    if output is not None:
        path = Path(output)
        write_file(frame, format_for(path, None), path)
        st.say(f"wrote {frame.height:,} rows to {path}")
        return
    if st.quiet:
        return
    from rfm_cli.commands._tables import Col

    columns = [Col(name, numeric=frame[name].dtype.is_numeric()) for name in frame.columns]
    rows = [["" if v is None else (f"{v:,}" if isinstance(v, int) else str(v)) for v in row]
            for row in frame.iter_rows()]
    print_table(title, columns, rows)
