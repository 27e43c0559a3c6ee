"""Small order exports written byte for byte the way each platform writes them.

`write_<name>(folder) -> Path` writes one file; `EXPECTED[name]` says what is in it: how it should
sniff, the profile and mapping it should match, every data row with its physical line and raw cell
text, the orders (id -> canonical status from the platform's status columns) and the customers.
Nothing is downloaded: every byte is made here.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class Raw(str):
    """A cell written exactly as given (no CSV quoting): ="…", a leading tab, a stray quote."""


@dataclass
class Row:
    line: int  # physical line (text) or sheet row / table row
    cells: dict[str, str | None]  # header -> raw text as loaded (None: empty)
    sheet: str | None = None


@dataclass
class Fixture:
    name: str
    filename: str
    kind: str
    encoding: str | None
    delimiter: str | None
    header_line: int
    headers: list[str]
    profile: str
    mapping: dict[str, str]
    rows: list[Row]
    orders: dict[str, str | None]  # order id -> canonical status from the status column(s)
    customers: set[str]
    sheets: list[str] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)
    status_columns: list[str] = field(default_factory=list)
    amount_from: list[str] = field(default_factory=list)
    content: bytes = b""


def _quote(cell: str, delimiter: str) -> str:
    if isinstance(cell, Raw):
        return str(cell)
    if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _loaded(cell: str) -> str | None:
    return None if cell == "" else str(cell)


class _TextWriter:
    """Renders records, keeping the physical line of each."""

    def __init__(self, delimiter: str = ",", newline: str = "\n") -> None:
        self.delimiter = delimiter
        self.newline = newline
        self.parts: list[str] = []
        self.next_line = 1

    def raw_line(self, text: str) -> int:
        line = self.next_line
        self.parts.append(text + self.newline)
        self.next_line += 1 + text.count("\n")
        return line

    def record(self, cells: list[str]) -> int:
        return self.raw_line(self.delimiter.join(_quote(c, self.delimiter) for c in cells))

    def text(self) -> str:
        return "".join(self.parts)


def _table_rows(writer: _TextWriter, headers: list[str], records: list[list[str]],
                clean_headers: list[str]) -> list[Row]:
    rows = []
    for record in records:
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(clean_headers, record)}))
    return rows


# ------------------------------------------------------------------------------------------
# Taobao / Tmall: GBK, ="…" ids, tabs, ￥/元 amounts, trailing spaces in headers, masked phones

TAOBAO_HEADERS = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "总金额", "买家实际支付金额",
    "订单状态", "买家留言", "收货人姓名", "收货地址 ", "运送方式", "联系电话 ", "联系手机", "订单创建时间",
    "订单付款时间 ", "宝贝标题 ", "宝贝种类 ", "物流单号 ", "物流公司", "订单备注", "宝贝总数量", "店铺Id",
    "店铺名称", "订单关闭原因", "退款金额",
]  # fmt: skip

_TAOBAO_ORDERS = [
    # id, buyer, paid, status, message, name, created, paid_at, note, refund, canonical
    ("3456789012345678901", "tb_小明", "￥128.00", "交易成功", "", "王小明", "2024-01-05 10:10:01",
     "2024-01-05 10:12:33", "", "0.00", "counted"),
    ("3456789012345678902", "花花世界", "59.90", "交易关闭", "", "李花", "2024-01-06 08:01:00", "", "",
     "0.00", "cancelled"),
    ("3456789012345678903", "快乐的鱼", "256.00元", "交易成功", "", "周渔", "2024-01-07 21:30:00",
     "2024-01-07 21:31:12", "", "256.00", "counted"),
    ("3456789012345678904", "tb_小明", "88.00", "等待买家付款", "", "王小明", "2024-01-09 12:00:00", "", "",
     "0.00", "unpaid"),
    ("3456789012345678905", "buyer_2024", "￥45.50", "卖家已发货，等待买家确认", "", "赵四",
     "2024-01-10 09:00:00", "2024-01-10 09:01:00", "请尽快发货\n谢谢", "0.00", "counted"),
    ("3456789012345678906", "张三丰", "300.00", "买家已付款，等待卖家发货", "", "张三丰",
     "2024-01-11 15:20:00", "2024-01-11 15:21:09", "", "0.00", "counted"),
    ("3456789012345678907", "tb_小明", "199.00", "交易成功", "", "王小明", "2024-01-12 18:45:00",
     "2024-01-12 18:46:00", "", "20.00", "counted"),
    ("3456789012345678908", "快乐的鱼", "66.60", "交易成功", "要红色的,谢谢", "周渔", "2024-01-13 07:07:07",
     "2024-01-13 07:08:00", "", "0.00", "counted"),
]  # fmt: skip


def _render_taobao() -> Fixture:
    writer = _TextWriter(",", "\r\n")
    clean = [h.strip() for h in TAOBAO_HEADERS]
    header_line = writer.record(TAOBAO_HEADERS)
    rows = []
    for i, (oid, buyer, paid, status, message, name, created, paid_at, note, refund, _) in enumerate(
            _TAOBAO_ORDERS):
        record = [
            Raw(f'="{oid}"'), buyer, f"buyer{i}@alipay.test", paid.strip("￥元"), "0.00", paid.strip("￥元"),
            paid, status, message, name, f"浙江省 杭州市 西湖区 文三路{i + 1}号", "快递", "",
            Raw(f"\t138****{1230 + i}"), created, paid_at, "加厚保暖袜子 5双装", "1",
            Raw(f"\tYT{9876543210 + i}") if paid_at else "", "圆通速递", note, "1", "123456789",
            "小明的杂货铺", "买家不想买了" if status == "交易关闭" else "", refund,
        ]  # fmt: skip
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(clean, record)}))
    content = writer.text().encode("gbk")
    return Fixture(
        name="taobao", filename="ExportOrderList202401.csv", kind="csv", encoding="gb18030", delimiter=",",
        header_line=header_line, headers=clean, profile="taobao",
        mapping={"order_id": "订单编号", "customer_id": "买家会员名", "order_date": "订单付款时间",
                 "amount": "买家实际支付金额", "refund_amount": "退款金额", "status": "订单状态",
                 "customer_name": "收货人姓名", "phone": "联系手机", "quantity": "宝贝总数量",
                 "product": "宝贝标题"},
        rows=rows, orders={o[0]: o[-1] for o in _TAOBAO_ORDERS}, customers={o[1] for o in _TAOBAO_ORDERS},
        status_columns=["订单状态"], content=content,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# JD: UTF-8 with BOM, CRLF, masked contacts

JD_HEADERS = [
    "订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额", "结算金额",
    "余额支付", "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名", "客户地址", "联系电话",
    "订单备注", "付款确认时间", "订单完成时间",
]  # fmt: skip

_JD_ORDERS = [
    ("281234567890", "jd_4f8a2c", "完成", "199.00", "2024-02-01 10:00:00", "2024-02-01 10:00:30", "counted"),
    ("281234567891", "jd_小王", "等待出库", "89.00", "2024-02-02 11:00:00", "2024-02-02 11:00:10", "counted"),
    ("281234567892", "jd_4f8a2c", "已取消", "45.00", "2024-02-03 12:00:00", "", "cancelled"),
    ("281234567893", "jd_lily88", "等待确认收货", "320.50", "2024-02-04 13:00:00", "2024-02-04 13:01:00",
     "counted"),
    ("281234567894", "jd_小王", "锁定", "12.90", "2024-02-05 14:00:00", "2024-02-05 14:00:05", "cancelled"),
    ("281234567895", "jd_lily88", "完成", "77.00", "2024-02-06 15:00:00", "2024-02-06 15:00:40", "counted"),
]  # fmt: skip


def _render_jd() -> Fixture:
    writer = _TextWriter(",", "\r\n")
    header_line = writer.record(JD_HEADERS)
    rows = []
    for i, (oid, account, status, amount, created, paid_at, _) in enumerate(_JD_ORDERS):
        record = [
            oid, f"10000{i}", "京东自营 保温杯 500ml", "1", "在线支付", created, amount, amount, amount,
            "0.00", amount, status, "普通订单", account, f"客户{i}", "北京市 朝阳区 ***", f"138****{i:04d}",
            "", paid_at, paid_at if status == "完成" else "",
        ]  # fmt: skip
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(JD_HEADERS, record)}))
    content = b"\xef\xbb\xbf" + writer.text().encode("utf-8")
    return Fixture(
        name="jd", filename="jd_orders_20240206.csv", kind="csv", encoding="utf-8-sig", delimiter=",",
        header_line=header_line, headers=JD_HEADERS, profile="jd",
        mapping={"delivered_date": "订单完成时间", "order_id": "订单号", "customer_id": "下单帐号",
                 "order_date": "付款确认时间", "amount": "应付金额", "status": "订单状态",
                 "customer_name": "客户姓名", "phone": "联系电话", "quantity": "订购数量"},
        rows=rows, orders={o[0]: o[-1] for o in _JD_ORDERS}, customers={o[1] for o in _JD_ORDERS},
        status_columns=["订单状态"], content=content,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# Pinduoduo: tabs in cells, masked phones, 售后状态

PDD_HEADERS = [
    "商品", "订单号", "订单状态", "商品总价(元)", "店铺优惠折扣(元)", "平台优惠折扣(元)", "邮费(元)",
    "用户实付金额(元)", "商家实收金额(元)", "商品数量(件)", "收货人", "手机", "省", "市", "区", "街道",
    "支付时间", "拼单成功时间", "订单成交时间", "发货时间", "确认收货时间", "商品id", "商品规格",
    "用户购买手机号", "快递单号", "快递公司", "商家备注", "售后状态", "买家留言",
]  # fmt: skip

_PDD_ORDERS = [
    ("240301-012345678901234", "已收货", "无售后或售后取消", "1391234****", "39.90", "counted"),
    ("240301-012345678901235", "已发货，待收货", "无售后或售后取消", "1502222****", "19.90", "counted"),
    ("240302-012345678901236", "已取消", "无售后或售后取消", "1391234****", "9.90", "cancelled"),
    ("240302-012345678901237", "已收货", "退款成功", "1863333****", "59.00", "refunded"),
    ("240303-012345678901238", "待发货", "无售后或售后取消", "1502222****", "29.90", "counted"),
    ("240303-012345678901239", "已收货", "无售后或售后取消", "1774444****", "12.80", "counted"),
    ("240304-012345678901240", "已发货，待签收", "退款中", "1391234****", "88.00", "counted"),
]  # fmt: skip


def _render_pinduoduo() -> Fixture:
    writer = _TextWriter(",", "\n")
    header_line = writer.record(PDD_HEADERS)
    rows = []
    for i, (oid, status, after_sale, buyer_phone, paid, _) in enumerate(_PDD_ORDERS):
        paid_at = "" if status == "已取消" else f"2024-03-0{1 + i // 2} 1{i}:00:00"
        record = [
            "家用加厚垃圾袋 100只", Raw(f"\t{oid}"), status, paid, "0.00", "0.00", "0.00", paid, paid, "1",
            f"收货人{i}", f"1387677{'*' * 4}", "广东省", "深圳市", "南山区", "粤海街道", paid_at, paid_at,
            paid_at, "", "", Raw(f"\t{5000000 + i}"), "黑色 100只", buyer_phone,
            Raw(f"\tYT{1234567890 + i}") if paid_at else "", "圆通快递" if paid_at else "", "", after_sale,
            "",
        ]  # fmt: skip
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(PDD_HEADERS, record)}))
    content = writer.text().encode("utf-8")
    return Fixture(
        name="pinduoduo", filename="pdd_orders.csv", kind="csv", encoding="utf-8", delimiter=",",
        header_line=header_line, headers=PDD_HEADERS, profile="pinduoduo",
        mapping={"delivered_date": "确认收货时间", "order_id": "订单号", "customer_id": "用户购买手机号",
                 "order_date": "支付时间", "amount": "用户实付金额(元)", "status": "订单状态",
                 "customer_name": "收货人", "phone": "手机", "quantity": "商品数量(件)"},
        rows=rows, orders={o[0]: o[-1] for o in _PDD_ORDERS}, customers={o[3] for o in _PDD_ORDERS},
        status_columns=["订单状态", "售后状态"], content=content,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# Douyin shop: leading tabs, stray quotes, one order on two sub-order rows

DOUYIN_HEADERS = [
    "主订单编号", "子订单编号", "选购商品", "商品规格", "商品数量", "商品ID", "商家编码", "商品单价",
    "订单应付金额", "运费", "优惠总金额", "收件人", "收件人手机号", "省", "市", "区", "详细地址", "买家留言",
    "订单提交时间", "支付完成时间", "订单完成时间", "支付方式", "订单状态", "售后状态", "取消原因",
    "商家备注",
]  # fmt: skip

_DOUYIN_LINES = [
    # main id, sub id, product, amount, phone, status, after-sale, canonical
    ("6920123456789012345", "6920123456789012346", '加厚"防滑"拖鞋', "29.90", "138****5678", "已完成", "-",
     "counted"),
    ("6920123456789012345", "6920123456789012347", "纯棉袜子", "15.00", "138****5678", "已完成", "-",
     "counted"),
    ("6920123456789012350", "6920123456789012351", "保温杯", "49.00", "139****1111", "已关闭", "-",
     "cancelled"),
    ("6920123456789012360", "6920123456789012361", "手机壳", "19.90", "150****2222", "已发货", "-",
     "counted"),
    ("6920123456789012370", "6920123456789012371", '充电宝 20000mAh "快充"版', "99.00", "138****5678",
     "待发货", "-", "counted"),
    ("6920123456789012380", "6920123456789012381", "数据线", "9.90", "186****3333", "已完成", "退款成功",
     "refunded"),
]  # fmt: skip


def _render_douyin() -> Fixture:
    writer = _TextWriter(",", "\n")
    header_line = writer.record(DOUYIN_HEADERS)
    rows = []
    for i, (main, sub, product, amount, phone, status, after_sale, _) in enumerate(_DOUYIN_LINES):
        submitted = f"2024/04/0{1 + i} 20:1{i}:00"
        record = [
            Raw(f"\t{main}"), Raw(f"\t{sub}"), Raw(product), "默认", "1", Raw(f"\t{3600000000 + i}"), "",
            amount, amount, "0", "0", f"收件人{i}", phone, "江苏省", "南京市", "鼓楼区", "***", "", submitted,
            "" if status == "已关闭" else submitted, submitted if status == "已完成" else "",
            "抖音支付", status, after_sale, "超时未支付" if status == "已关闭" else "", "",
        ]  # fmt: skip
        if i == 3:
            record[1] = Raw(f'"\t{sub}"')  # quoted, with the tab inside the quotes
        line = writer.record(record)
        loaded = {h: _loaded(c) for h, c in zip(DOUYIN_HEADERS, record)}
        if i == 3:
            loaded["子订单编号"] = f"\t{sub}"
        rows.append(Row(line, loaded))
    content = writer.text().encode("utf-8")
    orders: dict[str, str | None] = {}
    for line in _DOUYIN_LINES:
        orders[line[0]] = line[-1]
    return Fixture(
        name="douyin", filename="抖店订单导出.csv", kind="csv", encoding="utf-8", delimiter=",",
        header_line=header_line, headers=DOUYIN_HEADERS, profile="douyin",
        mapping={"delivered_date": "订单完成时间", "order_id": "主订单编号", "customer_id": "收件人手机号",
                 "order_date": "支付完成时间", "amount": "订单应付金额", "status": "订单状态",
                 "customer_name": "收件人", "phone": "收件人手机号", "quantity": "商品数量",
                 "unit_price": "商品单价"},
        rows=rows, orders=orders, customers={line[4] for line in _DOUYIN_LINES},
        status_columns=["订单状态", "售后状态"], content=content,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# Shopify: one row per line item, order fields on the first row only

SHOPIFY_HEADERS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount",
    "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
    "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable",
    "Lineitem fulfillment status", "Billing Name", "Billing Street", "Billing Address1", "Billing Address2",
    "Billing Company", "Billing City", "Billing Zip", "Billing Province", "Billing Country", "Billing Phone",
    "Shipping Name", "Shipping Street", "Shipping Address1", "Shipping Address2", "Shipping Company",
    "Shipping City", "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone", "Notes",
    "Note Attributes", "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level", "Source",
    "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Phone", "Receipt Number", "Duties",
    "Billing Province Name", "Shipping Province Name", "Payment ID", "Payment Terms Name",
    "Next Payment Due At", "Payment References",
]  # fmt: skip

_SHOPIFY_ORDERS = [
    # name, email, financial, paid at, total, refunded, cancelled at, notes, items, canonical
    ("#1001", "anna@example.com", "paid", "2021-05-13 11:01:13 +0200", "64.00", "0.00", "", "",
     [("Mug", "2", "16.00"), ("Tea", "1", "32.00")], "counted"),
    ("#1002", "ben@example.com", "refunded", "2021-05-14 09:30:00 +0200", "25.00", "25.00", "", "",
     [("Socks", "1", "25.00")], "refunded"),
    ("#1003", "anna@example.com", "partially_refunded", "2021-05-20 18:00:00 +0200", "80.00", "10.00", "",
     "Leave at the door,\nplease", [("Plate", "2", "30.00"), ("Bowl", "1", "20.00")], "counted"),
    ("#1004", "carl@example.com", "voided", "", "15.00", "0.00", "2021-05-21 08:00:00 +0200", "",
     [("Card", "1", "15.00")], "cancelled"),
    ("#1005", "dora@example.com", "pending", "", "40.00", "0.00", "", "", [("Vase", "1", "40.00")], "unpaid"),
]  # fmt: skip


def _render_shopify() -> Fixture:
    writer = _TextWriter(",", "\n")
    header_line = writer.record(SHOPIFY_HEADERS)
    rows = []
    for n, (name, email, financial, paid_at, total, refunded, cancelled, notes, items, _) in enumerate(
            _SHOPIFY_ORDERS):
        created = paid_at or f"2021-05-2{n} 10:00:00 +0200"
        for k, (item, quantity, price) in enumerate(items):
            cells = dict.fromkeys(SHOPIFY_HEADERS, "")
            cells.update({"Name": name, "Email": email, "Created at": created, "Lineitem quantity": quantity,
                          "Lineitem name": item, "Lineitem price": price,
                          "Lineitem sku": f"SKU-{item.upper()}", "Lineitem requires shipping": "true",
                          "Lineitem taxable": "true", "Lineitem fulfillment status": "pending",
                          "Vendor": "Shop", "Lineitem discount": "0.00"})
            if k == 0:  # order-level fields only on the first line item
                cells.update({"Financial Status": financial, "Paid at": paid_at,
                              "Fulfillment Status": "unfulfilled", "Accepts Marketing": "no",
                              "Currency": "EUR", "Subtotal": total, "Shipping": "0.00", "Taxes": "0.00",
                              "Total": total, "Discount Amount": "0.00",
                              "Billing Name": email.split("@")[0].title() + " Smith",
                              "Billing Street": "12 Main St, Apt 4", "Billing City": "Berlin",
                              "Billing Zip": "10115", "Billing Country": "DE",
                              "Billing Phone": "+4930123456" if n == 0 else "", "Notes": notes,
                              "Cancelled at": cancelled, "Payment Method": "Shopify Payments",
                              "Refunded Amount": refunded, "Outstanding Balance": "0.00",
                              "Id": str(3900000000 + n), "Risk Level": "Low", "Source": "web", "Phone": ""})
            record = [cells[h] for h in SHOPIFY_HEADERS]
            line = writer.record(record)
            rows.append(Row(line, {h: _loaded(c) for h, c in zip(SHOPIFY_HEADERS, record)}))
    content = writer.text().encode("utf-8")
    return Fixture(
        name="shopify", filename="orders_export_1.csv", kind="csv", encoding="utf-8", delimiter=",",
        header_line=header_line, headers=SHOPIFY_HEADERS, profile="shopify",
        mapping={"delivered_date": "Fulfilled at", "order_id": "Name", "customer_id": "Email",
                 "order_date": "Paid at", "amount": "Total", "refund_amount": "Refunded Amount",
                 "status": "Financial Status", "currency": "Currency", "customer_name": "Billing Name",
                 "phone": "Phone", "email": "Email", "accepts_marketing": "Accepts Marketing",
                 "discount_code": "Discount Code", "quantity": "Lineitem quantity",
                 "unit_price": "Lineitem price", "sku": "Lineitem sku", "product": "Lineitem name"},
        rows=rows, orders={o[0]: o[-1] for o in _SHOPIFY_ORDERS}, customers={o[1] for o in _SHOPIFY_ORDERS},
        status_columns=["Financial Status"], content=content,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# WooCommerce (snake_case customer/order export)

WOO_HEADERS = [
    "order_id", "order_number", "order_date", "paid_date", "status", "shipping_total", "order_total",
    "refunded_total", "order_currency", "payment_method", "customer_id", "customer_email",
    "billing_first_name", "billing_last_name", "billing_email", "billing_phone", "customer_note",
]  # fmt: skip

_WOO_ORDERS = [
    ("1201", "completed", "59.00", "0", "emma@shop.test", "counted"),
    ("1202", "processing", "24.50", "12", "li.wei@shop.test", "counted"),
    ("1203", "cancelled", "10.00", "0", "emma@shop.test", "cancelled"),
    ("1204", "refunded", "35.00", "0", "noah@shop.test", "refunded"),
    ("1205", "pending", "18.00", "0", "olivia@shop.test", "unpaid"),
    ("1206", "on-hold", "42.00", "12", "li.wei@shop.test", "unpaid"),
    ("1207", "failed", "99.00", "0", "noah@shop.test", "cancelled"),
]  # fmt: skip


def _render_woocommerce() -> Fixture:
    writer = _TextWriter(",", "\n")
    header_line = writer.record(WOO_HEADERS)
    rows = []
    for i, (oid, status, total, user, email, _) in enumerate(_WOO_ORDERS):
        paid = "" if status in ("pending", "failed", "on-hold") else f"2024-05-0{i + 1} 14:0{i}:00"
        first, last = email.split("@")[0].split(".")[0].title(), "Doe"
        record = [oid, oid, f"2024-05-0{i + 1} 14:00:00", paid, status, "4.90", total,
                  total if status == "refunded" else "0.00", "USD", "stripe", user, email, first, last, email,
                  "+1 555 0100" if i % 2 else "", "Gift wrap, please" if i == 1 else ""]  # fmt: skip
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(WOO_HEADERS, record)}))
    content = writer.text().encode("utf-8")
    return Fixture(
        name="woocommerce", filename="woocommerce-orders.csv", kind="csv", encoding="utf-8", delimiter=",",
        header_line=header_line, headers=WOO_HEADERS, profile="woocommerce",
        mapping={"order_id": "order_id", "customer_id": "customer_email", "order_date": "paid_date",
                 "amount": "order_total", "refund_amount": "refunded_total", "status": "status",
                 "currency": "order_currency", "customer_name": "billing_first_name",
                 "phone": "billing_phone", "email": "billing_email"},
        rows=rows, orders={o[0]: o[-1] for o in _WOO_ORDERS}, customers={o[4] for o in _WOO_ORDERS},
        status_columns=["status"], content=content,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# Amazon: tab-delimited .txt, one row per order item

AMAZON_HEADERS = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "url", "ship-service-level", "product-name",
    "sku", "asin", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price",
    "shipping-tax", "ship-city", "ship-state", "ship-postal-code", "ship-country", "buyer-email",
    "buyer-name", "is-business-order",
]  # fmt: skip

_AMAZON_ITEMS = [
    ("112-1234567-1234567", "Shipped", "Ruler, steel, 12\" long", "2", "15.98", "x1@marketplace.amazon.com",
     "counted"),
    ("112-1234567-1234567", "Shipped", "Pencil set", "1", "6.49", "x1@marketplace.amazon.com", "counted"),
    ("113-2345678-2345678", "Pending", "Notebook A5", "1", "", "", "unpaid"),
    ("114-3456789-3456789", "Cancelled", "Eraser", "3", "0.00", "x2@marketplace.amazon.com", "cancelled"),
    ("111-4567890-4567890", "Shipped - Delivered to Buyer", "Desk lamp", "1", "39.99",
     "x3@marketplace.amazon.com", "counted"),
    ("112-5678901-5678901", "Unshipped", "Stapler", "1", "12.00", "x1@marketplace.amazon.com", "counted"),
]  # fmt: skip


def _render_amazon() -> Fixture:
    writer = _TextWriter("\t", "\n")
    header_line = writer.record(AMAZON_HEADERS)
    rows = []
    for i, (oid, status, product, quantity, price, email, _) in enumerate(_AMAZON_ITEMS):
        record = [
            oid, "", f"2024-06-0{i + 1}T10:15:22+00:00", f"2024-06-0{i + 2}T08:00:00+00:00", status,
            "Merchant", "Amazon.com", "", "", "Standard", Raw(product), f"SKU-{i}", f"B00{i}XYZ",
            status.split(" ")[0], quantity, "USD" if price else "", price, "0.00" if price else "", "", "",
            "SEATTLE", "WA", "98101", "US", email, "", "false",
        ]  # fmt: skip
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(AMAZON_HEADERS, record)}))
    content = writer.text().encode("utf-8")
    orders: dict[str, str | None] = {}
    for item in _AMAZON_ITEMS:
        orders[item[0]] = item[-1]
    return Fixture(
        name="amazon", filename="All Orders Report.txt", kind="csv", encoding="utf-8", delimiter="\t",
        header_line=header_line, headers=AMAZON_HEADERS, profile="amazon",
        mapping={"order_id": "amazon-order-id", "customer_id": "buyer-email", "order_date": "purchase-date",
                 "amount": "item-price", "status": "order-status", "currency": "currency",
                 "customer_name": "buyer-name", "email": "buyer-email", "quantity": "quantity", "sku": "sku",
                 "product": "product-name"},
        rows=rows, orders=orders, customers={i[5] for i in _AMAZON_ITEMS if i[5]},
        status_columns=["order-status"], content=content,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# UCI Online Retail (I and II): xlsx written with xlsxwriter, ids as floats

UCI_HEADERS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
               "Country"]
UCI_II_HEADERS = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID",
                  "Country"]

_UCI_LINES = [
    # invoice, stock, description, qty, date, price, customer (None = empty), country
    (536365, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55,
     17850.0, "United Kingdom"),
    (536365, "71053", "WHITE METAL LANTERN", 6, dt.datetime(2010, 12, 1, 8, 26), 3.39, 17850.0,
     "United Kingdom"),
    (536365, "84406B", "CREAM CUPID HEARTS COAT HANGER", 8, dt.datetime(2010, 12, 1, 8, 26), 2.75, 17850.0,
     "United Kingdom"),
    (536366, "22633", "HAND WARMER UNION JACK", 6, dt.datetime(2010, 12, 1, 8, 28), 1.85, 17850.0,
     "United Kingdom"),
    (536367, "84879", "ASSORTED COLOUR BIRD ORNAMENT", 32, dt.datetime(2010, 12, 1, 8, 34), 1.69, 13047.0,
     "United Kingdom"),
    ("C536379", "D", "Discount", -1, dt.datetime(2010, 12, 1, 9, 41), 27.5, 14527.0, "United Kingdom"),
    (536380, "22961", "JAM MAKING SET PRINTED", 24, dt.datetime(2010, 12, 1, 9, 41), 1.45, None,
     "United Kingdom"),
    (536381, "22139", "RETROSPOT TEA SET CERAMIC 11 PC", 1, dt.datetime(2010, 12, 1, 9, 41), 4.95, 15311.0,
     "United Kingdom"),
    (536382, "10002", "INFLATABLE POLITICAL GLOBE", 12, dt.datetime(2010, 12, 1, 9, 45), 0.85, 12583.0,
     "France"),
]  # fmt: skip

_UCI_II_SHEETS = {
    "Year 2009-2010": [
        (489434, "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", 12, dt.datetime(2009, 12, 1, 7, 45), 6.95,
         13085.0, "United Kingdom"),
        (489434, "79323P", "PINK CHERRY LIGHTS", 12, dt.datetime(2009, 12, 1, 7, 45), 6.75, 13085.0,
         "United Kingdom"),
        ("C489449", "22087", "PAPER BUNTING WHITE LACE", -12, dt.datetime(2009, 12, 1, 10, 33), 2.95, 16321.0,
         "Australia"),
        (489435, "22350", "CAT BOWL", 12, dt.datetime(2009, 12, 1, 7, 46), 2.1, 13085.0, "United Kingdom"),
    ],
    "Year 2010-2011": [
        (536365, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55,
         17850.0, "United Kingdom"),
        (536366, "22633", "HAND WARMER UNION JACK", 6, dt.datetime(2010, 12, 1, 8, 28), 1.85, 17850.0,
         "United Kingdom"),
        (536370, "22728", "ALARM CLOCK BAKELIKE PINK", 24, dt.datetime(2010, 12, 1, 8, 45), 3.75, None,
         "France"),
    ],
}  # fmt: skip


def _excel_text(value) -> str | None:
    """How a cell comes back from the workbook as raw text."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _write_uci_sheet(workbook, name: str, headers: list[str], lines: list[tuple]) -> list[Row]:
    sheet = workbook.add_worksheet(name)
    date_format = workbook.add_format({"num_format": "m/d/yyyy h:mm"})
    sheet.write_row(0, 0, headers)
    rows = []
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
        rows.append(Row(r + 1, {h: _excel_text(v) for h, v in zip(headers, line)}, sheet=name))
    return rows


def _uci_orders(lines: list[tuple]) -> tuple[dict[str, str | None], set[str]]:
    orders = {str(line[0]): None for line in lines}
    customers = {str(int(line[6])) for line in lines if line[6] is not None}
    return orders, customers


def _render_online_retail() -> Fixture:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    rows = _write_uci_sheet(workbook, "Online Retail", UCI_HEADERS, _UCI_LINES)
    workbook.close()
    orders, customers = _uci_orders(_UCI_LINES)
    return Fixture(
        name="online_retail", filename="Online Retail.xlsx", kind="xlsx", encoding=None, delimiter=None,
        header_line=1, headers=UCI_HEADERS, profile="online_retail",
        mapping={"order_id": "InvoiceNo", "customer_id": "CustomerID", "order_date": "InvoiceDate",
                 "quantity": "Quantity", "unit_price": "UnitPrice", "sku": "StockCode",
                 "product": "Description"},
        rows=rows, orders=orders, customers=customers, sheets=["Online Retail"],
        amount_from=["Quantity", "UnitPrice"], content=buffer.getvalue(),
    )  # fmt: skip


def _render_online_retail_ii() -> Fixture:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    rows = []
    for name, lines in _UCI_II_SHEETS.items():
        rows += _write_uci_sheet(workbook, name, UCI_II_HEADERS, lines)
    workbook.close()
    all_lines = [line for lines in _UCI_II_SHEETS.values() for line in lines]
    orders, customers = _uci_orders(all_lines)
    return Fixture(
        name="online_retail_ii", filename="online_retail_II.xlsx", kind="xlsx", encoding=None, delimiter=None,
        header_line=1, headers=UCI_II_HEADERS, profile="online_retail_ii",
        mapping={"order_id": "Invoice", "customer_id": "Customer ID", "order_date": "InvoiceDate",
                 "quantity": "Quantity", "unit_price": "Price", "sku": "StockCode",
                 "product": "Description"},
        rows=rows, orders=orders, customers=customers, sheets=list(_UCI_II_SHEETS),
        amount_from=["Quantity", "Price"], content=buffer.getvalue(),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# "Excel" files that are not: an HTML table and a GBK TSV named .xls

HTML_HEADERS = ["订单号", "客户", "下单时间", "实付金额", "订单状态", "手机号"]
_HTML_ORDERS = [
    ("E20240701001", "会员_阿强", "2024-07-01 09:00:00", "128.00", "已完成", "counted"),
    ("E20240701002", "会员_小美", "2024-07-01 10:30:00", "56.00", "已取消", "cancelled"),
    ("E20240702003", "会员_阿强", "2024-07-02 11:45:00", "99.00", "待付款", "unpaid"),
    ("E20240703004", "会员_大力 & 小力", "2024-07-03 16:20:00", "210.50", "已发货", "counted"),
]  # fmt: skip


def _render_xls_html() -> Fixture:
    parts = [
        '<html xmlns:x="urn:schemas-microsoft-com:office:excel">\n<head>\n',
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">\n</head>\n<body>\n',
        '<table border="1">\n<tr><td colspan="6">订单导出 2024-07-01 至 2024-07-03</td></tr>\n<tr>',
        "".join(f"<th>{h}</th>" for h in HTML_HEADERS),
        "</tr>\n",
    ]
    rows = []
    for i, (oid, customer, date, amount, status, _) in enumerate(_HTML_ORDERS):
        cells = [oid, customer, date, amount, status, f"139****{i:04d}" if i != 1 else ""]
        escaped = [c.replace("&", "&amp;") for c in cells]
        parts.append("<tr>" + "".join(f'<td style="mso-number-format:\'@\'">{c}</td>' for c in escaped)
                     + "</tr>\n")
        rows.append(Row(3 + i, {h: _loaded(c) for h, c in zip(HTML_HEADERS, cells)}))
    parts.append("</table>\n</body>\n</html>\n")
    content = "".join(parts).encode("gbk")
    return Fixture(
        name="xls_html", filename="订单导出.xls", kind="html", encoding="gb18030", delimiter=None,
        header_line=2, headers=HTML_HEADERS, profile="generic_zh",
        mapping={"order_id": "订单号", "customer_id": "客户", "order_date": "下单时间", "amount": "实付金额",
                 "status": "订单状态", "phone": "手机号"},
        rows=rows, orders={o[0]: o[-1] for o in _HTML_ORDERS}, customers={o[1] for o in _HTML_ORDERS},
        status_columns=["订单状态"], content=content,
    )  # fmt: skip


TSV_XLS_HEADERS = ["会员名", "订单号", "付款时间", "实付金额", "订单状态", "备注"]
_TSV_XLS_ORDERS = [
    ("春天的风", "TS0001", "2024-08-01 08:00:00", "35.00", "交易成功", "counted"),
    ("夏天的雨", "TS0002", "2024-08-02 09:00:00", "12.00", "交易关闭", "cancelled"),
    ("春天的风", "TS0003", "2024-08-03 10:00:00", "48.80", "已发货", "counted"),
    ("秋天的叶", "TS0004", "", "66.00", "待付款", "unpaid"),
    ("冬天的雪", "TS0005", "2024-08-05 12:00:00", "120.00", "已退款", "refunded"),
]  # fmt: skip


def _render_xls_tsv() -> Fixture:
    writer = _TextWriter("\t", "\r\n")
    header_line = writer.record(TSV_XLS_HEADERS)
    rows = []
    for i, (buyer, oid, paid_at, amount, status, _) in enumerate(_TSV_XLS_ORDERS):
        record = [buyer, oid, paid_at, amount, status, "包邮，谢谢" if i == 0 else ""]
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(TSV_XLS_HEADERS, record)}))
    return Fixture(
        name="xls_tsv", filename="orders.xls", kind="csv", encoding="gb18030", delimiter="\t",
        header_line=header_line, headers=TSV_XLS_HEADERS, profile="generic_zh",
        mapping={"order_id": "订单号", "customer_id": "会员名", "order_date": "付款时间",
                 "amount": "实付金额", "status": "订单状态"},
        rows=rows, orders={o[1]: o[-1] for o in _TSV_XLS_ORDERS}, customers={o[0] for o in _TSV_XLS_ORDERS},
        status_columns=["订单状态"], content=writer.text().encode("gbk"),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# A GBK CSV with two title rows; a UTF-16 TSV ("Unicode text" from Excel)

TITLED_HEADERS = ["订单号", "客户ID", "下单时间", "订单金额", "订单状态", "手机号"]
_TITLED_ORDERS = [
    ("T1001", "C001", "2024/1/6 8:01", "99.00", "已完成", "counted"),
    ("T1002", "C002", "2024/1/7 9:15", "45.00", "已完成", "counted"),
    ("T1003", "C001", "2024/1/8 20:30", "150.00", "已取消", "cancelled"),
    ("T1004", "C003", "2024/1/9 12:00", "30.00", "待付款", "unpaid"),
    ("T1005", "C002", "2024/1/10 7:45", "88.80", "已退款", "refunded"),
]  # fmt: skip


def _render_gbk_titled() -> Fixture:
    writer = _TextWriter(",", "\r\n")
    writer.record(["订单报表 2024-01-01 至 2024-01-31", "", "", "", "", ""])
    writer.record(["导出时间：2024-02-01 10:00:00"])
    header_line = writer.record(TITLED_HEADERS)
    rows = []
    for i, (oid, customer, date, amount, status, _) in enumerate(_TITLED_ORDERS):
        record = [oid, customer, date, amount, status, f"1860000{i:04d}"]
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(TITLED_HEADERS, record)}))
    return Fixture(
        name="gbk_titled", filename="订单报表.csv", kind="csv", encoding="gb18030", delimiter=",",
        header_line=header_line, headers=TITLED_HEADERS, profile="generic_zh",
        mapping={"order_id": "订单号", "customer_id": "客户ID", "order_date": "下单时间",
                 "amount": "订单金额", "status": "订单状态", "phone": "手机号"},
        rows=rows, orders={o[0]: o[-1] for o in _TITLED_ORDERS}, customers={o[1] for o in _TITLED_ORDERS},
        status_columns=["订单状态"], content=writer.text().encode("gbk"),
    )  # fmt: skip


UTF16_HEADERS = ["Order ID", "Customer", "Order Date", "Total", "Status", "Email"]
_UTF16_ORDERS = [
    ("A-1", "Zoë Müller", "2024-09-01", "19.99", "Completed", "counted"),
    ("A-2", "José Núñez", "2024-09-02", "5.00", "Cancelled", "cancelled"),
    ("A-3", "Zoë Müller", "2024-09-03", "42.00", "Shipped", "counted"),
    ("A-4", "李雷", "2024-09-04", "12.34", "Refunded", "refunded"),
]  # fmt: skip


def _render_utf16_tsv() -> Fixture:
    writer = _TextWriter("\t", "\r\n")
    header_line = writer.record(UTF16_HEADERS)
    rows = []
    for oid, customer, date, total, status, _ in _UTF16_ORDERS:
        record = [oid, customer, date, total, status, f"{oid.lower()}@mail.test"]
        line = writer.record(record)
        rows.append(Row(line, {h: _loaded(c) for h, c in zip(UTF16_HEADERS, record)}))
    return Fixture(
        name="utf16_tsv", filename="orders_unicode.txt", kind="csv", encoding="utf-16", delimiter="\t",
        header_line=header_line, headers=UTF16_HEADERS, profile="generic_en",
        mapping={"order_id": "Order ID", "customer_id": "Customer", "order_date": "Order Date",
                 "amount": "Total", "status": "Status", "email": "Email"},
        rows=rows, orders={o[0]: o[-1] for o in _UTF16_ORDERS}, customers={o[1] for o in _UTF16_ORDERS},
        status_columns=["Status"], content=writer.text().encode("utf-16"),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# rfm's own canonical columns: a ragged CSV and a Parquet file

CANONICAL_HEADERS = ["order_id", "customer_id", "order_date", "amount", "status"]


def _render_ragged() -> Fixture:
    writer = _TextWriter(",", "\n")
    header_line = writer.record(CANONICAL_HEADERS)
    rows, bad = [], []
    records = [
        ["o1", "c1", "2024-01-01", "10.00", "paid"],
        ["o2", "c2", "2024-01-02", "20.00", "paid", "EXTRA"],  # one field too many
        ["o3", "c1", "2024-01-03", "30.00", "cancelled"],
        ["o4", "c3", "2024-01-04"],  # too short
        ["o5", "c2", "2024-01-05", "5.00", "refunded"],
    ]
    for record in records:
        line = writer.record(record)
        if len(record) != len(CANONICAL_HEADERS):
            bad.append(line)
        else:
            rows.append(Row(line, {h: _loaded(c) for h, c in zip(CANONICAL_HEADERS, record)}))
    writer.raw_line("")  # a blank line: neither data nor an error
    line = writer.record(["o6", "c4", "2024-01-06", "1,000.00", "paid"])
    rows.append(Row(line, dict(zip(CANONICAL_HEADERS, ["o6", "c4", "2024-01-06", "1,000.00", "paid"]))))
    good = [r.cells["order_id"] for r in rows]
    return Fixture(
        name="ragged", filename="ragged.csv", kind="csv", encoding="utf-8", delimiter=",",
        header_line=header_line, headers=CANONICAL_HEADERS, profile="canonical",
        mapping={f: f for f in CANONICAL_HEADERS}, rows=rows,
        orders={r.cells["order_id"]: {"paid": "counted", "cancelled": "cancelled", "refunded": "refunded"}[
            r.cells["status"]] for r in rows},
        customers={r.cells["customer_id"] for r in rows if r.cells["order_id"] in good},
        bad_lines=bad, status_columns=["status"], content=writer.text().encode("utf-8"),
    )  # fmt: skip


def _render_parquet() -> Fixture:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "order_id": ["p1", "p2", "p3"],
        "customer_id": pa.array([17850.0, 13047.0, None], pa.float64()),
        "order_date": pa.array([dt.datetime(2024, 1, 1, 8, 0), dt.datetime(2024, 1, 2, 9, 30),
                                dt.datetime(2024, 1, 3)], pa.timestamp("us")),
        "amount": pa.array([10.5, 20.0, 0.1 + 0.2], pa.float64()),
        "status": ["paid", "pending", "paid"],
    })  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    expected = [
        ["p1", "17850", "2024-01-01 08:00:00", "10.5", "paid"],
        ["p2", "13047", "2024-01-02 09:30:00", "20", "pending"],
        ["p3", None, "2024-01-03 00:00:00", "0.30000000000000004", "paid"],
    ]
    rows = [Row(i + 1, dict(zip(CANONICAL_HEADERS, values))) for i, values in enumerate(expected)]
    return Fixture(
        name="parquet", filename="orders.parquet", kind="parquet", encoding=None, delimiter=None,
        header_line=0, headers=CANONICAL_HEADERS, profile="canonical",
        mapping={f: f for f in CANONICAL_HEADERS}, rows=rows,
        orders={"p1": "counted", "p2": "unpaid", "p3": "counted"}, customers={"17850", "13047"},
        status_columns=["status"], content=buffer.getvalue(),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------

_RENDERERS: dict[str, Callable[[], Fixture]] = {
    "taobao": _render_taobao,
    "jd": _render_jd,
    "pinduoduo": _render_pinduoduo,
    "douyin": _render_douyin,
    "shopify": _render_shopify,
    "woocommerce": _render_woocommerce,
    "amazon": _render_amazon,
    "online_retail": _render_online_retail,
    "online_retail_ii": _render_online_retail_ii,
    "xls_html": _render_xls_html,
    "xls_tsv": _render_xls_tsv,
    "gbk_titled": _render_gbk_titled,
    "utf16_tsv": _render_utf16_tsv,
    "ragged": _render_ragged,
    "parquet": _render_parquet,
}

EXPECTED: dict[str, Fixture] = {name: render() for name, render in _RENDERERS.items()}


def _write(name: str, folder: Path) -> Path:
    fixture = EXPECTED[name]
    path = Path(folder) / fixture.filename
    path.write_bytes(fixture.content)
    return path


def write_taobao(folder: Path) -> Path:
    return _write("taobao", folder)


def write_jd(folder: Path) -> Path:
    return _write("jd", folder)


def write_pinduoduo(folder: Path) -> Path:
    return _write("pinduoduo", folder)


def write_douyin(folder: Path) -> Path:
    return _write("douyin", folder)


def write_shopify(folder: Path) -> Path:
    return _write("shopify", folder)


def write_woocommerce(folder: Path) -> Path:
    return _write("woocommerce", folder)


def write_amazon(folder: Path) -> Path:
    return _write("amazon", folder)


def write_online_retail(folder: Path) -> Path:
    return _write("online_retail", folder)


def write_online_retail_ii(folder: Path) -> Path:
    return _write("online_retail_ii", folder)


def write_xls_html(folder: Path) -> Path:
    return _write("xls_html", folder)


def write_xls_tsv(folder: Path) -> Path:
    return _write("xls_tsv", folder)


def write_gbk_titled(folder: Path) -> Path:
    return _write("gbk_titled", folder)


def write_utf16_tsv(folder: Path) -> Path:
    return _write("utf16_tsv", folder)


def write_ragged(folder: Path) -> Path:
    return _write("ragged", folder)


def write_parquet(folder: Path) -> Path:
    return _write("parquet", folder)


WRITERS: dict[str, Callable[[Path], Path]] = {name: globals()[f"write_{name}"] for name in _RENDERERS}
