"""The SQL that turns one file's raw cells (table `raw_rows`) into typed canonical rows.

Composed per file from its column map: which columns, which status words, item-level amounts,
refund markers, order-level fields to fill down, the date format. Every check that can reject a
row is listed once (`checks`), so the fast `bad` flag and the reject reasons never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from rfm_cli.core.ingest.dates import date_sql, delivered_sql, plausible_until
from rfm_cli.core.ingest.grouping import ANY_VALUE_FIELDS, ranked_words
from rfm_cli.core.ingest.line_items import LINES, PACKED_LINES, line_item_columns
from rfm_cli.core.ingest.mapping import ORDER_LEVEL, ColumnMap
from rfm_cli.core.ingest.sniffed import RESERVED_COLUMNS
from rfm_cli.core.ingest.sql_names import cell as _cell
from rfm_cli.core.ingest.sql_names import lit, q


@dataclass
class Staging:
    cleaned: str  # SELECT list over the source `r`: typed canonical columns and _raw_* helpers
    bad: str  # boolean over the cleaned columns
    reject_column: str
    reject_reason: str
    raw_row: str  # the row's cells joined, for rfm_rejects
    joins: str  # status-map joins
    source: str  # FROM expression (raw_rows, or it with order-level fields filled down)
    date_format: str | None  # the day/month order used for slashed dates, when one was needed
    absent: tuple[str, ...] = ()  # order-level fields the file has no column for: NULL on every row
    # the raw status of every row that can be read is one of these words (see raw_status_macros)
    raw_status_words: tuple[str, ...] | None = None
    has_lines: bool = False  # the file has product columns: staged carries each row's line (_sku …)
    numbered: bool = False  # staged carries each row's place in the file (_row)
    packed: bool = False  # the lines are packed in one cell per order (_packed)
    sheets: bool = False  # a workbook: the source has _sheet and _row (see row_order)
    # Cells cleaned once under the source, before the typed columns read them: `rfm_text(status)`
    # feeds the status CASE five times over (its words, then each precedence), and a macro is
    # expanded wherever it is named: planning the repeated copies cost more than reading a small file.
    precleaned: str = ""

    def lines_sql(self) -> str:
        if self.packed:
            row = ", _row" if self.numbered else ""
            return PACKED_LINES.format(row=row, order="ORDER BY _row, item_no" if self.numbered else "")
        return LINES.format(order="ORDER BY _row" if self.numbered else "")

    def rows(self, *, detail: bool = False) -> str:
        """The typed rows. An order that does not count (unpaid, cancelled …) may have no amount
        yet (Amazon's pending orders): it counts as 0, not as an unreadable row."""
        sheet = "r._sheet" if self.sheets else "CAST(NULL AS VARCHAR)"
        extra = (f"r._line, {sheet} AS _sheet, r.{row_order(self.sheets)} AS _row_key, "
                 f"{self.raw_row} AS raw, " if detail else "")
        return f"""(SELECT * REPLACE (
        CASE WHEN amount IS NULL AND NOT _amount_present AND status IS DISTINCT FROM 'counted'
             AND status IS NOT NULL THEN 0.00 ELSE amount END AS amount)
    FROM (SELECT {extra}{self.cleaned} FROM {self.cleaned_source()} AS r {self.joins}))"""

    def cleaned_source(self) -> str:
        return f"(SELECT *, {self.precleaned} FROM {self.source})" if self.precleaned else self.source


def row_order(sheets: bool) -> str:
    """The column that orders a file's rows: a workbook's `_row` (sheet order, then row: its `_line`
    starts again on each sheet), a text file's `_line`."""
    return "_row" if sheets else "_line"


def fill_source(colmap: ColumnMap, source_table: str, headers: list[str], *, sheets: bool = False) -> str:
    """Platforms writing order-level fields only on an order's first row: the other rows take them
    (in the file's row order, so an order that runs on to the next sheet keeps them)."""
    if not colmap.options.get("fill_order_fields") or "order_id" not in colmap.columns:
        return source_table
    order = q(colmap.columns["order_id"])
    fill = {colmap.columns[f] for f in ORDER_LEVEL if f in colmap.columns}
    fill |= set(colmap.date_columns) | set(colmap.status_columns) | set(colmap.cancelled_columns)
    parts = []
    for header in headers:
        if header in fill:
            value = f"nullif(trim({q(header)}), '')"
            parts.append(f"coalesce({value}, first_value({value} IGNORE NULLS) OVER "
                         f"(PARTITION BY {order} ORDER BY {row_order(sheets)})) AS {q(header)}")
        else:
            parts.append(q(header))
    reserved = "_line, _sheet, _row" if sheets else "_line"
    return f"(SELECT {reserved}, {', '.join(parts)} FROM {source_table})"


def status_map_rows(con: duckdb.DuckDBPyConnection, colmap: ColumnMap,
                    source: str) -> list[tuple[int, str, str]]:
    """(column index, raw text, canonical status) for every distinct status value of the file."""
    rows = []
    for i, column in enumerate(colmap.status_columns):
        for (raw,) in con.execute(f"SELECT DISTINCT rfm_text(r.{q(column)}) FROM {source} AS r "
                                  f"WHERE rfm_text(r.{q(column)}) IS NOT NULL").fetchall():
            status = colmap.profile.status_of(raw)
            if status is not None:
                rows.append((i, raw, status))
    return rows


INLINE_STATUS_WORDS = 200


# Decimal separators, judged per file on its amount cells: a comma followed by one or two digits at
# the end (`12,50`, `1.234,5`) only a decimal comma explains; a point followed by one or two digits
# (`12.50`, `1,234.5`) only a decimal point. `1,234` and `1.234` are evidence for neither.
_COMMA_DECIMAL = r"^[^.,]*\d([.]\d{3})*,\d{1,2}$"
_POINT_DECIMAL = r"^[^.,]*\d(,\d{3})*[.]\d{1,2}$"


def detect_decimal_comma(con: duckdb.DuckDBPyConnection, colmap: ColumnMap,
                         source: str) -> tuple[bool, str | None]:
    """Whether the file writes amounts with a decimal comma, from the evidence of its amount cells:
    (more cells only a decimal comma explains than cells only a decimal point explains, a note for
    the reader). The cells of the losing kind are then unreadable: rejected, never misread."""
    columns = [colmap.columns[f] for f in ("amount", "refund_amount") if f in colmap.columns]
    columns += colmap.amount_from
    if not columns:
        return False, None
    cells = " UNION ALL ".join(f"SELECT r.{q(c)} AS t FROM {source} AS r" for c in columns)

    def count(separator: str, pattern: str) -> int:  # the cheap test first: most cells have no comma
        return con.execute(f"SELECT count(*) FROM ({cells}) WHERE contains(t, '{separator}') "
                           f"AND regexp_matches(rfm_amount_text(t), '{pattern}')").fetchall()[0][0]

    comma = count(",", _COMMA_DECIMAL)
    point = count(".", _POINT_DECIMAL) if comma else 0
    if comma > point:
        note = f"amounts read with a decimal comma ({comma:,} cells like 1.234,56"
        return True, note + (f"; {point:,} cells with a decimal point are rejected)" if point else ")")
    return False, None


def typed_candidates(colmap: ColumnMap, date_format: str | None) -> dict[str, str]:
    """Columns that `build` can take already typed by the CSV reader ({header: DuckDB type}): the
    amount, the refund amount and a single date column read without a day/month format. For a
    cell the reader accepts, its value is exactly try_cast(cell), which is what rfm_amount and
    rfm_timestamp return for it; a cell it rejects makes the row a CSV reject, and the caller then
    stages the file the slow way. Which candidates are worth it (clean on a sample) is the caller's call."""
    wanted = []
    if "amount" in colmap.columns and not colmap.amount_from:
        wanted.append(("amount", colmap.columns["amount"], "DECIMAL(18, 2)"))
    if "refund_amount" in colmap.columns:
        wanted.append(("refund_amount", colmap.columns["refund_amount"], "DECIMAL(18, 2)"))
    if date_format is None and len(colmap.date_columns) == 1:
        wanted.append(("order_date", colmap.date_columns[0], "TIMESTAMP"))
    if colmap.has_products:  # a line's quantity and unit price (only where no amount is made of them)
        wanted += [(name, colmap.columns[name], type_) for name, type_ in
                   (("quantity", "DOUBLE"), ("unit_price", "DECIMAL(18, 2)")) if name in colmap.columns]
    candidates = {}
    for name, header, type_ in wanted:
        # only a column that feeds nothing else: every other use expects its text
        other_uses = [h for f, h in colmap.columns.items() if f != name]
        other_uses += colmap.status_columns + colmap.cancelled_columns + colmap.amount_from
        other_uses += [h for h in colmap.date_columns if name != "order_date"]
        prefix = colmap.options.get("refund_prefix") or {}
        other_uses += [colmap.columns.get(prefix.get("column"), "")] if prefix else []
        if header not in other_uses:
            candidates[header] = type_
    return candidates


def _date_parts(colmap: ColumnMap, date_format: str | None, date_forced: bool,
                typed: dict[str, str]) -> tuple[str, str, str]:
    """(raw date text, typed date, whether a date was given). A typed cell is either read or empty
    (anything else is a CSV reject), so the checks need not cast every value back to text: the
    casts then run only for a reject reason, never in the one pass."""
    raw_date, date_expr = date_sql(colmap, date_format, date_forced)
    if len(colmap.date_columns) == 1 and colmap.date_columns[0] in typed:
        cell = "r." + q(colmap.date_columns[0])
        return f"CAST({cell} AS VARCHAR)", cell, "ordered_at IS NOT NULL"
    return raw_date, date_expr, "_raw_date IS NOT NULL"


def _refund_parts(colmap: ColumnMap, typed: dict[str, str], amount_of: str) -> tuple[str, str, str]:
    """(refund amount, its raw text, whether a given refund cell is unreadable)."""
    cell = _cell(colmap, "refund_amount")
    if colmap.columns.get("refund_amount") in typed:
        return cell, f"CAST({cell} AS VARCHAR)", "false"
    return f"{amount_of}({cell})", cell, "rfm_text(_raw_refund) IS NOT NULL"


def _amount_parts(colmap: ColumnMap, typed: dict[str, str], amount_of: str) -> tuple[str, str, str]:
    """(amount, its raw text, whether an amount was given): quantity x unit price where the profile
    says so (amount_from), else the amount column."""
    if colmap.amount_from:
        a, b = (f"r.{q(h)}" for h in colmap.amount_from)
        amount = f"CAST({amount_of}({a}) * {amount_of}({b}) AS DECIMAL(18, 2))"
        raw_amount = f"(coalesce({a}, '') || ' x ' || coalesce({b}, ''))"
        return amount, raw_amount, f"(rfm_text({a}) IS NOT NULL AND rfm_text({b}) IS NOT NULL)"
    cell = _cell(colmap, "amount")
    amount, raw_amount, amount_present = f"{amount_of}({cell})", cell, f"rfm_text({cell}) IS NOT NULL"
    if colmap.columns.get("amount") in typed:
        amount, raw_amount, amount_present = cell, f"CAST({cell} AS VARCHAR)", f"{cell} IS NOT NULL"
    if colmap.options.get("fill_order_fields"):
        # Order-level amounts sit on the first row only: the other rows add nothing.
        amount = f"coalesce({amount}, CASE WHEN NOT {amount_present} THEN 0.00 END)"
        amount_present = "true"
    return amount, raw_amount, amount_present


class Texts:
    """Cells cleaned once (`rfm_text`) under the source, for the columns the typed row reads more
    than once: a macro is expanded wherever it is named, and binding and optimising the repeated
    copies cost more than reading a small file (the status CASE names each status column's text
    five times; rfm_id names it twice). {header: name of its cleaned text}, no name a header."""

    def __init__(self, headers: list[str]):
        self._taken = {h.casefold() for h in headers}
        self.names: dict[str, str] = {}

    def of(self, header: str) -> str:
        """The cleaned text of a header's cell, as a column of the source `r`."""
        if header not in self.names:
            name = f"_text_{len(self.names)}"
            while name.casefold() in self._taken:
                name = "_" + name
            self._taken.add(name.casefold())
            self.names[header] = name
        return "r." + q(self.names[header])

    def select(self) -> str:
        return ", ".join(f"rfm_text({q(header)}) AS {q(name)}" for header, name in self.names.items())


def _status_parts(colmap: ColumnMap, status_map: list[tuple[int, str, str]] | None, texts: Texts,
                  ) -> tuple[str, str, list[str], bool]:
    """(canonical status, raw status text, the status-map joins, whether the file has status
    columns). Several status columns: the strongest reason not to count wins; a cancelled column
    set cancels; a word no rule maps is NULL (a reject)."""
    joins, statuses = [], []
    for i, column in enumerate(colmap.status_columns):
        text = texts.of(column)
        words = [(raw, status) for col, raw, status in status_map or () if col == i]
        if status_map is not None and len(words) <= INLINE_STATUS_WORDS:
            # A handful of words: a CASE, not a join per row (the join cost more than all the cleaning).
            mapped = (f"CASE {text} "
                      + " ".join(f"WHEN {lit(raw)} THEN {lit(status)}" for raw, status in words) + " END"
                      if words else "CAST(NULL AS VARCHAR)")
        else:
            joins.append(f"LEFT JOIN _status_map AS m{i} ON m{i}.col = {i} "
                         f"AND m{i}.raw = {text}")
            mapped = f"m{i}.status"
        statuses.append(f"CASE WHEN {text} IS NULL THEN NULL "
                        f"ELSE coalesce({mapped}, '?') END")
    cancelled = " OR ".join(f"rfm_text(r.{q(col)}) IS NOT NULL"
                            for col in colmap.cancelled_columns) or "false"
    if not statuses:
        return (f"CASE WHEN {cancelled} THEN 'cancelled' ELSE 'counted' END", "CAST(NULL AS VARCHAR)",
                joins, False)
    any_of = lambda value: " OR ".join(f"({s}) = '{value}'" for s in statuses)
    status = (f"CASE WHEN {cancelled} THEN 'cancelled' WHEN {any_of('?')} THEN NULL "
              + " ".join(f"WHEN {any_of(v)} THEN '{v}'"
                         for v in ("cancelled", "refunded", "unpaid", "counted"))
              + " END")
    raw_status = "concat_ws(' / ', " + ", ".join(texts.of(col) for col in colmap.status_columns) + ")"
    return status, raw_status, joins, True


def _is_refund_sql(colmap: ColumnMap) -> str:
    """A refund row by its id's prefix (UCI's C-invoices: options.refund_prefix)."""
    prefix = colmap.options.get("refund_prefix")
    if prefix and prefix.get("column") in colmap.columns:
        cell = _cell(colmap, prefix["column"])
        return f"coalesce(starts_with(rfm_id({cell}), {lit(prefix['prefix'])}), false)"
    return "false"


# Reasons quote the cell, masked (rfm_mask): a phone or an email in the wrong column must not reach
# an error line or a log.
_ROUNDED = "is a number rounded by a spreadsheet (digits lost)"


def _row_checks(date_given: str, refund_unreadable: str, dated_before: date) -> list[tuple[str, str, str]]:
    """(condition, column, reason) of every check that rejects a row, in the order they are told."""
    return [
        ("order_id IS NULL", "order_id", "'missing order id'"),
        # a spreadsheet turned the id into a float: its last digits are gone, and orders would merge
        ("rfm_float_id(order_id)", "order_id", f"'order id \"' || rfm_mask(order_id) || '\" {_ROUNDED}'"),
        ("rfm_float_id(customer_id)", "customer_id",
         f"'customer id \"' || rfm_mask(customer_id) || '\" {_ROUNDED}'"),
        # An order that does not count may have no date (a cancelled order was never paid): kept undated.
        (f"ordered_at IS NULL AND NOT ({date_given}) AND (status = 'counted' OR is_refund_row)", "order_date",
         "'missing date'"),
        (f"ordered_at IS NULL AND {date_given}", "order_date",
         "'unreadable date \"' || rfm_mask(_raw_date) || '\"'"),
        # a date in the future (9999-12-31 as "no date") would move every customer's recency
        (f"ordered_at >= TIMESTAMP '{dated_before.isoformat()}'", "order_date",
         "'date \"' || rfm_mask(_raw_date) || '\" is in the future'"),
        ("amount IS NULL AND NOT _amount_present", "amount", "'missing amount'"),
        ("amount IS NULL", "amount", "'unreadable amount \"' || rfm_mask(_raw_amount) || '\"'"),
        (f"refund_amount IS NULL AND {refund_unreadable}", "refund_amount",
         "'unreadable refund amount \"' || rfm_mask(_raw_refund) || '\"'"),
    ]


def _cleaned(colmap: ColumnMap, date_format: str | None, texts: Texts, *, date_expr: str, raw_date: str,
             amount: str, raw_amount: str, amount_present: str, refund_amount: str, raw_refund: str,
             status: str, raw_status: str) -> str:
    """The SELECT list of the typed canonical columns and the _raw_* helpers of the reject reasons.
    A field the file has no column for is a typed NULL (what its macro returns for a NULL cell)."""
    def clean(macro: str, name: str, null_type: str = "VARCHAR") -> str:
        if name not in colmap.columns:
            return f"CAST(NULL AS {null_type})"
        if macro == "rfm_id":  # rfm_id(s) is rfm_id_text(rfm_text(s))
            return f"rfm_id_text({texts.of(colmap.columns[name])})"
        return f"{macro}({_cell(colmap, name)})"
    return f"""
       {clean('rfm_id', 'order_id')}                  AS order_id,
       {clean('rfm_id', 'customer_id')}               AS customer_id,
       {date_expr}                              AS ordered_at,
       {amount}                                 AS amount,
       {refund_amount}                          AS refund_amount,
       {status}                                 AS status,
       nullif({raw_status}, '')                 AS raw_status,
       {clean('rfm_text', 'currency')}                AS currency,
       {clean('rfm_text', 'customer_name')}           AS customer_name,
       {clean('rfm_id', 'phone')}                     AS phone,
       {clean('rfm_text', 'email')}                   AS email,
       {_is_refund_sql(colmap)}                              AS is_refund_row,
       {clean('rfm_flag', 'accepts_marketing', 'BOOLEAN')}       AS accepts_marketing,
       {clean('rfm_text', 'discount_code')}           AS discount_code,
       {clean('rfm_flag', 'accepts_email', 'BOOLEAN')}           AS accepts_email,
       {clean('rfm_flag', 'accepts_sms', 'BOOLEAN')}             AS accepts_sms,
       {delivered_sql(colmap, date_format)}    AS delivered_at,
       {raw_date}                               AS _raw_date,
       {raw_amount}                             AS _raw_amount,
       {amount_present}                         AS _amount_present,
       {raw_refund}                             AS _raw_refund,
       nullif({raw_status}, '')                 AS _raw_status"""


def build(colmap: ColumnMap, headers: list[str], source: str, date_format: str | None,
          date_forced: bool, typed: dict[str, str] | None = None,
          status_map: list[tuple[int, str, str]] | None = None, *, decimal_comma: bool = False,
          dated_before: date | None = None, rank_statuses: bool = False, numbered: bool = False,
          sheets: bool = False) -> Staging:
    """`typed`: headers the source already yields typed (see `typed_candidates`); for them the
    cleaning macros are skipped and the raw text, used only in reject reasons, is the cast back.
    `status_map`: the rows of table _status_map (`status_map_rows`); given, and short, the words
    are written into the SQL instead of joining that table. `decimal_comma`: amounts are written
    `1.234,56` (see `detect_decimal_comma`). `dated_before`: a row dated on or after this day is
    rejected (default: the day after tomorrow, see `plausible_until`). `rank_statuses`: the caller
    keeps the grouped orders only when no row is rejected (the direct path), so the raw statuses
    may be ranked (see `raw_status_macros`). `numbered`: the source has each row's line number
    (_line), which orders the file's lines (else the order read does). `sheets`: the source is a
    workbook's rows, with `_sheet` and `_row` (see `row_order`)."""
    typed = typed or {}
    amount_of = "rfm_amount_comma" if decimal_comma else "rfm_amount"
    raw_date, date_expr, date_given = _date_parts(colmap, date_format, date_forced, typed)
    refund_amount, raw_refund, refund_unreadable = _refund_parts(colmap, typed, amount_of)
    amount, raw_amount, amount_present = _amount_parts(colmap, typed, amount_of)
    texts = Texts(headers)
    status, raw_status, joins, has_statuses = _status_parts(colmap, status_map, texts)
    cleaned = _cleaned(colmap, date_format, texts, date_expr=date_expr, raw_date=raw_date, amount=amount,
                       raw_amount=raw_amount, amount_present=amount_present, refund_amount=refund_amount,
                       raw_refund=raw_refund, status=status, raw_status=raw_status)
    checks = _row_checks(date_given, refund_unreadable, dated_before or plausible_until())
    if colmap.has_products:
        line_columns, line_checks = line_item_columns(colmap, amount, amount_of, typed)
        cleaned += line_columns + (f",\n       r.{row_order(sheets)} AS _row" if numbered else "")
        checks += line_checks
    if has_statuses:
        reason = ("CASE WHEN _raw_status IS NULL THEN 'missing status' "
                  "ELSE 'unknown status \"' || rfm_mask(_raw_status) || '\"' END")
        checks.append(("status IS NULL", "status", reason))
    data_headers = [h for h in headers if h not in RESERVED_COLUMNS]
    return Staging(
        cleaned=cleaned,
        bad=" OR ".join(f"({cond})" for cond, _, _ in checks),
        reject_column="CASE " + " ".join(f"WHEN {cond} THEN {lit(col)}" for cond, col, _ in checks) + " END",
        reject_reason="CASE " + " ".join(f"WHEN {cond} THEN {why}" for cond, _, why in checks) + " END",
        raw_row="concat_ws(',', " + ", ".join(f"coalesce(CAST(r.{q(h)} AS VARCHAR), '')" if h in typed
                                             else f"coalesce(r.{q(h)}, '')" for h in data_headers) + ")",
        joins=" ".join(joins),
        source=source,
        date_format=date_format,
        absent=tuple(f for f in ANY_VALUE_FIELDS if f not in colmap.columns),
        raw_status_words=ranked_words(colmap, status_map) if rank_statuses else None,
        has_lines=colmap.has_products,
        packed=colmap.packed_lines is not None,
        numbered=numbered,
        sheets=sheets,
        precleaned=texts.select(),
    )
