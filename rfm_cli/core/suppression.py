"""Opt-outs: the suppression list kept in the database, and `--exclude` files in any layout.

A value is classified by its shape: it holds `@` -> an email (trimmed, lowercase); it normalises
to a phone -> a phone (both national and E.164 forms match); anything else -> a customer id.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import polars as pl

from rfm_cli.core.contacts import normalize_emails, normalize_phones
from rfm_cli.core.errors import DataError, InputError, UsageError
from rfm_cli.core.ingest.encoding import read_text
from rfm_cli.core.ingest.opt_outs import opt_out_values
from rfm_cli.core.segments import Suppressions
from rfm_cli.core.store import Store

KINDS = ("auto", "phone", "email", "customer_id")
ERASED = "erased (rfm forget)"  # the reason a list gives for leaving out an erased person


def classify(values: list[str], kind: str = "auto", default_region: str = "CN") -> list[tuple[str, str]]:
    """(kind, normalised value) pairs; a phone yields both its national and E.164 forms."""
    if kind not in KINDS:
        raise UsageError(f"--kind {kind!r} is not a kind of value; use one of {', '.join(KINDS)}")
    cleaned = [v.strip() for v in values if v and v.strip()]
    if not cleaned:
        return []
    series = pl.Series(cleaned, dtype=pl.String)
    phones = normalize_phones(series, default_region)
    emails = normalize_emails(series)
    pairs: list[tuple[str, str]] = []
    for raw, national, e164, email in zip(cleaned, phones["phone_national"], phones["phone_e164"],
                                          emails["email"]):
        if kind in ("auto", "email") and "@" in raw:
            pairs.append(("email", email or raw.lower()))
        elif kind in ("auto", "phone") and national:
            pairs += [("phone", national), ("phone", e164)]
        elif kind == "phone":
            pairs.append(("phone", raw))
        else:
            pairs.append(("customer_id", raw))
    return list(dict.fromkeys(pairs))


def read_exclude_file(path: Path) -> list[str]:
    """The opt-out values of a CSV/TSV/TXT/XLSX file, whatever its columns (see `opt_out_values`).
    Text goes through the encoding detection of order exports (UTF-8, UTF-16 from Excel's "Unicode
    text", GBK…); a file that cannot be read, or holds nothing rfm can tell is an opt-out, is an
    error, never an empty list."""
    values = opt_out_values(read_table(path, "exclude file"), str(path))
    if not values:
        raise DataError(f"exclude file {path} holds no phone, email or customer id; "
                        "pass the file of opt-outs")
    return values


def read_table(path: Path, what: str) -> list[list[str]]:
    """The cells of a CSV/TSV/TXT/XLSX file as rows of text: a workbook by its bytes, text through the
    encoding detection of order exports."""
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist; check the path")
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == b"PK\x03\x04":
        try:
            frame = pl.read_excel(path, has_header=False, infer_schema_length=0)
        except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
            raise InputError(f"cannot read {what} {path} as a workbook; "
                             "save it as .xlsx or CSV") from exc
        return [["" if v is None else str(v) for v in row] for row in frame.iter_rows()]
    return _text_rows(read_text(path, what))


def _text_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    sample = "\n".join(lines[:50])
    counts = {d: sample.count(d) for d in ("\t", ",", ";")}
    delimiter = max(counts, key=counts.get)
    if not counts[delimiter]:
        return [[line] for line in lines]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def load_suppressions(store: Store | None, exclude_files: list[Path],
                      default_region: str = "CN") -> Suppressions:
    sup = Suppressions()
    target = {"customer_id": sup.ids, "phone": sup.phones, "email": sup.emails}
    for path in exclude_files:
        for kind, value in classify(read_exclude_file(path), "auto", default_region):
            target[kind].setdefault(value, f"excluded by {path.name}")
    if store is not None:
        for kind, value, source in store.con.execute(
            "SELECT kind, value, source FROM rfm_suppressions").fetchall():
            if kind.endswith("_hash"):  # a person erased by `rfm forget`
                sup.hashed.add(value)
            else:
                target[kind].setdefault(value, ERASED if source == "rfm forget" else "suppression list")
        if sup.hashed:
            from rfm_cli.core.compliance.forget import forget_key

            sup.hash_key = forget_key(store, create=False)
        opted_out = store.con.execute(
            "SELECT customer_id FROM rfm_orders WHERE customer_id IS NOT NULL "
            "AND accepts_marketing IS NOT NULL "
            # The latest order's answer; of orders placed at the same moment, a "no" wins.
            "GROUP BY customer_id HAVING NOT arg_max(accepts_marketing, "
            "epoch_us(ordered_at) * 2 + CASE WHEN accepts_marketing THEN 0 ELSE 1 END)"
        ).fetchall()
        sup.opted_out_ids = {row[0] for row in opted_out}
    return sup


def add(store: Store, values: list[str], kind: str = "auto", note: str | None = None,
        source: str = "rfm suppress add") -> int:
    pairs = classify(values, kind)
    with store.transaction():
        return insert(store, [(k, v, None) for k, v in pairs], source, note)


def insert(store: Store, entries: list[tuple], source: str, note: str | None = None) -> int:
    """Add (kind, value, opted_out_at[, source]) entries inside the caller's transaction; an entry
    already there keeps its first date and source. Returns how many were new."""
    now = datetime.now().replace(microsecond=0)
    before = store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0]
    store.con.executemany(
        "INSERT INTO rfm_suppressions (kind, value, added_at, note, source, opted_out_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(e[0], e[1], now, note, e[3] if len(e) > 3 else source, e[2]) for e in entries],
    )
    return store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0] - before


def remove(store: Store, values: list[str], kind: str = "auto") -> int:
    pairs = classify(values, kind)
    with store.transaction():
        before = store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0]
        store.con.executemany("DELETE FROM rfm_suppressions WHERE kind = ? AND value = ?", pairs)
        after = store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0]
    return before - after


def listing(store: Store) -> pl.DataFrame:
    return pl.from_arrow(store.con.sql(
        "SELECT kind, value, added_at, note, source, opted_out_at FROM rfm_suppressions "
        "ORDER BY kind, value").to_arrow_table())
