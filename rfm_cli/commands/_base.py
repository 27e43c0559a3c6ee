"""The click classes every rfm command is built on.

- The global options (`--db`, `--wait`, `--quiet`, `--log-json`, `--memory-limit`, `--debug`) are
  defined once, here, and accepted before the command (`rfm --db shop.duckdb import x.csv`) or
  after it (`rfm import x.csv --db shop.duckdb`, `rfm suppress add 138… --db shop.duckdb`): people
  type them both ways. Given in both places, the later one wins, as a repeated option does, so an
  alias (`alias rfm='rfm --db shop.duckdb'`) can still be overridden on one command.
- Help without Typer's internals: arguments read `FILE_OR_DIR...`, not `{FILE_OR_DIR}...` with a
  `<list[Path]>` type beside them, and the global options get their own section.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from rfm_cli.help_text import GLOBAL_OPTIONS


def _option(name: str, **extra: Any) -> Any:
    names, metavar, text = GLOBAL_OPTIONS[name]
    return typer.Option(*names, metavar=metavar, help=text, show_default=False, **extra)


DbOption = Annotated[Path | None, _option("db")]
WaitOption = Annotated[float | None, _option("wait")]
QuietOption = Annotated[bool, _option("quiet")]
LogJsonOption = Annotated[bool, _option("log_json")]
MemoryLimitOption = Annotated[str | None, _option("memory_limit")]
DebugOption = Annotated[bool, _option("debug")]


def global_options(db: DbOption = None, wait: WaitOption = None, quiet: QuietOption = False,
                   log_json: LogJsonOption = False, memory_limit: MemoryLimitOption = None,
                   debug: DebugOption = False) -> None:
    """The signature of the global options: the root callback takes the same, and every command gets
    these as click parameters (`command_globals`)."""


GLOBAL_NAMES = ("db", "wait", "quiet", "log_json", "memory_limit", "debug")


def apply_globals(ctx: typer.Context, values: dict[str, Any]) -> None:
    """Put the global options given on the command line into the run's State (created by the root)."""
    from rfm_cli.commands._common import State

    st = ctx.find_object(State)
    if st is None:  # parsed without running the root (a parse-only check): nothing to hand over
        return
    for name, value in values.items():
        if name == "memory_limit" and value:  # store.configure checks it when a store opens (bad: 78)
            st.memory_limit_flag = value
        elif name == "db" and value is not None:
            st.db_flag = value
        elif name == "wait" and value is not None:
            st.wait_flag = value
        elif name in ("quiet", "log_json") and value:
            st.quiet = True
        elif name == "debug" and value:
            st.debug = True


def _given_after_command(ctx: Any, param: Any, value: Any) -> Any:
    from typer._click.core import ParameterSource

    if not ctx.resilient_parsing and ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
        apply_globals(ctx, {param.name: value})
    return value


@cache
def _global_params() -> tuple[Any, ...]:
    """The global options as parameters of a command: parsed like the root's, handed to State as
    they are parsed (in command-line order, so the later of two wins), never passed to the function."""
    probe = typer.Typer(add_completion=False)
    probe.command()(global_options)
    params = [p for p in typer.main.get_command(probe).params if p.name in GLOBAL_NAMES]
    for param in params:
        param.expose_value = False
        param.callback = _given_after_command
    return tuple(_convert_simply(params))


# How a command-line value becomes the parameter's type. Typer (0.2x) builds a Pydantic TypeAdapter
# for every parameter it parses, even one left out: importing pydantic and building the adapters cost
# about 0.3 s of CPU on every command. rfm's parameters are all plain (text, numbers, paths, lists
# of them), so they are converted here instead.
def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


_CONVERT: dict[Any, tuple[Any, str]] = {str: (str, "text"), int: (int, "a whole number"),
                                        float: (float, "a number"), Path: (Path, "a path"),
                                        bool: (_flag, "true or false")}


@cache
def _simple_runtime_param() -> Any:
    from dataclasses import dataclass

    from typer._click.exceptions import BadParameter
    from typer._coercion import RuntimeParam

    @dataclass(frozen=True)
    class SimpleRuntimeParam(RuntimeParam):
        convert: Any = str
        kind: str = "text"

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                if isinstance(value, list | tuple):
                    return [self.convert(item) for item in value]
                return self.convert(value)
            except (TypeError, ValueError):
                raise BadParameter(f"{value!r} is not {self.kind}", ctx=ctx, param=param) from None

    return SimpleRuntimeParam


def _convert_simply(params: list) -> list:
    """Give each plain parameter the converter above (a Typer without `_runtime_param` keeps its own)."""
    from typing import get_args, get_origin

    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        typer_converts = hasattr(param, "_runtime_param")  # Typer 0.2x; older ones convert with click types
        if descriptor is None or descriptor.file_annotation is not None or not typer_converts:
            continue
        annotation = descriptor.annotation
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        if annotation in _CONVERT and param._runtime_param is None:
            convert, kind = _CONVERT[annotation]
            param._runtime_param = _simple_runtime_param()(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation, convert=convert,
                kind=kind)
    return params


def _argument_name(param: TyperArgument) -> str:
    name = param.metavar or param.name.upper()
    return name + ("..." if param.nargs != 1 else "")


class _Help:
    """Help, usage and usage errors shared by commands and groups: plain argument names, global options
    apart, and every usage error knowing its command (so it can say `see rfm export --help`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from typer._click.exceptions import UsageError

        _convert_simply(self.get_params(ctx))  # the help option, made by click on first use
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:  # the option parser raises some without their context
            if exc.ctx is None:
                exc.ctx = ctx
            raise

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        shared = set(map(id, _global_params()))
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": [], "Global options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if isinstance(param, TyperArgument):
                sections["Arguments"].append((_argument_name(param), record[1]))
            else:
                sections["Global options" if id(param) in shared else "Options"].append(record)
        for title, rows in sections.items():
            if rows:
                with formatter.section(title + (" (before or after the command)" if title[0] == "G" else "")):
                    formatter.write_dl(rows)


class RfmCommand(_Help, TyperCommand):
    """A command that also takes the global options."""

    def __init__(self, *args: Any, params: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=[*_convert_simply(params or []), *_global_params()], **kwargs)


class RootGroup(_Help, TyperGroup):
    """`rfm` itself: its own options are the global ones."""

    def __init__(self, *args: Any, params: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=_convert_simply(params or []), **kwargs)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*_Help.collect_usage_pieces(self, ctx), self.subcommand_metavar]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _Help.format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)


class RfmGroup(RootGroup):
    """A group of sub-commands (`rfm suppress`, `rfm rules`) that also takes the global options."""

    def __init__(self, *args: Any, params: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, params=[*(params or []), *_global_params()], **kwargs)
