"""rfm as a library: score e-commerce order exports on Recency, Frequency and Monetary value.

    import rfm
    rfm.score("orders.csv").customers          # in memory; a Polars DataFrame, one row per customer
    shop = rfm.Shop("shop.duckdb")
    shop.import_files("orders-2026-11.xlsx")
    shop.export("winback", recency_days="60:90", channel="sms")

Everything is imported on first use, so `import rfm` costs next to nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from rfm_cli import __version__

if TYPE_CHECKING:
    from rfm_cli.core.errors import (
        BusyError,
        ConfigError,
        DataError,
        InputError,
        OutputError,
        RfmError,
        StorageIOError,
        UsageError,
    )
    from rfm_cli.core.ingest.pipeline import FileReport
    from rfm_cli.core.options import ListOptions
    from rfm_cli.core.scoring import ScoreResult
    from rfm_cli.core.shop import ListsResult, Shop, score

_WHERE = {
    "Shop": "rfm_cli.core.shop", "score": "rfm_cli.core.shop", "ListsResult": "rfm_cli.core.shop",
    "ListOptions": "rfm_cli.core.options", "ScoreResult": "rfm_cli.core.scoring",
    "FileReport": "rfm_cli.core.ingest.pipeline",
    **{name: "rfm_cli.core.errors"
       for name in ("RfmError", "UsageError", "DataError", "InputError", "OutputError", "StorageIOError",
                    "BusyError", "ConfigError")},
}
__all__ = [
    "BusyError", "ConfigError", "DataError", "FileReport", "InputError", "ListOptions", "ListsResult",
    "OutputError", "RfmError", "ScoreResult", "Shop", "StorageIOError", "UsageError", "__version__", "score",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rfm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
