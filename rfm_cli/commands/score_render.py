"""What `rfm score` shows: the import reports, notes and cut points on stderr, then the table on stdout,
in the file -o names, or (on a terminal without -o) the tier summary."""

from __future__ import annotations

from pathlib import Path

from rfm_cli.commands._common import print_cut_points, print_import_reports, print_summary


def show(st, scored, out_format: str, output: str | None, *, to_stdout: bool) -> None:
    """`scored`: core.api.Scored."""
    if scored.reports:
        print_import_reports(st, scored.reports)
    for note in scored.notes:
        st.say(note)
    print_cut_points(st, scored.score)
    table = scored.score.customers
    if scored.predicted is not None:
        table = _say_predictions(st, scored.predicted, table, out_format)
    _write(st, scored.score, table, out_format, output, to_stdout=to_stdout)


def _say_predictions(st, predicted, table, out_format: str):
    """The fitted models on stderr; the table with the prediction columns that are floats as the text
    Polars writes for them in a csv (P(alive) and expected orders keep 4 decimals)."""
    import polars as pl

    from rfm_cli.core.predict.output import describe

    for line in [*predicted.notes, *describe(predicted)]:
        st.say(line)
    if out_format != "csv":
        return table
    floats = [c for c, kind in predicted.customers.schema.items() if kind == pl.Float64]
    return table.with_columns(pl.col(floats).cast(pl.String))


def _write(st, result, table, out_format: str, output: str | None, *, to_stdout: bool) -> None:
    """The table to stdout (-o -, or piped with no -o), to the file -o names, or, on a terminal
    with no -o, the summary and a hint."""
    from rfm_cli.core.sinks import write_file, write_stdout

    if to_stdout:
        write_stdout(table, out_format)
    elif output is None:
        print_summary(st, result)
        st.say("for the per-customer table: rfm score ... -o scores.csv (or -o - for stdout)")
    else:
        path = Path(output)
        write_file(table, out_format, path)

        st.say(f"wrote {result.customers.height:,} customers to {path}")
