"""The `rfm` console entry point: `rfm --help` and `rfm --version` answered before Typer is imported
(see help_text.py); every other command line goes to rfm_cli.cli.main."""

from __future__ import annotations

import os
import sys

# Polars' jemalloc reads its options from this variable (its symbols carry the `_rjem_` prefix).
ALLOCATOR = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")


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
    # Polars' allocator (jemalloc) keeps the pages a step frees for ~10 s before giving them back, so
    # the scoring's temporary columns stayed resident beside the next step's: `rfm score` of 10M
    # orders under a 400 MB cap peaked at 951 MB, 728 MB with freed pages given back at once. CPU:
    # no difference measured at 50k and 1M orders; at 10M from none to +9% over four pairs of runs.
    # Read when Polars loads, hence here; a value the environment already has stands.
    os.environ.setdefault(*ALLOCATOR)
    from rfm_cli.cli import main as run_command

    run_command(argv)
