"""`rfm --help` and `rfm --version` without importing Typer, and the words they share with it.

Typer (with the click it carries) costs about 0.08 s of CPU to import, as much as the rest of
`rfm --help`. The root help is plain data — the app's help, the global options, one summary per
command — so `launch.main` prints it from here, laid out the way click lays it out (the same
wrapping and definition lists), and only the other command lines import Typer. cli.py and
commands/_base.py build the Typer app from the same data, and tests/test_startup.py checks that
both give the same text at every width.
"""

from __future__ import annotations

import shutil
import textwrap

from rfm_cli.core.errors import EXIT_CODE_HELP

# \b: click keeps the lines of the next paragraph as they are (no rewrapping).
_EXIT_CODES = "\b\n" + "\n".join(f"{int(code):>3}  {text}" for code, text in EXIT_CODE_HELP.items())
APP_HELP = (
    "Score every customer of an e-commerce order export on Recency, Frequency and Monetary value, "
    "put each in one tier (diamond, gold, potential, dormant) and write upload-ready lists.\n\n"
    "Quick start: rfm run orders.csv --out-dir segments\n\n"
    "Global options (--db, --quiet ...) go before or after the command. "
    "stdout carries data only; messages go to stderr.\n\n"
    f"Exit codes:\n\n{_EXIT_CODES}"
)

# name -> (option names, metavar or None for a flag, help): the global options, shown by `rfm --help`
# and taken by every command (commands/_base.py builds the Typer options from these).
GLOBAL_OPTIONS: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "db": (("--db",), "PATH", "Database file (env RFM_DB; default ./rfm.duckdb)."),
    "wait": (("--wait",), "SECONDS",
             "Wait this long for another run's lock instead of exiting 75 (default: 0)."),
    "quiet": (("--quiet", "-q"), None, "Only errors on stderr."),
    "log_json": (("--log-json",), None,
                 ("Instead of messages, one JSON line per run on stderr (files, rows, tiers, moves, seconds, "
                  "exit code).")),
    "memory_limit": (("--memory-limit",), "SIZE",
                     "Cap DuckDB's memory (e.g. 4GB); the rest spills to disk (env RFM_MEMORY_LIMIT)."),
    "debug": (("--debug",), None, "Show tracebacks."),
}
VERSION_HELP = "Print the version and exit."

# The one-line summaries of the command list, written to fit 80 columns whole (click would cut the
# first sentence of each command's help with "..."), in the order the commands are registered.
SUMMARIES = {
    "import": "Load order exports (CSV, Excel, Parquet) into the database.",
    "score": "The per-customer table: R, F, M, their scores and tier.",
    "export": "Write every tier and tonight's send lists from the database.",
    "run": "Import, score and export in one go: the command to run every day.",
    "status": "What the database holds: files imported, dates, customers, runs.",
    "explain": "Every number behind one customer's tier; --find by phone or name.",
    "inspect": "How a file would be read (platform, columns, dates); no import.",
    "report": "The tier report on the terminal, as JSON, or as one HTML page.",
    "predict": "Look ahead: P(alive), expected orders, CLV, next order due, churn.",
    "sql": "Print the scoring plan as one SQL statement for your warehouse.",
    "moves": "Who moved between tiers from one snapshot to the next.",
    "levels": "Member levels by spend and orders over a rolling window, held once reached.",
    "history": "One customer's tier and scores in every snapshot.",
    "forget": "Erase one person (phone, email or id) and keep the totals.",
    "audit": "Every list written: when, by what, sha256, personal fields.",
    "imports": "List imported files, or remove one file's import (totals rebuilt).",
    "rules": "The scoring and tier rules in force; check or freeze them.",
    "suppress": "The opt-out list no exported list may contain.",
    "sms": "Check an SMS template against the provider's rules before sending.",
    "campaign": "Campaigns with a hold-out: lists per arm, then what each earned.",
    "consent": "The consent ledger: who agreed to SMS, email or ads, when, how.",
}


def _option_names(names: tuple[str, ...], metavar: str | None) -> str:
    # click: short options first, then long ones, then the metavar
    ordered = sorted(names, key=lambda n: len(n) - len(n.lstrip("-")))
    return ", ".join(ordered) + (f" {metavar}" if metavar else "")


def _fill(text: str, width: int, indent: str) -> str:
    """click's wrap_text with preserve_paragraphs: paragraphs rewrapped, a \\b paragraph kept as is."""
    out = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":
            out.append("\n".join(indent + line for line in lines[1:]))
        else:
            wrapper = textwrap.TextWrapper(width, initial_indent=indent, subsequent_indent=indent,
                                           replace_whitespace=False)
            out.append(wrapper.fill(" ".join(lines)))
    return "\n\n".join(out)


def _definitions(rows: list[tuple[str, str]], width: int) -> str:
    """click's HelpFormatter.write_dl at indent 2: a first column of up to 30, text wrapped beside it."""
    first_col = min(max(len(first) for first, _ in rows), 30) + 2
    text_width = max(width - first_col - 2, 10)
    out = []
    for first, second in rows:
        lines = _fill(second, text_width, "").splitlines()
        if len(first) <= first_col - 2:
            head = f"  {first}" + " " * (first_col - len(first))
        else:
            head = f"  {first}\n" + " " * (first_col + 2)
        out.append(head + lines[0] + "".join(f"\n{' ' * (first_col + 2)}{line}" for line in lines[1:]))
    return "\n".join(out)


def root_help(width: int | None = None) -> str:
    """`rfm --help`, as click writes it at `width` (default: the terminal's, at most 78)."""
    if width is None:
        width = max(min(shutil.get_terminal_size().columns, 80) - 2, 50)
    options = [(_option_names(names, metavar), text) for names, metavar, text in GLOBAL_OPTIONS.values()]
    options += [("--version", VERSION_HELP), ("-h, --help", "Show this message and exit.")]
    return (f"Usage: rfm [OPTIONS] COMMAND [ARGS]...\n\n{_fill(APP_HELP, width, '  ')}\n\n"
            f"Options:\n{_definitions(options, width)}\n\n"
            f"Commands:\n{_definitions(list(SUMMARIES.items()), width)}\n")
