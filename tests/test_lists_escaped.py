"""Every list a run writes is escaped against spreadsheet formulas once, where it is built
(channels.safe_cells), and written as it is (list_files passes escaped=True, so the writer does not
scan every cell a second time): send lists, tier state, who entered a tier, member levels entered and
day-N follow-ups all show a formula-like name or id with its apostrophe, and no cell of any of them
starts a formula (a strict E.164 phone keeps its +)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_cli.core.cell_escaping import FORMULA_PREFIXES, escape_formula_except_e164, escape_text_columns

HEADER = "order_id,customer_id,order_date,amount,status,customer_name,phone,email\n"
NIGHT_1 = [
    'O1,=C1,2026-05-01 10:00:00,500.00,paid,"=HYPERLINK(""http://x"")",13812345678,a@example.com',
    "O2,C2,2026-05-02 10:00:00,20.00,paid,@SUM(A1),+8613900001111,b@example.com",
    "O3,-C3,2026-05-20 10:00:00,300.00,paid,+1 attack,13700001111,c@example.com",
]
NIGHT_2 = [
    'O4,=C1,2026-05-28 10:00:00,900.00,paid,"=HYPERLINK(""http://x"")",13812345678,a@example.com',
    "O5,C4,2026-05-29 10:00:00,40.00,paid,=1+1,13600001111,d@example.com",
]
FOLLOWUP = ('[[followups]]\nname = "day7"\nwindow = "0:30"\nsince = "first_order"\nchannel = "sms"\n'
            'sms_vars = ["name"]\n')


@pytest.fixture
def written(tmp_path: Path, rfm) -> Path:
    (tmp_path / "rfm.toml").write_text(FOLLOWUP, encoding="utf-8")
    for night, (rows, as_of) in enumerate([(NIGHT_1, "2026-05-21"), (NIGHT_2, "2026-06-01")], 1):
        path = tmp_path / f"night{night}.csv"
        path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        done = rfm("run", path, "--out-dir", "out", "--as-of", as_of)
        assert done.returncode == 0, done.stderr
    return tmp_path / "out"


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def test_every_kind_of_list_shows_formula_cells_escaped(written: Path) -> None:
    for folder in ("send/csv", "send/sms", "tiers", "entered", "levels/entered"):
        cells = [c for path in (written / folder).glob("*.csv") for c in _cells(path)]
        assert "'=C1" in cells or "'=1+1" in cells, folder  # an id or a name, escaped


def test_no_cell_of_any_file_starts_a_formula(written: Path) -> None:
    files = list(written.rglob("*.csv"))
    assert len(files) >= 15
    for path in files:
        for cell in _cells(path):
            if cell[:1] in FORMULA_PREFIXES:
                assert cell.startswith("+") and cell[1:].isdigit() and 8 <= len(cell) - 1 <= 15, (path, cell)


_cell = st.one_of(st.none(), st.sampled_from(["", "=1+1", "+8613812345678", "+1 attack", "-3", "@x", "\tx",
                                               "ok", "李雷", "'=quoted"]), st.text(max_size=6))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_cell, _cell, st.integers(-5, 5)), max_size=6))
def test_escaping_every_text_column_at_once_is_the_rule_column_by_column(rows) -> None:
    """escape_text_columns (one pass finds the columns that need it) gives what
    escape_formula_except_e164 gives each String column; other columns are left as they are."""
    frame = pl.DataFrame(rows, schema={"name": pl.String, "phone": pl.String, "n": pl.Int64}, orient="row")
    escaped = escape_text_columns(frame)
    assert escaped.columns == frame.columns and escaped.schema == frame.schema
    for column in ("name", "phone"):
        assert escaped[column].to_list() == escape_formula_except_e164(frame[column]).to_list()
        # and what the rule says, written out apart from both: a formula prefix gets an apostrophe,
        # unless the cell is a strict E.164 phone
        e164 = re.compile(r"\+[1-9][0-9]{6,14}")
        assert escaped[column].to_list() == [
            "'" + v if v and v.startswith(FORMULA_PREFIXES) and not e164.fullmatch(v) else v
            for v in frame[column].to_list()]
    assert escaped["n"].to_list() == frame["n"].to_list()
