"""A workbook of several sheets (Excel splits an export past ~1M rows; a seller keeps a sheet per
month): the sheets are one file, in sheet order then row order. An order whose line rows run from the
end of one sheet onto the next keeps its order fields (written on its first row only, Shopify-style)
and its lines in their exported order; a rejected row is named by its sheet and its row there."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter

from rfm_cli.core.ingest.pipeline import ImportOptions, import_files
from rfm_cli.core.store import open_store

HEADERS = ["Name", "Email", "Financial Status", "Paid at", "Total", "Refunded Amount", "Lineitem quantity",
           "Lineitem name", "Lineitem price", "Lineitem sku", "Cancelled at"]

FIRST, SECOND = "Orders 1", "Orders 2"
ORDER_FIELDS = {  # email, financial status, paid at, total
    "#1001": ("anna@example.com", "paid", "2021-05-13 11:01:13 +0200", "64.00"),
    "#1002": ("ben@example.com", "paid", "2021-05-14 09:30:00 +0200", "25.00"),
    "#1003": ("carl@example.com", "paid", "2021-05-20 18:00:00 +0200", "110.00"),
    "#1004": ("dora@example.com", "paid", "2021-05-22 08:15:00 +0200", "40.00"),
    "#1005": ("emil@example.com", "paid", "the 23rd", "12.00"),  # unreadable date: rejected
}
ROWS = [  # in exported order; an order's first row carries its order fields
    (FIRST, "#1001", "Mug", "2", "16.00"),
    (FIRST, "#1001", "Tea", "1", "32.00"),
    (FIRST, "#1002", "Socks", "1", "25.00"),
    (FIRST, "#1003", "Plate", "2", "30.00"),  # sheet row 5; the order goes on on the next sheet
    (SECOND, "#1003", "Bowl", "1", "20.00"),  # sheet rows 2 and 3: lower than its first row's
    (SECOND, "#1003", "Cup", "2", "15.00"),
    (SECOND, "#1004", "Vase", "1", "40.00"),
    (SECOND, "#1005", "Card", "1", "12.00"),  # sheet row 5, as #1003's first row on the first sheet
]


def _write_workbook(path: Path, fields: dict[str, tuple[str, ...]] = ORDER_FIELDS) -> Path:
    """What Excel writes: every cell as text, the header on each sheet, an order's fields only on
    its first row (Shopify's export as opened and saved, split in two sheets)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheets = {name: workbook.add_worksheet(name) for name in (FIRST, SECOND)}
    next_row = dict.fromkeys(sheets, 1)
    for sheet in sheets.values():
        sheet.write_row(0, 0, HEADERS)
    seen = set()
    for sheet_name, order, item, quantity, price in ROWS:
        cells = dict.fromkeys(HEADERS, "")
        cells.update({"Name": order, "Lineitem quantity": quantity, "Lineitem name": item,
                      "Lineitem price": price, "Lineitem sku": f"SKU-{item.upper()}"})
        if order not in seen:
            email, status, paid_at, total = fields[order]
            cells.update({"Email": email, "Financial Status": status, "Paid at": paid_at, "Total": total,
                          "Refunded Amount": "0.00"})
            seen.add(order)
        for column, header in enumerate(HEADERS):
            sheets[sheet_name].write_string(next_row[sheet_name], column, cells[header])
        next_row[sheet_name] += 1
    workbook.close()
    return path


def _import(tmp_path: Path):
    db = tmp_path / "shop.duckdb"
    path = _write_workbook(tmp_path / "orders_export.xlsx")
    with open_store(db) as store:
        options = ImportOptions(max_rejects="1", rejects_dir=tmp_path / "rejects")
        [report] = import_files(store, [path], options)
    return db, report


def test_an_orders_lines_across_two_sheets_keep_their_exported_order(tmp_path: Path) -> None:
    db, _report = _import(tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        lines = con.execute("SELECT order_id, product, sku, quantity, unit_price, amount "
                            "FROM rfm_order_lines ORDER BY line_no").fetchall()
        orders = dict(con.execute("SELECT order_id, amount FROM rfm_orders").fetchall())
    expected = [(order, item, f"SKU-{item.upper()}", float(quantity), Decimal(price),
                 Decimal(price) * int(quantity))
                for _sheet, order, item, quantity, price in ROWS if order != "#1005"]
    assert lines == expected  # #1003: Plate (sheet 1), then Bowl and Cup (sheet 2)
    assert orders == {order: Decimal(fields[3]) for order, fields in ORDER_FIELDS.items() if order != "#1005"}
    for order, total in orders.items():  # the lines add up to the order's total
        assert sum(line[-1] for line in lines if line[0] == order) == total


def test_every_row_of_both_sheets_is_accounted_for(tmp_path: Path) -> None:
    _db, report = _import(tmp_path)
    assert report.rows_read == len(ROWS)
    assert (report.imported, report.rejected) == (len(ROWS) - 1, 1)
    assert report.reconciles()


def test_a_rejected_row_on_the_second_sheet_names_that_sheet_and_its_row(tmp_path: Path) -> None:
    _db, report = _import(tmp_path)
    [first] = report.first_rejects
    assert (first["sheet"], first["line"], first["column"]) == (SECOND, 5, "order_date")
    with open(report.rejects_file, encoding="utf-8", newline="") as rejects:
        [row] = list(csv.DictReader(rejects))
    assert (row["sheet"], row["line"], row["column_name"]) == (SECOND, "5", "order_date")
    assert row["raw"].startswith("#1005,")
    with duckdb.connect(str(_db), read_only=True) as con:  # the database keeps the sheet too (schema 21)
        assert con.execute("SELECT sheet, line, column_name FROM rfm_rejects").fetchall() == [
            (SECOND, 5, "order_date")]


def test_the_import_says_which_sheet_a_rejected_row_is_on(rfm, tmp_path: Path) -> None:
    path = _write_workbook(tmp_path / "orders_export.xlsx")
    done = rfm("--db", tmp_path / "shop.duckdb", "import", path, "--max-rejects", "1")
    assert done.returncode == 0, done.stderr
    assert f"sheet {SECOND!r} row 5 rejected (order_date: unreadable date" in done.stderr


def test_the_other_lines_of_a_rejected_order_name_the_sheet_of_its_bad_row(tmp_path: Path) -> None:
    """#1003's first row (sheet 1, row 5) has an unreadable total: its lines on sheet 2 are rejected
    with it, and say where the bad row is."""
    fields = ORDER_FIELDS | {"#1003": ("carl@example.com", "paid", "2021-05-20 18:00:00 +0200", "1l0.00")}
    path = _write_workbook(tmp_path / "orders_export.xlsx", fields)
    with open_store(None) as store:
        [report] = import_files(store, [path], ImportOptions(max_rejects="10"))
    assert [(r["sheet"], r["line"], r["reason"]) for r in report.first_rejects] == [
        (FIRST, 5, 'unreadable amount "1l0.00"'),
        (SECOND, 2, "sheet 'Orders 1' row 5 of the same order was rejected"),
        (SECOND, 3, "sheet 'Orders 1' row 5 of the same order was rejected"),
        (SECOND, 5, 'unreadable date "the 23rd"'),
    ]
    assert (report.rows_read, report.imported, report.rejected) == (len(ROWS), len(ROWS) - 4, 4)
