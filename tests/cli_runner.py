"""Run the CLI in this process, as a shell would run it (see `invoke`)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def clean_env() -> dict[str, str]:
    """The environment without RFM_* settings, so a developer's RFM_DB never leaks into a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFM_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@dataclass
class CliResult:
    """What one run of the CLI gave: the fields of subprocess.CompletedProcess that tests read.
    `stdout` and `stderr` are text as `subprocess.run(text=True, encoding="utf-8")` gives it, decoded
    when read (a Parquet or xlsx stream is read as `stdout_bytes`, the bytes as written)."""

    args: list[str]
    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return _universal_text(self.stdout_bytes)

    @property
    def stderr(self) -> str:
        return _universal_text(self.stderr_bytes)


def _universal_text(raw: bytes) -> str:
    """Bytes decoded as `subprocess.run(text=True, encoding="utf-8")` decodes them (\r\n -> \n)."""
    return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline=None).read()


class _Captured(io.BytesIO):
    """A stream's bytes that outlive the text wrapper around them (a wrapper closes its buffer when it
    goes)."""

    def close(self) -> None:
        pass


def invoke(args: Sequence[str | os.PathLike], *, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> CliResult:
    """Run `rfm ARGS` in this process, the way a shell would run it: stdout and stderr captured as
    bytes, stdin empty, RFM_* settings only from `env`, the working folder `cwd`, and whatever the
    command changed in the environment, the working folder or the process-wide state put back.

    It is the same entry point as the console script (`rfm_cli.cli.main`), without the ~0.6 s of
    interpreter start and imports a subprocess pays; tests of signals, pipes, kills and locks
    between processes start a real process instead (`rfm_process`)."""
    from rfm_cli import cli

    argv = [str(a) for a in args]
    out, err = _Captured(), _Captured()
    saved_streams = sys.stdout, sys.stderr, sys.stdin
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    sys.stdin = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        os.environ.clear()
        os.environ.update({**clean_env(), **(env or {})})
        if cwd is not None:
            os.chdir(cwd)
        _reset_process_state()
        try:
            cli.main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        _reset_process_state()
    return CliResult(argv, code, out.getvalue(), err.getvalue())


def _reset_process_state() -> None:
    """What one run of the CLI may leave in the process: the stderr console (its width and colours
    follow the run's environment). The run's reporters (progress, the --log-json record) are undone
    by `rfm_cli.cli.main` itself."""
    from rfm_cli.commands import _common

    _common._console = None
