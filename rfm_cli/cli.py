"""The `rfm` command: global options, command registration, and exceptions mapped to exit codes.

Heavy libraries (duckdb, polars, pyarrow) are imported only inside commands, so `rfm --help`
and `rfm --version` stay instant.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from rfm_cli import __version__
from rfm_cli.commands import explain, export, importing, inspect, moves, report, rules, run, score, suppress
from rfm_cli.commands import predict as predict_command
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


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option("--db", metavar="PATH", help="Database file (env RFM_DB; default ./rfm.duckdb).", show_default=False),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", metavar="SECONDS", help="Wait this long for another run's lock instead of exiting 75."
        ),
    ] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="Instead of messages, one JSON line per run on "
                                                               "stderr (files, rows, tiers, moves, seconds, "
                                                               "exit code).")] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option("--memory-limit", metavar="SIZE", help="Cap DuckDB's memory (e.g. 4GB); the rest spills to "
                                                            "disk (env RFM_MEMORY_LIMIT).", show_default=False),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    if memory_limit:  # store.configure reads and checks it (a bad size exits 78)
        os.environ["RFM_MEMORY_LIMIT"] = memory_limit
    ctx.obj = State(db_flag=db, wait=wait, quiet=quiet or log_json, debug=debug)


app.command("import", help=importing.HELP)(importing.command)
app.command("score", help=score.HELP)(score.command)
app.command("export", help=export.HELP)(export.command)
app.command("run", help=run.HELP)(run.command)
app.command("explain", help=explain.HELP)(explain.command)
app.command("inspect", help=inspect.HELP)(inspect.command)
app.command("report", help=report.HELP)(report.command)
app.command("predict", help=predict_command.HELP)(predict_command.command)

app.add_typer(rules.app, name="rules", help=rules.HELP)
app.command("moves", help=moves.MOVES_HELP)(moves.moves)
app.command("history", help=moves.HISTORY_HELP)(moves.customer_history)
app.add_typer(suppress.app, name="suppress", help=suppress.HELP)


def _error(message: str) -> None:
    sys.stderr.write(f"rfm: error: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn every outcome into one of the documented exit codes."""
    args = argv if argv is not None else sys.argv[1:]
    debug = "--debug" in args
    started = time.monotonic()
    if not [a for a in args if not a.startswith("-")] and not {"--help", "-h", "--version"} & set(args):
        _error("no command given; see rfm --help for the commands (e.g. rfm run orders.csv --out-dir segments)")
        sys.exit(int(ExitCode.USAGE))
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

            hint = (
                f"see rfm {exc.ctx.command.name if exc.ctx and exc.ctx.command.name != 'rfm' else ''} --help"
            )
            _error(f"{exc.format_message()}; {' '.join(hint.split())}")
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


def _log_json(args: list[str], code: int, seconds: float) -> None:
    import json

    from rfm_cli.commands._common import RUN_LOG

    command = next((a for a in args if not a.startswith("-") and a in app_commands()), None)
    record = {"command": command, "exit_code": code, "seconds": round(seconds, 3), **RUN_LOG}
    sys.stderr.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stderr.flush()


def app_commands() -> set[str]:
    return {"import", "score", "export", "run", "explain", "inspect", "rules", "suppress", "moves", "history",
            "predict"}

