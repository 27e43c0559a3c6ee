"""Line items (issue 21): each stored order's products in rfm_order_lines, read from exports written
the way each platform writes them, recovered exactly; the same reject accounting as the orders;
re-imports never double lines, `rfm imports rm` takes them back, a file without products imports
as before."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import platform_fixtures as pf
import pytest

LINE_COLUMNS = "order_id, line_no, sku, product, category, quantity, unit_price, amount"


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _lines(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"SELECT {LINE_COLUMNS} FROM rfm_order_lines ORDER BY order_id, line_no").fetchall()


def _import(rfm, db: Path, *paths: Path, args: tuple[str, ...] = ()) -> None:
    done = rfm("--db", db, "import", *paths, *args)
    assert done.returncode == 0, done.stderr


def test_shopify_one_row_per_line_order_fields_on_the_first(rfm, tmp_path: Path) -> None:
    """Every line of every stored order, with the fixture's own items: sku, title, quantity, price,
    and quantity x price as the line amount (Total sits on the first row only)."""
    path = pf.write_shopify(tmp_path)
    _import(rfm, tmp_path / "s.duckdb", path)
    expected = []  # line_no: the row among the file's data rows, so an order's lines sort as exported
    for name, *_, items, _status in pf._SHOPIFY_ORDERS:
        for item, quantity, price in items:
            expected.append((name, len(expected) + 1, f"SKU-{item.upper()}", item, None, float(quantity),
                             Decimal(price), Decimal(price) * int(quantity)))
    assert _lines(tmp_path / "s.duckdb") == expected


TAOBAO_ITEMS_HEADERS = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单付款时间 ",
                        "宝贝标题 ", "商家编码", "宝贝总数量", "退款金额"]
TAOBAO_ITEMS = [
    ("3456789012345678901", "tb_小明", "￥128.00", "交易成功", "2024-01-05 10:12:33", "玻尿酸补水面膜 10片",
     "MASK-01", "2"),
    ("3456789012345678902", "花花世界", "59.90元", "交易关闭", "", "加厚保暖袜子 5双装", "SOCK-5", "1"),
    ("3456789012345678903", "快乐的鱼", "256.00", "交易成功", "2024-01-07 21:31:12", "精华液 30ml, 送小样",
     "SER-30", "1"),
]


def test_taobao_gbk_export_names_each_orders_product(rfm, tmp_path: Path) -> None:
    """The order export (one row per order, GBK, ids as ="…", a code with a leading tab): the order's
    宝贝标题 and 商家编码 are its one line, 宝贝总数量 its quantity, the paid amount its amount."""
    rows = [",".join(TAOBAO_ITEMS_HEADERS)]
    for oid, buyer, paid, status, paid_at, title, code, quantity in TAOBAO_ITEMS:
        rows.append(",".join([f'="{oid}"', buyer, paid, status, paid_at, f'"{title}"', f"\t{code}", quantity,
                              "0.00"]))
    path = tmp_path / "ExportOrderList202401.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    _import(rfm, tmp_path / "t.duckdb", path)
    assert _lines(tmp_path / "t.duckdb") == [
        (oid, row, code, title, None, float(quantity), None, Decimal(paid.strip("￥元")))
        for row, (oid, _b, paid, _s, _p, title, code, quantity) in enumerate(TAOBAO_ITEMS, start=1)
    ]


def test_uci_invoice_lines_and_no_lines_for_credit_notes(rfm, tmp_path: Path) -> None:
    """Online Retail (xlsx, StockCode read as a float where numeric): every invoice line with its
    StockCode and Description; a credit note (C…) is a refund and has no lines."""
    path = pf.write_online_retail(tmp_path)
    _import(rfm, tmp_path / "u.duckdb", path)
    lines = _lines(tmp_path / "u.duckdb")
    expected = [(str(inv), stock, desc, float(qty), Decimal(str(price)))
                for inv, stock, desc, qty, _d, price, _c, _country in pf._UCI_LINES
                if not str(inv).startswith("C")]
    assert sorted((o, s, p, q, u) for o, _n, s, p, _c, q, u, _a in lines) == sorted(expected)
    assert all(amount == (Decimal(str(q)) * u).quantize(Decimal("0.01")) for *_, q, u, amount in lines)
    assert [n for o, n, *_ in lines if o == "536365"] == [1, 2, 3]


@pytest.mark.parametrize(("header", "rows"), [
    ("order_id,customer_id,order_date,amount,status,sku,product,category,quantity,unit_price",
     ["A1,c1,2024-03-01 10:00:00,30.00,paid,S-1,Mug,Kitchen,2,10.00",
      "A1,c1,2024-03-01 10:00:00,10.00,paid,S-2,\"Tea, green\",Food,1,10.00"]),
    ("订单号,客户,下单时间,实付金额,订单状态,商品编码,商品名称,类目,数量,单价",
     ["A1,c1,2024-03-01 10:00:00,30.00,已完成,S-1,Mug,Kitchen,2,10.00",
      "A1,c1,2024-03-01 10:00:00,10.00,已完成,S-2,\"Tea, green\",Food,1,10.00"]),
])
def test_generic_and_chinese_headers(rfm, tmp_path: Path, header: str, rows: list[str]) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(_text([header, *rows]), encoding="utf-8")
    _import(rfm, tmp_path / "g.duckdb", path)
    lines = _lines(tmp_path / "g.duckdb")
    assert {(s, p, c, q, u, a) for _o, _n, s, p, c, q, u, a in lines} == {
        ("S-1", "Mug", "Kitchen", 2.0, Decimal("10.00"), Decimal("20.00")),
        ("S-2", "Tea, green", "Food", 1.0, Decimal("10.00"), Decimal("10.00")),
    }


HEADER = "order_id,customer_id,order_date,amount,status,sku,product,quantity,unit_price"


def test_an_unreadable_quantity_rejects_its_order_with_the_reason(rfm, tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text(_text([
        HEADER,
        "A1,c1,2024-03-01,10.00,paid,S-1,Mug,1,10.00",
        "A2,c2,2024-03-02,5.00,paid,S-2,Tea,two,5.00",
        "A2,c2,2024-03-02,5.00,paid,S-3,Cup,1,5.00",
        "A3,c3,2024-03-03,4.00,paid,S-4,Pen,1,4,00",
    ]), encoding="utf-8")
    db = tmp_path / "r.duckdb"
    done = rfm("--db", db, "import", path, "--max-rejects", "10")
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        rejects = con.execute("SELECT line, column_name, reason FROM rfm_rejects ORDER BY line").fetchall()
        rows_read, imported, rejected = con.execute(
            "SELECT rows_read, rows_imported, rows_rejected FROM rfm_imports").fetchall()[0]
    assert rejects[0] == (3, "quantity", 'unreadable quantity "two"')
    assert rejects[1] == (4, "order_id", "line 3 of the same order was rejected")
    assert [r[0] for r in rejects] == [3, 4, 5]  # the 4,00 line splits into one cell too many
    assert (rows_read, imported, rejected) == (4, 1, 3)
    assert [r[0] for r in _lines(db)] == ["A1"]


def test_reimport_does_not_double_lines_and_rm_takes_them_back(rfm, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text(_text([HEADER, "A1,c1,2024-03-01,10.00,paid,S-1,Mug,1,10.00",
                            "A2,c2,2024-03-02,5.00,paid,S-2,Tea,1,5.00"]), encoding="utf-8")
    b = tmp_path / "b.csv"  # a later export: A2 again, and a new order
    b.write_text(_text([HEADER, "A2,c2,2024-03-02,5.00,paid,S-2,Tea,1,5.00",
                            "A3,c1,2024-03-05,8.00,paid,S-3,Cup,2,4.00"]), encoding="utf-8")
    db = tmp_path / "d.duckdb"
    _import(rfm, db, a, b)
    assert [(o, s) for o, _n, s, *_ in _lines(db)] == [("A1", "S-1"), ("A2", "S-2"), ("A3", "S-3")]
    done = rfm("--db", db, "imports", "rm", "1")
    assert done.returncode == 0, done.stderr
    # A1 only a's: gone with it; A2 carried by b too: kept, now b's
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT order_id, import_id FROM rfm_order_lines ORDER BY 1").fetchall() == [
            ("A2", 2), ("A3", 2)]
    done = rfm("--db", db, "imports", "rm", "2")
    assert done.returncode == 0, done.stderr
    assert _lines(db) == []


def test_rm_of_a_file_keeps_the_lines_of_an_order_a_later_file_updated(rfm, tmp_path: Path) -> None:
    """b changes A1's amount (A1's state is b's now) and found its lines stored, so it added none:
    taking a back must leave A1 its lines, now b's, not delete them with a's."""
    a = tmp_path / "a.csv"
    a.write_text(_text([HEADER, "A1,c1,2024-03-01,10.00,paid,S-1,Mug,1,10.00",
                            "A2,c2,2024-03-02,5.00,paid,S-2,Tea,1,5.00"]), encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text(_text([HEADER, "A1,c1,2024-03-01,8.00,paid,S-1,Mug,1,8.00"]), encoding="utf-8")
    db = tmp_path / "d.duckdb"
    _import(rfm, db, a, b)
    done = rfm("--db", db, "imports", "rm", "1")
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT order_id, import_id FROM rfm_orders").fetchall() == [("A1", 2)]
        assert con.execute("SELECT order_id, import_id, sku FROM rfm_order_lines").fetchall() == [
            ("A1", 2, "S-1")]


def test_lines_reach_orders_stored_from_an_export_without_products(rfm, tmp_path: Path, write_orders) -> None:
    plain = write_orders("plain.csv", [("A1", "c1", "2024-03-01", "10.00", "paid", "")])
    db = tmp_path / "p.duckdb"
    _import(rfm, db, plain)
    assert _lines(db) == []
    items = tmp_path / "items.csv"
    items.write_text(HEADER + "\nA1,c1,2024-03-01,10.00,paid,S-1,Mug,1,10.00\n", encoding="utf-8")
    _import(rfm, db, items)
    assert [(o, s) for o, _n, s, *_ in _lines(db)] == [("A1", "S-1")]


WOO_HEADER = ("order_id,order_number,order_date,paid_date,status,order_total,refunded_total,order_currency,"
              "customer_email,billing_email,line_items")
WOO_ITEMS = {  # order -> (status, total, [(name, sku, quantity, subtotal, total)])
    "1201": ("completed", "59.00",
             [("Mug", "MUG-1", "2", "32.00", "30.00"), ("Tea, green", "TEA-9", "1", "25.00", "25.00")]),
    "1202": ("processing", "24.50", [("Socks", "", "1", "20.50", "20.50")]),
}


def test_woocommerce_line_items_packed_in_one_cell(rfm, tmp_path: Path) -> None:
    """The WooCommerce one-row-per-order CSV: every line in `line_items`, `;` between lines, `key:value`
    between `|`; the total is the line's amount, subtotal / quantity its unit price."""
    rows = [WOO_HEADER]
    for oid, (status, total, items) in WOO_ITEMS.items():
        packed = ";".join(f"id:{i}|name:{name}|product_id:{40 + i}|variation_id:0|quantity:{qty}|"
                          f"total:{line}|subtotal:{sub}|subtotal_tax:0.00|total_tax:0.00|refunded:0.00|sku:{sku}|meta:"
                          for i, (name, sku, qty, sub, line) in enumerate(items))
        rows.append(f'{oid},{oid},2024-05-01 14:00:00,2024-05-01 14:05:00,{status},{total},0.00,USD,'
                    f'a{oid}@shop.test,a{oid}@shop.test,"{packed}"')
    rows.append('1203,1203,2024-05-02 10:00:00,2024-05-02 10:01:00,completed,9.00,0.00,USD,x@shop.test,'
                'x@shop.test,id:1|name:Pen|quantity:lots|total:9.00')
    path = tmp_path / "woocommerce-orders.csv"
    path.write_text(_text(rows), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    done = rfm("--db", db, "import", path, "--max-rejects", "1")
    assert done.returncode == 0, done.stderr
    expected, row = [], 0
    for oid, (_s, _t, items) in WOO_ITEMS.items():
        for name, sku, qty, sub, line in items:
            row += 1
            expected.append((oid, row, sku or None, name, None, float(qty),
                             (Decimal(sub) / int(qty)).quantize(Decimal("0.01")), Decimal(line)))
    assert _lines(db) == expected
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT line, column_name, reason FROM rfm_rejects").fetchall() == [
            (4, "line_items", 'unreadable line item "id:1|name:Pen|quantity:lots|total:9.00"')]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_line_no_is_the_place_among_the_files_data_rows(rfm, tmp_path: Path, encoding: str) -> None:
    """A row without a product (a shipping fee line) stores no line and leaves its number unused, so
    line_no is the row's place among the data rows whatever path read the file (UTF-8: the direct
    reader; GBK: transcoded first), and an order's lines sort as exported."""
    rows = ["order_id,customer_id,order_date,amount,sku,product",
            "A1,c1,2026-01-02 10:00:00,10.00,S-2,袜子",
            "A1,c1,2026-01-02 10:00:00,5.00,,",
            "A1,c1,2026-01-02 10:00:00,20.00,S-1,面霜",
            "B7,c2,2026-01-03 10:00:00,7.50,S-3,茶"]
    path = tmp_path / f"orders_{encoding}.csv"
    path.write_bytes(_text(rows).encode(encoding))
    _import(rfm, tmp_path / "s.duckdb", path)
    got = [(order, line_no, sku) for order, line_no, sku, *_ in _lines(tmp_path / "s.duckdb")]
    assert got == [("A1", 1, "S-2"), ("A1", 3, "S-1"), ("B7", 4, "S-3")]


def test_a_file_changed_between_its_two_reads_is_refused_and_nothing_stored(
        rfm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, assert_cli_error) -> None:
    """The orders are grouped from one read of the file and the lines kept from a second: a file that
    changed in between (an export still being written) is refused, not stored half from each."""
    from rfm_cli.core.ingest import stage

    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount,sku,product\n"
                    "A1,c1,2026-01-02 10:00:00,10.00,S-1,Mug\n", encoding="utf-8")
    states = iter([(1, 1), (2, 2)])  # the size and time before the first read, after the second
    monkeypatch.setattr(stage, "file_state", lambda _path: next(states))
    line = assert_cli_error(rfm("--db", tmp_path / "shop.duckdb", "import", path), 65)
    assert "changed while it was imported" in line and str(path) in line
    assert not (tmp_path / "shop.duckdb").exists()  # a failed first import leaves no database
