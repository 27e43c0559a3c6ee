"""rejects/<file>-<time>.csv is opened in a spreadsheet to see what was wrong: its cells (the raw row
text, the reason, a workbook's sheet) are escaped against formulas as every list rfm writes is."""

from __future__ import annotations

import csv
from pathlib import Path

from rfm_cli.core.ingest.pipeline import ImportOptions, import_files
from rfm_cli.core.store import open_store

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_no_cell_of_the_rejects_file_starts_a_formula(tmp_path: Path, write_orders) -> None:
    path = write_orders("orders.csv", [
        ("O1", "C1", "2026-01-05", "10.00", "paid", ""),
        ("=SUM(A1:A9)", "C2", "not a date", "20.00", "paid", ""),  # rejected: its raw text starts with =
        ("@O3", "C3", "2026-01-07", "-x", "paid", ""),
    ])
    with open_store(tmp_path / "shop.duckdb") as store:
        [report] = import_files(store, [path], ImportOptions(max_rejects="100%",
                                                             rejects_dir=tmp_path / "rejects"))
    assert report.rejected == 2
    with open(report.rejects_file, encoding="utf-8", newline="") as rejects:
        rows = list(csv.DictReader(rejects))
    raws = sorted(row["raw"] for row in rows)
    assert raws[0].lstrip("'").startswith("=SUM(A1:A9),C2")  # kept readable, only made inert
    assert raws[1].lstrip("'").startswith("@O3,C3")
    cells = [cell for row in rows for cell in row.values() if cell]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)], cells
