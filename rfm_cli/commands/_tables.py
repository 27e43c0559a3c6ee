"""Tables for a terminal of any width: numbers are never cut, text wraps, and when even that does not
fit (80 columns, eight numeric columns) the columns that matter least are left out.

Rich's own answer to a table wider than the terminal is to shorten every cell with "…", which
turned a revenue of 331,672.50 into `331,67…`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Col:
    name: str
    numeric: bool = False  # right-aligned, shown whole on one line
    drop: int = 0  # 0: always shown; otherwise left out first (highest first) when the table does not fit
    min_text: int = 10  # a text column is not folded narrower than this (or its longest cell)


def _cell_len(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _needed(col: Col, cells: list[str]) -> int:
    """The narrowest the column can be: every number whole, every header word whole."""
    longest_word = max((_cell_len(w) for w in col.name.split()), default=0)
    longest_cell = max((_cell_len(c) for c in cells), default=0)
    if col.numeric:
        return max(longest_word, longest_cell)
    return max(longest_word, min(longest_cell, col.min_text))


def table_width(widths: Sequence[int]) -> int:
    """A rich table's width with the default box and padding: one space each side, one rule between."""
    return sum(widths) + 3 * len(widths) + 1


def _natural(col: Col, cells: list[str]) -> int:
    return max([_cell_len(col.name), *(_cell_len(c) for c in cells)])


def _widths(columns: Sequence[Col], cells: list[list[str]], width: int) -> list[int]:
    """Every column's width: numbers at their width, text columns from their narrowest up to their
    natural width, the room there is given one cell at a time to the one that lacks the most."""
    widths = [_needed(col, column_cells) for col, column_cells in zip(columns, cells)]
    natural = [_needed(col, c) if col.numeric else _natural(col, c) for col, c in zip(columns, cells)]
    room = width - table_width(widths)
    while room > 0:
        lacking = max(range(len(widths)), key=lambda i: natural[i] - widths[i])
        if natural[lacking] <= widths[lacking]:
            break
        widths[lacking] += 1
        room -= 1
    return widths


def fitted(title: str | None, columns: Sequence[Col], rows: Sequence[Sequence[str] | None], width: int,
           **table_options: Any):
    """A rich Table of `rows` (None: a rule before the next row) that fits `width` terminal cells
    without cutting a number. Every column gets a fixed width here: rich's own sharing-out of a
    narrow terminal cuts numbers, and with minimum widths it can come out a column too wide."""
    from rich.table import Table
    from rich.text import Text

    cells = [[str(row[i]) for row in rows if row is not None] for i in range(len(columns))]
    shown = list(range(len(columns)))
    while table_width([_needed(columns[i], cells[i]) for i in shown]) > width:
        droppable = [i for i in shown if columns[i].drop]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    widths = _widths([columns[i] for i in shown], [cells[i] for i in shown], width)
    table = Table(title=title, title_justify="left", **table_options)
    for i, column_width in zip(shown, widths):
        col = columns[i]
        header = Text(col.name, no_wrap=False, overflow="fold")  # a header may wrap between its words
        table.add_column(header, justify="right" if col.numeric else "left", no_wrap=col.numeric,
                         overflow="fold", width=column_width)
    left_out = [columns[i].name for i in range(len(columns)) if i not in shown]
    if left_out:
        table.caption = f"left out at this width: {', '.join(left_out)}"
        table.caption_justify = "left"
    for row in rows:
        if row is None:
            table.add_section()
        else:
            table.add_row(*[str(row[i]) for i in shown])
    return table
