"""Sniffing and raw loading: every platform fixture, ragged lines, line numbers, encodings."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import duckdb
import platform_fixtures as pf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.ingest import encoding as encoding_module
from rfm_cli.core.ingest import read_text as text_reader
from rfm_cli.core.ingest.profile_match import known_headers
from rfm_cli.core.ingest.profiles import load_profiles
from rfm_cli.core.ingest.sniff import Sniffed, column_names, sniff, to_duckdb

KNOWN = known_headers(load_profiles())
FIXTURES = sorted(pf.EXPECTED)


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    yield connection
    connection.close()


def load(con, path: Path, workdir: Path, table: str = "stage") -> tuple[Sniffed, int]:
    sniffed = sniff(path, known_headers=KNOWN)
    return sniffed, to_duckdb(con, sniffed, table, workdir)


def rows_of(con, table: str = "stage") -> list[dict]:
    cursor = con.execute(
        f'SELECT * FROM "{table}" ORDER BY {"_sheet, " if has_sheet(con, table) else ""}_line')
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def has_sheet(con, table: str) -> bool:
    return any(r[0] == "_sheet" for r in con.execute(f'DESCRIBE "{table}"').fetchall())


# ------------------------------------------------------------------------------------------
# every fixture


@pytest.mark.parametrize("name", FIXTURES)
def test_sniff_fixture(tmp_path, name):
    expected = pf.EXPECTED[name]
    sniffed = sniff(pf.WRITERS[name](tmp_path), known_headers=KNOWN)
    assert sniffed.kind == expected.kind
    assert sniffed.encoding == expected.encoding
    assert sniffed.delimiter == expected.delimiter
    assert sniffed.header_line == expected.header_line
    assert sniffed.headers == expected.headers
    assert sniffed.sheets == expected.sheets
    assert sniffed.notes and all(isinstance(note, str) for note in sniffed.notes)


@pytest.mark.parametrize("name", FIXTURES)
def test_to_duckdb_fixture(con, tmp_path, name):
    expected = pf.EXPECTED[name]
    _, count = load(con, pf.WRITERS[name](tmp_path), tmp_path / "work")
    assert count == len(expected.rows)
    loaded = rows_of(con)
    columns = [d[0] for d in con.execute('SELECT * FROM "stage" LIMIT 0').description]
    assert columns[0] == "_line"
    assert columns[1 : 1 + len(expected.headers)] == column_names(expected.headers)
    assert ("_sheet" in columns) == (expected.kind in ("xlsx", "xls"))
    order = sorted(expected.rows, key=lambda r: ((r.sheet or ""), r.line))
    assert [r["_line"] for r in loaded] == [r.line for r in order]
    for got, want in zip(loaded, order):
        assert {h: got[h] for h in want.cells} == want.cells, f"line {want.line}"
        if want.sheet:
            assert got["_sheet"] == want.sheet
    bad = con.execute('SELECT _line FROM "stage_bad" ORDER BY _line').fetchall()
    assert [b[0] for b in bad] == expected.bad_lines


def test_taobao_gbk_decodes_and_keeps_raw_text(con, tmp_path):
    load(con, pf.write_taobao(tmp_path), tmp_path)
    first = rows_of(con)[0]
    assert first["订单编号"] == '="3456789012345678901"'  # raw: cleaning strips ="…" later
    assert first["买家会员名"] == "tb_小明"
    assert first["买家实际支付金额"] == "￥128.00"
    assert first["联系手机"] == "\t138****1230"
    assert first["订单付款时间"] == "2024-01-05 10:12:33"  # header "订单付款时间 " cleaned
    note = next(r for r in rows_of(con) if r["订单备注"])
    assert note["订单备注"] == "请尽快发货\n谢谢" and note["_line"] == 6
    assert rows_of(con)[5]["_line"] == 8  # the row after the two-line note


def test_online_retail_floats_come_back_as_integers(con, tmp_path):
    load(con, pf.write_online_retail(tmp_path), tmp_path)
    rows = rows_of(con)
    assert rows[0]["CustomerID"] == "17850"
    assert rows[0]["InvoiceNo"] == "536365"
    assert rows[0]["InvoiceDate"] == "2010-12-01 08:26:00"
    assert rows[0]["UnitPrice"] == "2.55"
    refund = next(r for r in rows if r["InvoiceNo"] == "C536379")
    assert refund["Quantity"] == "-1" and refund["_line"] == 7
    assert next(r for r in rows if r["InvoiceNo"] == "536380")["CustomerID"] is None


def test_online_retail_ii_reads_both_sheets(con, tmp_path):
    sniffed, count = load(con, pf.write_online_retail_ii(tmp_path), tmp_path)
    assert sniffed.sheets == ["Year 2009-2010", "Year 2010-2011"]
    counts = dict(con.execute('SELECT _sheet, count(*) FROM "stage" GROUP BY 1').fetchall())
    assert counts == {"Year 2009-2010": 4, "Year 2010-2011": 3}
    assert count == 7


def test_xls_that_is_html_or_tsv_is_sniffed_by_content(tmp_path):
    html = sniff(pf.write_xls_html(tmp_path), known_headers=KNOWN)
    tsv = sniff(pf.write_xls_tsv(tmp_path), known_headers=KNOWN)
    assert (html.kind, html.encoding, html.header_line) == ("html", "gb18030", 2)
    assert (tsv.kind, tsv.encoding, tsv.delimiter) == ("csv", "gb18030", "\t")
    assert any("HTML" in n for n in html.notes)
    assert any(".xls" in n for n in tsv.notes)


def test_title_rows_are_skipped_even_without_known_headers(tmp_path):
    sniffed = sniff(pf.write_gbk_titled(tmp_path))
    assert sniffed.header_line == 3
    assert sniffed.headers == pf.TITLED_HEADERS
    assert "header on line 3: 2 title rows skipped" in sniffed.notes
    assert any(n.startswith("encoding gb18030") for n in sniffed.notes)


def test_workbook_header_below_title_rows_and_offset_columns(con, tmp_path):
    import xlsxwriter

    path = tmp_path / "report.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("订单")
    sheet.write(0, 1, "订单报表 2024-01-01 至 2024-01-31")
    sheet.write_row(2, 1, ["订单号", "客户ID", "下单时间", "实付金额"])
    sheet.write_row(3, 1, ["A1", "C1", "2024-01-02", 10])
    sheet.write_row(5, 1, ["A2", "C2", "2024-01-03", 12.5])  # row 5 left empty
    sheet.write(6, 6, "note beyond the header")
    workbook.close()
    sniffed, count = load(con, path, tmp_path)
    assert (sniffed.header_line, sniffed.headers) == (3, ["订单号", "客户ID", "下单时间", "实付金额"])
    rows = rows_of(con)
    assert ([(r["_line"], r["订单号"], r["实付金额"]) for r in rows]
            == [(4, "A1", "10"), (6, "A2", "12.5"), (7, None, None)])
    assert rows[2]["Column 6"] == "note beyond the header"  # nothing is dropped silently
    assert count == 3


# ------------------------------------------------------------------------------------------
# ragged lines and exact line numbers


def test_ragged_lines_land_in_bad_table_with_line_numbers(con, tmp_path):
    _, count = load(con, pf.write_ragged(tmp_path), tmp_path)
    assert count == 4
    bad = con.execute('SELECT _line, reason, raw FROM "stage_bad" ORDER BY _line').fetchall()
    assert bad == [
        (3, "more fields than the header: 6 fields, expected 5", "o2,c2,2024-01-02,20.00,paid,EXTRA"),
        (5, "fewer fields than the header: 3 fields, expected 5", "o4,c3,2024-01-04"),
    ]
    assert [r["order_id"] for r in rows_of(con)] == ["o1", "o3", "o5", "o6"]


LINE_TEST = (
    "Orders export\n"  # 1 title
    "\n"  # 2 blank
    "order_id,customer_id,note\n"  # 3 header
    "1,a,plain\n"  # 4
    "\n"  # 5 blank
    '2,b,"two\nlines"\n'  # 6-7
    "3,c,too,many\n"  # 8 bad
    '4,d,"blank\n\ninside"\n'  # 9-11
    "5,e\n"  # 12 bad
    "   \n"  # 13 whitespace only
    '6,"f ""q""",x\n'  # 14
    '7,"bad"quote,y\n'  # 15 bad
    "8,h,last"  # 16, no final newline
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_numbers_with_blank_lines_quoted_newlines_and_rejects(con, tmp_path, newline):
    path = tmp_path / "lines.csv"
    path.write_bytes(LINE_TEST.replace("\n", newline).encode("utf-8"))
    sniffed, count = load(con, path, tmp_path)
    assert (sniffed.header_line, sniffed.headers) == (3, ["order_id", "customer_id", "note"])
    got = [(r["_line"], r["order_id"], r["note"]) for r in rows_of(con)]
    assert got == [
        (4, "1", "plain"),
        (6, "2", f"two{newline}lines"),
        (9, "4", f"blank{newline}{newline}inside"),
        (14, "6", "x"),
        (16, "8", "last"),
    ]
    assert count == 5
    bad = [b[0] for b in con.execute('SELECT _line FROM "stage_bad" ORDER BY 1').fetchall()]
    assert bad == [8, 12, 15]


def test_many_line_pieces_take_the_rewrite_path(con, tmp_path, monkeypatch):
    monkeypatch.setattr(text_reader, "_MAX_PIECE_UPDATES", 2)
    path = tmp_path / "lines.csv"
    path.write_bytes(LINE_TEST.encode("utf-8"))
    load(con, path, tmp_path)
    assert [r["_line"] for r in rows_of(con)] == [4, 6, 9, 14, 16]


def test_line_numbers_on_a_larger_file(con, tmp_path):
    lines = ["id,name,amount"]
    expected = {}
    bad = []
    for i in range(50_000):
        if i % 9973 == 0:
            lines.append("")
        if i % 12007 == 5:
            lines.append(f"{i},broken")
            bad.append(len(lines))
            continue
        if i % 7919 == 3:
            lines.append(f'{i},"multi\nline",{i}')
            expected[i] = len(lines)
            lines[-1:] = lines[-1].split("\n")
            continue
        lines.append(f"{i},name {i},{i}.5")
        expected[i] = len(lines)
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, count = load(con, path, tmp_path)
    assert count == len(expected)
    got = {int(i): line for line, i in con.execute('SELECT _line, id FROM "stage"').fetchall()}
    assert got == expected
    assert [b[0] for b in con.execute('SELECT _line FROM "stage_bad" ORDER BY 1').fetchall()] == bad


def test_trailing_delimiter_on_data_lines_names_the_extra_column(con, tmp_path):
    path = tmp_path / "trailing.csv"
    path.write_text("a,b\n1,2,\n3,4,\n", encoding="utf-8")
    sniffed, count = load(con, path, tmp_path)
    assert sniffed.headers == ["a", "b", ""]
    assert count == 2
    assert [d[0] for d in con.execute('SELECT * FROM "stage"').description] == ["_line", "a", "b", "Column 3"]


def test_header_cells_are_cleaned(tmp_path):
    path = tmp_path / "dirty.csv"
    path.write_bytes('\ufeff="订单编号" ,\t买家会员名\t,"金额 ", \'备注\'\n="1",x,2,y\n'.encode("utf-8"))
    sniffed = sniff(path)
    assert sniffed.encoding == "utf-8-sig"
    assert sniffed.headers == ["订单编号", "买家会员名", "金额", "备注"]


def test_column_names_are_unique_and_named():
    assert column_names(["金额", "", "金额", "Name", "name", "_line", "Column 2"]) == [
        "金额",
        "Column 2",
        "金额 2",
        "Name",
        "name 2",
        "_line 2",
        "Column 2 2",
    ]


def test_semicolon_and_pipe_delimiters(tmp_path):
    (tmp_path / "semi.csv").write_text("a;b;c\n1;2,5;3\n4;5;6\n", encoding="utf-8")
    (tmp_path / "pipe.txt").write_text("a|b\n1|x, y\n", encoding="utf-8")
    assert sniff(tmp_path / "semi.csv").delimiter == ";"
    assert sniff(tmp_path / "pipe.txt").delimiter == "|"


def test_transcoded_copy_is_removed_and_settings_restored(con, tmp_path):
    work = tmp_path / "work"
    con.execute("SET preserve_insertion_order = false")
    load(con, pf.write_gbk_titled(tmp_path), work)
    assert list(work.iterdir()) == []
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0] is False
    assert not [t for t in con.execute("SELECT table_name FROM duckdb_tables()").fetchall() if "rfm" in t[0]]


# ------------------------------------------------------------------------------------------
# encodings


def test_utf8_check_is_not_fooled_by_a_sample_cut_mid_character(tmp_path, monkeypatch):
    monkeypatch.setattr(encoding_module, "FULL_CHECK", 64)
    monkeypatch.setattr(encoding_module, "SAMPLE", 100)
    text = "订单号,客户\n" + "".join(f"{i},客户名字{i}\n" for i in range(40))
    path = tmp_path / "cut.csv"
    path.write_text(text, encoding="utf-8")
    # byte 100 is mid-character
    assert path.read_bytes()[99:100].decode("utf-8", errors="replace") == "\ufffd"
    assert sniff(path).encoding == "utf-8"


def test_invalid_gbk_after_the_sample_is_rejected_with_its_line(con, tmp_path, monkeypatch):
    # issue 16: a line that does not decode is a reject, not the end of the file (nor a re-decode of it)
    monkeypatch.setattr(encoding_module, "FULL_CHECK", 64)
    monkeypatch.setattr(encoding_module, "SAMPLE", 200)
    body = "订单号,客户\n" + "".join(f"{i},客户{i}\n" for i in range(50))
    path = tmp_path / "broken.csv"
    path.write_bytes(body.encode("gbk") + b"51,\x81\x20\n52,\xc0\xee\n")
    sniffed = sniff(path)
    assert sniffed.encoding == "gb18030"
    sniffed, count = load(con, path, tmp_path)
    assert count == 51
    assert con.execute('SELECT _line, reason FROM "stage_bad"').fetchall() == [(52, "not valid gb18030")]
    assert rows_of(con)[-1]["客户"] == "李"


def test_invalid_utf8_line_in_a_large_file_is_rejected_not_fatal(con, tmp_path, monkeypatch):
    monkeypatch.setattr(encoding_module, "FULL_CHECK", 64)
    monkeypatch.setattr(encoding_module, "SAMPLE", 200)
    body = "".join(f"{i},name{i}\n" for i in range(100))
    path = tmp_path / "late.csv"
    path.write_bytes(b"id,name\n" + body.encode() + b"100,caf\xe9\n101,ok\n")
    sniffed, count = load(con, path, tmp_path)
    assert sniffed.encoding == "utf-8"
    assert count == 101
    assert con.execute('SELECT _line, reason FROM "stage_bad"').fetchall() == [(102, "not valid UTF-8")]


def test_windows_1252_fallback(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("Order ID,Customer\n1,Café Crème\n".encode("cp1252"))
    sniffed = sniff(path)
    assert sniffed.encoding == "cp1252"


def test_utf16_without_bom(con, tmp_path):
    path = tmp_path / "nobom.txt"
    path.write_bytes("a\tb\r\n1\t李\r\n".encode("utf-16-le"))
    sniffed, count = load(con, path, tmp_path)
    assert (sniffed.encoding, sniffed.delimiter, count) == ("utf-16-le", "\t", 1)
    assert rows_of(con)[0]["b"] == "李"


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
CELL = st.text(alphabet=st.one_of(CJK, ASCII, st.sampled_from(["\n", ",", '"', " ", "，"])), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=15),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_decoding_round_trips(tmp_path_factory, rows, encoding, newline):
    folder = tmp_path_factory.mktemp("roundtrip")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(["订单号", "客户名", "备注"])
    lines = []
    for row in rows:
        lines.append(buffer.getvalue().count("\n") + 1)
        writer.writerow(row)
    path = folder / "orders.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    sniffed = sniff(path)
    assert codecs.lookup(sniffed.encoding).name == codecs.lookup(encoding).name
    assert path.read_bytes().decode(sniffed.encoding) == buffer.getvalue()
    assert sniffed.headers == ["订单号", "客户名", "备注"]
    con = duckdb.connect()
    try:
        count = to_duckdb(con, sniffed, "stage", folder)
        loaded = con.execute('SELECT * FROM "stage" ORDER BY _line').fetchall()
    finally:
        con.close()
    # csv.writer writes an all-empty 3-field row as ",,": DuckDB reads NULLs
    assert count == len(rows)
    assert [r[0] for r in loaded] == lines
    assert [[c or "" for c in r[1:]] for r in loaded] == rows


# ------------------------------------------------------------------------------------------
# errors


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        sniff(tmp_path / "nope.csv")


def test_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        sniff(tmp_path)


def test_empty_file_is_a_data_error(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv is empty; export the orders again"):
        sniff(tmp_path / "empty.csv")


def test_binary_junk_is_an_input_error(tmp_path):
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"photo\.csv is not a text, Excel or Parquet file"):
        sniff(tmp_path / "photo.csv")


def test_corrupt_legacy_xls_is_an_input_error(tmp_path):
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(InputError, match=r"cannot read .*old\.xls as an Excel workbook"):
        sniff(tmp_path / "old.xls")


def test_messages_are_one_line_with_a_fix(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError) as caught:
        sniff(tmp_path / "empty.csv")
    message = str(caught.value)
    assert "\n" not in message and "; " in message


def test_corrupt_xlsx_is_an_input_error(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError,
                       match=r"cannot read .*broken\.xlsx as an Excel workbook .*; open it in Excel"):
        sniff(tmp_path / "broken.xlsx")
