"""The SQL of an import's line items (rfm_order_lines): each row's product columns as staging reads
them (`line_item_columns`, with the checks that reject a line that cannot be read), and the view of
the file's lines over its staged rows (`ROWS`, `LINES`; `PACKED_LINES` for WooCommerce's one cell of
every line). staging.build adds the columns when the file has product columns; stage._group
reads the lines.
"""

from __future__ import annotations

from rfm_cli.core.ingest.mapping import ColumnMap
from rfm_cli.core.ingest.sql_names import cell, q


def line_item_columns(colmap: ColumnMap, amount: str, amount_of: str,
                      typed: dict[str, str]) -> tuple[str, list[tuple[str, str, str]]]:
    """For a file with product columns: the cleaned columns of each row's line (_sku, _product,
    _category, _quantity, _unit_price, _line_amount; the raw quantity and unit price for reasons) and
    the checks that reject a line that cannot be read. A quantity or unit price the CSV reader typed
    (`typed`) is read or empty. The line's amount is the row's own amount (one row per line, or one
    row per order), except where it is quantity x unit price (both columns present: multiplied once
    per stored line, in import_lines.sql) or unknown (order-level amounts on an order's first row
    only: fill_order_fields). Only the import's second pass over the lines (`LINES`) reads them."""
    c = lambda name: cell(colmap, name)
    cells, raws, checks = {}, {}, []
    for name, label in (("quantity", "quantity"), ("unit_price", "unit price")):
        header = colmap.columns.get(name)
        if header is not None and header in typed:
            cells[name], raws[name] = c(name), f"CAST({c(name)} AS VARCHAR)"
            continue
        cells[name], raws[name] = f"{amount_of}({c(name)})", c(name)
        if header is not None:
            checks.append((f"_{name} IS NULL AND rfm_text(_raw_{name}) IS NOT NULL", name,
                           f"'unreadable {label} \"' || rfm_mask(_raw_{name}) || '\"'"))
    if (("quantity" in colmap.columns and "unit_price" in colmap.columns)
            or colmap.options.get("fill_order_fields")):
        line_amount = "CAST(NULL AS DECIMAL(18, 2))"
    else:
        line_amount = amount
    columns = f""",
       rfm_id({c('sku')})                       AS _sku,
       rfm_text({c('product')})                 AS _product,
       rfm_text({c('category')})                AS _category,
       CAST({cells['quantity']} AS DOUBLE)      AS _quantity,
       CAST({cells['unit_price']} AS DECIMAL(18, 2)) AS _unit_price,
       {line_amount}                            AS _line_amount,
       {raws['quantity']}                       AS _raw_quantity,
       {raws['unit_price']}                     AS _raw_unit_price"""
    if colmap.packed_lines is not None:  # every line in one cell: WooCommerce's line_items
        columns += f",\n       rfm_text(r.{q(colmap.packed_lines)}) AS _packed"
        unread = f"list_filter(string_split(_packed, ';'), lambda x: {_PACKED_UNREADABLE})"
        checks.append((f"_packed IS NOT NULL AND len({unread}) > 0", "line_items",
                       f"'unreadable line item \"' || rfm_mask({unread}[1]) || '\"'"))
    return columns, checks


def _packed_field(key: str, item: str = "x") -> str:
    return f"nullif(regexp_extract({item}, '(?:^|\\|){key}:([^|]*)', 1), '')"


# A packed line item (`name:Mug|quantity:2|total:32.00|sku:MUG-1`) that cannot be read: no name nor
# sku, or a quantity or total that is not a number.
_PACKED_UNREADABLE = (f"trim(x) <> '' AND (coalesce({_packed_field('name')}, {_packed_field('sku')}) IS NULL "
                      f"OR ({_packed_field('quantity')} IS NOT NULL "
                      f"AND TRY_CAST({_packed_field('quantity')} AS DOUBLE) IS NULL) "
                      f"OR ({_packed_field('total')} IS NOT NULL "
                      f"AND TRY_CAST({_packed_field('total')} AS DECIMAL(18, 2)) IS NULL))")


# A file with product columns is read twice: its orders are grouped from the read as any file's
# are, and a second read keeps only each row's line (`ROWS`: order_id and the line columns, temp
# table file_rows); its lines are a view over that (`LINES`): every row that names a product, with
# its place among the file's data rows (by `_row` where staged has it: the line number, or a
# workbook's sheet then row, see `Staging.lines_sql` and `staging.row_order`; else as read). line_no
# sorts an order's lines as exported; the numbers are unique within the file, not 1, 2, 3 within
# each order (numbering per order cost a sort of every line). The rows are numbered before they are
# filtered: the window then reads the table itself and the insert of the lines runs on every core
# (numbered after the filter it ran in one thread: 1.4 s against 0.75 s wall for 3M lines). Reading
# every staged row once into file_rows and grouping the orders from it cost more (a copy of ~24
# columns of every row: 1.95x the import without lines at 10M orders x 3 lines, peak 8.3 GB;
# benchmarks/LINES_RESULTS.md).
ROWS = """
CREATE OR REPLACE TEMP TABLE file_rows AS
SELECT order_id, COLUMNS('^_(sku|product|category|quantity|unit_price|line_amount|packed|row)$')
FROM staged
"""
LINES = """
CREATE OR REPLACE TEMP VIEW file_lines AS
SELECT order_id, line_no, _sku AS sku, _product AS product, _category AS category, _quantity AS quantity,
       _unit_price AS unit_price, _line_amount AS amount
FROM (SELECT order_id, CAST(row_number() OVER ({order}) AS INTEGER) AS line_no, _sku, _product, _category,
             _quantity, _unit_price, _line_amount FROM file_rows)
WHERE order_id IS NOT NULL AND (_sku IS NOT NULL OR _product IS NOT NULL)
"""
# The lines of a file whose orders pack them in one cell (WooCommerce): each item's name, sku and
# quantity; its total as the amount, its subtotal (before discounts) / quantity as the unit price.
PACKED_LINES = """
CREATE OR REPLACE TEMP VIEW file_lines AS
SELECT order_id, CAST(row_number() OVER ({{order}}) AS INTEGER) AS line_no, sku, product,
       CAST(NULL AS VARCHAR) AS category, quantity,
       CASE WHEN quantity > 0 THEN CAST(coalesce(subtotal, amount) / quantity AS DECIMAL(18, 2)) END AS unit_price,
       amount
FROM (
    SELECT order_id{{row}}, item_no, {sku} AS sku, {name} AS product,
           TRY_CAST({quantity} AS DOUBLE) AS quantity,
           TRY_CAST({subtotal} AS DECIMAL(18, 2)) AS subtotal, TRY_CAST({total} AS DECIMAL(18, 2)) AS amount
    FROM (SELECT order_id{{row}}, unnest(string_split(_packed, ';')) AS item,
                 generate_subscripts(string_split(_packed, ';'), 1) AS item_no
          FROM file_rows WHERE order_id IS NOT NULL AND _packed IS NOT NULL)
    WHERE trim(item) <> ''
)
""".format(**{k: _packed_field(k, "item") for k in ("sku", "name", "quantity", "subtotal", "total")})  # noqa: E501


def store_lines(con, params: dict, *, left_out: bool) -> None:
    """import_lines.sql: the file's lines into rfm_order_lines, less those of the orders that store
    none (import_lines_left_out.sql). `left_out` False: the file's orders are all new and neither
    rejected nor refund-only (a first import of a clean export), so none is left out and reading
    every order's outcome for them is skipped (~0.2 s of CPU at 1M orders)."""
    from rfm_cli.core.store import run_statements

    if left_out:
        run_statements(con, "import_lines_left_out")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _lines_left_out (order_id VARCHAR)")
    run_statements(con, "import_lines", params)
