"""Erasure (`rfm forget PHONE|EMAIL|CUSTOMER_ID`): a person removed from the database, their money kept.

PIPL Art. 47 and GDPR Art. 17 give a person the right to have their data deleted; GDPR Art. 21 and
the MIIT SMS rules say a refusal must be honoured for good. `forget` does both:

1. Who: every customer id whose orders carry the phone or email given (or the id itself), and every
   phone, email and name those orders carry. Two accounts sharing the phone are both forgotten
   (the report says how many).
2. Their customer ids become a token, `forgotten-` + 16 hex digits of SHA-256(key:customer_id:ID)
   under the database's own random key (rfm_meta 'forget_key'): stable (snapshots, sends and
   campaigns still join), not reversible without guessing the id. Orders, refunds, customer totals,
   snapshots, the send ledger (rows and the id blobs of rfm_send_lists), campaign members keep
   their amounts and dates under the token, so revenue, tier counts and campaign results still
   reconcile; names, phones and emails are set to NULL (queries/forget_person.sql). Rejected input
   rows kept in the database have the person's values replaced by `[erased]`. Consent records and
   plain suppression entries of them are deleted.
3. They stay suppressed: the suppression list holds SHA-256(key:kind:value) of their ids, phones
   (E.164) and emails (kinds customer_id_hash, phone_hash, email_hash), which `hashed_matches`
   compares with every later list, so a later import of the same person is still left off; and the
   token itself, so the anonymised row never lands on a list. A phone number has few enough
   possible values that whoever holds the database file (and so the key) could test guesses against
   a hash: the entries are pseudonymous, not anonymous. That is the least a suppression list can
   keep and still match future imports.
4. The bytes go: DuckDB keeps freed blocks (with their old bytes) in the file after a CHECKPOINT,
   so the database is copied into a fresh file (COPY FROM DATABASE) and that file replaces it
   (os.replace), all under the database's lock.

Outside the database `forget` cannot reach: list files already written (`rfm audit` says which and
when), rejects files in --rejects-dir, backups, and the platform's own export (a re-import brings
the person's orders back: they stay off every list, but their contacts are stored again).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rfm_cli.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from rfm_cli.core.store import Store

TOKEN_PREFIX = "forgotten-"
HASH_KINDS = {"customer_id": "customer_id_hash", "phone": "phone_hash", "email": "email_hash"}
ERASED = "[erased]"


def person_hash(key: str, kind: str, value: str) -> str:
    """SHA-256 hex of `key:kind:value` (DuckDB's sha256 of the same text gives the same digest)."""
    return hashlib.sha256(f"{key}:{kind}:{value}".encode()).hexdigest()


def token(key: str, customer_id: str) -> str:
    return TOKEN_PREFIX + person_hash(key, "customer_id", customer_id)[:16]


def forget_key(store: Store, *, create: bool) -> str | None:
    """The database's own key for erased people's tokens and hashes, made on first use."""
    found = store.con.execute("SELECT value FROM rfm_meta WHERE key = 'forget_key'").fetchall()
    if found or not create:
        return found[0][0] if found else None
    key = secrets.token_hex(32)
    store.con.execute("INSERT INTO rfm_meta VALUES ('forget_key', ?)", [key])
    return key


@dataclass
class Person:
    customer_ids: list[str] = field(default_factory=list)
    digits: set[str] = field(default_factory=set)  # phone digits: national and with country code
    e164: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    raw_values: set[str] = field(default_factory=set)  # as stored: names, phones, emails, ids


def _phones(values: list[str]) -> tuple[set[str], set[str]]:
    from rfm_cli.core.suppression import classify

    pairs = classify(values, "phone")
    e164 = {v for k, v in pairs if k == "phone" and v.startswith("+")}
    digits = {v.lstrip("+") for k, v in pairs if k == "phone"} | {v[1:] for v in e164}
    return digits, e164


def find_person(store: Store, who: str, region: str = "CN") -> Person:
    """Every customer id and contact of the person `who` names (a phone, an email or a customer id)."""
    from rfm_cli.core.suppression import classify

    given = who.strip()
    if not given:
        raise UsageError("nothing to forget; pass the person's phone, email or customer id")
    kinds = dict(classify([given], "auto", region))
    person = Person()
    if "phone" in kinds:
        person.digits, person.e164 = _phones([given])
    if "email" in kinds:
        person.emails = {kinds["email"]}
    ids = store.con.execute(
        "SELECT DISTINCT customer_id FROM rfm_orders WHERE customer_id IS NOT NULL AND (customer_id = $id "
        "OR list_contains($digits, regexp_replace(phone, '[^0-9]', '', 'g')) "
        "OR list_contains($emails, lower(trim(email)))) ORDER BY 1",
        {"id": given, "digits": sorted(person.digits), "emails": sorted(person.emails)}).fetchall()
    person.customer_ids = [row[0] for row in ids]
    if not person.customer_ids and not any(_held_elsewhere(store, given, person)):
        raise DataError("no customer in the database has that phone, email or id; check it (rfm explain "
                        "--find TEXT), or add it with `rfm suppress add` so it is never listed")
    rows = store.con.execute(
        "SELECT DISTINCT customer_name, phone, email FROM rfm_orders WHERE list_contains($ids, customer_id) "
        "OR list_contains($digits, regexp_replace(phone, '[^0-9]', '', 'g')) "
        "OR list_contains($emails, lower(trim(email))) "
        "UNION SELECT customer_name, phone, email FROM rfm_order_versions "
        "WHERE list_contains($ids, customer_id)",
        {"ids": person.customer_ids, "digits": sorted(person.digits),
         "emails": sorted(person.emails)}).fetchall()
    for name, phone, email in rows:
        person.raw_values.update(v for v in (name, phone, email) if v and len(v.strip()) >= 2)
        if phone and "*" not in phone:
            digits, e164 = _phones([phone])
            person.digits |= digits
            person.e164 |= e164
        if email and email.strip():
            person.emails.add(email.strip().lower())
    person.raw_values.update(person.customer_ids)
    person.raw_values.update(person.emails)
    return person


def _held_elsewhere(store: Store, given: str, person: Person) -> list[int]:
    """Rows of the suppression list or consent ledger naming the person (forgettable without orders)."""
    params = {"id": given, "digits": sorted(person.digits), "emails": sorted(person.emails)}
    where = ("(kind = 'customer_id' AND value = $id) OR (kind = 'phone' AND list_contains($digits, "
             "regexp_replace(value, '[^0-9]', '', 'g'))) "
             "OR (kind = 'email' AND list_contains($emails, value))")
    return [row[0] for table in ("rfm_suppressions", "rfm_consent")
            for row in store.con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchall()
            if row[0]]


def _steps(store: Store, params: dict) -> dict[str, int]:
    from rfm_cli.core.store import statements

    counts: dict[str, int] = {}
    for statement in statements("forget_person"):
        step = next(line.split(":", 1)[1].strip() for line in statement.splitlines()
                    if line.startswith("-- step:"))
        code = "\n".join(ln for ln in statement.splitlines() if not ln.lstrip().startswith("--"))
        used = {k: v for k, v in params.items() if f"${k}" in code}
        counts[step] = int(store.con.execute(statement, used).fetchall()[0][0])
    return counts


def _send_lists(store: Store, tokens: dict[str, str]) -> int:
    """Rewrite the id blobs of the send ledger that hold the person; returns how many."""
    import polars as pl

    from rfm_cli.core.history import _blob_ids, _ids_blob

    changed = 0
    rows = store.con.execute(
        "SELECT as_of, channel, tier, list_name, customer_ids FROM rfm_send_lists").fetchall()
    for as_of, channel, tier, list_name, blob in rows:
        ids = _blob_ids(blob)
        if not ids.is_in(pl.Series(list(tokens)).implode()).any():
            continue
        renamed = ids.replace(tokens)
        store.con.execute(
            "UPDATE rfm_send_lists SET customer_ids = ? WHERE as_of = ? AND channel = ? AND tier = ? "
            "AND list_name = ?", [_ids_blob(renamed), as_of, channel, tier, list_name])
        changed += 1
    return changed


def _scrub_rejects(store: Store, person: Person) -> int:
    """Replace the person's values in the raw text of rejected rows; returns the rows changed."""
    needles = sorted(person.raw_values | person.digits, key=len, reverse=True)
    changed = 0
    for needle in needles:
        changed += store.con.execute("UPDATE rfm_rejects SET raw = replace(raw, ?, ?) WHERE contains(raw, ?)",
                                     [needle, ERASED, needle]).fetchall()[0][0]
    return changed


def erase(store: Store, who: str, region: str = "CN") -> dict[str, int]:
    """Everything but the file rewrite, inside one transaction; returns the counts by step."""
    from rfm_cli.core import suppression

    with store.transaction():
        person = find_person(store, who, region)
        key = forget_key(store, create=True)
        tokens = {cid: token(key, cid) for cid in person.customer_ids}
        store.con.execute("CREATE OR REPLACE TEMP TABLE _rfm_forget (customer_id VARCHAR, token VARCHAR)")
        store.con.executemany("INSERT INTO _rfm_forget VALUES (?, ?)", list(tokens.items()))
        counts = _steps(store, {"digits": sorted(person.digits), "emails": sorted(person.emails)})
        counts["send lists rewritten"] = _send_lists(store, tokens) if tokens else 0
        counts["rejected rows scrubbed"] = _scrub_rejects(store, person)
        hashed = ([(HASH_KINDS["customer_id"], person_hash(key, "customer_id", cid), None) for cid in tokens]
                  + [(HASH_KINDS["phone"], person_hash(key, "phone", p), None) for p in sorted(person.e164)]
                  + [(HASH_KINDS["email"], person_hash(key, "email", e), None) for e in sorted(person.emails)]
                  + [("customer_id", t, None) for t in tokens.values()])
        counts["suppression entries added"] = suppression.insert(store, hashed, "rfm forget",
                                                                 note="erased: kept as a keyed hash")
        store.con.execute("DROP TABLE _rfm_forget")
    counts["customers"] = len(person.customer_ids)
    return counts


def rewrite_file(store: Store) -> int:
    """Copy the database into a fresh file and put it in the old one's place (the caller holds the
    lock): freed blocks with erased bytes do not survive. Returns the new file's size."""
    path = Path(store.path)
    fresh = path.with_name(path.name + ".forget")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    name = store.con.execute("SELECT current_database()").fetchall()[0][0]
    store.con.execute("CHECKPOINT")
    store.con.execute("ATTACH ? AS rfm_forget_fresh", [str(fresh)])
    try:
        store.con.execute(f'COPY FROM DATABASE "{name.replace(chr(34), chr(34) * 2)}" TO rfm_forget_fresh')
    finally:
        store.con.execute("DETACH rfm_forget_fresh")
    with open(fresh, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(fresh, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path.stat().st_size


def forget(db: str, who: str, *, region: str = "CN", wait: float = 0.0) -> dict[str, int]:
    """`rfm forget`: erase (one transaction), then rewrite the file, under the database's lock."""
    from rfm_cli.core.store import open_store

    with open_store(db, create=False, wait_seconds=wait) as store:
        counts = erase(store, who, region)
        counts["database bytes"] = rewrite_file(store)
    return counts


# ------------------------------------------------------------------ later lists


def hashed_matches(customers: pl.DataFrame, key: str, hashes: set[str]) -> list[str]:
    """The customer ids of `customers` (with_contacts' columns when present) whose id, E.164 phone or
    email hashes to an erased person's entry. Hashed by DuckDB (sha256 in C): 2M customers took 5.2 s
    (three digests a customer, 2 threads; measured), paid only by databases that erased someone."""
    import duckdb

    from rfm_cli.core.frames import ArrowStream

    present = [c for c in ("customer_id", "phone_e164", "email_norm") if c in customers.columns]
    kinds = {"customer_id": "customer_id", "phone_e164": "phone", "email_norm": "email"}
    con = duckdb.connect()
    try:
        con.register("_rows", ArrowStream(customers.select(present)))
        con.register("_hashes", ArrowStream(_frame({"h": sorted(hashes)})))
        tests = " OR ".join(f"sha256($key || ':{kinds[c]}:' || {c}) IN (SELECT h FROM _hashes)"
                            for c in present)
        return [row[0] for row in con.execute(f"SELECT customer_id FROM _rows WHERE {tests}",
                                              {"key": key}).fetchall()]
    finally:
        con.close()


def _frame(columns: dict) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(columns, schema={name: pl.String for name in columns})
