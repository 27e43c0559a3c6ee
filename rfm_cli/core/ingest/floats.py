"""Long numbers a workbook stored as floats: their last digits are gone.

Excel keeps a number as a 64-bit float, exact only up to 2^53 (16 digits). A 19-digit order number
typed or pasted as a number is stored rounded: read as text it shows the float's exact value
(`1234567890123457024`), which is not the order number, so the same order imported from a CSV later
would count twice and different orders may merge. The reader gives every cell as text, so a
column's long values are judged together: when every one of them is exactly a float (a number
past 2^53 is a multiple of 2, 16, 128, 1024… by chance only), the column was stored as numbers and
those values are written in float form (`1.2345678901234570e+18`), which the import rejects as an
id a spreadsheet rounded (see `rfm_float_id` in queries/macros.sql).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

EXACT_LIMIT = 2**53
_CHANCE = 1e-6  # below this chance that text ids all land on floats, the column held numbers


def _is_float_value(number: int) -> bool:
    return int(float(number)) == number


def stored_as_floats(values: list[str]) -> bool:
    """Whether long integer texts past 2^53 come from float cells: all exactly floats, and the
    chance of that for as many real (text) ids is below one in a million."""
    numbers = [int(v) for v in values]
    numbers = [n for n in numbers if n >= EXACT_LIMIT]
    if not numbers or not all(_is_float_value(n) for n in numbers):
        return False
    # a random integer near n is a float with chance 1/spacing, spacing = 2^(bits - 53)
    log_chance = sum(-(n.bit_length() - 53) * math.log10(2) for n in numbers)
    return log_chance < math.log10(_CHANCE)


def mark_float_cells(column: Any, held_numbers: Callable[[], bool] | None = None) -> Any:
    """`column` (a pyarrow string array of one sheet column) with its float-stored long numbers in
    float form; unchanged when it has none.

    `held_numbers`, asked only when the column has long values that are all exactly floats but too
    few to be sure by chance alone (a small shop's five 19-digit order numbers): whether the sheet
    stores the column as numbers (the workbook's cell types say so, not the digits)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    long_mask = pc.fill_null(pc.greater_equal(pc.utf8_length(column), 16), False)
    if not pc.any(long_mask).as_py():
        return column
    long_values = pc.filter(column, long_mask).to_pylist()
    digits = [v for v in long_values if v.isdigit()]
    if not digits:
        return column
    if not stored_as_floats(digits):
        past = [int(v) for v in digits if int(v) >= EXACT_LIMIT]
        if not (past and all(_is_float_value(n) for n in past) and held_numbers and held_numbers()):
            return column
    values = column.to_pylist()
    marked = [f"{float(v):.16e}" if v and v.isdigit() and int(v) >= EXACT_LIMIT and _is_float_value(int(v))
              else v for v in values]
    return pa.array(marked, pa.string())
