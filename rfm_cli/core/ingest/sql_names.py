"""Names and values written into the import's SQL: quoted identifiers, string literals, a source cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rfm_cli.core.ingest.mapping import ColumnMap


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def cell(colmap: ColumnMap, name: str) -> str:
    """The source row's cell of a canonical field (`r."header"`), or a NULL when the file has no column."""
    return "r." + q(colmap.columns[name]) if name in colmap.columns else "CAST(NULL AS VARCHAR)"
