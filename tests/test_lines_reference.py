"""Stored line items against a reference computed in Python, straight from the rules of
import_lines.sql, over generated exports imported one after the other: a first clean export (every
order new: the import skips looking for orders to leave out), then exports with a rejected order,
credit notes (refund-only orders), orders stored before with lines (duplicates keep theirs) and
orders stored before from an export without products (they get this file's lines)."""

from __future__ import annotations

import csv
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

HEADER = ["order_id", "customer_id", "order_date", "amount", "status", "sku", "product", "category",
          "quantity", "unit_price"]


def _orders(first: int, last: int, rng: random.Random) -> list[list[str]]:
    """Rows of orders T<first>..T<last>: 1-4 rows each, a shipping row without a product now and then,
    cells with spaces around them (the cleaning trims them), some orders cancelled."""
    rows = []
    for n in range(first, last + 1):
        status = "cancelled" if n % 11 == 0 else "paid"
        for _ in range(rng.randint(1, 4)):
            quantity, price = rng.randint(1, 3), Decimal(rng.randint(100, 20000)) / 100
            sku, product = f"SKU-{rng.randint(1, 40)}", f"商品 {rng.randint(1, 40)}"
            if rng.random() < 0.1:
                sku = product = ""  # a fee row: no line, its number left unused
            elif rng.random() < 0.1:
                sku, product = f" {sku} ", f"{product}  "
            rows.append([f"T{n}", f"C{n % 37}", f"2024-0{1 + n % 9}-1{n % 10} 10:00:00",
                         str(quantity * price), status, sku, product, rng.choice(["", "茶", "Mug"]),
                         str(quantity), str(price)])
    return rows


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([row[:len(header)] for row in rows])
    return path


def _expected(rows: list[list[str]], import_id: int, with_lines: set[str]) -> list[tuple]:
    """import_lines.sql by hand: each data row naming a product, numbered by its place among the
    file's data rows, for every order neither rejected nor refund-only nor already holding lines."""
    def bad(row: list[str]) -> bool:
        return not row[2][:4].isdigit()

    rejected = {row[0] for row in rows if bad(row)}
    refund_only = {o for o in {row[0] for row in rows} if all(Decimal(r[3]) < 0 for r in rows if r[0] == o)}
    lines = []
    for line_no, row in enumerate(rows, 1):
        order, sku, product, category = row[0], row[5].strip() or None, row[6].strip() or None, row[7] or None
        if order in rejected | refund_only | with_lines or (sku is None and product is None):
            continue
        quantity, price = Decimal(row[8]), Decimal(row[9])
        amount = (quantity * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        lines.append((import_id, order, line_no, sku, product, category, float(quantity), price, amount))
    with_lines |= {line[1] for line in lines}
    return lines


def _stored(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT import_id, order_id, line_no, sku, product, category, quantity, "
                           "unit_price, amount FROM rfm_order_lines").fetchall()


def test_lines_stored_are_the_reference_computation(rfm, tmp_path: Path) -> None:
    rng = random.Random(21)
    db, with_lines, expected = tmp_path / "shop.duckdb", set(), []
    first = _orders(1, 120, rng)  # clean: read the direct way, and no order can be left out
    plain = _orders(300, 320, rng)  # stored without products: a later export gives them lines
    second = _orders(100, 160, rng) + _orders(310, 330, rng)  # duplicates of both kinds, new orders
    rejected = second[5][0]
    second[5][2] = "not a date"  # a rejected order: none of its rows store a line
    second += [["R9", "C1", "2024-02-02 10:00:00", "-12.00", "paid", "SKU-1", "退款", "", "1", "-12.00"],
               ["R9", "C1", "2024-02-02 10:00:00", "-3.00", "paid", "SKU-2", "退款", "", "1", "-3.00"]]
    files = [(_write(tmp_path / "a.csv", first), first, True),
             (_write(tmp_path / "plain.csv", plain, HEADER[:5]), plain, False),
             (_write(tmp_path / "b.csv", second), second, True)]
    for import_id, (path, rows, products) in enumerate(files, 1):
        done = rfm("--db", db, "import", path, "--max-rejects", "20%")
        assert done.returncode == 0, done.stderr
        if products:
            expected.extend(_expected(rows, import_id, with_lines))
        assert sorted(_stored(db)) == sorted(expected), path.name
    stored = {(line[0], line[1]) for line in expected}
    assert {(1, "T1"), (1, "T120"), (3, "T160"), (3, "T310"), (3, "T330")} <= stored
    assert (3, "T100") not in stored and (3, rejected) not in stored and "R9" not in {o for _i, o in stored}
