"""`--categories FILE` (issue 21): a product -> category map for lines whose export has no category.
A pattern is a SKU (exact, wins), a piece of the title, or a glob over the whole title; the first
matching row wins; the map is stored, applied to later imports, and replaced whole by the next."""

from __future__ import annotations

from pathlib import Path

import duckdb

HEADER = "order_id,customer_id,order_date,amount,status,sku,product,category,quantity,unit_price"
def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


ROWS = [
    "A1,c1,2024-03-01,30.00,paid,MASK-01,玻尿酸补水面膜 10片,,1,30.00",
    "A1,c1,2024-03-01,12.00,paid,SOCK-5,加厚保暖袜子 5双装,,1,12.00",
    "A2,c2,2024-03-02,99.00,paid,SER-30,精华液 30ml,,1,99.00",
    "A2,c2,2024-03-02,5.00,paid,MUG-1,Mug ceramic,Kitchen,1,5.00",   # the export's own category
    "A3,c3,2024-03-03,8.00,paid,X-9,面膜刷,,1,8.00",                   # SKU unknown, title has 面膜
]
MAP = _text([
    "pattern,category",
    "SER-30,护肤",        # a SKU, exactly
    "面膜刷,工具",          # a piece of the title, before the broader one below: first row wins
    "*面膜*,面膜",          # a glob over the whole title
    "袜子,服饰",            # a piece of the title
    "MUG-1,Drinkware",    # would map MUG-1, but its export says Kitchen
])


def _categories(db: Path) -> dict[str, str | None]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("SELECT sku, category FROM rfm_order_lines").fetchall())


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_sku_title_and_glob_patterns_fill_only_missing_categories(rfm, tmp_path: Path) -> None:
    orders = _write(tmp_path, "o.csv", _text([HEADER, *ROWS]))
    cats = _write(tmp_path, "cats.csv", MAP, "gbk")  # as Excel saves a CSV in China
    db = tmp_path / "c.duckdb"
    done = rfm("--db", db, "import", orders, "--categories", cats)
    assert done.returncode == 0, done.stderr
    assert _categories(db) == {"MASK-01": "面膜", "SOCK-5": "服饰", "SER-30": "护肤", "MUG-1": "Kitchen",
                               "X-9": "工具"}


def test_the_map_is_stored_for_later_imports_and_replaced_whole(rfm, tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    first = _write(tmp_path, "a.csv", _text([HEADER, *ROWS[:2]]))
    cats = _write(tmp_path, "cats.csv", MAP)
    assert rfm("--db", db, "import", first, "--categories", cats).returncode == 0
    later = _write(tmp_path, "b.csv", _text([HEADER, *ROWS[2:]]))
    assert rfm("--db", db, "import", later).returncode == 0  # no --categories: the stored map
    assert _categories(db)["SER-30"] == "护肤"
    # a new map: what the old one categorised is categorised again; what the export said stays
    new = _write(tmp_path, "new.csv", "SOCK-5,袜子\nMUG-1,Cups\n")
    done = rfm("--db", db, "import", later, "--categories", new)  # the same bytes: skipped, map stored
    assert done.returncode == 0, done.stderr
    assert _categories(db) == {"MASK-01": None, "SOCK-5": "袜子", "SER-30": None, "MUG-1": "Kitchen",
                               "X-9": None}


def test_a_bad_map_row_is_one_line_error_and_nothing_changes(rfm, tmp_path: Path, assert_cli_error) -> None:
    db = tmp_path / "c.duckdb"
    orders = _write(tmp_path, "o.csv", _text([HEADER, *ROWS]))
    good = _write(tmp_path, "good.csv", MAP)
    assert rfm("--db", db, "import", orders, "--categories", good).returncode == 0
    before = _categories(db)
    bad = _write(tmp_path, "bad.csv", "pattern,category\nSOCK-5,服饰\n面膜\n")
    line = assert_cli_error(rfm("--db", db, "import", orders, "--categories", bad), 65)
    assert "bad.csv line 3" in line and "pattern,category" in line
    line = assert_cli_error(rfm("--db", db, "import", orders, "--categories", tmp_path / "none.csv"), 66)
    assert "none.csv" in line
    assert _categories(db) == before


def test_no_product_columns_imports_as_before_with_a_note(rfm, tmp_path: Path, write_orders) -> None:
    plain = write_orders("plain.csv", [("A1", "c1", "2024-03-01", "10.00", "paid", "")])
    cats = _write(tmp_path, "cats.csv", MAP)
    done = rfm("--db", tmp_path / "p.duckdb", "import", plain, "--categories", cats)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    notes = [line for line in done.stderr.splitlines() if "no product data in these imports" in line]
    assert len(notes) == 1
