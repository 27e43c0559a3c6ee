"""The byte-level line count the import reconciles with (issue 16), against what a CSV writer wrote.

For any table csv.writer writes (cells with commas, quotes, line breaks, empty rows between), the
count from the bytes must say how many physical lines there are, how many line breaks sit inside
quoted values and how many lines are empty, across chunk boundaries and with LF or CRLF.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_cli.core.ingest import lines as lines_module
from rfm_cli.core.ingest.lines import count_lines, scan_text

CELL = st.text(alphabet=st.sampled_from(list('ab王,"\n ')), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(st.just([]), st.lists(CELL, min_size=2, max_size=3)), max_size=12),
       newline=st.sampled_from(["\n", "\r\n"]), chunk=st.sampled_from([7, 64, 1 << 20]))
def test_counts_match_what_the_writer_wrote(tmp_path: Path, monkeypatch, rows, newline, chunk) -> None:
    monkeypatch.setattr(lines_module, "CHUNK", chunk)  # patterns and quotes cut between chunks
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(["id", "name"])
    for row in rows:
        if row:
            writer.writerow(row)
        else:
            buffer.write(newline)  # an empty line
    path = tmp_path / "t.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    scan = scan_text(path, 2, blank_lines=True, parity=True)
    breaks_in_cells = sum(cell.count("\n") for row in rows for cell in row)
    assert scan.lines == 1 + len(rows) + breaks_in_cells
    assert scan.quoted_newlines == breaks_in_cells
    assert scan.blank_outside == sum(1 for row in rows if not row)
    counted = count_lines(path, 2)
    assert (counted.lines, counted.data_lines, counted.trailing_blanks) == (
        scan.lines, scan.data_lines, scan.trailing_blanks)


@pytest.mark.parametrize(("content", "lines", "blanks"), [
    (b"h\n\n\n", 3, [2, 3]),            # two empty lines at the end
    (b'h\n"a\n\nb"\n\n', 5, [3, 5]),    # listed by number, quoted or not
    (b"h\r\r\rx\r", 4, [2, 3]),         # classic Mac line ends
    (b"h\nlast", 2, []),                # no line break at the end
])
def test_line_numbers_of_empty_lines(tmp_path: Path, content: bytes, lines: int, blanks: list[int]) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    scan = scan_text(path, 2, blank_lines=True)
    assert (scan.lines, scan.blanks) == (lines, blanks)
