"""Contact fields for upload targets: phones and emails normalised and checked (hashing for ad platforms:
contact_hashing.py; formula escaping: cell_escaping.py).

A tier can hold millions of customers, so everything here works on whole Polars Series. Phones take a
vectorised fast path for Chinese mobiles (the vast majority of rows in Taobao/JD/Pinduoduo/Douyin exports);
only what that path cannot settle goes through the `phonenumbers` library, once per distinct value.

Drop reasons are data, not errors: a writer counts them and reports "N rows dropped: masked ..." (BRIEF §5).

Phone results (`normalize_phones`):

- `phone_drop_reason` is null when the number can receive an SMS; otherwise `missing`, `masked`,
  `landline` or `invalid`.
- `phone_e164` and `phone_national` are filled for every *valid* number, landlines included, because
  Google Customer Match, Meta and Shopify accept landlines: an SMS writer drops every row with a reason,
  an ad-platform writer may keep `landline` rows.

What counts as a Chinese mobile is the SMS gateways' rule `1[3-9]\\d{9}` (BRIEF §5), not `phonenumbers`'
allocation tables, which reject unallocated blocks such as 140/154 that carriers may open at any time.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

__all__ = [
    "E164",
    "EMAIL_DROP_REASONS",
    "PHONE_DROP_REASONS",
    "clean_cell",
    "normalize_emails",
    "normalize_phones",
    "present_only",
]

PHONE_DROP_REASONS = ("missing", "masked", "landline", "invalid")
EMAIL_DROP_REASONS = ("missing", "masked", "invalid")

# Zero-width characters survive NFKC and copy-paste from chat apps; they would make a number "invalid".
_INVISIBLE = r"[\u200b-\u200d\u2060\ufeff]"
# Excel's force-text wrapper as Taobao exports it: ="13812345678".
_EXCEL_TEXT_WRAPPER = r'^=\s*"(.*)"$'
# Ends stripped after unwrapping: whitespace, the leading apostrophe of Excel text cells, stray quotes
# (Douyin).
_CELL_JUNK = " \t\r\n'\""

# Platforms mask with asterisks (138****1234, 1387677****) or bullets; runs of x are masks too,
# but a single x is an extension marker (415 555 2671 x123), so it is left to phonenumbers.
_PHONE_MASK = r"[*•●]|[xX]{2,}"
# Separators people type between digit groups. NFKC has already folded full-width forms; \p{Pd} covers
# the Unicode dashes (‐ – —) that word processors substitute for '-'.
_PHONE_SEPARATORS = r"[\s\p{Pd}.()/_·]"
# A float-ified id: 13812345678.0 (pandas) or .00 (Excel's number format). Only when nothing else is in
# the cell and at most two zeros follow, so 138.1234.0000 and 1381234.0000 keep their dots as separators.
_FLOAT_TAIL = r"^([0-9]+)\.0{1,2}$"
# Excel's scientific display of a long number: 1.3812345678E+10.
_SCIENTIFIC = r"^([0-9])\.([0-9]+)[eE]\+?([0-9]+)$"
# The prefixes a Chinese mobile arrives with: +86, 0086, bare 86, and an optional trunk 0 (+86 (0)138…).
_CN_MOBILE_ANY_PREFIX = r"^(?:\+86|0086|86)?0?(1[3-9][0-9]{9})$"
# With another default region only an explicit +86 says "Chinese": 0086 and a bare 86 could be local dialling.
_CN_MOBILE_EXPLICIT = r"^\+860?(1[3-9][0-9]{9})$"
# A strict E.164 number: "+", then 7-15 digits, the first not 0.
E164 = r"^\+[1-9][0-9]{6,14}$"

_EMAIL_MASK = r"[*•●]"
# "Plausible", not RFC 5322: something@label.label with a TLD of two or more letters (or punycode), and none
# of the characters that mean the cell holds a list or a display name (a@b.com; c@d.com, Name <a@b.com>).
_EMAIL_PLAUSIBLE = r'^[^\s@,;:<>()\[\]"]+@(?:[^\s@.,;:<>()\[\]"_]+\.)+(?:\p{L}{2,}|xn--[a-z0-9-]+)$'


def clean_cell(text: pl.Expr) -> pl.Expr:
    """Undo what spreadsheets and exports do to a text cell; empty becomes null.

    NFKC folds full-width digits and symbols (１３８, ＋, ＠) that Chinese input methods produce.
    """
    return (
        text.cast(pl.String)
        .str.normalize("NFKC")
        .str.replace_all(_INVISIBLE, "")
        .str.strip_chars()
        .str.replace(_EXCEL_TEXT_WRAPPER, "${1}")
        .str.strip_chars(_CELL_JUNK)
        # replace(), not when/then: eager Polars would evaluate the chain above once per branch.
        .replace("", None)
    )


def _as_text(values: pl.Series) -> pl.Series:
    """Phones read as numbers: write integral floats without the '.0' or scientific notation."""
    if values.dtype.is_float():
        integral = values.is_finite() & (values == values.floor())
        return (
            values.to_frame("v")
            .select(
                pl.when(integral)
                .then(pl.col("v").cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(pl.col("v").cast(pl.String))
            )
            .to_series()
        )
    return values.cast(pl.String)


def _undo_float_formatting(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """13812345678.0 → 13812345678; 1.3812345678E+10 → 13812345678 when no digit was lost.

    Works on a materialised column, step by step: an expression used in several when/then branches is
    evaluated once per use in eager Polars, which doubled the cost of this function on a million rows.
    """
    frame = frame.with_columns(pl.col(column).str.replace(_FLOAT_TAIL, "${1}"))
    parts = frame.select(pl.col(column).str.extract_groups(_SCIENTIFIC)).to_series().struct.unnest()
    lead, fraction, exponent = parts.get_column("1"), parts.get_column("2"), parts.get_column("3")
    # Only when the exponent uses up exactly the shown digits: 1.38E+10 has lost eight of them and
    # padding with zeros would invent a number; it stays as it is and ends up invalid.
    exact = (fraction.str.len_chars() == exponent.cast(pl.Int64, strict=False)).fill_null(False)
    if not exact.any():
        return frame
    return frame.with_columns(pl.when(exact).then(lead + fraction).otherwise(pl.col(column)).alias(column))


def present_only(values: pl.Series, normalize: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """`normalize(values)`, computed on the non-null cells only: most customers of most stores have no
    phone or email, and every string step costs per row, null or not. A null cell gets what
    `normalize` gives a null cell (asked once), so the result is the same row for row."""
    present = values.is_not_null()
    count = int(present.sum())
    if count == values.len():
        return normalize(values)
    absent = normalize(pl.Series(values.name, [None], dtype=values.dtype)).row(0, named=True)
    part = normalize(values.filter(present)) if count else None
    where = present.arg_true()
    columns = []
    for name, value in absent.items():
        dtype = part.schema[name] if part is not None else pl.String
        full = pl.repeat(value, values.len(), dtype=dtype, eager=True).alias(name)
        columns.append(full.scatter(where, part[name]) if part is not None else full)
    return pl.DataFrame(columns)


def normalize_phones(phones: pl.Series, default_region: str = "CN") -> pl.DataFrame:
    """Normalise phone cells; one output row per input row, in order.

    Columns (all String): `phone_national`, `phone_e164`, `phone_drop_reason`.

    `default_region` (ISO 3166 alpha-2) is how numbers without a country code are read. With "CN",
    bare 11-digit mobiles and the 86/0086 prefixes take the vectorised path; with any other region only
    numbers written with +86 do, and everything else goes through `phonenumbers`.
    """
    return present_only(phones, lambda cells: _normalize_phones(cells, default_region.upper()))


def _normalize_phones(phones: pl.Series, region: str) -> pl.DataFrame:
    frame = pl.DataFrame({"raw": _as_text(phones)})
    cn_mobile_pattern = _CN_MOBILE_ANY_PREFIX if region == "CN" else _CN_MOBILE_EXPLICIT

    frame = frame.with_columns(cell=clean_cell(pl.col("raw")))
    frame = _undo_float_formatting(frame, "cell")
    frame = frame.with_columns(compact=pl.col("cell").str.replace_all(_PHONE_SEPARATORS, ""))
    frame = frame.with_columns(
        masked=pl.col("cell").str.contains(_PHONE_MASK).fill_null(False),
        # A cell with no digit at all ("无", "N/A", "-") holds no number: a placeholder, not a typo.
        missing=pl.col("compact").is_null() | ~pl.col("compact").str.contains("[0-9]"),
        cn_mobile=pl.col("compact").str.extract(cn_mobile_pattern, 1),
    )
    fast_reason = (
        pl.when(pl.col("masked"))
        .then(pl.lit("masked"))
        .when(pl.col("missing"))
        .then(pl.lit("missing"))
        .otherwise(None)
    )
    frame = frame.with_columns(
        fast_reason=fast_reason,
        needs_library=~pl.col("masked") & ~pl.col("missing") & pl.col("cn_mobile").is_null(),
    )

    slow_cells = frame.filter(pl.col("needs_library")).get_column("cell").unique()
    library = _parse_with_phonenumbers(slow_cells, region)
    frame = frame.join(library, on="cell", how="left", maintain_order="left")

    return frame.select(
        phone_national=pl.coalesce("cn_mobile", "lib_national"),
        phone_e164=pl.when(pl.col("cn_mobile").is_not_null())
        .then(pl.concat_str([pl.lit("+86"), pl.col("cn_mobile")]))
        .otherwise(pl.col("lib_e164")),
        phone_drop_reason=pl.coalesce("fast_reason", "lib_reason"),
    )


def _parse_with_phonenumbers(cells: pl.Series, region: str) -> pl.DataFrame:
    """National number, E.164 and drop reason for each distinct cell the fast path left over."""
    schema = {"cell": pl.String, "lib_national": pl.String, "lib_e164": pl.String, "lib_reason": pl.String}
    if cells.len() == 0:
        # Most files never get here; don't pay the phonenumbers import and its per-region metadata.
        return pl.DataFrame(schema=schema)

    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    if region not in phonenumbers.SUPPORTED_REGIONS:
        # phonenumbers would answer "invalid" for every number: a configuration mistake, not bad data.
        raise ValueError(f"unknown phone region {region!r}; use a two-letter country code such as CN or US")

    rows = []
    for cell in cells.to_list():
        try:
            number = phonenumbers.parse(cell, region)
        except phonenumbers.NumberParseException:
            rows.append((cell, None, None, "invalid"))
            continue
        if not phonenumbers.is_valid_number(number):
            rows.append((cell, None, None, "invalid"))
            continue
        number_type = phonenumbers.number_type(number)
        if number.country_code == 86:
            # In China only mobiles take SMS; fixed lines, 400/800 service numbers and the like do not.
            reason = None if number_type == PhoneNumberType.MOBILE else "landline"
        else:
            # FIXED_LINE_OR_MOBILE (all of the US and Canada) may well be a mobile: keep it.
            reason = "landline" if number_type == PhoneNumberType.FIXED_LINE else None
        rows.append(
            (
                cell,
                phonenumbers.national_significant_number(number),
                phonenumbers.format_number(number, PhoneNumberFormat.E164),
                reason,
            )
        )
    return pl.DataFrame(rows, schema=schema, orient="row")


def normalize_emails(emails: pl.Series) -> pl.DataFrame:
    """Trim and lowercase emails; one output row per input row, in order.

    Columns (String): `email` (null when dropped) and `email_drop_reason` (`missing`, `masked`, `invalid`).
    """
    return present_only(emails, _normalize_emails)


def _normalize_emails(emails: pl.Series) -> pl.DataFrame:
    cell = clean_cell(pl.col("raw")).str.to_lowercase()
    # U+3002 (。) is an IDNA label separator that Chinese keyboards type instead of '.'; NFKC leaves it.
    cell = cell.str.replace_all("\u3002", ".", literal=True)
    reason = (
        pl.when(pl.col("cell").is_null())
        .then(pl.lit("missing"))
        .when(pl.col("cell").str.contains(_EMAIL_MASK))
        .then(pl.lit("masked"))
        .when(~pl.col("cell").str.contains(_EMAIL_PLAUSIBLE))
        .then(pl.lit("invalid"))
        .otherwise(None)
    )
    return (
        pl.DataFrame({"raw": emails.cast(pl.String)})
        .with_columns(cell=cell)
        .with_columns(email_drop_reason=reason)
        .select(
            email=pl.when(pl.col("email_drop_reason").is_null()).then(pl.col("cell")).otherwise(None),
            email_drop_reason="email_drop_reason",
        )
    )
