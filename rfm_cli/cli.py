"""The `rfm` command: global options, command registration, and exceptions mapped to exit codes.

Heavy libraries (duckdb, polars, pyarrow) are imported only inside commands, so `rfm --help`
and `rfm --version` stay instant.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import time
from typing import Annotated, Any

import typer

from rfm_cli import __version__
from rfm_cli.commands import (
    audit,
    campaign,
    consent,
    explain,
    export,
    forget,
    importing,
    imports,
    inspect,
    levels,
    moves,
    predict,
    report,
    rules,
    run,
    score,
    sms,
    sql,
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
from rfm_cli.core import events, runtime
from rfm_cli.core.errors import ExitCode, Interrupted, RfmError, disk_full_error
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
    runtime.command = ctx.invoked_subcommand  # its name only: the lock file and --log-json record it
    ctx.obj = State()
    # A store opened by this run takes the memory limit the settings give (flag > env > rfm.toml),
    # asked only when a store opens: commands without a database never read rfm.toml for it.
    runtime.use_memory_limit(lambda: ctx.obj.memory_limit)
    apply_globals(ctx, {"db": db, "wait": wait, "quiet": quiet, "log_json": log_json,
                        "memory_limit": memory_limit, "debug": debug})


# name -> (command function, help): the commands; then the groups of sub-commands.
COMMANDS = {
    **{name: (module.command, module.HELP) for name, module in (
        ("import", importing), ("score", score), ("export", export), ("run", run), ("status", status),
        ("explain", explain), ("inspect", inspect), ("report", report), ("predict", predict),
        ("sql", sql), ("levels", levels), ("forget", forget), ("audit", audit))},
    "moves": (moves.moves, moves.MOVES_HELP),
    "history": (moves.customer_history, moves.HISTORY_HELP),
}
GROUPS = {"imports": imports, "rules": rules, "suppress": suppress, "sms": sms, "campaign": campaign,
          "consent": consent}


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


def command_for(args: list[str]) -> typer.core.TyperGroup:
    """Only the command the line names: Typer reads the signature of every command it registers
    (0.03-0.1 s of CPU for all of them); an unknown or missing command gets them all, for the
    did-you-mean and the help."""
    name = _command_name(args)
    return _click_command(name if name in SUMMARIES else None)


@functools.cache
def _click_command(name: str | None) -> typer.core.TyperGroup:
    """Built once a process (2-3 ms a command): a library or a test runs many command lines."""
    return typer.main.get_command(build_app((name,)) if name is not None else app)


def _error(message: str, args: list[str]) -> None:
    sys.stderr.write(f"rfm: error: {mask_contacts(message, args)}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn every outcome into one of the documented exit codes.
    With --log-json, the run's record is kept by a reporter (commands/_log_json.py) and written at exit."""
    from rfm_cli.commands._log_json import JsonLog

    args = argv if argv is not None else sys.argv[1:]
    started = time.monotonic()
    json_log = JsonLog() if "--log-json" in args else None
    with events.reporting(json_log):
        code = _run(args, argv)
    if json_log is not None:
        _log_json(args, code, time.monotonic() - started, json_log.fields)
    sys.exit(code)


def _run(args: list[str], argv: list[str] | None) -> int:
    """Run the command line; the exit code, with the error line (if any) written and recorded."""
    debug = "--debug" in args
    restore_signals = runtime.install_signal_handlers()
    message = None
    signalled = None
    try:
        try:
            code = command_for(args).main(args=argv, prog_name="rfm", standalone_mode=False)
            code = code if isinstance(code, int) else 0
        finally:
            signalled = runtime.received
            runtime.hold()  # the command is over: a signal from now on must not cut the outcome short
            _flush_stdout()
    except BaseException as exc:  # noqa: BLE001 - every outcome becomes a documented exit code
        code, message = _outcome(exc)
        if debug and message is not None and code != int(ExitCode.USAGE) and isinstance(exc, Exception):
            import traceback

            traceback.print_exc()
    finally:
        # Run as the program, it stays deaf to signals from here to its exit: the outcome is decided (a
        # default handler would now kill it, and a finished run would end as "killed by SIGTERM").
        restore_signals(ignore=argv is None)
    if signalled is not None and code == 0:
        # The signal was swallowed where Python could not raise it (a callback from C) and the run
        # went on to its end: everything it did is committed and published.
        code = int(ExitCode.INTERRUPTED)
        message = _interrupted(signalled)
    if message is not None:
        _error(message, args)
        events.record(error=mask_contacts(message, args))
    return code


def _outcome(exc: BaseException) -> tuple[int, str | None]:
    """The exit code and the one-line message (None: say nothing) for how the run ended."""
    import typer._click.exceptions as click_errors

    if type(exc).__name__ == "PipeClosed" or isinstance(exc, BrokenPipeError):
        # The reader of our stdout went away (`rfm score ... | head -1`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0, None
    if isinstance(exc, Interrupted):
        return int(ExitCode.INTERRUPTED), str(exc)
    if runtime.received is not None and not isinstance(exc, typer.Exit):
        # The signal surfaced as whatever the code it stopped raised: DuckDB's "Query interrupted",
        # an import's "could not read", a failed write. The run was interrupted and rolled back.
        return int(ExitCode.INTERRUPTED), _interrupted(runtime.received)
    if isinstance(exc, typer.Exit):
        if exc.exit_code == int(ExitCode.INTERRUPTED):  # typer's word for a KeyboardInterrupt: silent
            return exc.exit_code, _interrupted(signal.SIGINT)
        return exc.exit_code, None
    if isinstance(exc, (KeyboardInterrupt, typer.Abort)):
        return int(ExitCode.INTERRUPTED), _interrupted(signal.SIGINT)
    if isinstance(exc, RfmError):
        return int(exc.exit_code), str(exc)
    if isinstance(exc, SystemExit):
        return (exc.code if isinstance(exc.code, int) else 1), None
    full = disk_full_error(exc)
    if full is not None:
        return int(full.exit_code), str(full)
    if isinstance(exc, click_errors.UsageError):
        return int(ExitCode.USAGE), usage_error_line(exc)
    if isinstance(exc, click_errors.ClickException):
        return exc.exit_code, exc.format_message()
    if not isinstance(exc, Exception):
        raise exc
    # A bug. Its text can quote a cell of the input (a name, a phone): only its type and where it
    # happened are shown; --debug prints the traceback.
    where = _where(exc)
    return int(ExitCode.INTERNAL), (
        f"internal error: {type(exc).__name__}{where}; rerun with --debug and report it"
    )


def _interrupted(signum: int) -> str:
    return str(Interrupted(runtime.signal_name(signum), after_commit=runtime.committed))


def _where(exc: BaseException) -> str:
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "rfm_cli" in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    path = frames[-1].filename.replace("\\", "/")
    return f" at {path[path.rindex('rfm_cli'):]}:{frames[-1].lineno}"


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


# Phones and emails given as arguments (rfm suppress add 13812345678 someone@example.com, rfm explain
# 13812345678 when phones are the customer keys) are masked wherever an error line or --log-json
# would repeat them. A path is never masked: errors must name the files.
_PHONE_LIKE = re.compile(r"\+?\d[\d\-. ()]{5,}\d")
_EMAIL_LIKE = re.compile(r"[^@\s/\\]+@[^@\s/\\]+")


_DATE_LIKE = re.compile(r"(19|20)\d\d[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])")


def _contacts_in(args: list[str]) -> list[str]:
    found = set()
    for arg in args:
        for piece in re.split(r"[\s,;=:'\"<>]+", arg):
            if not piece or os.path.exists(piece) or _DATE_LIKE.fullmatch(piece):
                continue  # a file name, or a date (--as-of 2020-01-01), is never a contact
            if _EMAIL_LIKE.fullmatch(piece) or (
                _PHONE_LIKE.fullmatch(piece) and sum(c.isdigit() for c in piece) >= 7
            ):
                found.add(piece)
    return sorted(found, key=len, reverse=True)  # a longer value first, so a part of it is not masked alone


def mask_contacts(text: str, args: list[str]) -> str:
    for value in _contacts_in(args):
        if "@" in value:
            local, _, domain = value.partition("@")
            masked = f"{local[:1]}***@{domain}"
        else:
            masked = "*" * (len(value) - 4) + value[-4:]
        text = text.replace(value, masked)
    return text


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


def _log_json(args: list[str], code: int, seconds: float, fields: dict[str, Any]) -> None:
    import json

    named = [a for a in args if not a.startswith("-") and a in app_commands()]
    command = runtime.command or (named[0] if named else None)
    record = {"command": command, "exit_code": code, "seconds": round(seconds, 3), **fields}
    text = mask_contacts(json.dumps(record, ensure_ascii=False, default=str), args)
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def app_commands() -> set[str]:
    """The names of the commands (a new command is never missing: SUMMARIES lists every one)."""
    return set(SUMMARIES)
