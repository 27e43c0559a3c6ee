"""The delivered/signed date of each order (签收时间 / 确认收货时间, Shopify `Fulfilled at`): read from
the export when it has one, kept through later exports of the same order the way the other order
fields are, given back by `rfm imports rm`, and shown by `rfm explain`. Fixtures are written the way
each platform writes them: Taobao in GBK with ="…" ids and a header with a trailing space, Shopify
with the order-level fields on the first line item only."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

TAOBAO = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间 ",
          "确认收货时间 ", "退款金额"]


def _taobao(path: Path, rows: list[tuple[str, ...]], *, delivered_column: bool = True) -> Path:
    """GBK, CRLF, ids as ="…", the 确认收货时间 header with a trailing space (as the seller centre
    writes it)."""
    header = TAOBAO if delivered_column else [h for h in TAOBAO if not h.startswith("确认收货时间")]
    lines = [",".join(header)]
    for order_id, buyer, paid, status, paid_at, delivered, refund in rows:
        cells = [f'="{order_id}"', buyer, paid, status, paid_at, paid_at]
        cells += [delivered] if delivered_column else []
        lines.append(",".join([*cells, refund]))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def _stored(db: Path) -> dict[str, str | None]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT order_id, strftime(delivered_at, '%Y-%m-%d %H:%M') FROM rfm_orders").fetchall()
    finally:
        con.close()
    return dict(rows)


def test_taobao_signed_date_is_stored_and_a_dash_is_not_a_reject(tmp_path: Path, rfm) -> None:
    src = _taobao(tmp_path / "ExportOrderList.csv", [
        ("3456789012345678901", "tb_小明", "128.00", "交易成功", "2024-01-05 10:12:33", "2024-01-08 16:40:00",
         "0.00"),
        ("3456789012345678902", "快乐的鱼", "59.90", "卖家已发货，等待买家确认", "2024-01-09 08:01:00", "",
         "0.00"),
        ("3456789012345678903", "花花世界", "20.00", "卖家已发货，等待买家确认", "2024-01-09 09:00:00", "-",
         "0.00"),
    ])
    done = rfm("import", src, "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    assert _stored(tmp_path / "shop.duckdb") == {
        "3456789012345678901": "2024-01-08 16:40", "3456789012345678902": None, "3456789012345678903": None}


def test_shopify_fulfilled_at_on_the_first_line_only(tmp_path: Path, rfm) -> None:
    header = ("Name,Email,Financial Status,Paid at,Fulfilled at,Total,Lineitem quantity,Lineitem name,"
              "Lineitem price")
    src = tmp_path / "orders_export_1.csv"
    lines = [
        header,
        "#1001,amy@shop.test,paid,2024-03-01 10:00:00 +0100,2024-03-04 09:30:00 +0100,30.00,1,Tea,10.00",
        "#1001,amy@shop.test,,,,,1,Cup,20.00",
        "#1002,bob@shop.test,paid,2024-03-02 11:00:00 +0100,,15.00,1,Tea,15.00",
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = rfm("import", src, "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    assert _stored(tmp_path / "shop.duckdb") == {"#1001": "2024-03-04 09:30", "#1002": None}


def test_a_later_export_sets_it_an_export_without_it_keeps_it_and_rm_gives_it_back(tmp_path: Path,
                                                                                   rfm) -> None:
    db = tmp_path / "shop.duckdb"
    shipped = ("3456789012345678901", "tb_小明", "128.00", "卖家已发货，等待买家确认", "2024-01-05 10:12:33",
               "", "0.00")
    received = (*shipped[:3], "交易成功", shipped[4], "2024-01-08 16:40:00", "0.00")
    assert rfm("import", _taobao(tmp_path / "a.csv", [shipped]), "--db", db).returncode == 0
    assert _stored(db) == {"3456789012345678901": None}
    second = rfm("import", _taobao(tmp_path / "b.csv", [received]), "--db", db)
    assert second.returncode == 0, second.stderr
    assert _stored(db) == {"3456789012345678901": "2024-01-08 16:40"}
    # the same order in an export without the column: the stored date stays
    third = rfm("import", _taobao(tmp_path / "c.csv", [received], delivered_column=False), "--db", db)
    assert third.returncode == 0, third.stderr
    assert _stored(db) == {"3456789012345678901": "2024-01-08 16:40"}
    # only a delivered date that changed makes the order "updated": re-importing b's state changes nothing
    other = ("3456789012345678909", "花花世界", "20.00", "交易成功", "2024-01-06 09:00:00", "", "0.00")
    again = rfm("import", _taobao(tmp_path / "d.csv", [received, other]), "--db", db)
    assert again.returncode == 0 and _stored(db)["3456789012345678901"] == "2024-01-08 16:40"
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(
        "SELECT source_file FROM rfm_orders WHERE order_id = '3456789012345678901'").fetchall() == [
        (str(tmp_path / "b.csv"),)]
    con.close()
    for name in ("d.csv", "c.csv", "b.csv"):
        assert rfm("imports", "rm", name, "--db", db).returncode == 0
    assert _stored(db) == {"3456789012345678901": None}  # a.csv's state of the order


def test_explain_shows_the_delivered_date(tmp_path: Path, rfm) -> None:
    src = _taobao(tmp_path / "ExportOrderList.csv", [
        ("3456789012345678901", "tb_小明", "128.00", "交易成功", "2024-01-05 10:12:33", "2024-01-08 16:40:00",
         "0.00"),
        ("3456789012345678904", "tb_小明", "30.00", "卖家已发货，等待买家确认", "2024-01-09 10:00:00", "",
         "0.00"),
    ])
    assert rfm("import", src, "--db", "shop.duckdb").returncode == 0
    account = json.loads(rfm("explain", "tb_小明", "--db", "shop.duckdb", "-f", "json",
                             "--no-predictions").stdout)
    assert [(o["order_id"], o["delivered_at"]) for o in account["orders"]] == [
        ("3456789012345678901", "2024-01-08 16:40:00"), ("3456789012345678904", None)]
    shown = rfm("explain", "tb_小明", "--db", "shop.duckdb", "--no-predictions", env={"COLUMNS": "160"})
    assert shown.returncode == 0 and "delivered" in shown.stderr and "2024-01-08 16:40:00" in shown.stderr


def test_explain_says_what_a_day_n_list_counts_from(tmp_path: Path, rfm) -> None:
    src = _taobao(tmp_path / "ExportOrderList.csv", [
        ("3456789012345678901", "tb_小明", "128.00", "交易成功", "2024-01-05 10:12:33", "2024-01-08 16:40:00",
         "0.00"),
        ("3456789012345678904", "tb_小明", "30.00", "卖家已发货，等待买家确认", "2024-01-09 10:00:00", "",
         "0.00"),
        ("3456789012345678905", "tb_小明", "30.00", "交易关闭", "2024-01-10 10:00:00", "", "0.00"),
    ])
    assert rfm("import", src, "--db", "shop.duckdb").returncode == 0
    args = ("explain", "tb_小明", "--db", "shop.duckdb", "--no-predictions", "--as-of", "2024-01-15")
    account = json.loads(rfm(*args, "-f", "json").stdout)
    assert account["followups"] == {
        "counted_orders": 2,
        "first_order": {"order_id": "3456789012345678901", "day": "2024-01-08", "basis": "delivered",
                        "days_since": 7},
        "last_order": {"order_id": "3456789012345678904", "day": "2024-01-09", "basis": "ordered",
                       "days_since": 6},
    }
    assert "days since first order: 7 (3456789012345678901 delivered 2024-01-08)" in rfm(*args).stderr
