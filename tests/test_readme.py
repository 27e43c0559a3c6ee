"""The README is tested (STYLE practice 11): its Quick start, every `rfm` example, every command's help.

Each example runs in a copy of a workspace holding `sample_data/` (plus the files the examples
name), after the Quick start has run there.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import typer.main
from cli_runner import CliResult, clean_env, invoke

from rfm_cli.cli import app, command_for
from rfm_cli.core.errors import EXIT_CODE_HELP, ExitCode

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TIER_FILES = {*(f"tiers/{tier}.csv" for tier in ("diamond", "gold", "potential", "dormant")), "summary.csv",
              "cut_points.csv", "send/csv/dormant.csv"}
COLUMNS = (
    "customer_id,customer_name,phone,email,first_order_at,last_order_at,recency_days,frequency,monetary,"
    "r_score,f_score,m_score,rfm_code,tier"
)


def section(title: str) -> str:
    """The README text from the `## title` heading to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def code_blocks(text: str, lang: str | None = None) -> list[str]:
    return [
        body
        for tag, body in re.findall(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
        if lang in (None, tag)
    ]


def rfm_lines(text: str) -> list[str]:
    """Every `rfm ...` command in the code blocks of the text (after `&&`, before a comment)."""
    found = []
    for block in code_blocks(text):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = re.sub(r"\s+#.*$", "", part).strip()
                if part.startswith("rfm "):
                    found.append(part)
    return found


COMMAND_EXAMPLES = rfm_lines(section("Commands"))
ALL_EXAMPLES = [
    *rfm_lines(section("Quick start")),
    *rfm_lines(section("Your first five minutes")),
    *COMMAND_EXAMPLES,
    *rfm_lines(section("Running every night")),
]


# ------------------------------------------------------------------ the README's shape


def test_quick_start_is_two_sh_blocks() -> None:
    text = section("Quick start")
    assert text.count("```sh") == 2
    install, tests = code_blocks(text, "sh")
    assert "rfm run sample_data/orders.csv --out-dir segments" in install
    assert "pytest" in tests
    assert len(code_blocks(text)) == 2  # nothing else fenced in the Quick start


def test_exit_code_table_matches_the_code() -> None:
    rows = re.findall(r"^\| (\d+) \| ([^|]+?) \|", section("Exit codes"), re.MULTILINE)
    assert {int(code) for code, _ in rows} == {int(code) for code in ExitCode}
    for code, meaning in rows:
        # the README may say more, never something else: the help text's words start the README's
        assert meaning.split("(")[0].strip() in EXIT_CODE_HELP[ExitCode(int(code))], (code, meaning)


def test_the_commands_section_has_examples_for_every_documented_command() -> None:
    assert len(COMMAND_EXAMPLES) >= 10
    documented = set(re.findall(r"^### `rfm (\w+)", section("Commands"), re.MULTILINE))
    assert documented >= {"import", "score", "export", "run", "explain", "rules"}
    assert documented <= {line.split()[1] for line in COMMAND_EXAMPLES}


def _parse(args: list[str]) -> None:
    """Parse a command line with the real click objects, without running anything (the whole
    group, built once a process: building it for each of ~100 lines was 1% of the suite)."""
    group = command_for([])
    ctx = group.make_context("rfm", list(args))
    rest = [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []), *ctx.args]
    command = group
    while rest:
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)
        rest = (
            [*(getattr(ctx, "_protected_args", None) or []), *ctx.args]
            if hasattr(command, "commands")
            else []
        )


def split_shell(line: str) -> tuple[list[str], str, dict[str, str]]:
    """An example line as (rfm arguments, the command it pipes into, {stream: file it is redirected to})."""
    command, _, pipe = line.partition(" | ")
    redirects = {}
    for stream, target in re.findall(r"\s(2?)>>?\s*(\S+)", command):
        redirects["stderr" if stream else "stdout"] = target
    command = re.sub(r"\s2?>>?\s*\S+", "", command)
    return shlex.split(command)[1:], pipe.strip(), redirects


@pytest.mark.parametrize("line", ALL_EXAMPLES)
def test_every_readme_example_parses(line: str) -> None:
    _parse(split_shell(line)[0])


def test_the_parse_check_can_fail() -> None:
    with pytest.raises(Exception, match="No such option"):
        _parse(["score", "--no-such-option"])


# ------------------------------------------------------------------ the examples, run


def _rfm(args: list[str], cwd: Path) -> CliResult:
    return invoke(args, cwd=cwd)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_data/ and every file the examples name; then the Quick start, as a new user would run it."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "sample_data", work / "sample_data")
    orders = work / "sample_data" / "orders.csv"
    shutil.copy(orders, work / "orders.csv")
    for folder in ("exports", "inbox"):
        (work / folder).mkdir()
        shutil.copy(orders, work / folder / "orders.csv")
    frame = pl.read_csv(orders, infer_schema=False)
    half = frame.height // 2
    frame.head(half).write_csv(work / "orders-2026-10.csv")
    frame.tail(frame.height - half).write_excel(work / "orders-2026-11.xlsx")
    frame.rename({"customer_id": "buyer", "order_date": "paid_at"}).write_csv(work / "export.csv")
    [rules] = [b for b in code_blocks(README, "toml") if b.startswith("# my-rules.toml")]
    (work / "my-rules.toml").write_text(rules, encoding="utf-8")
    (work / "codes.txt").write_text("".join(f"WB{i:04d}\n" for i in range(2000)), encoding="utf-8")
    pl.DataFrame({"phone": ["13800000001", "13800000002"], "note": ["asked", "complaint"]}).write_excel(
        work / "optouts.xlsx"
    )
    # `rfm suppress import-replies --help`
    (work / "aliyun-replies.csv").write_text(
        "手机号码,上行内容,上行时间\n13842145006,退订,2026-11-21 10:00:00\n", encoding="utf-8")
    [quick_start] = rfm_lines(section("Quick start"))
    # As a new user runs it: a process of its own.
    done = subprocess.run([sys.executable, "-m", "rfm_cli", *shlex.split(quick_start)[1:]], check=False,
                          cwd=work, capture_output=True, timeout=120, env=clean_env(),
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr.decode()
    # A month of history, as a seller has after a few weeks of nightly runs: a snapshot as of
    # October (so `rfm moves` has two), November's export imported (so `rfm imports rm` has it),
    # two opt-outs (so `rfm suppress list` lists something).
    for args in (["run", "sample_data/orders.csv", "--out-dir", "october", "--as-of", "2026-10-01", "-q"],
                 ["import", "orders-2026-11.xlsx", "-q"],
                 ["suppress", "add", "--file", "optouts.xlsx", "-q"],
                 ["score", "-o", "scores.parquet", "-q"]):  # what `rfm export --from-scores` reads
        assert _rfm(args, work).returncode == 0
    shutil.copy(orders, work / "ExportOrderList2026.csv")  # the file `rfm inspect --help` names
    return work


def test_quick_start_writes_the_database_and_the_lists(workspace: Path) -> None:
    assert (workspace / "rfm.duckdb").is_file()
    out = workspace / "segments"
    assert TIER_FILES <= {p.relative_to(out).as_posix() for p in out.rglob("*")}
    summary = list(csv.DictReader(io.StringIO((workspace / "segments" / "summary.csv").read_text("utf-8"))))
    assert [r["tier"] for r in summary] == ["dormant", "diamond", "gold", "potential"]
    assert all(int(r["customers"]) > 0 for r in summary)  # the sample data fills every tier


# Commands whose table goes to stdout as CSV when stdout is not a terminal (as in these runs).
TABLE_COMMANDS = (("moves",), ("history",), ("imports", "list"), ("suppress", "list"), ("levels",),
                  ("audit",))


def _lists_written(out: Path) -> dict[str, int]:
    """Every list the folder's manifest names, with its rows."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {entry["path"]: entry["rows"] for entry in manifest["files"]}


def check_example(line: str, workspace: Path, tmp_path: Path) -> None:
    """Run one example in a copy of the workspace: it succeeds, says or writes something, and every
    output it makes (stdout, each list of an --out-dir, an -o file) holds at least one row."""
    work = tmp_path / "ws"
    shutil.copytree(workspace, work)
    args, pipe, redirects = split_shell(line)
    if args[:2] in (["campaign", "report"], ["campaign", "show"]):  # a campaign to show: made first
        made = _rfm(["campaign", "new", args[2], "--tier", "dormant", "--out-dir", "made", "-q"], work)
        assert made.returncode == 0, made.stderr
    done = _rfm(args, work)
    stdout, stderr = done.stdout, done.stderr
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr
    json_out = "--format" in args and args[args.index("--format") + 1] == "json" and "-o" not in args
    table_out = "-o" not in args and any(tuple(args[:len(c)]) == c for c in TABLE_COMMANDS)
    table_out = table_out or args[0] == "sql"
    if pipe or "stdout" in redirects or json_out or table_out:  # data on stdout
        first = stdout.splitlines()[0]
        if args[0] == "sql":  # one statement, with its header of comments
            assert first.startswith("-- rfm") and "SELECT" in stdout.upper()
        elif json_out:
            assert json.loads(stdout)  # one JSON document, nothing else, not empty
        elif pipe == "jq .tier":
            assert json.loads(stdout)["tier"] in {"diamond", "gold", "potential", "dormant"}
        elif args[0] == "score":
            assert first == COLUMNS and len(stdout.splitlines()) > 100
        else:
            assert first.strip() and not first.startswith("rfm")  # a header (a list may have one column)
            assert len(stdout.splitlines()) >= 2, stdout  # and at least one row
    else:  # everything else talks on stderr only, and says something
        assert stdout == "" and (stderr.strip() or "--quiet" in args or "-q" in args)
    if "stderr" in redirects and "--log-json" in args:  # the cron line: one JSON line per run
        [record] = stderr.splitlines()
        assert json.loads(record)["exit_code"] == 0
    if "--out-dir" in args and args[0] == "campaign":  # each arm's lists, and the control group
        out = work / args[args.index("--out-dir") + 1]
        manifest = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
        assert manifest["files"] and all(entry["rows"] > 0 for entry in manifest["files"]), line
        assert manifest["control_file"]["rows"] > 0
    elif "--out-dir" in args:
        out = work / args[args.index("--out-dir") + 1]
        assert {"summary.csv", "cut_points.csv"} <= {p.name for p in out.iterdir()}
        empty = [path for path, rows in _lists_written(out).items() if rows == 0]
        assert not empty, f"{line}: empty lists {empty}"
    if "--html" in args:
        assert (work / args[args.index("--html") + 1]).stat().st_size > 100_000
    if "-o" in args and args[args.index("-o") + 1] != "-":
        written = work / args[args.index("-o") + 1]
        frame = pl.read_parquet(written) if written.suffix == ".parquet" else pl.read_csv(written)
        assert frame.height > 0, line
        if args[0] == "score":
            assert frame.height > 100 and frame.columns == COLUMNS.split(",")
        if "classic" in args:
            assert "champions" in set(frame["tier"])


# README examples this test cannot run, and why (every other `rfm` line of every section runs).
CANNOT_RUN_HERE = {
    "--engine postgresql://": "needs a PostgreSQL server (tests/test_plan_engines.py starts one)",
    "--engine sc://": "needs a Spark Connect server",
    "--engine 'local[8]'": "needs Java and a lake folder /lake/order_lines/ (tests/test_plan_spark.py)",
    "cdnow.": "needs cdnow.csv from the awk line above; tests/test_predict_cdnow.py checks those numbers",
}


def _every_example() -> list:
    """Every `rfm` line of every README section but the Quick start (the workspace runs it), the
    campaign's (one after the other, in their own test below) and Sending lawfully's (with the reply
    and consent files they need, in tests/test_lawful_readme.py)."""
    in_order = ("Quick start", "Campaigns with a hold-out", "Sending lawfully")
    titles = [t for t in re.findall(r"^## (.+)$", README, re.MULTILINE) if t not in in_order]
    params = []
    for line in [line for title in titles for line in rfm_lines(section(title))]:
        reason = next((why for marker, why in CANNOT_RUN_HERE.items() if marker in line), None)
        params.append(pytest.param(line, marks=pytest.mark.skip(reason=reason)) if reason else line)
    return params


README_EXAMPLES = _every_example()


def test_only_examples_that_need_a_server_or_a_download_are_skipped() -> None:
    skipped = [p for p in README_EXAMPLES if not isinstance(p, str)]
    assert len(skipped) == 6 and len(README_EXAMPLES) - len(skipped) >= 38


@pytest.mark.parametrize("line", README_EXAMPLES)
def test_every_readme_example_runs_and_writes_something(line: str, workspace: Path, tmp_path: Path) -> None:
    check_example(line, workspace, tmp_path)


def test_readme_rules_example_is_a_valid_rules_file(workspace: Path) -> None:
    done = _rfm(["rules", "--check", "my-rules.toml"], workspace)
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stderr


# ------------------------------------------------------------------ help


def _commands(command, path=()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "rfm" for p, _ in COMMANDS])
def test_every_command_has_help(path: tuple[str, ...], command) -> None:
    assert (command.help or "").strip(), f"rfm {' '.join(path)} has no help text"
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option" and not param.hidden:
            assert (param.help or "").strip(), f"rfm {' '.join(path)} {param.opts[0]} has no help text"
    result = invoke([*path, "--help"])  # rfm's own entry point, in process (its commands built once)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    first_words = " ".join(command.help.split()[:3])
    assert first_words in " ".join(result.stdout.split())


def _help_examples() -> list[str]:
    """Every `rfm ...` line of every command's --help (a trailing backslash continues a line)."""
    found = []
    for _, command in COMMANDS:
        text = (command.help or "").replace("\\\n", " ")
        for line in text.splitlines():
            match = re.search(r"(?:^|Example: )\s*(rfm .*)$", line.strip())
            if match:
                found.append(" ".join(match.group(1).split()))
    return found


@pytest.mark.parametrize("line", _help_examples())
def test_every_help_example_runs_and_writes_something(line: str, workspace: Path, tmp_path: Path) -> None:
    check_example(line, workspace, tmp_path)


def test_the_python_example_runs(workspace: Path, tmp_path: Path) -> None:
    """`Use it from Python`: the block runs as written, and its win-back list holds rows."""
    [block] = code_blocks(section("Use it from Python"), "python")
    work = tmp_path / "ws"
    shutil.copytree(workspace, work)
    check = ("\nassert lists.manifest['files'][0]['path'] == 'send/sms/winback.csv'"
             "\nassert lists.manifest['files'][0]['rows'] > 0\n")
    done = subprocess.run([sys.executable, "-c", block + check], cwd=work, capture_output=True, timeout=120,
                          env=clean_env(), stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr.decode()


def test_the_campaign_section_runs_on_the_sample_and_writes_something(workspace: Path,
                                                                      tmp_path: Path) -> None:
    """README "Campaigns with a hold-out": its commands run in order on sample_data/ and every output
    holds rows (each arm's lists, the control group, the report's groups)."""
    work = tmp_path / "ws"
    shutil.copytree(workspace, work)
    lines = rfm_lines(section("Campaigns with a hold-out"))
    assert [line.split()[:3] for line in lines] == [["rfm", "campaign", "new"], ["rfm", "campaign", "report"]]
    for line in lines:
        args, _, _ = split_shell(line)
        done = _rfm(args, work)
        assert done.returncode == 0 and done.stdout == "" and done.stderr.strip(), done.stderr
    out = work / "campaigns" / "winback-nov"
    manifest = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    assert manifest["files"] and all(entry["rows"] > 0 for entry in manifest["files"])
    assert len(pl.read_csv(out / "control.csv")) == manifest["customers_by_arm"]["control"] > 0
    report = json.loads(_rfm(["campaign", "report", "winback-nov", "--format", "json"], work).stdout)
    assert all(arm["customers"] > 0 for arm in report["arms"])
