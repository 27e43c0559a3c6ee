"""What `rfm predict` shows: the models' account and the hold-out check on stderr, the table (or the JSON
document with the models) on stdout or in the file -o names."""

from __future__ import annotations

import sys
from pathlib import Path

from rfm_cli.commands._common import console, log, print_import_reports


def show(st, result, reports, out_format: str, output: str | None, *, to_stdout: bool) -> None:
    """`result`: core.predict.PredictionResult."""
    _say(st, result, reports)
    if output is None and not to_stdout:
        st.say("for the per-customer table: rfm predict ... -o predictions.csv (or -o - for stdout)")
        return
    _write(st, result, out_format, None if to_stdout else Path(output))


def _say(st, result, reports) -> None:
    """The import reports, the --log-json record, the model's account and the hold-out check."""
    from rfm_cli.core.predict.output import describe, describe_holdout

    if reports:
        print_import_reports(st, reports)
    log(
        as_of=result.as_of.isoformat(), customers=result.customers.height, model_status=result.model["status"]
    )
    for line in [*result.notes, *describe(result), *describe_holdout(result)]:
        st.say(line)
    _print_frequency_table(st, result)


def _write(st, result, out_format: str, path: Path | None) -> None:
    from rfm_cli.core.predict.output import FLOAT_PRECISION, json_document, table_for
    from rfm_cli.core.sinks import PipeClosed, StagedFiles, write_file, write_stdout

    if out_format == "json":
        document = json_document(result)
        if path is None:
            try:
                sys.stdout.buffer.write(document)
                sys.stdout.buffer.flush()
            except BrokenPipeError as exc:
                raise PipeClosed() from exc
            return
        with StagedFiles() as staged:
            staged.add_bytes(document, path)
    elif path is None:
        write_stdout(table_for(result, out_format), out_format, float_precision=FLOAT_PRECISION)
        return
    else:
        write_file(table_for(result, out_format), out_format, path, float_precision=FLOAT_PRECISION)
    st.say(f"wrote {result.customers.height:,} customers to {path}")


def _print_frequency_table(st, result) -> None:
    """The hold-out check by calibration frequency (the paper's conditional expectations)."""
    if st.quiet or result.holdout is None:
        return
    from rich.table import Table

    table = Table(
        title="Hold-out purchases per customer, by repeat purchases before it", title_justify="left"
    )
    for name in ("x", "customers", "actual", "expected"):
        table.add_column(name, justify="right")
    for row in result.holdout["by_frequency"]:
        mean = [("" if row[k] is None else f"{row[k]:.3f}") for k in ("actual_mean", "expected_mean")]
        table.add_row(row["x"], f"{row['customers']:,}", *mean)
    console().print(table)
