"""Spreadsheet safety: a text cell a spreadsheet would read as a formula is escaped before it is written.

A buyer nickname `=HYPERLINK(...)` opened in Excel or WPS would be a live formula (CSV injection);
writers escape every text column with an apostrophe in front (OWASP's advice), except a strict E.164
phone, whose `+` upload targets require.
"""

from __future__ import annotations

import polars as pl

from rfm_cli.core.contacts import E164

__all__ = ["FORMULA_PREFIXES", "escape_formula", "escape_formula_except_e164", "escape_text_columns",
           "is_formula_like"]

# OWASP CSV-injection list (= + - @ tab CR), plus NUL from OWASP ASVS 1.2.10.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def _formula_like(text: pl.Expr) -> pl.Expr:
    return text.str.contains(r"^[=+\-@\t\r\x00]").fill_null(False)


def _require_text(series: pl.Series, function: str) -> None:
    if series.dtype not in (pl.String, pl.Null):
        # A numeric column starting with '-' is a negative number, not an attack; quoting it would turn it
        # into text in the upload. Writers escape text columns only.
        raise TypeError(f"{function} takes a String column, got {series.dtype} for {series.name!r}")


def is_formula_like(series: pl.Series) -> pl.Series:
    """True where a spreadsheet would read the cell as a formula (see FORMULA_PREFIXES); null is False.

    Writers decide per column: free text (names, tags, template variables) goes through `escape_formula`;
    an E.164 phone column starts with '+' by design and must be written as text instead (the xlsx writer
    forces a text cell; CSV targets that read E.164 do not evaluate formulas), because a quote in front of
    +8613812345678 would break the upload.
    """
    _require_text(series, "is_formula_like")
    return (
        series.cast(pl.String)
        .to_frame("v")
        .select(_formula_like(pl.col("v")))
        .to_series()
        .rename(series.name)
    )


def escape_formula(series: pl.Series) -> pl.Series:
    """Prefix formula-like cells with an apostrophe (OWASP CSV-injection advice); others are unchanged.

    Idempotent: an escaped cell starts with "'", which is not a formula prefix.
    """
    _require_text(series, "escape_formula")
    text = pl.col("v")
    return (
        series.cast(pl.String)
        .to_frame("v")
        .select(pl.when(_formula_like(text)).then(pl.concat_str([pl.lit("'"), text])).otherwise(text))
        .to_series()
        .rename(series.name)
    )


def escape_formula_except_e164(series: pl.Series) -> pl.Series:
    """`escape_formula`, except that a strict E.164 phone (`+` and 7-15 digits, nothing else) keeps its
    `+`: upload targets require it, and a cell of only a plus and digits is a number, never a formula."""
    _require_text(series, "escape_formula_except_e164")
    frame = series.cast(pl.String).to_frame("v")
    if not frame.select(_formula_like(pl.col("v")).any()).item():
        return series  # the usual column (ids, codes, tiers): one scan, no copy
    return frame.select(_escaped_except_e164(pl.col("v"))).to_series().rename(series.name)


def _escaped_except_e164(text: pl.Expr) -> pl.Expr:
    formula = _formula_like(text) & ~text.str.contains(E164).fill_null(False)
    return pl.when(formula).then(pl.concat_str([pl.lit("'"), text])).otherwise(text)


def escape_text_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """`escape_formula_except_e164` on every String column of `frame`, the columns that need it found
    in one pass over the frame (a list's ~15 text columns: one Polars query, not one a column)."""
    text = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    if not text or frame.is_empty():
        return frame
    needed = frame.select(_formula_like(pl.col(c)).any() for c in text).row(0)
    escaped = [_escaped_except_e164(pl.col(c)).alias(c) for c, need in zip(text, needed, strict=True) if need]
    return frame.with_columns(escaped) if escaped else frame
