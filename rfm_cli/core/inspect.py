"""`rfm inspect FILE`: every decision the import would take on a file, without importing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rfm_cli.core.ingest.stage import ImportOptions, reject_columns, stage_file
from rfm_cli.core.ingest.staging import q
from rfm_cli.core.store import open_store


def inspect_file(path: Path, options: ImportOptions, *, samples: int = 3,
                 reject_rows: int = 20) -> dict[str, Any]:
    with open_store(None) as store:
        con = store.con
        store.add_work(path)  # a large file: every core
        staged = stage_file(con, path, options)
        s, colmap = staged.sniffed, staged.colmap
        columns = []
        for field_name, header in colmap.columns.items():
            values = [row[0] for row in con.execute(
                f"SELECT DISTINCT {q(header)} FROM raw_rows WHERE {q(header)} IS NOT NULL "
                f"LIMIT {samples}").fetchall()]
            columns.append({"field": field_name, "header": header, "samples": values})
        if colmap.amount_from:
            columns.append({"field": "amount", "header": " x ".join(colmap.amount_from), "samples": []})
        statuses = []
        for i, column in enumerate(colmap.status_columns):
            for raw, status, rows in con.execute(
                f"SELECT rfm_text(r.{q(column)}) AS raw, m.status, count(*) "
                f"FROM {staged.staging.source} AS r "
                f"LEFT JOIN _status_map AS m ON m.col = ? AND m.raw = rfm_text(r.{q(column)}) "
                "GROUP BY ALL ORDER BY 3 DESC", [i]).fetchall():
                statuses.append({"column": column, "value": raw,
                                 "status": status or ("(empty)" if raw is None else "UNKNOWN: rejected"),
                                 "rows": rows})
        orders, customers, refund_only = con.execute(
            "SELECT count(*) FILTER (WHERE NOT refund_only), count(DISTINCT customer_id), "
            "count(*) FILTER (WHERE refund_only) FROM file_orders "
            "WHERE bad_lines = 0 AND order_id IS NOT NULL"
        ).fetchall()[0]
        rejects = _rejects(con, staged, reject_rows) if staged.rejected else []
        return {
            "file": str(path),
            "type": s.kind,
            "encoding": s.encoding,
            "delimiter": s.delimiter,
            "sheets": s.sheets,
            "header_line": s.header_line,
            "sniffing": s.notes,
            "platform": colmap.name,
            "platform_title": colmap.profile.title,
            "why_this_platform": colmap.how,
            "columns": columns,
            "columns_not_read": [h for h in s.headers if h and h not in colmap.headers_read],
            "date_columns": colmap.date_columns,
            "date_format": staged.staging.date_format or "ISO / year first (detected per cell)",
            "statuses": statuses,
            "options": {k: v for k, v in colmap.options.items()},
            "rows": staged.rows_read,
            "orders": orders,
            "customers": customers,
            "refund_only_orders": refund_only,
            "rows_rejected": staged.rejected,
            "rejects": rejects,
            "warnings": staged.warnings,
        }


def _rejects(con, staged, limit: int) -> list[dict[str, Any]]:
    """The first `limit` rejected rows, each with its line, column, reason and raw cells."""
    names = reject_columns(staged.staging)
    keys = [{"column_name": "column"}.get(c, c) for c in names]
    return [dict(zip(keys, row)) for row in con.execute(
        f"SELECT {', '.join(names)} FROM file_rejects LIMIT {limit}").fetchall()]
