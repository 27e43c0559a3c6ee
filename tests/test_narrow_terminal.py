"""Tables on an 80-column terminal: they fit, text wraps, columns that matter least are left out,
and no number is ever cut (rich alone showed a revenue of 331,672.50 as `331,67…`)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
NARROW = {"COLUMNS": "80"}
EXPORT = "orders-exported-from-the-shop-backend-2026-11.csv"


def _check_fits(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= width, line
        assert "…" not in line, line


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cli_runner import invoke

    work = tmp_path_factory.mktemp("narrow")
    shutil.copy(ROOT / "sample_data" / "orders.csv", work / EXPORT)
    done = invoke(["run", EXPORT, "--out-dir", "segments", "-q"], cwd=work)
    assert done.returncode == 0, done.stderr
    return work


def _rfm(work: Path, *args: str):
    from cli_runner import invoke

    done = invoke(list(args), cwd=work, env=NARROW)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_fits_80_columns_with_every_revenue_whole(sample_db: Path, lang: str) -> None:
    text = _rfm(sample_db, "report", "--lang", lang).stderr
    _check_fits(text)
    numbers = json.loads(_rfm(sample_db, "report", "--format", "json").stdout)
    for row in numbers["tiers"]:
        assert f"{row['revenue']:,.2f}" in text, row["tier"]
    assert f"{numbers['totals']['revenue']:,.2f}" in text


def test_run_fits_80_columns(sample_db: Path, tmp_path: Path) -> None:
    shutil.copy(sample_db / EXPORT, tmp_path / "again-2026-11.csv")
    text = _rfm(tmp_path, "run", "again-2026-11.csv", "--out-dir", "lists", "--db", "n.duckdb").stderr
    _check_fits(text)
    assert "3,749" in text and "3,433" in text  # rows read, imported: whole


@pytest.mark.parametrize("args", [["explain", "C00001"], ["inspect", EXPORT], ["rules"], ["score"]])
def test_other_terminal_output_fits_80_columns(sample_db: Path, args: list[str]) -> None:
    _check_fits(_rfm(sample_db, *args).stderr)


def test_a_table_too_wide_leaves_out_the_least_useful_columns_never_digits() -> None:
    from rfm_cli.commands._tables import Col, fitted

    columns = [Col("tier"), Col("customers", True), Col("revenue", True), Col("revenue share", True),
               Col("avg order value", True, drop=2), Col("avg recency (days)", True, drop=3),
               Col("repurchase rate", True, drop=1)]
    rows = [["potential 潜力", "1,234,567", "123,456,789,012.34", "100.0%", "99,999.99", "1,234.5", "12.3%"]]
    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(fitted("Tiers", columns, rows, 80))
    text = console.export_text()
    _check_fits(text)
    for kept in ("1,234,567", "123,456,789,012.34", "100.0%"):
        assert kept in text
    assert re.search(r"left out at this width: .*avg recency", text)
    wide = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    wide.print(fitted("Tiers", columns, rows, 200))
    shown = wide.export_text()
    assert "left out" not in shown and "1,234.5" in shown
