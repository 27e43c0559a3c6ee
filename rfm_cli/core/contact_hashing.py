"""Contacts hashed for ad platforms: SHA-256 hex as Google Customer Match and Meta Custom Audiences
ask for it, each field normalised the platform's way first (contacts.py cleans and validates them).

Everything works on whole Polars Series; null stays null, and a value that normalises to nothing
becomes null rather than the hash of an empty string.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import polars as pl

from rfm_cli.core.contacts import E164, clean_cell

__all__ = ["GOOGLE_HASH_KINDS", "META_HASH_KINDS", "google_hash", "meta_hash"]

GoogleHashKind = Literal["email", "phone", "name"]
MetaHashKind = Literal["email", "phone", "fn", "ln", "ct", "st", "zip", "country"]
GOOGLE_HASH_KINDS: tuple[str, ...] = ("email", "phone", "name")
META_HASH_KINDS: tuple[str, ...] = ("email", "phone", "fn", "ln", "ct", "st", "zip", "country")


def _sha256_hex(values: pl.Series) -> pl.Series:
    """SHA-256 hex of each non-null value. Polars has no sha256 expression; hashlib runs ~1 µs a value."""
    digests = [None if value is None else hashlib.sha256(value.encode()).hexdigest() for value in values]
    return pl.Series(values.name, digests, dtype=pl.String)


def _apply(series: pl.Series, expr: pl.Expr) -> pl.Series:
    """Evaluate an expression over `series` (as column "v"); an empty result becomes null, never hash("")."""
    non_empty = expr.replace("", None)
    return series.cast(pl.String).to_frame("v").select(non_empty.alias("v")).to_series().rename(series.name)


def _trimmed_lower(text: pl.Expr) -> pl.Expr:
    return clean_cell(text).str.to_lowercase()


def _gmail_without_dots(email: pl.Expr) -> pl.Expr:
    """Google's published rule: remove the periods before the domain of gmail.com and googlemail.com
    addresses. Only periods: Google does not document stripping a +suffix, and doing so would hash an
    address the customer never gave us."""
    parts = email.str.extract_groups(r"^([^@]*)@((?:gmail|googlemail)\.com)$")
    local, domain = parts.struct.field("1"), parts.struct.field("2")
    undotted = pl.concat_str([local.str.replace_all(".", "", literal=True), pl.lit("@"), domain])
    return pl.when(domain.is_not_null()).then(undotted).otherwise(email)


def _check_e164(series: pl.Series, platform: str) -> pl.Series:
    """The hashers take `phone_e164` from normalize_phones; anything else is a caller's bug, and hashing it
    would upload identifiers that silently never match."""
    phones = series.cast(pl.String).str.strip_chars()
    bad = phones.is_not_null() & ~phones.str.contains(E164)
    if bad.any():
        first = int(bad.arg_true()[0])
        # The value itself is personal data: name its position, not its content.
        raise ValueError(
            f"{platform} phone hashing needs E.164 numbers (+8613812345678) from normalize_phones; "
            f"{int(bad.sum())} value(s) are not, first at index {first}"
        )
    return phones


def google_hash(kind: GoogleHashKind, series: pl.Series) -> pl.Series:
    """SHA-256 hex for Google Ads Customer Match (`Email`, `Phone`, `First Name`, `Last Name`).

    - email: trimmed, lowercased; periods removed before @gmail.com / @googlemail.com.
    - phone: E.164 with '+' (pass `phone_e164`); anything else raises ValueError.
    - name: lowercased, punctuation removed, whitespace trimmed and collapsed; accents and CJK kept.

    `Country` and `Zip` are not hashed for Google: upload them in clear text. Null stays null.
    """
    if kind == "email":
        emails = _apply(series, _trimmed_lower(pl.col("v")))
        return _sha256_hex(_apply(emails, _gmail_without_dots(pl.col("v"))))
    if kind == "phone":
        return _sha256_hex(_check_e164(series, "Google").rename(series.name))
    if kind == "name":
        name = (
            _trimmed_lower(pl.col("v"))
            .str.replace_all(r"[\p{P}\p{S}]", "")
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
        )
        return _sha256_hex(_apply(series, name))
    raise ValueError(f"unknown Google hash kind {kind!r}; expected one of {', '.join(GOOGLE_HASH_KINDS)}")


def meta_hash(kind: MetaHashKind, series: pl.Series) -> pl.Series:
    """SHA-256 hex for Meta Custom Audiences (`email, phone, fn, ln, ct, st, zip, country`).

    - email: trimmed, lowercased.
    - phone: digits with country code, no '+' (pass `phone_e164`; anything else raises ValueError).
    - fn, ln, ct, st: lowercase letters only, no spaces or punctuation; non-Latin letters (张三, Zoë) are
      kept and hashed as UTF-8, as Meta asks.
    - zip: lowercase, no spaces or dashes; a US ZIP+4 (12345-6789) keeps its first five digits.
    - country: ISO 3166 alpha-2, lowercase; anything else becomes null rather than an unmatched hash.

    Null stays null.
    """
    if kind == "email":
        return _sha256_hex(_apply(series, _trimmed_lower(pl.col("v"))))
    if kind == "phone":
        return _sha256_hex(_check_e164(series, "Meta").str.strip_prefix("+").rename(series.name))
    if kind in ("fn", "ln", "ct", "st"):
        return _sha256_hex(_apply(series, _trimmed_lower(pl.col("v")).str.replace_all(r"[^\p{L}\p{M}]", "")))
    if kind == "zip":
        zip_code = _trimmed_lower(pl.col("v")).str.replace(r"^([0-9]{5})[\s-]?[0-9]{4}$", "${1}")
        return _sha256_hex(_apply(series, zip_code.str.replace_all(r"[\s\p{Pd}]", "")))
    if kind == "country":
        country = _apply(series, _trimmed_lower(pl.col("v")))
        code = pl.when(pl.col("v").str.contains("^[a-z]{2}$")).then(pl.col("v"))
        return _sha256_hex(_apply(country, code))
    raise ValueError(f"unknown Meta hash kind {kind!r}; expected one of {', '.join(META_HASH_KINDS)}")
