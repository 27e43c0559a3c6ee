"""The `rfm` command: global options, command registration, and exceptions mapped to exit codes.

Heavy libraries (duckdb, polars, pyarrow) are imported only inside commands, so `rfm --help`
and `rfm --version` stay instant.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from rfm_cli import __version__
from rfm_cli.commands import (
    explain,
    export,
    importing,
    imports,
    inspect,
    moves,
    report,
    rules,
    run,
    score,
    status,
    suppress,
)
from rfm_cli.commands._base import (
    DbOption,
    DebugOption,
    LogJsonOption,
    MemoryLimitOption,
    QuietOption,
    RfmCommand,
    RfmGroup,
    RootGroup,
    WaitOption,
    apply_globals,
)
from rfm_cli.commands._common import State
from rfm_cli.core.errors import EXIT_CODE_HELP, ExitCode, RfmError

# \b: click keeps the lines of the next paragraph as they are (no rewrapping).
EXIT_CODES_TEXT = "\b\n" + "\n".join(f"{int(code):>3}  {text}" for code, text in EXIT_CODE_HELP.items())

app = typer.Typer(
    name="rfm",
    help=(
        "Score every customer of an e-commerce order export on Recency, Frequency and Monetary value, "
        "put each in one tier (diamond, gold, potential, dormant) and write upload-ready lists.\n\n"
        "Quick start: rfm run orders.csv --out-dir segments\n\n"
        "stdout carries data only; messages go to stderr.\n\n"
        f"Exit codes:\n\n{EXIT_CODES_TEXT}"
    ),
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich's panels (rich.markdown, rich.traceback, rendering) were over half of `rfm --help`
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rfm {__version__}")
        raise typer.Exit()


@app.callback(cls=RootGroup)
def main_options(
    ctx: typer.Context,
    db: DbOption = None,
    wait: WaitOption = None,
    quiet: QuietOption = False,
    log_json: LogJsonOption = False,
    memory_limit: MemoryLimitOption = None,
    debug: DebugOption = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = State(db_flag=None, wait=0.0, quiet=False, debug=False)
    apply_globals(ctx, {"db": db, "wait": wait, "quiet": quiet, "log_json": log_json,
                        "memory_limit": memory_limit, "debug": debug})


# The one-line summaries of `rfm --help`, written to fit 80 columns whole (click would cut the first
# sentence of each command's help with "...").
SUMMARIES = {
    "import": "Load order exports (CSV, Excel, Parquet) into the database.",
    "score": "The per-customer table: R, F, M, their scores and tier.",
    "export": "Write the segment lists (per tier, per channel) from the database.",
    "run": "Import, score and export in one go: the command to run every day.",
    "status": "What the database holds: files imported, dates, customers, runs.",
    "explain": "Every number behind one customer's tier; --find by phone or name.",
    "inspect": "How a file would be read (platform, columns, dates); no import.",
    "report": "The tier report on the terminal, as JSON, or as one HTML page.",
    "moves": "Who moved between tiers from one snapshot to the next.",
    "history": "One customer's tier and scores in every snapshot.",
    "imports": "List imported files, or remove one file's import (totals rebuilt).",
    "rules": "The scoring and tier rules in force; check or freeze them.",
    "suppress": "The opt-out list no exported list may contain.",
}
for _name, _module in (("import", importing), ("score", score), ("export", export), ("run", run),
                       ("status", status), ("explain", explain), ("inspect", inspect), ("report", report)):
    app.command(_name, help=_module.HELP, short_help=SUMMARIES[_name], cls=RfmCommand)(_module.command)
app.command("moves", help=moves.MOVES_HELP, short_help=SUMMARIES["moves"], cls=RfmCommand)(moves.moves)
app.command("history", help=moves.HISTORY_HELP, short_help=SUMMARIES["history"], cls=RfmCommand)(
    moves.customer_history)
for _name, _module in (("imports", imports), ("rules", rules), ("suppress", suppress)):
    app.add_typer(_module.app, name=_name, help=_module.HELP, short_help=SUMMARIES[_name], cls=RfmGroup)



def _error(message: str) -> None:
    sys.stderr.write(f"rfm: error: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn every outcome into one of the documented exit codes."""
    args = argv if argv is not None else sys.argv[1:]
    debug = "--debug" in args
    started = time.monotonic()
    try:
        code = app(args=argv, prog_name="rfm", standalone_mode=False)
        code = code if isinstance(code, int) else 0
    except RfmError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _error(str(exc))
        code = int(exc.exit_code)
        from rfm_cli.commands._common import log

        log(error=str(exc))

    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        _error("interrupted")
        code = int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        _error("interrupted; nothing was changed")
        code = int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of our stdout went away (`rfm score ... | head -1`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except Exception as exc:  # noqa: BLE001 - the last resort: click's usage errors, then genuine bugs
        from typer._click.exceptions import ClickException, UsageError

        if type(exc).__name__ == "PipeClosed":
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            code = 0
        elif type(exc).__name__ == "InterruptException" or (
            isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()
        ):
            # Ctrl-C inside a DuckDB query: the transaction was rolled back.
            _error("interrupted; nothing was changed")
            code = int(ExitCode.INTERRUPTED)
        elif isinstance(exc, UsageError):
            _error(usage_error_line(exc))
            code = int(ExitCode.USAGE)
        elif isinstance(exc, ClickException):
            _error(exc.format_message())
            code = exc.exit_code
        else:
            if debug:
                import traceback

                traceback.print_exc()
            _error(f"internal error: {type(exc).__name__}: {exc}; rerun with --debug and report it")
            code = int(ExitCode.INTERNAL)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    if "--log-json" in args:
        _log_json(args, code, time.monotonic() - started)
    sys.exit(code)


def usage_error_line(exc) -> str:
    """Click's usage error as rfm's one line: `<what went wrong>; <how to fix it>`. Click's sentences
    ("Missing argument 'FILE'." / "No such command 'scor'. Did you mean 'score'?") lose the full stop
    before the `;`, and a suggestion becomes part of the fix."""
    path = exc.ctx.command_path if exc.ctx else "rfm"
    text = " ".join(exc.format_message().split())
    if text == "Missing command." and path == "rfm":
        return ("no command given; see rfm --help for the commands "
                "(e.g. rfm run orders.csv --out-dir segments)")
    if text == "Missing command.":
        names = ", ".join(exc.ctx.command.commands)
        return f"no command given after {path}; use one of {names} (see {path} --help)"
    what, _, suggestion = text.partition(". ")
    what = what.rstrip(".")
    fix = f"see {path} --help"
    if suggestion:
        fix = f"{suggestion[0].lower()}{suggestion[1:]} See {path} --help"
    return f"{what[0].lower()}{what[1:]}; {fix}"


def _log_json(args: list[str], code: int, seconds: float) -> None:
    import json

    from rfm_cli.commands._common import RUN_LOG

    command = next((a for a in args if not a.startswith("-") and a in app_commands()), None)
    record = {"command": command, "exit_code": code, "seconds": round(seconds, 3), **RUN_LOG}
    sys.stderr.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stderr.flush()


def app_commands() -> set[str]:
    return set(SUMMARIES)

