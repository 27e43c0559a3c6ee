"""The per-file forms of import_group_orders give exactly the orders of its generic form.

`grouping.field_macros` makes the `any_value` of a field the file has no column for a typed NULL,
and `grouping.raw_status_macros` ranks a file's few raw status words as integers (issue 18:
cheaper aggregates). The generic form (any_value for every field, macros.sql's raw status macros) is
the reference: the grouped orders (every column, its type, every order) must be identical, on the
direct path and on the staged one, for files built to make the choices matter: several raw words
for one status (`paid`, `Paid`, `completed`, `Shipped`), orders whose lines mix them with refunds
and other statuses, negative lines, rejected rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rfm_cli.core.ingest import grouping
from rfm_cli.core.ingest.stage import ImportOptions, stage_file
from rfm_cli.core.store import open_store

WORDS = ["paid", "Paid", "completed", "Shipped", "cancelled", "refunded", "pending", "Refunded"]


def _lines(n: int, *, contacts: bool) -> list[str]:
    rows = []
    for i in range(n):
        order = f"O{i // 3}" if i % 10 < 4 else f"O{i + 100_000}"  # a third of the rows share orders
        amount = f"-{1 + i % 9}.00" if i % 17 == 0 else f"{5 + i % 90}.{i % 100:02d}"
        refund = f"{i % 4}.50" if i % 13 == 0 else ""
        day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 0{i % 10}:00:00"
        cells = [order, f"C{i % 211}", day, amount, WORDS[(i * 7) % len(WORDS)], refund]
        if contacts:
            cells += [f"Name {i % 5}" if i % 4 else "", f"1380000{i % 9999:04d}" if i % 6 == 0 else "",
                      "CNY", "yes" if i % 2 else "no"]
        rows.append(",".join(cells))
    return rows


def _write(path: Path, *, contacts: bool, extra: list[str] = ()) -> Path:
    header = "order_id,customer_id,order_date,amount,status,refund_amount"
    if contacts:
        header += ",customer_name,phone,currency,accepts_marketing"
    path.write_text("\n".join([header, *_lines(2_000, contacts=contacts), *extra]) + "\n", encoding="utf-8")
    return path


def _grouped(path: Path, *, direct: bool, generic: bool, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        if generic:
            macros, grouped = grouping.raw_status_macros, grouping.group_orders_statements
            patch.setattr(grouping, "group_orders_statements",
                          lambda st: grouped(dataclasses.replace(st, absent=())))
            patch.setattr(grouping, "raw_status_macros",
                          lambda st: macros(dataclasses.replace(st, raw_status_words=None)))
        with open_store(None) as store:
            staged = stage_file(store.con, path, ImportOptions(rejects_dir=None), direct=direct)
            columns = store.con.execute("DESCRIBE file_orders").fetchall()
            orders = store.con.execute("SELECT * FROM file_orders ORDER BY order_id NULLS FIRST").fetchall()
            return staged, columns, orders


@pytest.mark.parametrize("contacts", [True, False])
@pytest.mark.parametrize("direct", [True, False])
def test_per_file_forms_group_like_the_generic_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   contacts: bool, direct: bool) -> None:
    path = _write(tmp_path / "orders.csv", contacts=contacts)
    staged, columns, orders = _grouped(path, direct=direct, generic=False, monkeypatch=monkeypatch)
    # the cheaper forms were taken (else this test compares the generic form with itself); the
    # staged path, which keeps rejected orders, never ranks
    assert staged.rejected == 0
    assert sorted(staged.staging.raw_status_words or ()) == (sorted(WORDS) if direct else [])
    assert ("accepts_sms" in staged.staging.absent
            and ("customer_name" in staged.staging.absent) != contacts)
    _, generic_columns, generic_orders = _grouped(path, direct=direct, generic=True, monkeypatch=monkeypatch)
    assert columns == generic_columns
    assert orders == generic_orders
    raw = {row[[c[0] for c in columns].index("raw_status")] for row in orders}
    assert {"Paid", "Refunded", "Shipped"} <= raw  # orders whose least raw word is not the first one met


def test_rejected_rows_group_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an unknown status word and an unreadable amount: rejected rows, so the direct path gives up and the
    # staged one groups them, every order (rejected ones too) as the generic form does
    path = _write(tmp_path / "bad.csv", contacts=True,
                  extra=["O5,C1,2025-01-01 00:00:00,10.00,on hold,,A,,CNY,yes",
                         "O6,C1,2025-01-01 00:00:00,12x,paid,,A,,CNY,yes"])
    staged, columns, orders = _grouped(path, direct=True, generic=False, monkeypatch=monkeypatch)
    assert staged.rejected >= 2
    assert (columns, orders) == _grouped(path, direct=True, generic=True, monkeypatch=monkeypatch)[1:]


def test_many_status_words_keep_the_text_key() -> None:
    words = [(0, f"state {i}", "counted") for i in range(grouping.RANKED_STATUS_WORDS + 1)]

    class Map:
        status_columns, cancelled_columns = ["status"], []

    assert grouping.ranked_words(Map(), words) is None
    assert grouping.ranked_words(Map(), words[:3]) == ("state 0", "state 1", "state 2")
    Map.cancelled_columns = ["Cancelled at"]
    assert grouping.ranked_words(Map(), words[:3]) is None
