"""Opt-outs: the suppression list kept in the database, and `--exclude` files in any layout.

A value is classified by its shape: it holds `@` -> an email (trimmed, lowercase); it normalises
to a phone -> a phone (both national and E.164 forms match); anything else -> a customer id.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from rfm_cli.core.contacts import normalize_emails, normalize_phones
from rfm_cli.core.errors import InputError, UsageError
from rfm_cli.core.segments import Suppressions
from rfm_cli.core.store import Store

KINDS = ("auto", "phone", "email", "customer_id")


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
    for raw, national, e164, email in zip(cleaned, phones["phone_national"], phones["phone_e164"], emails["email"]):
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
    """Every cell of a CSV/TSV/TXT/XLSX file, whatever its columns."""
    if not path.is_file():
        raise InputError(f"exclude file {path} does not exist; check the path")
    try:
        if path.read_bytes()[:4] == b"PK\x03\x04":
            frame = pl.read_excel(path, has_header=False, infer_schema_length=0)
        else:
            text = path.read_bytes().decode("utf-8-sig", errors="replace")
            delimiter = "\t" if text.count("\t") > text.count(",") else ","
            frame = pl.read_csv(text.encode("utf-8"), has_header=False, infer_schema=False, separator=delimiter,
                                truncate_ragged_lines=True)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot read exclude file {path}: {exc}; use a CSV or XLSX file") from exc
    return [v for column in frame.columns for v in frame[column].drop_nulls().to_list()]


def load_suppressions(store: Store | None, exclude_files: list[Path], default_region: str = "CN") -> Suppressions:
    sup = Suppressions()
    target = {"customer_id": sup.ids, "phone": sup.phones, "email": sup.emails}
    for path in exclude_files:
        for kind, value in classify(read_exclude_file(path), "auto", default_region):
            target[kind].setdefault(value, f"excluded by {path.name}")
    if store is not None:
        for kind, value in store.con.execute("SELECT kind, value FROM rfm_suppressions").fetchall():
            target[kind].setdefault(value, "suppression list")
        opted_out = store.con.execute(
            "SELECT customer_id FROM rfm_orders WHERE customer_id IS NOT NULL AND accepts_marketing IS NOT NULL "
            # The latest order's answer; of orders placed at the same moment, a "no" wins.
            "GROUP BY customer_id HAVING NOT arg_max(accepts_marketing, "
            "epoch_us(ordered_at) * 2 + CASE WHEN accepts_marketing THEN 0 ELSE 1 END)"
        ).fetchall()
        sup.opted_out_ids = {row[0] for row in opted_out}
    return sup


def add(store: Store, values: list[str], kind: str = "auto", note: str | None = None) -> int:
    pairs = classify(values, kind)
    now = datetime.now().replace(microsecond=0)
    with store.transaction():
        before = store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0]
        store.con.executemany(
            "INSERT INTO rfm_suppressions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(k, v, now, note) for k, v in pairs],
        )
        after = store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0]
    return after - before


def remove(store: Store, values: list[str], kind: str = "auto") -> int:
    pairs = classify(values, kind)
    with store.transaction():
        before = store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0]
        store.con.executemany("DELETE FROM rfm_suppressions WHERE kind = ? AND value = ?", pairs)
        after = store.con.execute("SELECT count(*) FROM rfm_suppressions").fetchall()[0][0]
    return before - after


def listing(store: Store) -> pl.DataFrame:
    return pl.from_arrow(store.con.sql(
        "SELECT kind, value, added_at, note FROM rfm_suppressions ORDER BY kind, value").to_arrow_table())
