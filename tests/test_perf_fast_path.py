"""The one-pass import of delimited text (issue 7) gives exactly what the staged path gives.

`stage_file(direct=True)` reads a CSV straight into the cleaning SELECT and decides status words
and day/month order on a sample; whenever that could differ (a bad row, a status or date form the
sample missed, a line DuckDB cannot split) it falls back to the staged path. Either way the grouped
orders must be identical to `stage_file(direct=False)`'s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rfm_cli.core.ingest.stage import ImportOptions, stage_file
from rfm_cli.core.store import open_store

HEADER = "order_id,customer_id,order_date,amount,status,refund_amount,customer_name,phone,email"


def _rows(n: int, status_of=lambda i: ("paid", "paid", "paid", "cancelled", "refunded", "pending")[i % 6]
          ) -> list[str]:
    rows = []
    for i in range(n):
        day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
        refund = f"{(i % 7) * 1.5:.2f}" if i % 11 == 0 else ""
        name = f"Name {i % 97}" if i % 5 == 0 else ""
        rows.append(f"O{i // 3 if i % 10 < 3 else i + 100000},C{i % 701},{day},{10 + i % 250}.{i % 100:02d},"
                    f"{status_of(i)},{refund},{name},,")
        if i % 50 == 0:  # a refund line of its own order
            rows.append(f"R{i},C{i % 701},{day},-{5 + i % 20}.00,paid,,,,")
    return rows


def _grouped(path: Path, direct: bool) -> tuple[list[tuple], int, int, bool]:
    with open_store(None) as store:
        staged = stage_file(store.con, path, ImportOptions(rejects_dir=None), direct=direct)
        orders = store.con.execute("SELECT * FROM file_orders ORDER BY order_id NULLS FIRST").fetchall()
        staged_table = bool(store.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'raw_rows'").fetchall()[0][0])
        return orders, staged.rows_read, staged.rejected, staged_table


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding=encoding)
    return path


def _same(path: Path) -> bool:
    """Assert both paths agree; return whether the direct one stayed direct (no raw_rows table)."""
    direct = _grouped(path, True)
    staged = _grouped(path, False)
    assert direct[:3] == staged[:3]
    assert staged[3]
    return not direct[3]


def test_clean_file_is_read_in_one_pass(tmp_path: Path) -> None:
    assert _same(_write(tmp_path / "clean.csv", _rows(3000)))


def test_status_only_in_the_middle_falls_back(tmp_path: Path) -> None:
    # 'closed' appears only between the head sample and the tail: the pass meets a status it has no word
    # for, so the file is staged the slow way, with the same result.
    n = 120_000
    path = _write(tmp_path / "late_status.csv",
                  _rows(n, lambda i: "closed" if 60_000 <= i < 60_010 else "paid"))
    assert path.stat().st_size > 3 * 1024 * 1024
    assert not _same(path)


@pytest.mark.parametrize("bad", ["12,5x", "", "tomorrow"])
def test_unreadable_rows_fall_back_and_are_rejected_alike(tmp_path: Path, bad: str) -> None:
    lines = _rows(500)
    if bad == "tomorrow":
        lines[250] = "O999999,C1,tomorrow,10.00,paid,,,,"
    else:
        lines[250] = f'O999999,C1,2026-01-01 00:00:00,"{bad}",paid,,,,'
    path = _write(tmp_path / "bad.csv", lines)
    assert not _same(path)
    assert _grouped(path, True)[2] == 1


def test_a_line_that_cannot_be_split_falls_back(tmp_path: Path) -> None:
    lines = _rows(400)
    lines[100] = "O888888,C1,2026-01-01 00:00:00,10.00,paid,,,,,,extra,fields"
    assert not _same(_write(tmp_path / "ragged.csv", lines))


def test_day_first_dates_fall_back(tmp_path: Path) -> None:
    lines = [f"O{i},C{i % 9},{1 + i % 28:02d}/{1 + i % 12:02d}/2026,{i}.50,paid,,,," for i in range(200)]
    assert not _same(_write(tmp_path / "slashed.csv", lines))


def test_a_day_first_date_the_sample_missed_falls_back(tmp_path: Path) -> None:
    """The sample (the first 50,000 rows and the last MiB) reads every date as a timestamp, so the
    day/month detection is not run on it; a day-first date between them makes the reader reject
    its row, and the staged path settles the order on the whole file."""
    lines = [f"O{i},C{i % 9},2026-03-{1 + i % 28:02d} 10:00:00,{i}.50,paid,,,," for i in range(80_000)]
    lines[52_000] = "O52000,C1,13/04/2026,10.00,paid,,,,"
    assert not _same(_write(tmp_path / "late_slash.csv", lines))


def test_gbk_file_is_transcoded_and_read_in_one_pass(tmp_path: Path) -> None:
    lines = [f"O{i},买家{i % 13},2026-03-{1 + i % 28:02d} 10:00:00,{i}.00,paid,,张三,,"
             for i in range(300)]
    assert _same(_write(tmp_path / "gbk.csv", lines, encoding="gbk"))


def test_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    lines = _rows(300)
    lines[10] = 'O777777,C1,2026-01-01 00:00:00,10.00,paid,,"two\nlines",,'
    lines.insert(50, "")
    _same(_write(tmp_path / "multiline.csv", lines))


@pytest.mark.parametrize("cells", [
    # a quoted empty amount on an order that does not count
    'O555555,C1,2026-01-01 00:00:00,"",cancelled,,,,',
    'O555555,C1,2026-01-01 00:00:00,10.00,paid," ",,,',  # a blank refund
    'O555555,C1,"2026-01-01T08:00:00+02:00",10.00,paid,,,,',  # a zoned ISO date
    'O555555,C1,2026-01-01 00:00:00," 12.5 ",paid,1e1,,,',  # padded and exponent amounts
    'O555555,C1,2026-01-01 00:00:00,¥12.00,paid,,,,',  # a currency sign the reader cannot parse
])
def test_cells_typed_by_the_reader_agree_with_the_macros(tmp_path: Path, cells: str) -> None:
    lines = _rows(300)
    lines.insert(150, cells)
    _same(_write(tmp_path / "typed.csv", lines))
