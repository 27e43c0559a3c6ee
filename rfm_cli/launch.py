"""The `rfm` console entry point: `rfm --help` and `rfm --version` answered before Typer is imported
(see help_text.py); every other command line goes to rfm_cli.cli.main."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--help"], ["-h"], ["--version"]):
        if args == ["--version"]:
            from rfm_cli import __version__

            sys.stdout.write(f"rfm {__version__}\n")
        else:
            from rfm_cli.help_text import root_help

            sys.stdout.write(root_help())
        sys.stdout.flush()
        sys.exit(0)
    from rfm_cli.cli import main as run_command

    run_command(argv)
