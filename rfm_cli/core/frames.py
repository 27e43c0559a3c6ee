"""DuckDB results to Polars frames and back through the Arrow C stream interface, without pyarrow.

`relation.to_arrow_table()` and registering a Polars frame both go through pyarrow, and importing
pyarrow (with the numpy it loads) cost about 0.25 s of CPU on every command that scores: a third
of `rfm run` on a seller's few thousand orders. DuckDB relations and Polars frames both speak the
Arrow PyCapsule stream protocol, which needs neither.
"""

from __future__ import annotations

from typing import Any

import polars as pl


def frame(relation: Any) -> pl.DataFrame:
    """A DuckDB relation (or anything with `__arrow_c_stream__`) as a Polars DataFrame."""
    return pl.DataFrame(relation)


class ArrowStream:
    """A Polars frame as DuckDB scans it (`con.register(name, ArrowStream(df))`, or by its Python name
    in a query): a fresh Arrow stream for every scan, in Polars' own layout (string views: converting
    to plain Arrow strings copied every id, 0.2 s for 2M ids)."""

    def __init__(self, df: pl.DataFrame) -> None:
        self.df = df

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.df.__arrow_c_stream__(requested_schema)
