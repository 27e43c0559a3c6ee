"""Products of the stored orders: the product -> category map (`--categories FILE`), and whether the
imports hold any product data at all.

The map is a CSV of `pattern,category` rows (UTF-8, UTF-8 with BOM, or GBK as Excel saves it in
China). A pattern names a product in one of two ways:

- a SKU: a line whose sku equals the pattern exactly takes its category; an exact SKU match wins
  over any title match;
- a piece of the title: a line whose product title contains the pattern (case as written) takes its
  category; a pattern with `*`, `?` or `[` is a glob over the whole title instead (`*面膜*`,
  `Mug ??`). Among title patterns the first row of the file that matches wins.

The map fills only the lines whose export had no category (rfm_order_lines.category stays what the
export said). It is stored (rfm_category_map) and replaces the previous map whole: the lines the
previous map categorised are categorised again by the new one, and every later import applies it
to its own lines.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.store import fetch_one

NO_PRODUCTS = "no product data in these imports"
_HEADER = ("pattern", "category")


def read_category_map(path: Path) -> list[tuple[str, str]]:
    """(pattern, category) rows of a `--categories` file, in file order; a header row
    `pattern,category` is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"--categories {path} does not exist; check the path") from None
    except OSError as error:
        raise InputError(
            f"--categories {path} cannot be read ({error.strerror or error}); check the file") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise DataError(
                f"--categories {path} is neither UTF-8 nor GBK text; save it as CSV UTF-8") from None
    rows: list[tuple[str, str]] = []
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if line == 1 and tuple(c.casefold() for c in cells[:2]) == _HEADER:
            continue
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise DataError(f"--categories {path} line {line} is not pattern,category (two cells, neither "
                            "empty); write it like SKU-001,护肤 or *面膜*,护肤")
        rows.append((cells[0], cells[1]))
    if not rows:
        raise DataError(
            f"--categories {path} has no pattern,category rows; add one per line, e.g. *面膜*,护肤")
    return rows


def has_lines(con) -> bool:
    return bool(fetch_one(con, "SELECT count(*) FROM (SELECT 1 FROM rfm_order_lines LIMIT 1)")[0])


# The category the map gives each line in scope ({scope}: a condition on rfm_order_lines AS l;
# {map}: the map's table): an exact SKU first, else the first title pattern that matches.
_MAPPED = """
CREATE OR REPLACE TEMP TABLE _cat_by_sku AS
SELECT pattern AS sku, arg_min(category, position) AS category FROM {map} GROUP BY pattern;
CREATE OR REPLACE TEMP TABLE _cat_by_title AS
SELECT t.product, arg_min(m.category, m.position) AS category
FROM (SELECT DISTINCT product FROM rfm_order_lines AS l WHERE {scope} AND product IS NOT NULL) AS t
JOIN {map} AS m
  ON CASE WHEN regexp_matches(m.pattern, '[*?\\[]') THEN t.product GLOB m.pattern
          ELSE contains(t.product, m.pattern) END
GROUP BY t.product;
CREATE OR REPLACE TEMP TABLE {out} AS
SELECT l.order_id, l.line_no, coalesce(s.category, t.category) AS category
FROM rfm_order_lines AS l
LEFT JOIN _cat_by_sku AS s ON s.sku = l.sku
LEFT JOIN _cat_by_title AS t ON t.product = l.product
WHERE {scope};
DROP TABLE _cat_by_sku;
DROP TABLE _cat_by_title;
"""


def _mapped(con, map_table: str, scope: str, out: str, params: dict | None = None) -> None:
    for statement in _MAPPED.format(map=map_table, scope=scope, out=out).split(";\n"):
        if statement.strip():
            used = {k: v for k, v in (params or {}).items() if f"${k}" in statement}
            con.execute(statement, used or None)


def apply_to_import(con, import_id: int) -> None:
    """Categorise the lines one import stored without a category, by the stored map."""
    if not fetch_one(con, "SELECT count(*) FROM rfm_category_map")[0]:
        return
    scope = "l.import_id = $import_id AND l.category IS NULL"
    _mapped(con, "rfm_category_map", scope, "_cat_new", {"import_id": import_id})
    con.execute("""UPDATE rfm_order_lines AS l SET category = n.category FROM _cat_new AS n
                   WHERE n.order_id = l.order_id AND n.line_no = l.line_no AND n.category IS NOT NULL""")
    con.execute("DROP TABLE _cat_new")


def store_category_map(con, rows: list[tuple[str, str]], source: Path) -> int:
    """Replace the stored map with `rows` and categorise the stored lines again: those without a
    category, and those the previous map had categorised (their category is what it gave them).
    Returns the stored lines the new map categorises. Inside the caller's transaction."""
    con.execute("CREATE OR REPLACE TEMP TABLE _cat_old_map AS SELECT * FROM rfm_category_map")
    con.execute("DELETE FROM rfm_category_map")
    now = datetime.now().replace(microsecond=0)
    con.executemany("INSERT INTO rfm_category_map VALUES (?, ?, ?, ?, ?)",
                    [(i, pattern, category, str(source), now)
                     for i, (pattern, category) in enumerate(rows, 1)])
    _mapped(con, "_cat_old_map", "true", "_cat_old")
    _mapped(con, "rfm_category_map", "true", "_cat_new")
    con.execute("""
UPDATE rfm_order_lines AS l SET category = n.category
FROM _cat_new AS n LEFT JOIN _cat_old AS o USING (order_id, line_no)
WHERE n.order_id = l.order_id AND n.line_no = l.line_no
  AND (l.category IS NULL OR l.category IS NOT DISTINCT FROM o.category)""")
    mapped = fetch_one(con, "SELECT count(*) FROM _cat_new WHERE category IS NOT NULL")[0]
    for table in ("_cat_old_map", "_cat_old", "_cat_new"):
        con.execute(f"DROP TABLE {table}")
    return mapped
