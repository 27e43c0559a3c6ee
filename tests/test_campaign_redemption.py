"""Coupon redemption read from the exports' discount-code column, on files written as Taobao and
Shopify write them (issue 20): the codes the campaign issued, found in the orders of its window."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

TAOBAO = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "收货人姓名", "联系手机", "订单创建时间",
          "订单付款时间 ", "宝贝总数量", "退款金额", "优惠信息"]


def _taobao(path: Path, orders: list[tuple[str, str, str, str, str]]) -> Path:
    """A Taobao ExportOrderList: GBK bytes, CRLF, ids as ="…", phones masked, a trailing-space header.
    orders: (order id, buyer, paid, paid at, 优惠信息)."""
    lines = [",".join(TAOBAO)]
    for oid, buyer, paid, paid_at, discount in orders:
        lines.append(",".join([f'="{oid}"', buyer, f"{paid}元", "交易成功", "王小明", "138****1234", paid_at,
                               paid_at, "1", "0.00", discount]))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def _report(rfm, name: str, db: str) -> dict:
    done = rfm("campaign", "report", name, "--format", "json", "--db", db)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _coupon_list(folder: Path) -> dict[str, str]:
    with (folder / "send" / "treatment" / "coupon" / "dormant.csv").open(encoding="utf-8") as fh:
        return {row["customer_id"]: row["coupon_code"] for row in csv.DictReader(fh)}


def test_taobao_redemption_from_the_discount_column(rfm) -> None:
    buyers = [f"tb_买家{i:02d}" for i in range(20)]
    night1 = [(f"3456789012345{i:06d}", b, "88.00", "2026-01-05 10:00:00", "") for i, b in enumerate(buyers)]
    night1.append(("3456789012399999999", "新客", "50.00", "2026-06-01 09:00:00", ""))
    assert rfm("import", _taobao(Path("ExportOrderList202606.csv"), night1), "--db",
               "shop.duckdb").returncode == 0
    codes = Path("codes.txt")
    codes.write_text("券码\n" + "".join(f"TB{i:03d}\n" for i in range(40)), encoding="utf-8")
    done = rfm("campaign", "new", "tb", "--tier", "dormant", "--holdout", "25%", "--channel", "coupon",
               "--codes", codes, "--out-dir", "tb", "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    issued = _coupon_list(Path("tb"))
    assert len(issued) == 15 and len(set(issued.values())) == 15
    holders = sorted(issued)
    # Three buyers use their code (the shop coupon text as Taobao writes it), one buys without it, and
    # one code is used only in an order after the window (not counted).
    night2 = [(f"99{i}", cid, "99.00", "2026-06-05 12:00:00", f"店铺优惠券:{issued[cid]}省10.00元")
              for i, cid in enumerate(holders[:3])]
    night2 += [("9910", holders[3], "99.00", "2026-06-06 12:00:00", "")]
    night2 += [("9911", holders[4], "99.00", "2026-07-30 12:00:00",
                f"店铺优惠券:{issued[holders[4]]}省10.00元")]
    assert rfm("import", _taobao(Path("ExportOrderList202607.csv"), night2), "--db",
               "shop.duckdb").returncode == 0
    report = _report(rfm, "tb", "shop.duckdb")
    arms = {a["arm"]: a for a in report["arms"]}
    assert (arms["treatment"]["buyers"], arms["treatment"]["codes_redeemed"]) == (4, 3)
    assert arms["treatment"]["codes_issued"] == 15 and arms["treatment"]["redemption_rate"] == 0.2
    assert arms["control"]["codes_redeemed"] is None
    assert report["redemption"] == {"read_from": "优惠信息"}
    assert any("优惠信息" in line for line in report["methods"])


def test_shopify_redemption_from_discount_code_on_the_first_line_only(rfm) -> None:
    header = ["Name", "Email", "Financial Status", "Paid at", "Currency", "Subtotal", "Total",
              "Discount Code", "Discount Amount", "Created at", "Lineitem quantity", "Lineitem name",
              "Lineitem price", "Refunded Amount", "Cancelled at"]

    def shopify(path: Path, orders: list[tuple[str, str, str, str, str]]) -> Path:
        # (name, email, paid at, total, discount code): two line items, order fields on the first only
        rows = [header]
        for name, email, paid_at, total, code in orders:
            rows.append([name, email, "paid", paid_at, "EUR", total, total, code, "5.00" if code else "0.00",
                         paid_at, "1", "Socks", total, "0.00", ""])
            rows.append([name, "", "", "", "", "", "", "", "", paid_at, "1", "Gift wrap", "0.00", "", ""])
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
        return path

    emails = [f"buyer{i}@shop.test" for i in range(12)]
    first = [(f"#10{i:02d}", e, "2026-01-02 10:00:00 +0100", "40.00", "") for i, e in enumerate(emails)]
    first.append(("#1099", "new@shop.test", "2026-06-01 10:00:00 +0100", "40.00", ""))
    assert rfm("import", shopify(Path("orders_export_1.csv"), first), "--db", "s.duckdb").returncode == 0
    with duckdb.connect("s.duckdb", read_only=True) as con:  # a column with no code recorded, no code rows
        assert con.execute("SELECT header FROM rfm_code_columns").fetchall() == [("Discount Code",)]
        assert con.execute("SELECT count(*) FROM rfm_order_codes").fetchone()[0] == 0
    codes = Path("codes.txt")
    codes.write_text("".join(f"wb-{i:03d}\n" for i in range(20)), encoding="utf-8")
    assert rfm("campaign", "new", "sh", "--tier", "dormant", "--holdout", "0.25", "--channel", "coupon",
               "--codes", codes, "--out-dir", "sh", "--db", "s.duckdb").returncode == 0
    issued = _coupon_list(Path("sh"))
    holders = sorted(issued)
    # two redeem (one typed in upper case, as Shopify shows codes), one code goes to a friend's order
    second = [("#2001", holders[0], "2026-06-03 09:00:00 +0100", "35.00", issued[holders[0]].upper()),
              ("#2002", holders[1], "2026-06-04 09:00:00 +0100", "35.00", issued[holders[1]]),
              ("#2003", "friend@shop.test", "2026-06-04 10:00:00 +0100", "35.00", issued[holders[2]])]
    assert rfm("import", shopify(Path("orders_export_2.csv"), second), "--db", "s.duckdb").returncode == 0
    report = _report(rfm, "sh", "s.duckdb")
    treated = next(a for a in report["arms"] if a["arm"] == "treatment")
    assert (treated["buyers"], treated["codes_redeemed"], treated["revenue"]) == (2, 3, 70.0)
    assert report["redemption"] == {"read_from": "Discount Code"}


def test_removing_an_import_takes_its_discount_codes_back(rfm) -> None:
    first = _taobao(Path("a.csv"), [("1001", "tb_甲", "10.00", "2026-05-01 10:00:00", "店铺优惠券:AB1")])
    second = _taobao(Path("b.csv"), [("1002", "tb_乙", "10.00", "2026-05-02 10:00:00", "")])
    for path in (first, second):
        assert rfm("import", path, "--db", "shop.duckdb").returncode == 0
    assert rfm("imports", "rm", "a.csv", "--db", "shop.duckdb").returncode == 0
    with duckdb.connect("shop.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM rfm_order_codes").fetchone()[0] == 0
        assert con.execute("SELECT header FROM rfm_code_columns").fetchall() == [("优惠信息",)]


def test_woocommerce_coupon_items_are_read(rfm) -> None:
    header = "order_id,order_date,status,order_total,billing_email,billing_phone,coupon_items\n"

    def woo(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
        # (order id, date, email, coupon_items as the Customer/Order CSV Export plugin writes them)
        path.write_text(header + "".join(f'{oid},{day},wc-completed,30.00,{email},,"{coupons}"\n'
                                         for oid, day, email, coupons in rows), encoding="utf-8")
        return path

    people = [f"p{i}@woo.test" for i in range(8)]
    first = [(str(100 + i), "2026-01-03 10:00:00", e, "") for i, e in enumerate(people)]
    first.append(("199", "2026-06-01 10:00:00", "new@woo.test", ""))
    assert rfm("import", woo(Path("woo1.csv"), first), "--db", "w.duckdb").returncode == 0
    Path("codes.txt").write_text("".join(f"save{i:02d}\n" for i in range(10)), encoding="utf-8")
    assert rfm("campaign", "new", "woo", "--tier", "dormant", "--holdout", "25%", "--channel", "coupon",
               "--codes", "codes.txt", "--out-dir", "woo", "--db", "w.duckdb").returncode == 0
    issued = _coupon_list(Path("woo"))
    [holder, other] = sorted(issued)[:2]
    second = [("300", "2026-06-03 10:00:00", holder,
               f"code:{issued[holder]};amount:5.00|code:freeship;amount:0"),
              ("301", "2026-06-03 11:00:00", other, "code:freeship;amount:0")]
    assert rfm("import", woo(Path("woo2.csv"), second), "--db", "w.duckdb").returncode == 0
    treated = next(a for a in _report(rfm, "woo", "w.duckdb")["arms"] if a["arm"] == "treatment")
    assert (treated["buyers"], treated["codes_redeemed"], treated["codes_issued"]) == (2, 1, 6)
