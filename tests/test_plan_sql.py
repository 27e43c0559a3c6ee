"""The portable plan's SQL: snapshots for the engines with no server here (BigQuery, Snowflake), the
lint that refuses what sqlglot would pass through unchecked, tier rules rendered as SQL, and
`rfm sql`. The numbers themselves are checked against rfm on real engines in test_plan_engines.py
and test_plan_spark.py."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_cli.core import plan
from rfm_cli.core.rules import FIELDS, SCORE_FIELDS, build_rules, load_rules, parse_condition
from rfm_cli.core.rules_sql import condition_to_sql
from rfm_cli.core.store import sql as query

GOLDEN = Path(__file__).parent / "golden" / "plan"
DIMS = {
    "recency": {"method": "fixed", "breakpoints": [30, 60, 90, 180]},
    "frequency": {"method": "quantile"},
    "monetary": {"method": "quantile"},
}


def _snapshot(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RFM_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path}; run with RFM_UPDATE_SNAPSHOTS=1 and review the diff"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; review, then RFM_UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake"])
def test_sql_without_a_server_is_pinned(dialect: str) -> None:
    """BigQuery and Snowflake cannot run here: their statement is pinned (default rules, and custom
    rules with a quantile frequency, a fixed monetary and a hand-written tier condition, as of a
    date, on a mapped table in cents), so any change to the plan or to sqlglot shows in review."""
    default = plan.scoring_sql(load_rules(), dialect)
    custom_rules = build_rules(
        {
            **DIMS,
            "monetary": {"method": "fixed", "breakpoints": [100, 300.5, 1000, 3000]},
            "tiers": [
                {"name": "vip", "when": "m_score == 5 and 1 <= r_score < 4 or frequency in [7, 8]"},
                {"name": "o-neil", "when": "not (monetary > -10.25)"},
                {"name": "rest", "when": "true"},
            ],
        },
        "custom.toml",
    )
    source = plan.LineSource(
        table="shop.sales_lines",
        amount_cents=True,
        columns=plan.parse_column_map(
            ["order_ts=created_at", "amount=amount_cents", "refund_amount=", "status=state"]
        ),
    )
    custom = plan.scoring_sql(custom_rules, dialect, source=source, as_of=date(2026, 3, 31))
    _snapshot(f"{dialect}.sql", default + ";\n")
    _snapshot(f"{dialect}_custom.sql", custom + ";\n")
    for text in (default, custom):  # and sqlglot reads its own output back as one statement
        assert len(sqlglot.parse(text, read=dialect)) == 1


@pytest.mark.parametrize("dialect", plan.DIALECTS)
def test_the_plan_lints_clean_for_every_dialect(dialect: str) -> None:
    rules = build_rules(
        {**DIMS, "recency": {"method": "quantile"}, "tiers": [{"name": "all", "when": "true"}]},
        "all-quantile.toml",
    )
    for ruleset in (load_rules(), load_rules("classic"), rules):
        assert plan.lint(plan.compose(ruleset), dialect) == []


HAZARDS = {  # what sqlglot writes through unchanged, or changes in meaning, for another engine
    "SELECT CAST(x AS HUGEINT) FROM t": "HUGEINT",
    "SELECT epoch_us(ts) FROM t": "epoch_us",
    "SELECT md5_number_lower(id) FROM t": "md5_number_lower",
    "SELECT try_strptime(s, '%Y-%m-%d') FROM t": "try_strptime",
    "SELECT * FROM a SEMI JOIN b USING (id)": "SEMI JOIN",
    "SELECT arg_max(a, b) FROM t": "arg_max",
    "SELECT try_cast(s AS DECIMAL(18, 2)) FROM t": "TRY_CAST",
}


@pytest.mark.parametrize("statement", HAZARDS)
def test_lint_refuses_what_sqlglot_passes_through_to_postgres(statement: str) -> None:
    tree = sqlglot.parse_one(statement, read="duckdb")
    problems = plan.lint(tree, "postgres")
    assert problems and any(HAZARDS[statement].lower() in p.lower() for p in problems), problems
    with pytest.raises(AssertionError, match="not portable to postgres"):
        plan.translate(tree, "postgres")
    assert plan.lint(tree, "duckdb") == []  # DuckDB runs its own dialect as written


def test_lint_finds_what_rfms_own_queries_could_not_run_elsewhere() -> None:
    """rfm's own DuckDB SQL would not run on PostgreSQL: the lint says why (which is why the plan
    is written separately, with only portable functions)."""
    problems = plan.lint(
        sqlglot.parse_one(query("customer_rfm").replace("$as_of", "DATE '2026-01-01'"), read="duckdb"),
        "postgres",
    )
    assert any("rfm_pick_key" in p for p in problems), problems  # a macro: unknown anywhere else
    # its per-customer aggregates, macros.sql's table macro rfm_per_customer, pick contacts by arg_max
    macro = query("macros").split("MACRO rfm_per_customer(orders_net) AS TABLE", 1)[1].split(";", 1)[0]
    problems = plan.lint(sqlglot.parse_one(macro.replace("query_table(orders_net)", "orders_net"),
                                           read="duckdb"), "postgres")
    assert any("arg_max" in p.lower() or "argmax" in p.lower() for p in problems), problems


def test_bigquery_windows_take_no_nulls_last() -> None:
    """Why plan_cuts.sql writes NULLS FIRST on values that are never NULL: sqlglot cannot give
    BigQuery a window ordered NULLS LAST (DuckDB's default), and the lint says so."""
    tree = sqlglot.parse_one(
        "SELECT sum(c) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t",
        read="duckdb",
    )
    assert any("NULLS LAST" in p for p in plan.lint(tree, "bigquery"))


def test_average_monetary_is_refused_with_the_reason() -> None:
    rules = build_rules(
        {
            **DIMS,
            "monetary": {"method": "quantile", "basis": "average"},
            "tiers": [{"name": "all", "when": "true"}],
        },
        "avg.toml",
    )
    with pytest.raises(plan.ConfigError, match='not portable.*basis = "total"'):
        plan.scoring_sql(rules, "postgres")


# ------------------------------------------------------------------ tier conditions as SQL

VALUES = st.fixed_dictionaries(
    {
        "r_score": st.integers(1, 5),
        "f_score": st.integers(1, 5),
        "m_score": st.integers(1, 5),
        "recency_days": st.integers(0, 400),
        "frequency": st.integers(1, 12),
        "monetary": st.decimals(
            min_value=-50, max_value=5000, places=2, allow_nan=False, allow_infinity=False
        ),
    }
)
NUMBERS = st.one_of(
    st.integers(-5, 400), st.sampled_from([0.5, 2.5, 99.99, 300.25, -10.25, 1e3])
)


@st.composite
def conditions(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["compare", "chain", "in"] + (["and", "or", "not"] if depth < 3 else [])))
    if kind == "compare":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        left, right = draw(st.sampled_from(FIELDS)), repr(draw(NUMBERS))
        return f"{left} {op} {right}" if draw(st.booleans()) else f"{right} {op} {left}"
    if kind == "chain":
        low, high = sorted([draw(st.integers(0, 6)), draw(st.integers(0, 6))])
        return f"{low} <= {draw(st.sampled_from(SCORE_FIELDS))} < {high}"
    if kind == "in":
        items = draw(st.lists(st.integers(0, 8), max_size=3))
        return f"{draw(st.sampled_from(FIELDS))} {draw(st.sampled_from(['in', 'not in']))} {items}"
    if kind == "not":
        return f"not ({draw(conditions(depth + 1))})"
    parts = draw(st.lists(conditions(depth + 1), min_size=2, max_size=3))
    return "(" + f" {kind} ".join(parts) + ")"


@settings(max_examples=150, deadline=None)
@given(text=conditions(), rows=st.lists(VALUES, min_size=1, max_size=8))
def test_condition_to_sql_means_what_rfm_means(text: str, rows: list[dict]) -> None:
    """Any condition a rules file may hold gives the same answer in SQL (rendered by rules_sql,
    run by DuckDB, and by PostgreSQL's and Spark's translation in the engine tests) as in rfm."""
    condition = parse_condition(text, "test")
    expected = [
        condition.evaluate({k: float(v) if k == "monetary" else v for k, v in row.items()}) for row in rows
    ]
    values = " UNION ALL ".join(
        f"SELECT {i} AS i, "
        + ", ".join(
            f"CAST({row[f]} AS {'DECIMAL(18, 2)' if f == 'monetary' else 'BIGINT'}) AS {f}" for f in FIELDS
        )
        for i, row in enumerate(rows)
    )
    found = duckdb.sql(f"SELECT {condition_to_sql(condition)} FROM ({values}) ORDER BY i").fetchall()
    assert [bool(v) for (v,) in found] == expected, condition_to_sql(condition)


# ------------------------------------------------------------------ the command


def test_rfm_sql_prints_one_statement_with_custom_rules(rfm, tmp_path: Path) -> None:
    rules_file = tmp_path / "my-rules.toml"
    rules_file.write_text(
        '[[tiers]]\nname = "whales"\nwhen = "monetary >= 5000"\n[[tiers]]\nname = "others"\nwhen = "true"\n',
        encoding="utf-8",
    )
    done = rfm(
        "sql",
        "--dialect",
        "spark",
        "--rules",
        rules_file,
        "--table",
        "lake.order_lines",
        "--map",
        "order_ts=created_at",
        "--as-of",
        "2026-03-31",
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    statements = [s for s in sqlglot.parse(done.stdout, read="spark") if s is not None]
    assert len(statements) == 1
    flat = " ".join(done.stdout.split())
    assert "WHEN ( monetary >= 5000 ) THEN 'whales'" in flat and "THEN 'others'" in flat
    assert "FROM lake.order_lines" in flat and "`created_at`" in flat
    assert "CAST('2026-03-31' AS DATE)" in flat
    assert done.stdout.startswith("-- rfm ") and done.stdout.endswith(";\n")


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--dialect", "oracle"], 2, "--dialect 'oracle' is not supported"),
        (["--map", "colour=c"], 2, "is not FIELD=COLUMN"),
        (["--map", "order_id="], 2, "it is required"),
    ],
)
def test_rfm_sql_refuses_bad_options(
    rfm, assert_cli_error, args: list[str], code: int, fragment: str
) -> None:
    line = assert_cli_error(rfm("sql", *args), code)
    assert fragment in line


README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def readme_examples() -> list[str]:
    """The `rfm ...` lines of README's "When one machine is not enough"."""
    text = README.split("## When one machine is not enough\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return [re.sub(r"\s+#.*$", "", line).strip() for block in blocks for line in block.splitlines()
            if line.startswith("rfm ")]


@pytest.mark.parametrize("line", readme_examples())
def test_readme_engine_examples_parse(line: str) -> None:
    """Every example of the README's engine section is a valid command line (those that need a
    server are run against real ones in test_plan_engines.py and test_plan_spark.py)."""
    from typer.main import get_command

    from rfm_cli.cli import app

    args = shlex.split(line.split(" > ")[0])[1:]
    group = get_command(app)
    ctx = group.make_context("rfm", list(args))
    rest = [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []), *ctx.args]
    name, command, rest = group.resolve_command(ctx, rest)
    command.make_context(name, rest, parent=ctx)  # raises on an unknown option or a bad value


def test_readme_sql_example_runs(rfm) -> None:
    [line] = [x for x in readme_examples() if x.startswith("rfm sql")]
    done = rfm(*shlex.split(line.split(" > ")[0])[1:])
    assert done.returncode == 0 and len(sqlglot.parse(done.stdout, read="bigquery")) == 1, done.stderr


def test_a_table_name_is_quoted_never_spliced() -> None:
    text = plan.scoring_sql(load_rules(), "postgres", source=plan.LineSource(table="x; DROP TABLE y"))
    assert 'FROM "x; DROP TABLE y"' in text and len(sqlglot.parse(text, read="postgres")) == 1


def test_engines_and_sqlglot_stay_unloaded_for_help() -> None:
    """The default install and `rfm --help` gain nothing: no engine library and no sqlglot is
    imported by --help of any command, nor by importing the plan's modules."""
    probe = """
import json, sys
from rfm_cli.cli import main
import rfm_cli.core.plan, rfm_cli.core.rules_sql, rfm_cli.core.engines, rfm_cli.commands.sql
codes = {}
for argv in (["--help"], ["sql", "--help"], ["score", "--help"], ["export", "--help"]):
    try:
        main(argv)
    except SystemExit as exc:
        codes[" ".join(argv)] = exc.code
heavy = sorted(m for m in ("sqlglot", "pyspark", "py4j", "psycopg", "google.cloud.bigquery", "snowflake",
                           "duckdb", "polars") if m in sys.modules)
sys.stderr.write("RESULT " + json.dumps({"codes": codes, "heavy": heavy}) + "\\n")
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=60
    )
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("RESULT ")]
    result = json.loads(line[len("RESULT ") :])
    assert set(result["codes"].values()) == {0}, result
    assert result["heavy"] == [], result
