"""The SQL that groups a file's staged rows into orders (queries/import_group_orders.sql), written for
the file: the order-level fields it has no column for as NULLs, and its raw status words ranked as
integers when there are few (issue 18: the cheaper aggregates of the same orders).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfm_cli.core.ingest.sql_names import lit

if TYPE_CHECKING:
    from rfm_cli.core.ingest.mapping import ColumnMap
    from rfm_cli.core.ingest.staging import Staging


# The order-level fields import_group_orders takes with `any_value(field)` (see field_macros), and their
# type in `staged`.
ANY_VALUE_FIELDS = {"customer_id": "VARCHAR", "currency": "VARCHAR", "customer_name": "VARCHAR",
                    "phone": "VARCHAR", "email": "VARCHAR", "accepts_marketing": "BOOLEAN",
                    "discount_code": "VARCHAR", "accepts_email": "BOOLEAN", "accepts_sms": "BOOLEAN"}


def group_orders_statements(st: Staging) -> list[str]:
    """queries/import_group_orders.sql for this file, after the definitions of its field macros."""
    from rfm_cli.core.store import statements

    return [*field_macros(st), *statements("import_group_orders")]


def field_macros(st: Staging) -> list[str]:
    """import_group_orders' rfm_field_<name>(x) for each order-level field: any_value(x), or a typed
    NULL when the file has no column for the field (`st.absent`): the field is NULL on every row then,
    and an any_value would still visit every row (the four optional fields a plain export lacks cost
    ~0.13 s of CPU at 1M orders)."""
    return [f"CREATE OR REPLACE TEMP MACRO rfm_field_{name}(x) AS "
            + (f"CAST(NULL AS {kind})" if name in st.absent else "any_value(x)")
            for name, kind in ANY_VALUE_FIELDS.items()]


RANKED_STATUS_WORDS = 16


def raw_status_macros(st: Staging) -> list[str]:
    """The definitions of rfm_raw_status_key/_of (queries/macros.sql) for this file. When every
    readable row's raw status is one of a few known words, the key is an integer: 0 or 1000 (a
    counting line or not) plus the word's rank in text (byte) order, so min() over it orders exactly
    as over the text key, and the word is looked up again from the rank. A row whose status is not
    one of the words has no readable status: it is rejected, and so is its order (whose raw status
    the ranks cannot tell: staging.build ranks only for a caller that then drops such a file's orders)."""
    key, of = "CREATE OR REPLACE TEMP MACRO rfm_raw_status_key(counting, raw) AS", \
        "CREATE OR REPLACE TEMP MACRO rfm_raw_status_of(k) AS"
    if st.raw_status_words is None:  # as queries/macros.sql defines them
        return [f"{key} CASE WHEN counting THEN '0' ELSE '1' END || raw", f"{of} substr(k, 2)"]
    words = sorted(st.raw_status_words, key=lambda w: w.encode("utf-8"))
    ranks = " ".join(f"WHEN {lit(w)} THEN {i}" for i, w in enumerate(words, 1))
    return [f"{key} CASE WHEN counting THEN 0 ELSE 1000 END + CASE raw {ranks} END",
            f"{of} [{', '.join(lit(w) for w in words)}][k % 1000]"]


def ranked_words(colmap: ColumnMap, status_map: list[tuple[int, str, str]] | None) -> tuple[str, ...] | None:
    """The raw status words, when they can be ranked (see raw_status_macros): one status column,
    no cancelled column (it makes a row readable whatever its status says), a known short list."""
    if status_map is None or len(colmap.status_columns) != 1 or colmap.cancelled_columns:
        return None
    words = tuple(raw for col, raw, _ in status_map if col == 0)
    return words if 0 < len(words) <= RANKED_STATUS_WORDS else None
