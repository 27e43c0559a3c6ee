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
    sms,
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
from rfm_cli.core.errors import ExitCode, RfmError
from rfm_cli.help_text import APP_HELP, GLOBAL_OPTIONS, SUMMARIES, VERSION_HELP


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rfm {__version__}")
        raise typer.Exit()


def main_options(
    ctx: typer.Context,
    db: DbOption = None,
    wait: WaitOption = None,
    quiet: QuietOption = False,
    log_json: LogJsonOption = False,
    memory_limit: MemoryLimitOption = None,
    debug: DebugOption = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help=VERSION_HELP)
    ] = False,
) -> None:
    ctx.obj = State(db_flag=None, wait=0.0, quiet=False, debug=False)
    apply_globals(ctx, {"db": db, "wait": wait, "quiet": quiet, "log_json": log_json,
                        "memory_limit": memory_limit, "debug": debug})


# name -> (command function, help): the commands; then the groups of sub-commands.
COMMANDS = {
    **{name: (module.command, module.HELP) for name, module in (
        ("import", importing), ("score", score), ("export", export), ("run", run), ("status", status),
        ("explain", explain), ("inspect", inspect), ("report", report))},
    "moves": (moves.moves, moves.MOVES_HELP),
    "history": (moves.customer_history, moves.HISTORY_HELP),
}
GROUPS = {"imports": imports, "rules": rules, "suppress": suppress, "sms": sms}


def build_app(names: tuple[str, ...] = tuple(SUMMARIES)) -> typer.Typer:
    """The Typer app with these commands (all of them by default, in the order of `rfm --help`)."""
    built = typer.Typer(
        name="rfm",
        help=APP_HELP,
        no_args_is_help=False,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: rich's panels were over half of `rfm --help`
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback(cls=RootGroup)(main_options)
    for name in names:
        if name in COMMANDS:
            function, text = COMMANDS[name]
            built.command(name, help=text, short_help=SUMMARIES[name], cls=RfmCommand)(function)
        else:
            module = GROUPS[name]
            built.add_typer(module.app, name=name, help=module.HELP, short_help=SUMMARIES[name], cls=RfmGroup)
    return built


app = build_app()


def _command_name(args: list[str]) -> str | None:
    """The command a command line names: its first word that is not a global option or its value."""
    takes_value = {names[0] for names, metavar, _ in GLOBAL_OPTIONS.values() if metavar}
    words = iter(args)
    for word in words:
        if word in takes_value:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def app_for(args: list[str]) -> typer.Typer:
    """Only the command the line names: Typer reads the signature of every command it registers
    (0.05-0.1 s of CPU for all of them); an unknown or missing command gets them all, for the
    did-you-mean and the help."""
    name = _command_name(args)
    return build_app((name,)) if name in SUMMARIES else app


def _error(message: str) -> None:
    sys.stderr.write(f"rfm: error: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn every outcome into one of the documented exit codes."""
    args = argv if argv is not None else sys.argv[1:]
    debug = "--debug" in args
    started = time.monotonic()
    try:
        code = app_for(args)(args=argv, prog_name="rfm", standalone_mode=False)
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

