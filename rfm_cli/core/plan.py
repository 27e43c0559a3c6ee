"""The portable scoring plan: rfm's numbers as one SQL statement for the engine the data lives in.

Three parts, each a file in queries/ written once in DuckDB's dialect: `plan_customers` (recency,
frequency, monetary per customer from order lines), `plan_cuts` (quantile cut points over the
distinct values, integer arithmetic only) and `plan_scores` (row-wise CASEs, the tier rules
rendered from the rules file by rules_sql.py). `scoring_sql` composes them into one statement and
translates it with sqlglot (imported lazily: `rfm --help` never loads it). `lint` refuses what
sqlglot would pass to a target unchecked or quietly change (a function it does not know, DuckDB's
HUGEINT, SEMI JOIN or arg_max where the target has none, TRY_CAST turned into CAST).

No engine is imported here; rfm_cli/core/engines runs the statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from rfm_cli.core.errors import ConfigError, UsageError
from rfm_cli.core.rules import DimensionRule, RuleSet
from rfm_cli.core.rules_sql import condition_to_sql

if TYPE_CHECKING:
    from sqlglot import exp

DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")
REQUIRED_FIELDS = ("order_id", "customer_id", "order_ts", "amount")
OPTIONAL_FIELDS = ("status", "refund_amount", "customer_name", "phone", "email")
LINE_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
# BRIEF §3's words for a paid order (and the import's own `counted`), compared in lower case.
COUNTED_WORDS = ("counted", "paid", "completed", "complete", "shipped", "delivered", "success")
# The table name the parts are composed over; replaced by the user's table in the target dialect.
_INPUT = "rfm_plan_input"
_PREFIX = {"recency": "r_", "frequency": "f_", "monetary": "m_"}
_VALUE = {"recency": "recency_days", "frequency": "frequency", "monetary": "monetary"}
# DuckDB types no other target has (sqlglot writes them through: CAST(x AS INT128) on Postgres), by
# sqlglot's name -> DuckDB's.
_DUCKDB_ONLY_TYPES = {
    "INT128": "HUGEINT",
    "UINT128": "UHUGEINT",
    "UBIGINT": "UBIGINT",
    "UINT": "UINTEGER",
    "USMALLINT": "USMALLINT",
    "UTINYINT": "UTINYINT",
    "UNION": "UNION",
    "BIT": "BITSTRING",
    "TIMESTAMP_NS": "TIMESTAMP_NS",
    "TIMESTAMP_S": "TIMESTAMP_S",
    "TIMESTAMP_MS": "TIMESTAMP_MS",
}


@dataclass(frozen=True)
class LineSource:
    """Where the order lines are: a table (or view) of the target engine and its column names.

    `columns` maps a field of LINE_FIELDS to the table's column; a missing optional field is read
    as NULL (no status column: every order was paid). `amount_cents`: amount and refund_amount
    are integer cents rather than decimal money."""

    table: str = "order_lines"
    columns: Mapping[str, str | None] = field(default_factory=lambda: {f: f for f in LINE_FIELDS})
    amount_cents: bool = False

    def column(self, name: str) -> str | None:
        return self.columns.get(name)


def parse_column_map(maps: list[str] | None, present: list[str] | None = None) -> dict[str, str | None]:
    """`--map FIELD=COLUMN` options laid over the default (each field read from the column of its
    name). `present`: the table's columns when known; an optional field whose column is not among
    them is read as NULL, a required one is an error. `FIELD=` says the table has no such column."""
    columns: dict[str, str | None] = {f: f for f in LINE_FIELDS}
    for item in maps or []:
        name, sep, column = item.partition("=")
        name = name.strip()
        if not sep or name not in LINE_FIELDS:
            raise UsageError(
                f"--map {item!r} is not FIELD=COLUMN with a field of order lines; "
                f"fields: {', '.join(LINE_FIELDS)}"
            )
        columns[name] = column.strip() or None
    if present is not None:
        by_lower = {c.lower(): c for c in present}
        for name, column in list(columns.items()):
            found = column if column in present else by_lower.get((column or "").lower())
            if found is None and name in REQUIRED_FIELDS:
                raise UsageError(
                    f"the table has no column {column or name!r} for {name}; "
                    f"pass --map {name}=COLUMN (its columns: {', '.join(present[:20])})"
                )
            columns[name] = found
    missing = [f for f in REQUIRED_FIELDS if not columns.get(f)]
    if missing:
        raise UsageError(f"no column for {missing[0]}; it is required: pass --map {missing[0]}=COLUMN")
    return columns


def check_rules(rules: RuleSet) -> None:
    """Refuse what the plan cannot compute exactly as rfm does."""
    if rules.monetary.basis != "total":
        raise ConfigError(
            f"{rules.source}: monetary.basis = {rules.monetary.basis!r} is not portable (rfm rounds the "
            'average in floating point, which no SQL engine reproduces to the cent); use basis = "total"'
        )


# ------------------------------------------------------------------ the parts, in DuckDB's dialect


def _query_text(name: str) -> str:
    """A queries/ file without its header comment (the header is for readers of the file)."""
    from rfm_cli.core.store import sql

    text = sql(name)
    lines = text.splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines)


def _render(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise AssertionError(f"unrendered placeholder in {text[text.index('{{') :][:40]}")
    return text


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def lines_sql(source: LineSource) -> str:
    """The typed projection of the user's table that plan_customers.sql reads as `lines`."""

    def text(name: str, transform: str = "nullif(trim({}), '')") -> str:
        column = source.column(name)
        return transform.format(f"CAST({_quoted(column)} AS VARCHAR)") if column else "CAST(NULL AS VARCHAR)"

    def money(name: str) -> str:
        column = source.column(name)
        if not column:
            return "CAST(NULL AS DECIMAL(18, 2))"
        if source.amount_cents:
            cents = f"CAST({_quoted(column)} AS DECIMAL(18, 0))"
            return f"CAST({cents} * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(18, 2))"
        # round() after the cast: BigQuery's NUMERIC keeps 9 decimals whatever the cast says.
        return f"round(CAST({_quoted(column)} AS DECIMAL(18, 2)), 2)"

    return (
        f"SELECT {text('order_id')} AS order_id, {text('customer_id')} AS customer_id, "
        f"CAST({_quoted(source.column('order_ts'))} AS TIMESTAMP) AS order_ts, "
        f"{money('amount')} AS amount, {money('refund_amount')} AS refund_amount, "
        f"{text('status', 'lower(trim({}))')} AS status, {text('customer_name')} AS customer_name, "
        f"{text('phone')} AS phone, {text('email')} AS email "
        f"FROM {_INPUT}"
    )


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def score_case(rule: DimensionRule) -> str:
    """One dimension's 1-5 score as a CASE over `c` (customers) and `q` (the cuts row)."""
    value = f"c.{_VALUE[rule.dimension]}"
    if rule.method == "fixed":
        b = [_number(x) for x in rule.breakpoints]
        if rule.dimension == "recency":  # fewer days is better: <= b1 -> 5 ... > b4 -> 1
            whens = [f"WHEN {value} <= {b[i]} THEN {5 - i}" for i in range(4)]
        else:  # < b1 -> 1 ... >= b4 -> 5
            whens = [f"WHEN {value} >= {b[3 - i]} THEN {5 - i}" for i in range(4)]
    else:
        cut = f"q.{_PREFIX[rule.dimension]}"
        if rule.dimension == "recency":
            whens = [f"WHEN {value} < {cut}below_{k} THEN {k}" for k in range(5, 1, -1)]
        else:
            whens = [f"WHEN {value} > {cut}above_{k} THEN {k}" for k in range(5, 1, -1)]
    return "CASE " + " ".join(whens) + " ELSE 1 END"


def tier_case(rules: RuleSet) -> str:
    whens = " ".join(
        f"WHEN {condition_to_sql(t.when)} THEN '{t.name.replace(chr(39), chr(39) * 2)}'" for t in rules.tiers
    )
    return f"CASE {whens} END"


def quantile_dimensions(rules: RuleSet) -> list[str]:
    return [d for d in ("recency", "frequency", "monetary") if rules.dimension(d).method == "quantile"]


def part_texts(rules: RuleSet, as_of: date | None = None) -> dict[str, str]:
    """The three parts, rendered, in DuckDB's dialect: customers, cuts (None-free: only the quantile
    dimensions' `<prefix>cuts`), scores."""
    as_of_sql = f"CAST('{as_of.isoformat()}' AS DATE)" if as_of else "CAST(NULL AS DATE)"
    words = ", ".join(f"'{w}'" for w in COUNTED_WORDS)
    parts = {
        "customers": _render(_query_text("plan_customers"), {"as_of": as_of_sql, "counted_words": words})
    }
    quantile = quantile_dimensions(rules)
    for dimension in quantile:
        parts[f"{_PREFIX[dimension]}cuts"] = _render(_query_text("plan_cuts"), {"value": _VALUE[dimension]})
    cuts_join = "CROSS JOIN cuts AS q" if quantile else ""
    parts["scores"] = _render(
        _query_text("plan_scores"),
        {
            "r_score": score_case(rules.recency),
            "f_score": score_case(rules.frequency),
            "m_score": score_case(rules.monetary),
            "tier": tier_case(rules),
            "cuts": cuts_join,
        },
    )
    return parts


# ------------------------------------------------------------------ composing and translating


def _with_prefixed_ctes(tree: exp.Expression, prefix: str) -> list[tuple[str, exp.Expression]]:
    """The CTEs of `tree` (removed from it), renamed with `prefix`, references inside renamed too."""
    from sqlglot import exp

    key = "with_" if "with_" in tree.arg_types else "with"  # sqlglot 30 names it with_
    with_ = tree.args.get(key)
    if with_ is None:
        return []
    tree.set(key, None)
    names = {cte.alias for cte in with_.expressions}
    renamed = []
    for cte in with_.expressions:
        body = cte.this
        for node in [tree, body]:
            for table in node.find_all(exp.Table):
                if table.name in names and not table.args.get("db"):
                    table.set("this", exp.to_identifier(prefix + table.name))
        renamed.append((prefix + cte.alias, body))
    return renamed


def compose(rules: RuleSet, as_of: date | None = None, source: LineSource | None = None) -> exp.Select:
    """The whole plan as one sqlglot SELECT (DuckDB's dialect), over table `rfm_plan_input`."""
    import sqlglot

    check_rules(rules)
    customers = sqlglot.parse_one(part_texts(rules, as_of)["customers"], read="duckdb")
    ctes = [("lines", sqlglot.parse_one(lines_sql(source or LineSource()), read="duckdb"))]
    ctes += _with_prefixed_ctes(customers, "")
    ctes.append(("customers", customers))
    return _scores_over(rules, ctes)


def compose_from_customers(rules: RuleSet) -> exp.Select:
    """Parts 2 and 3 alone, over a relation `customers` with plan_customers.sql's columns (per-customer
    totals kept elsewhere; and the cut-point tests, which give customers directly)."""
    check_rules(rules)
    return _scores_over(rules, [])


def _scores_over(rules: RuleSet, ctes: list[tuple[str, exp.Expression]]) -> exp.Select:
    import sqlglot
    from sqlglot import exp

    parts = part_texts(rules)
    quantile = quantile_dimensions(rules)
    for dimension in quantile:
        prefix = _PREFIX[dimension]
        cuts = sqlglot.parse_one(parts[f"{prefix}cuts"], read="duckdb")
        ctes += _with_prefixed_ctes(cuts, prefix)
        for column in cuts.expressions:  # above_2 -> m_above_2
            column.set("alias", exp.to_identifier(prefix + column.alias))
        ctes.append((f"{prefix}cuts", cuts))
    if quantile:
        joined = " CROSS JOIN ".join(f"{_PREFIX[d]}cuts" for d in quantile)
        ctes.append(("cuts", sqlglot.parse_one(f"SELECT * FROM {joined}", read="duckdb")))
    statement = sqlglot.parse_one(parts["scores"], read="duckdb")
    for name, body in ctes:
        statement = statement.with_(name, as_=body, copy=False)
    return statement


def lint(statement: exp.Expression, dialect: str) -> list[str]:
    """What `statement` (DuckDB's dialect) would pass to `dialect` unchecked or with another meaning."""
    from sqlglot import ErrorLevel, exp
    from sqlglot.errors import UnsupportedError

    if dialect == "duckdb":
        return []
    problems = []
    for node in statement.walk():
        if isinstance(node, exp.Anonymous):
            problems.append(
                f"function {node.name}() is unknown to sqlglot and would reach {dialect} untranslated"
            )
        elif isinstance(node, exp.DataType) and node.this.name in _DUCKDB_ONLY_TYPES:
            problems.append(f"type {_DUCKDB_ONLY_TYPES[node.this.name]} exists only in DuckDB")
        elif (
            isinstance(node, exp.Join)
            and (node.kind or "").upper() in ("SEMI", "ANTI")
            and dialect != "spark"
        ):
            problems.append(f"{node.kind.upper()} JOIN does not exist in {dialect}")
        elif isinstance(node, exp.ArgMax | exp.ArgMin) and dialect == "postgres":
            problems.append(f"{node.sql(dialect='duckdb').split('(')[0]}() has no equivalent in postgres")
        elif isinstance(node, exp.TryCast) and dialect in ("postgres", "snowflake"):
            problems.append(f"TRY_CAST becomes CAST in {dialect}: a bad value raises instead of giving NULL")
    try:
        statement.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        problems.append(f"sqlglot cannot translate to {dialect}: {exc}")
    return problems


def translate(
    statement: exp.Expression, dialect: str, table: str = "order_lines", *, pretty: bool = True
) -> str:
    """`statement` (DuckDB's dialect, over rfm_plan_input) in `dialect`, reading `table`; refused
    when lint finds a problem (a bug in the plan: the tests lint every dialect)."""
    from sqlglot import ErrorLevel, exp

    if dialect not in DIALECTS:
        raise UsageError(f"--dialect {dialect!r} is not supported; use one of {', '.join(DIALECTS)}")
    problems = lint(statement, dialect)
    if problems:
        raise AssertionError(f"the scoring plan is not portable to {dialect}: " + "; ".join(problems))
    target = _table(table, dialect)
    tree = statement.copy()
    for node in list(tree.find_all(exp.Table)):
        if node.name == _INPUT:
            node.replace(target.copy())
    return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)


def _table(name: str, dialect: str) -> exp.Table:
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        return exp.to_table(name, dialect=dialect)
    except (ParseError, ValueError):
        raise UsageError(
            f"--table {name!r} is not a table name in {dialect}; write it as the engine does, "
            "e.g. schema.order_lines"
        ) from None


def scoring_sql(
    rules: RuleSet,
    dialect: str = "duckdb",
    *,
    source: LineSource | None = None,
    as_of: date | None = None,
    pretty: bool = True,
) -> str:
    """The plan as one self-contained statement in `dialect` (no trailing semicolon)."""
    source = source or LineSource()
    return translate(compose(rules, as_of, source), dialect, source.table, pretty=pretty)


def describe(rules: RuleSet, dialect: str, source: LineSource, as_of: date | None) -> str:
    """SQL comment lines that say what the statement is, for `rfm sql`."""
    from rfm_cli import __version__

    lines = [
        f"rfm {__version__} scoring plan, {dialect} dialect: one row per customer with rfm score's columns.",
        f"Input: {source.table} ("
        + ", ".join(f"{f}={c}" if c != f else f for f, c in source.columns.items() if c)
        + (", amounts in cents" if source.amount_cents else "")
        + ").",
        f"Rules: {rules.scheme} scheme from {rules.source}; as of "
        + (as_of.isoformat() if as_of else "the date of the latest counted order")
        + ".",
    ]
    lines += [f"  {rules.dimension(d).describe()}" for d in ("recency", "frequency", "monetary")]
    lines += [f"  tier {t.name}: {t.when.text}" for t in rules.tiers]
    return "\n".join("-- " + line.replace("\n", " ") for line in lines)
