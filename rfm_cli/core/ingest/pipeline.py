"""Import order exports into the store: read → map → clean → check → group (stage.py) → merge (here).

Everything row-level runs inside DuckDB (SQL in queries/import_*.sql); Python only composes the
per-file column mapping. Every input row ends with exactly one outcome — imported, duplicate,
excluded (with its reason) or rejected (kept in rfm_rejects with line, column and reason) — and
the counts are stored per file in rfm_imports.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rfm_cli.core import customer_stats
from rfm_cli.core.compliance import consent
from rfm_cli.core.errors import DataError, InputError, UsageError
from rfm_cli.core.ingest.line_items import store_lines
from rfm_cli.core.ingest.mapping import ColumnMap
from rfm_cli.core.ingest.stage import (
    ImportOptions,
    StagedFile,
    drop_staging,
    reject_columns,
    reject_place,
    stage_file,
)
from rfm_cli.core.predict import stored as predict_stored
from rfm_cli.core.store import MEMORY, Store, fetch_one, progress, run_statements

SUPPORTED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet"}


@dataclass
class FileReport:
    source_file: str
    profile: str
    rows_read: int
    imported: int
    duplicates: int
    excluded: dict[str, int]
    rejected: int
    orders_new: int
    orders_updated: int
    refund_rows: int
    first_rejects: list[dict] = field(default_factory=list)
    skipped_as: str | None = None  # the same bytes were already imported from this file
    rejects_file: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Delimited text: the physical lines after the header, counted from the bytes, and how they were
    # read: rows_read + empty_lines + continuation_lines (line breaks inside quoted values) = data_lines.
    data_lines: int | None = None
    empty_lines: int = 0
    continuation_lines: int = 0

    @classmethod
    def skipped(cls, label: str, earlier: str) -> FileReport:
        return cls(source_file=label, profile="", rows_read=0, imported=0, duplicates=0, excluded={},
                   rejected=0, orders_new=0, orders_updated=0, refund_rows=0, skipped_as=earlier)

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    def reconciles(self) -> bool:
        lines_add_up = self.data_lines is None or (
            self.data_lines == self.rows_read + self.empty_lines + self.continuation_lines)
        outcomes = self.imported + self.duplicates + self.excluded_total + self.rejected
        return lines_add_up and self.rows_read == outcomes


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for the supported files directly inside it, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            )
        else:
            files.append(path)
    return files


def max_rejects_allowed(spec: str, rows: int) -> int:
    spec = spec.strip()
    try:
        if spec.endswith("%"):
            return int(rows * float(spec[:-1]) / 100)
        return int(spec)
    except ValueError:
        raise UsageError(f"--max-rejects {spec!r} is not N or P%; "
                         "e.g. --max-rejects 50 or --max-rejects 2%") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_rejects_file(con, path: Path, staged: StagedFile, options: ImportOptions) -> str | None:
    """rejects/<file>-<timestamp>.csv: every rejected row with line (a workbook's: sheet and row),
    column, reason and raw text
    (0600 in a 0700 folder, never through a symbolic link: see rejects_file). A symbolic link is an
    error; any other failure to write is a warning: the rows are kept in the database's rfm_rejects."""
    if options.rejects_dir is None:
        return None
    import polars as pl

    from rfm_cli.core.channels import safe_cells
    from rfm_cli.core.errors import OutputError
    from rfm_cli.core.ingest.rejects_file import LinkRefused, write_rejects

    columns, warnings = ", ".join(reject_columns(staged.staging)), staged.warnings
    # opened in a spreadsheet like any list: a raw row starting "=SUM(" must not run as a formula
    frame = safe_cells(pl.from_arrow(con.sql(f"SELECT {columns} FROM file_rejects").to_arrow_table()))
    try:
        return str(write_rejects(frame, options.rejects_dir, path.stem))
    except LinkRefused:
        raise
    except OutputError as error:
        warnings.append(f"rejects file not written ({error})")
    except OSError as error:
        warnings.append(f"rejects file not written in {options.rejects_dir} ({error.strerror or error})")
    return None


def import_file(store: Store, path: Path, options: ImportOptions, *, as_views: bool = False) -> FileReport:
    """Import one file into the store. The caller owns the transaction.

    A file whose bytes were imported before (under any name) is skipped: the ledger of content
    hashes makes a nightly run over an inbox folder import each export once.

    `as_views` (only for the one file of a fresh in-memory store, see `import_files`): the orders are
    not copied into rfm_orders/rfm_refunds, which become views over the file's grouped orders
    (queries/import_views.sql); the report and every query over the store are the same.

    Three steps: stage (read, clean, group the file's lines into orders: `stage_file`), weigh (each
    order's outcome against the store: `_outcomes`), merge (`_merge`), then the ledger row.
    """
    con = store.con
    label = str(path)
    if not path.is_file():
        raise InputError(f"input file {path} does not exist; check the path")
    earlier, digest_of = _fingerprint(con, path, skip=as_views)
    if earlier:
        return FileReport.skipped(label, earlier)
    store.add_work(path)
    try:
        staged = stage_file(con, path, options, direct=True)
    except BaseException:
        with contextlib.suppress(Exception):  # the hashing thread ends; the file's error is the one told
            digest_of()
        raise
    digest = digest_of()
    rejects_file = _write_rejects_file(con, path, staged, options) if staged.rejected else None
    _refuse_too_many_rejects(label, staged, options, rejects_file)
    counts = _outcomes(con, as_views=as_views)
    import_id = fetch_one(con, "SELECT coalesce(max(import_id), 0) + 1 FROM rfm_imports")[0]
    kept_inputs = _merge(store, path, import_id, counts, staged.colmap, as_views=as_views)
    if staged.rejected:
        con.execute("INSERT INTO rfm_rejects (import_id, source_file, line, column_name, reason, raw, sheet) "
                    "SELECT ?, ?, line, column_name, reason, raw, sheet FROM file_rejects",
                    [import_id, label])

    report = _report(label, staged, counts, rejects_file)
    _record_import(con, import_id, label, digest, staged.colmap.name, report)
    if kept_inputs:
        predict_stored.mark_current(store)
    drop_staging(con, keep_orders=as_views)
    return report


def _report(label: str, staged: StagedFile, counts: _Outcomes, rejects_file: str | None) -> FileReport:
    """The file's report, checked to account for every row (a failure is a bug, never the data's)."""
    report = FileReport(
        source_file=label,
        profile=staged.colmap.name,
        rows_read=staged.rows_read,
        imported=counts.lines["imported"],
        duplicates=counts.lines["duplicate"],
        excluded=dict(sorted(counts.excluded.items())),
        rejected=staged.rejected,
        orders_new=counts.orders_new,
        orders_updated=counts.orders_updated,
        refund_rows=counts.refund_rows,
        first_rejects=staged.first_rejects,
        rejects_file=rejects_file,
        warnings=staged.warnings,
    )
    if staged.line_account is not None:
        report.data_lines, report.empty_lines, report.continuation_lines = staged.line_account
    if not report.reconciles() or counts.lines["rejected"] + staged.unsplit != staged.rejected:  # a bug
        raise AssertionError(f"import of {label} does not reconcile: {report}")
    return report


def _record_import(con, import_id: int, label: str, digest: str | None, profile: str,
                   report: FileReport) -> None:
    """The file's row in the imports ledger (rfm_imports)."""
    con.execute(
        "INSERT INTO rfm_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            import_id, label, digest, profile, datetime.now().replace(microsecond=0),
            report.rows_read, report.imported, report.duplicates, report.excluded_total, report.rejected,
            json.dumps(report.excluded, ensure_ascii=False), report.orders_new, report.orders_updated,
        ],
    )


def _fingerprint(con, path: Path, *, skip: bool) -> tuple[str | None, Callable[[], str | None]]:
    """(where these bytes were imported before, or None; a function giving the file's sha256).

    `skip`: a throw-away store, whose ledger the hash would only go into. Into a store that imported
    nothing, nothing can match: the hash is computed in a thread while DuckDB reads (hashlib releases
    the GIL), and the function waits for it."""
    if skip:
        return None, lambda: None
    if not fetch_one(con, "SELECT count(*) FROM rfm_imports")[0]:
        from concurrent.futures import ThreadPoolExecutor

        hashing = ThreadPoolExecutor(max_workers=1)
        future = hashing.submit(_sha256, path)

        def wait() -> str:
            hashing.shutdown(wait=True)
            return future.result()

        return None, wait
    digest = _sha256(path)
    earlier = con.execute("SELECT source_file, imported_at FROM rfm_imports WHERE file_sha256 = ? "
                          "ORDER BY import_id LIMIT 1", [digest]).fetchall()
    if earlier:
        return f"{earlier[0][0]} on {earlier[0][1]:%Y-%m-%d %H:%M}", lambda: digest
    return None, lambda: digest


def _refuse_too_many_rejects(label: str, staged: StagedFile, options: ImportOptions,
                             rejects_file: Path | None) -> None:
    if staged.rejected <= max_rejects_allowed(options.max_rejects, staged.rows_read):
        return
    first = staged.first_rejects[0]
    where = f"; see {rejects_file}" if rejects_file else ""
    raise DataError(
        f"{label}: {staged.rejected} of {staged.rows_read} rows unreadable (first at {reject_place(first)}, "
        f"{first['column'] or 'line'}: {first['reason']}){where}; fix the file, map the right column with "
        f"--map, or raise --max-rejects (now {options.max_rejects})"
    )


@dataclass
class _Outcomes:
    """What the file's orders come to against the store: lines per outcome, excluded lines per reason,
    new and updated orders, refund rows."""

    lines: Counter[str] = field(default_factory=Counter)
    excluded: dict[str, int] = field(default_factory=dict)
    orders_new: int = 0
    orders_updated: int = 0
    refund_rows: int = 0
    refund_only: int = 0  # orders that only refund (credit notes): they store no lines

    @property
    def lines_left_out(self) -> bool:  # an order may store none: rejected, refund-only or a duplicate
        return self.refund_only > 0 or any(outcome not in ("imported", "excluded") for outcome in self.lines)


def _outcomes(con, *, as_views: bool) -> _Outcomes:
    # Into a store with no orders (a first import, or `rfm score FILE`) the outcomes join nothing,
    # so they are a view over file_orders, not a second copy of every order: at 10M orders the
    # copy cost 2 s. The view is read before anything is stored (the counts below), and then by
    # import_merge, whose statements each see the store as it was when they start: the orders'
    # INSERT finds no stored order, and the refunds' INSERT reads only refund-only orders, which
    # are never matched with a stored order; no order is 'updated', so import_update does not run.
    # (For `rfm score FILE`, as_views, they are only counted, never merged: import_views then turns
    # rfm_orders into the file's orders.)
    nothing_stored = as_views or not fetch_one(
        con, "SELECT (SELECT count(*) FROM rfm_orders) + (SELECT count(*) FROM rfm_refunds)")[0]
    run_statements(con, "import_outcomes")  # view file_outcomes
    if nothing_stored:
        con.execute("CREATE OR REPLACE TEMP VIEW order_outcomes AS SELECT * FROM file_outcomes")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE order_outcomes AS SELECT * FROM file_outcomes")
        con.execute("DROP VIEW file_outcomes")
        con.execute("DROP TABLE file_orders")  # order_outcomes carries every column: free the copy

    counts = _Outcomes()
    for outcome, reason, orders, lines, refunds, refund_only in con.execute(
        "SELECT outcome, coalesce(reason, ''), count(*), sum(lines), count(refund_key), "
        "count(*) FILTER (WHERE refund_only) FROM order_outcomes GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        counts.lines[outcome] += lines
        counts.refund_only += refund_only
        counts.refund_rows += refunds if outcome != "rejected" else 0
        if outcome == "excluded":
            counts.excluded[reason] = counts.excluded.get(reason, 0) + lines
        if outcome in ("imported", "excluded"):
            counts.orders_new += orders - refunds
        if reason == "updated":
            counts.orders_updated += orders
    if as_views:
        con.execute("DROP VIEW order_outcomes")
        con.execute("DROP VIEW file_outcomes")
    return counts


def _merge(store: Store, path: Path, import_id: int, counts: _Outcomes, colmap: ColumnMap, *,
           as_views: bool) -> bool:
    """Store the file's orders (or, `as_views`, make the store's order tables views over them), and
    what else its columns (`colmap`) carry: discount codes, products (line items), consent. True
    when the models' inputs were kept current too: the caller marks them once the import is recorded."""
    con = store.con
    discount_header, with_lines = colmap.columns.get("discount_code"), colmap.has_products
    params = {"import_id": import_id, "source_file": str(path)}
    with progress(con, f"storing the orders of {path.name}"):
        if as_views:
            run_statements(con, "import_views", params)
            if with_lines:
                run_statements(con, "import_lines_views", params)
            return False
        # rfm_customers and rfm_predict_inputs, once built (by an export or run), are kept current
        # import by import, over the customers the file can change.
        keep_stats = customer_stats.is_current(store)
        keep_inputs = keep_stats and predict_stored.is_current(store)
        if keep_stats:
            customer_stats.mark_scope(con)
        if counts.orders_updated:  # else reading every order's outcome finds nothing to update (~1 s at 10M)
            run_statements(con, "import_update", params)
        run_statements(con, "import_merge", params)
        if with_lines:  # line items (schema 20), categorised by the stored map where the file has no category
            from rfm_cli.core.products import apply_to_import

            store_lines(con, params, left_out=counts.lines_left_out)
            apply_to_import(con, import_id)
        if discount_header is not None:  # campaign redemption (schema 11)
            run_statements(con, "import_codes", {"import_id": import_id, "header": discount_header})
        consent.record_import(con, import_id, str(path), consent.FIELDS & set(colmap.columns))
        if counts.lines["duplicate"]:  # which files carry which orders, for `rfm imports rm`
            run_statements(con, "import_carriers", params)
        if keep_inputs:
            predict_stored.refresh_scope(store)  # reads _rfm_scope, which the stats refresh drops
        if keep_stats:
            customer_stats.refresh(con)
    return keep_inputs


_STORED_ROWS = "SELECT (SELECT count(*) FROM rfm_orders) + (SELECT count(*) FROM rfm_refunds)"


def import_files(
    store: Store, paths: list[Path], options: ImportOptions, *, own_transaction: bool = True,
    read_only_after: bool = False,
) -> list[FileReport]:
    """Import every file in one transaction: all of them land, or none.

    `read_only_after`: the caller only reads the store afterwards and throws it away (`rfm score
    FILE`): one file into a fresh in-memory store is then kept as views, not copied."""
    files = expand_inputs(paths)
    category_map = None
    if options.categories is not None:
        from rfm_cli.core.products import read_category_map

        category_map = read_category_map(Path(options.categories))
    if not files:
        raise DataError(
            f"no order files found in {', '.join(map(str, paths))}; pass CSV, TSV, XLSX or Parquet files"
        )
    if (read_only_after and category_map is None and len(files) == 1 and store.path == MEMORY
            and not fetch_one(store.con, _STORED_ROWS)[0]):
        with store.transaction():
            return [import_file(store, files[0], options, as_views=True)]
    if not own_transaction:
        return _import_each(store, files, options, category_map)
    with store.transaction():
        return _import_each(store, files, options, category_map)


def _import_each(store: Store, files: list[Path], options: ImportOptions,
                 category_map: list[tuple[str, str]] | None) -> list[FileReport]:
    if category_map is not None:  # first: the files' lines are categorised by it as they land
        from rfm_cli.core.products import store_category_map

        store_category_map(store.con, category_map, Path(options.categories))
    reports = [import_file(store, path, options) for path in files]
    if category_map is not None:
        from rfm_cli.core.products import NO_PRODUCTS, has_lines

        if not has_lines(store.con):
            reports[-1].warnings.append(f"{NO_PRODUCTS}: the --categories map is stored for the imports "
                                        "that have product columns")
    return reports
