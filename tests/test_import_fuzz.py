"""Issue 16: the import's reconciliation under random corruption of a valid export.

A valid export (UTF-8 or GB18030, names in Chinese, some quoted cells) is damaged the ways files
get damaged in the field: a stray quote, a line in another encoding, bytes that decode as nothing,
a cell over 2 MB, empty and whitespace-only lines, a field too many or too few, a quoted value
with a line break, a file cut off mid-line, CRLF line ends. Whatever happens, either the import
fails with a data error (nothing stored), or:

- rows read = imported + duplicates + excluded + rejected, and
- every physical line after the header, counted here from the bytes, is in a row, a rejected
  record or an empty line: rows read + empty lines + line breaks inside values = physical lines,
  and no line with data in it is counted as empty;
- every rejected row names a physical line of the file, once.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_cli.core.errors import DataError, InputError
from rfm_cli.core.ingest.pipeline import ImportOptions, import_files
from rfm_cli.core.store import open_store

HEADER = b"order_id,customer_id,order_date,amount,status,customer_name"
NAMES = ["王琳", "李四", "张三丰", "马梓萱", "Lee, Ann", 'Bo "B" Li', "刘思远"]
STATUSES = ["paid", "paid", "paid", "cancelled", "refunded"]
KINDS = ["stray_quote", "quote_at_field_start", "other_encoding", "invalid_bytes", "huge_cell", "empty_line",
         "whitespace_line", "missing_field", "extra_field", "line_break_in_value", "truncate"]


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _row(i: int, name: str, status: str) -> str:
    return ",".join([f"O{i}", f"C{i % 7}", f"2026-{1 + i % 9:02d}-{1 + i % 27:02d} 10:{i % 60:02d}:00",
                     f"{5 + i % 40}.{i % 100:02d}", status, _cell(name)])


@st.composite
def damaged_exports(draw) -> tuple[bytes, str]:
    encoding = draw(st.sampled_from(["utf-8", "gb18030"]))
    count = draw(st.integers(3, 40))
    lines = [_row(i, draw(st.sampled_from(NAMES)), draw(st.sampled_from(STATUSES))).encode(encoding)
             for i in range(count)]
    for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4)):
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        if kind == "stray_quote":
            position = draw(st.integers(0, len(line)))
            lines[at] = line[:position] + b'"' + line[position:]
        elif kind == "quote_at_field_start":
            lines[at] = line.replace(b",", b',"', 1)
        elif kind == "other_encoding":
            other = "gb18030" if encoding == "utf-8" else "utf-8"
            lines[at] = line.decode(encoding, "surrogateescape").encode(other, "surrogateescape")
        elif kind == "invalid_bytes":
            lines[at] = line + b"\xff\xfe\x81"
        elif kind == "huge_cell":
            lines[at] = line.rsplit(b",", 1)[0] + b"," + b"x" * 2_100_000  # the name, over 2 MB
        elif kind in ("empty_line", "whitespace_line"):
            lines.insert(at, b"" if kind == "empty_line" else b"   \t")
        elif kind == "missing_field":
            lines[at] = line.rsplit(b",", 1)[0]
        elif kind == "extra_field":
            lines[at] = line + b",extra"
        elif kind == "line_break_in_value":
            lines[at] = line.rsplit(b",", 1)[0] + b',"two\nlines"'
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    content = newline.join([HEADER, *lines]) + draw(st.sampled_from([newline, b""]))
    if "truncate" in draw(st.lists(st.sampled_from(KINDS), max_size=2)):
        content = content[: draw(st.integers(len(HEADER) + len(newline) + 1, len(content)))]
    return content, encoding


def physical_data_lines(content: bytes) -> tuple[int, int]:
    """(lines after the one-line header, how many of them hold nothing but blanks), from the bytes:
    what any import must account for, and the most lines it may call empty."""
    lines = content.split(b"\n")[1:]
    if lines and lines[-1] == b"":  # the file's last line break ends a line, it does not start one
        lines.pop()
    return len(lines), sum(1 for line in lines if not line.strip(b" \t\r"))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=damaged_exports())
def test_every_physical_line_is_accounted_for(tmp_path_factory, case: tuple[bytes, str]) -> None:
    content, _encoding = case
    path = tmp_path_factory.mktemp("fuzz") / "orders.csv"
    path.write_bytes(content)
    with open_store(None) as store:
        try:
            [report] = import_files(store, [path], ImportOptions(max_rejects="100%", rejects_dir=None))
        except (DataError, InputError):
            # the file as a whole cannot be read (its encoding cannot be told, the reader stops on it,
            # its lines do not add up): an error, and nothing was stored
            assert store.con.execute("SELECT count(*) FROM rfm_imports").fetchall()[0][0] == 0
            return
        lines, blank = physical_data_lines(content)
        outcomes = report.imported + report.duplicates + report.excluded_total + report.rejected
        assert report.rows_read == outcomes
        assert report.data_lines == lines
        assert report.rows_read + report.empty_lines + report.continuation_lines == lines
        assert report.empty_lines <= blank  # a line with data is never waved through as empty
        rejected = [line for (line,) in store.con.execute("SELECT line FROM rfm_rejects").fetchall()]
        assert len(rejected) == len(set(rejected))
        assert all(2 <= line <= lines + 1 for line in rejected)
        stored = store.con.execute("SELECT rows_read, rows_rejected FROM rfm_imports").fetchall()
        assert stored == [(report.rows_read, report.rejected)]
