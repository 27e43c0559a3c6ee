"""Issue 16, the input side: hostile files that rfm used to read with exit 0 while losing or altering data.

Each file is written the way it arises in the field (Excel's "Unicode text", a GBK row pasted
into a UTF-8 export, a German decimal comma, Excel's 1.23457E+18, a 9999-12-31 placeholder…).
The import must account for every physical line (imported, duplicate, excluded or rejected with
its line and reason), never store a value it misread, and never print a phone or an email it
found in the wrong column.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib.util
import json
import os
import stat
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest import pipeline
from rfm_cli.core.ingest.pipeline import ImportOptions, import_files
from rfm_cli.core.store import open_store, sql

HEADER = "order_id,customer_id,order_date,amount,status"


def rows(count: int, start: int = 1) -> list[str]:
    return [f"O{i},C{i % 40},2026-01-{1 + i % 28:02d} 10:00:00,{10 + i % 7}.50,paid"
            for i in range(start, start + count)]


def write_lines(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


_open_stores = contextlib.ExitStack()


@pytest.fixture(autouse=True)
def _close_stores():
    with _open_stores:
        yield


def import_one(path: Path, **options) -> tuple[pipeline.FileReport, duckdb.DuckDBPyConnection]:
    """Import one file into a fresh in-memory store (closed after the test); the report and the store."""
    store = _open_stores.enter_context(open_store(None))
    [report] = import_files(store, [path], ImportOptions(rejects_dir=None, **options))
    return report, store.con


def stored(con, column: str = "order_id") -> list:
    return [row[0] for row in con.execute(f"SELECT {column} FROM rfm_orders ORDER BY order_id").fetchall()]


# ------------------------------------------------------------------ 1. opt-out files


def optouts_stored(rfm, tmp_path: Path, name: str) -> list[tuple[str, str]]:
    done = rfm("--db", "shop.duckdb", "suppress", "add", "--file", name)
    assert done.returncode == 0, done.stderr
    listed = rfm("--db", "shop.duckdb", "suppress", "list")
    return [tuple(line.split(",")[:2]) for line in listed.stdout.splitlines()[1:]]


def test_excel_unicode_text_opt_out_file_is_read_header_and_notes_left_out(rfm, tmp_path: Path) -> None:
    # Excel's "Save as Unicode text": UTF-16 LE with a BOM, tab-separated, CRLF
    text = "手机号\t备注\r\n13812345678\t客户电话要求退订\r\nsomeone@example.com\t\r\n"
    (tmp_path / "optouts.txt").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert sorted(optouts_stored(rfm, tmp_path, "optouts.txt")) == [
        ("email", "someone@example.com"), ("phone", "+8613812345678"), ("phone", "13812345678")]


def test_gbk_opt_out_file_and_xlsx_opt_out_file(rfm, tmp_path: Path) -> None:
    (tmp_path / "gbk.csv").write_bytes("手机号,备注\n13912345678,不要再发了\n".encode("gbk"))
    assert sorted(optouts_stored(rfm, tmp_path, "gbk.csv")) == [
        ("phone", "+8613912345678"), ("phone", "13912345678")]
    import xlsxwriter

    with xlsxwriter.Workbook(tmp_path / "optouts.xlsx") as workbook:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["email", "note"])
        sheet.write_row(1, 0, ["X@Example.com", "asked in chat"])
    assert ("email", "x@example.com") in optouts_stored(rfm, tmp_path, "optouts.xlsx")


def test_unreadable_opt_out_file_is_an_error_never_an_empty_list(rfm, tmp_path: Path,
                                                                  assert_cli_error) -> None:
    # a UTF-8 list with a line of GB18030 bytes: which phone it holds cannot be known
    gbk_line = "备注李四".encode("gb18030") + b"\n"
    (tmp_path / "mixed.csv").write_bytes("手机号\n13812345678\n".encode() + gbk_line)
    (tmp_path / "orders.csv").write_text(HEADER + "\n" + "\n".join(rows(5)) + "\n", encoding="utf-8")
    done = rfm("--db", "shop.duckdb", "run", "orders.csv", "--out-dir", "out", "--exclude", "mixed.csv")
    assert "mixed.csv" in assert_cli_error(done, 65)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ 2. every physical line accounted for


def test_unterminated_quote_counts_every_line_it_swallowed(tmp_path: Path, rfm, assert_cli_error) -> None:
    lines = [HEADER, *rows(100), 'O101,"C1,2026-01-02 10:00:00,5.00,paid', *rows(199, start=102)]
    path = write_lines(tmp_path / "quote.csv", lines)
    report, con = import_one(path, max_rejects="100%")
    assert (report.rows_read, report.imported, report.rejected) == (300, 100, 200)
    assert con.execute("SELECT line, reason FROM rfm_rejects").fetchall() == [
        (102, "unbalanced quotes (lines 102-301 read as one record)")]
    message = assert_cli_error(rfm("--db", "shop.duckdb", "import", "quote.csv"), 65)
    assert "200 of 300 rows" in message and "line 102" in message


def test_a_cell_over_two_megabytes_is_a_reject_not_a_vanished_row(tmp_path: Path) -> None:
    lines = [HEADER, *rows(10), "O11,C1,2026-01-02 10:00:00,5.00," + "x" * 3_000_000, *rows(10, start=12)]
    report, con = import_one(write_lines(tmp_path / "huge.csv", lines), max_rejects="100%")
    assert (report.rows_read, report.imported, report.rejected) == (21, 20, 1)
    assert con.execute("SELECT line, reason FROM rfm_rejects").fetchall() == [(12, "line too long")]


def test_lines_the_reader_does_not_account_for_fail_the_import(tmp_path: Path, monkeypatch) -> None:
    # the mechanism itself: a reader that lost a line (simulated: the byte count says one more)
    from rfm_cli.core.ingest import read_text

    real = read_text.scan_text

    def one_more(*args, **kwargs):
        scan = real(*args, **kwargs)
        scan.lines += 1
        return scan

    monkeypatch.setattr(read_text, "scan_text", one_more)
    path = write_lines(tmp_path / "orders.csv", [HEADER, *rows(20), "O21,C1,2026-01-02,bad,paid"])
    with pytest.raises(DataError, match=r"accounts for 21 of the 22 lines after the header"):
        import_one(path, max_rejects="100%")


# ------------------------------------------------------------------ 3. one encoding per file, by evidence


def test_gbk_rows_in_a_utf8_file_are_rejected_and_the_utf8_rows_kept_intact(tmp_path: Path) -> None:
    body = "".join(f"O{i},王琳{i},2026-01-02,5.00,paid\n" for i in range(1, 50)).encode("utf-8")
    gbk_row = "O50,李四,2026-01-02,5.00,paid\n".encode("gbk")
    path = tmp_path / "mixed.csv"
    path.write_bytes((HEADER + "\n").encode() + body + gbk_row + "O51,王琳,2026-01-02,5.00,paid\n".encode())
    report, con = import_one(path, max_rejects="100%")
    assert (report.rows_read, report.imported, report.rejected) == (51, 50, 1)
    assert con.execute("SELECT line, reason FROM rfm_rejects").fetchall() == [(51, "not valid UTF-8")]
    assert "王琳1" in stored(con, "customer_id") and "王琳" in stored(con, "customer_id")


def test_utf8_rows_in_a_gbk_file_are_rejected_not_garbled(tmp_path: Path) -> None:
    gbk = "".join(f"O{i},买家王琳{i},2026-01-02,5.00,paid\n" for i in range(1, 40)).encode("gbk")
    path = tmp_path / "taobao.csv"
    path.write_bytes((HEADER + "\n").encode() + gbk + "O40,张三丰,2026-01-02,5.00,paid\n".encode())
    report, con = import_one(path, max_rejects="100%")
    assert (report.rows_read, report.imported, report.rejected) == (40, 39, 1)
    assert con.execute("SELECT line, reason, raw FROM rfm_rejects").fetchall() == [
        (41, "UTF-8 text in a gb18030 file", "O40,张三丰,2026-01-02,5.00,paid")]  # the text as it was
    assert "买家王琳1" in stored(con, "customer_id")


# ------------------------------------------------------------------ 4. decimal comma


def test_decimal_comma_file_is_read_as_such(tmp_path: Path) -> None:
    lines = ["order_id;customer_id;order_date;amount;status", "O1;C1;2026-01-02;1.234,56;paid",
             "O2;C2;2026-01-02;12,5;paid", "O3;C3;2026-01-02;7;paid"]
    report, con = import_one(write_lines(tmp_path / "de.csv", lines))
    assert [float(a) for a in stored(con, "amount")] == [1234.56, 12.5, 7.0]
    assert any("decimal comma" in w for w in report.warnings)


def test_a_decimal_comma_in_a_decimal_point_file_is_rejected_not_multiplied(tmp_path: Path) -> None:
    lines = [HEADER, *rows(30), 'O31,C1,2026-01-02,"12,50",paid', 'O32,C1,2026-01-02,"1,234.50",paid']
    report, con = import_one(write_lines(tmp_path / "mixed.csv", lines), max_rejects="100%")
    assert report.rejected == 1
    assert con.execute("SELECT line, reason FROM rfm_rejects").fetchall() == [
        (32, 'unreadable amount "12,50"')]
    assert con.execute("SELECT amount FROM rfm_orders WHERE order_id = 'O32'").fetchall()[0][0] == 1234.5


# ------------------------------------------------------------------ 5. ids a spreadsheet turned into floats


def test_float_rounded_ids_are_rejected_not_merged(tmp_path: Path) -> None:
    lines = [HEADER, "1.23457E+18,C1,2026-01-02,5.00,paid", "1.23457E+18,C2,2026-01-03,6.00,paid", *rows(3)]
    report, con = import_one(write_lines(tmp_path / "ids.csv", lines), max_rejects="100%")
    assert (report.imported, report.rejected) == (3, 2)
    assert {r[0] for r in con.execute("SELECT reason FROM rfm_rejects").fetchall()} == {
        'order id "1.23457E+18" is a number rounded by a spreadsheet (digits lost)'}


def test_xlsx_with_order_numbers_stored_as_numbers_is_rejected_then_csv_counts_once(tmp_path: Path) -> None:
    import xlsxwriter

    numbers = [6920123456789012345 + 1000 * i for i in range(4)]
    with xlsxwriter.Workbook(tmp_path / "orders.xlsx") as workbook:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["order_id", "customer_id", "order_date", "amount"])
        for row, number in enumerate(numbers, start=1):
            sheet.write_number(row, 0, number)  # what Excel keeps: a float, digits past 2^53 lost
            sheet.write_row(row, 1, [f"C{row}", "2026-01-02", "5.00"])
    csv_path = write_lines(tmp_path / "orders.csv", ["order_id,customer_id,order_date,amount"]
                           + [f"{n},C{i},2026-01-02,5.00" for i, n in enumerate(numbers, start=1)])
    with open_store(None) as store:
        options = ImportOptions(rejects_dir=None, max_rejects="100%")
        [xlsx] = import_files(store, [tmp_path / "orders.xlsx"], options)
        [again] = import_files(store, [csv_path], options)
        assert (xlsx.imported, xlsx.rejected) == (0, 4)
        assert (again.imported, again.duplicates) == (4, 0)
        assert store.con.execute("SELECT count(*) FROM rfm_orders").fetchall()[0][0] == 4


@pytest.mark.parametrize("first",
                         [9_007_199_254_740_993 + 7, 12_345_678_901_234_567, 6_920_123_456_789_012_345])
@pytest.mark.parametrize("as_numbers", [True, False])
def test_a_small_xlsx_of_long_order_numbers_is_judged_by_its_cell_types(tmp_path: Path, first: int,
                                                                      as_numbers: bool) -> None:
    """Two orders with 16, 17 or 19-digit numbers: too few for chance alone to tell float cells from
    text, so the workbook's cell types decide. Stored as numbers (digits lost): rejected. The same
    digits stored as text: imported as they are."""
    import xlsxwriter

    numbers = [first, first + 2_000]
    with xlsxwriter.Workbook(tmp_path / "orders.xlsx") as workbook:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["order_id", "customer_id", "order_date", "amount"])
        for row, number in enumerate(numbers, start=1):
            if as_numbers:
                sheet.write_number(row, 0, number)
            else:
                sheet.write_string(row, 0, str(number))
            sheet.write_row(row, 1, [f"C{row}", "2026-01-02", "5.00"])
    report, con = import_one(tmp_path / "orders.xlsx", max_rejects="100%")
    if as_numbers:
        assert (report.imported, report.rejected) == (0, 2)
    else:
        assert (report.imported, report.rejected) == (2, 0)
        assert stored(con) == sorted(str(n) for n in numbers)


def test_lost_digits_warning_is_printed_by_import(write_orders, rfm) -> None:
    write_orders("ids.csv", [("1234567890123000", "C1", "2026-01-02", "5.00", "paid", "")])
    done = rfm("--db", "shop.duckdb", "import", "ids.csv")
    assert done.returncode == 0 and "warning:" in done.stderr and "floating point" in done.stderr


# ------------------------------------------------------------------ 6, 7. headers and quotes


def test_duplicated_header_stops_and_names_both_columns(tmp_path: Path, rfm, assert_cli_error) -> None:
    write_lines(tmp_path / "dup.csv", ["order_id,customer_id,order_date,amount,amount,status",
                                       "O1,C1,2026-01-02,5.00,7.00,paid"])
    message = assert_cli_error(rfm("--db", "shop.duckdb", "import", "dup.csv"), 65)
    assert "columns 4 ('amount') and 5 ('amount 2')" in message
    chosen = rfm("--db", "shop.duckdb", "import", "dup.csv", "--map", "amount=amount 2")
    assert chosen.returncode == 0, chosen.stderr
    con = duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True)
    assert stored(con, "amount") == [7]


def test_quotes_inside_ids_are_kept(tmp_path: Path) -> None:
    lines = [HEADER, '"say ""hi""",C1,2026-01-02,5.00,paid', 'O2,"C ""x""",2026-01-02,5.00,paid',
             'O3,\t"C3",2026-01-02,5.00,paid']
    _, con = import_one(write_lines(tmp_path / "quotes.csv", lines))
    assert stored(con) == ["O2", "O3", 'say "hi"']
    assert sorted(stored(con, "customer_id")) == ['C "x"', "C1", "C3"]


# ------------------------------------------------------------------ 8, 9. dates


def test_a_9999_placeholder_date_is_rejected_and_never_sets_the_as_of(tmp_path: Path) -> None:
    lines = [HEADER, *rows(20), "O99,C1,9999-12-31,5.00,paid"]
    _, con = import_one(write_lines(tmp_path / "far.csv", lines), max_rejects="100%")
    assert con.execute("SELECT line, column_name, reason FROM rfm_rejects").fetchall() == [
        (22, "order_date", 'date "9999-12-31" is in the future')]
    latest_day = max(1 + i % 28 for i in range(1, 21))
    assert con.execute(sql("as_of_default")).fetchall()[0][0].isoformat() == f"2026-01-{latest_day:02d}"


def test_a_date_years_after_the_rest_is_flagged(write_orders, rfm) -> None:
    early = [(f"O{i}", f"C{i}", f"2019-03-{1 + i:02d}", "5.00", "paid", "") for i in range(20)]
    write_orders("late.csv", [*early, ("O99", "C1", "2025-06-01", "5.00", "paid", "")])
    done = rfm("--db", "shop.duckdb", "import", "late.csv")
    assert done.returncode == 0 and "2025-06-01, more than a year after every other order" in done.stderr


def test_dates_before_1970_import_and_score(write_orders, rfm) -> None:
    write_orders("old.csv", [("O1", "C1", "1965-03-01", "5.00", "paid", ""),
                             ("O2", "C1", "1966-03-01", "6.00", "paid", ""),
                             ("O3", "C2", "1969-12-31 23:59:59", "7.00", "paid", "")])
    assert rfm("--db", "shop.duckdb", "import", "old.csv").returncode == 0
    scored = rfm("--db", "shop.duckdb", "score", "-o", "-")
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.splitlines()[1].startswith("C1,,,,1965-03-01 00:00:00,1966-03-01 00:00:00,")
    exported = rfm("--db", "shop.duckdb", "export", "--out-dir", "out")
    assert exported.returncode == 0, exported.stderr


# ------------------------------------------------------------------ 10. the rejects file


class _OneSecond(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 11, 22, 8, 30, 0)


def test_two_imports_in_one_second_keep_both_rejects_files_private(tmp_path: Path, monkeypatch) -> None:
    for module in ("rfm_cli.core.ingest.pipeline", "rfm_cli.core.ingest.rejects_file"):  # whichever names it
        if importlib.util.find_spec(module) is not None:
            monkeypatch.setattr(f"{module}.datetime", _OneSecond, raising=False)
    old_umask = os.umask(0)
    try:
        for folder in ("a", "b"):
            lines = [HEADER, *rows(5), f"O9,C1,2026-01-02,bad-{folder},paid"]
            path = write_lines(tmp_path / folder / "orders.csv", lines)
            options = ImportOptions(max_rejects="100%", rejects_dir=tmp_path / "rejects")
            with open_store(None) as store:
                import_files(store, [path], options)
    finally:
        os.umask(old_umask)
    files = sorted((tmp_path / "rejects").iterdir())
    assert [f.name for f in files] == ["orders-20261122-083000-2.csv", "orders-20261122-083000.csv"]
    assert {"bad-a" in f.read_text() for f in files} == {True, False}
    assert stat.S_IMODE((tmp_path / "rejects").stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


def test_a_symlinked_rejects_folder_is_refused(tmp_path: Path, rfm, assert_cli_error) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "rejects").symlink_to(tmp_path / "elsewhere")
    write_lines(tmp_path / "orders.csv", [HEADER, *rows(5), "O9,C1,2026-01-02,bad,paid"])
    done = rfm("--db", "shop.duckdb", "import", "orders.csv", "--max-rejects", "100%")
    message = assert_cli_error(done, 73)
    assert "symbolic link" in message
    assert list((tmp_path / "elsewhere").iterdir()) == []


# ------------------------------------------------------------------ 11. no personal data in errors and logs


def test_a_phone_or_email_in_the_wrong_column_is_masked_in_errors_and_logs(write_orders, rfm,
                                                                           assert_cli_error) -> None:
    write_orders("wrong.csv", [("O1", "C1", "13812345678", "5.00", "paid", ""),
                               ("O2", "C2", "2026-01-02", "someone@example.com", "paid", "")])
    message = assert_cli_error(rfm("--db", "shop.duckdb", "import", "wrong.csv"), 65)
    assert "line 2" in message and "order_date" in message and '"138****5678"' in message
    logged = rfm("--log-json", "--db", "shop.duckdb", "import", "wrong.csv", "--max-rejects", "100%")
    assert logged.returncode == 0
    rejects = duckdb.connect(str(Path.cwd() / "shop.duckdb"), read_only=True)
    reasons = [r[0] for r in rejects.execute("SELECT reason FROM rfm_rejects ORDER BY line").fetchall()]
    assert reasons == ['unreadable date "138****5678"', 'unreadable amount "s***@example.com"']
    for output in (message, logged.stderr, json.dumps(reasons)):
        assert "13812345678" not in output and "someone@example.com" not in output


def test_an_html_xls_with_rows_in_another_encoding_keeps_them_as_rejects(tmp_path: Path) -> None:
    """A UTF-8 HTML "Excel" export (Taobao/ERP style) where two names were pasted in from a GBK file:
    those rows are rejected with their reason, every other name stays exactly as written, never a
    replacement character; every table row is accounted for."""
    head = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>'
            "<table><tr><td>订单编号</td><td>买家会员名</td><td>收货人姓名</td><td>订单付款时间</td>"
            "<td>买家实际支付金额</td><td>订单状态</td></tr>\r\n")
    names = ["王琳", "张伟", "李娜", "刘洋", "陈静", "杨磊"]
    body = b""
    for i, name in enumerate(names):
        # an ERP that pastes the consignee from a GBK address book into its UTF-8 page
        cell = name.encode("gbk" if i in (2, 4) else "utf-8")
        before = f"<tr><td>T{i:03d}</td><td>buyer{i}</td><td>".encode()
        after = (f"</td><td>2026-03-0{i + 1} 10:00:00</td><td>{100 + i}.00</td>"
                 "<td>交易成功</td></tr>\r\n").encode()
        body += before + cell + after
    path = tmp_path / "ExportOrderList.xls"
    path.write_bytes(head.encode("utf-8") + body + b"</table></body></html>")
    report, con = import_one(path, max_rejects="100%")
    assert (report.rows_read, report.imported, report.rejected) == (6, 4, 2)
    stored_names = [r[0]
                    for r in con.execute("SELECT customer_name FROM rfm_orders ORDER BY order_id").fetchall()]
    assert stored_names == ["王琳", "张伟", "刘洋", "杨磊"]
    reasons = con.execute("SELECT line, reason FROM rfm_rejects ORDER BY line").fetchall()
    assert [line for line, _ in reasons] == [4, 6] and all("not utf-8 text" in r for _, r in reasons)
    assert not any("\ufffd" in str(row) for row in con.execute("SELECT * FROM rfm_rejects").fetchall())
