"""What the plan tests share: generated order lines (line items, partial refunds, refund lines,
credit notes, ties, orders at the same moment with different contacts), written both as the
canonical CSV rfm imports and as typed rows an engine holds; and a private PostgreSQL server.

Engines that cannot run here are skipped with the reason, unless RFM_REQUIRE_ENGINES=1 (CI sets
it): then a missing engine fails the test instead of hiding it.
"""

from __future__ import annotations

import contextlib
import csv
import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Line:
    order_id: str
    customer_id: str | None
    order_ts: datetime
    amount: Decimal
    status: str
    refund_amount: Decimal | None
    customer_name: str | None
    phone: str | None
    email: str | None

    def row(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


def skip_or_fail(reason: str) -> None:
    if os.environ.get("RFM_REQUIRE_ENGINES") == "1":
        pytest.fail(f"{reason} (RFM_REQUIRE_ENGINES=1: every engine must run)")
    pytest.skip(reason)


# ------------------------------------------------------------------ generated orders

STATUSES = ["paid"] * 8 + ["shipped", "completed", "cancelled", "unpaid", "refunded", "PAID", "Delivered"]
# Few distinct prices: customers tie on monetary, and ten 0.10 lines make exactly 1.00.
PRICES = [Decimal(p) for p in ("0.10", "1.00", "9.90", "10.00", "19.99", "20.00", "35.50", "99.00", "120.00")]
NAMES = ["王芳", "李雷", "Zoë Ö'Brien", "Chen, Wei", "佐藤", "Ann"]


def _order_id(rng: random.Random, n: int) -> str:
    """Ids as platforms write them: plain numbers (some beyond 64 bits, some with a leading zero)
    and text ids; they decide which order's contacts win when two are placed at the same moment."""
    kind = rng.randrange(5)
    if kind == 0:
        return str(rng.randrange(1, 10**6)) + f"{n:04d}"
    if kind == 1:
        return "2" + "".join(rng.choice("0123456789") for _ in range(19)) + f"{n}"  # over 2^64
    if kind == 2:
        return f"00{n}"
    return f"SO-{n}-{rng.choice('ABCXYZ')}"


def generate_lines(seed: int, customers: int = 40, *, start: datetime = datetime(2024, 1, 1)) -> list[Line]:
    rng = random.Random(seed)
    lines: list[Line] = []
    moments = [
        start + timedelta(days=rng.randrange(0, 400), hours=rng.randrange(0, 24)) for _ in range(customers)
    ]
    for c in range(customers):
        customer = f"C{c:04d}" if c % 7 else f"{c}"  # some ids are numbers: they stay text
        previous = None
        for o in range(rng.choice([1, 1, 1, 2, 3, 4, 6, 7])):
            n = len(lines)
            order_id = _order_id(rng, n)
            # The moment of this customer's previous order (which order's contacts win is then up to
            # the pick key), of another customer's (recency ties), or any.
            if previous is not None and rng.random() < 0.35:
                when = previous
            elif rng.random() < 0.4:
                when = rng.choice(moments)
            else:
                when = start + timedelta(days=rng.randrange(0, 400), seconds=rng.randrange(0, 86400))
            previous = when
            status = rng.choice(STATUSES)
            name = rng.choice([None, *NAMES])
            phone = rng.choice([None, f"13{rng.randrange(10**8, 10**9)}"])
            email = rng.choice([None, f"c{c}.{o}@example.com"])
            items = rng.choice([1, 1, 2, 3]) if rng.random() > 0.05 else 10
            price = rng.choice(PRICES)
            for i in range(items):
                amount = price if items == 10 else rng.choice(PRICES)
                refund = None
                if i == 0 and rng.random() < 0.15:  # the export's refund column: partial or whole
                    refund = rng.choice([amount, (amount / 2).quantize(Decimal("0.01")), Decimal("0.10")])
                lines.append(Line(order_id, customer, when, amount, status, refund, name, phone, email))
            if rng.random() < 0.1:  # a negative line of the order: a refund of part of it
                lines.append(
                    Line(
                        order_id,
                        customer,
                        when + timedelta(days=3),
                        -rng.choice(PRICES[:5]),
                        "paid",
                        None,
                        name,
                        phone,
                        email,
                    )
                )
        if rng.random() < 0.15:  # a credit note naming no order: reduces the customer's monetary
            lines.append(
                Line(
                    f"C{900000 + c}",
                    customer,
                    start + timedelta(days=rng.randrange(0, 500)),
                    -rng.choice(PRICES[:6]),
                    "paid",
                    None,
                    None,
                    None,
                    None,
                )
            )
    if rng.random() < 0.5:  # an order without a customer: never scored
        lines.append(Line("NOBODY-1", None, start, Decimal("50.00"), "paid", None, None, None, None))
    rng.shuffle(lines)
    return lines


def write_canonical_csv(lines: list[Line], path: Path) -> Path:
    """The lines as the canonical export rfm imports (order_date is the order_ts)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "order_id",
                "customer_id",
                "order_date",
                "amount",
                "status",
                "refund_amount",
                "customer_name",
                "phone",
                "email",
            ]
        )
        for line in lines:
            writer.writerow(
                [
                    line.order_id,
                    line.customer_id or "",
                    line.order_ts.strftime("%Y-%m-%d %H:%M:%S"),
                    str(line.amount),
                    line.status,
                    "" if line.refund_amount is None else str(line.refund_amount),
                    line.customer_name or "",
                    line.phone or "",
                    line.email or "",
                ]
            )
    return path


def lines_frame(lines: list[Line]):
    """The lines as a typed Polars frame: amounts DECIMAL(18, 2), times to the second."""
    import polars as pl

    return pl.DataFrame(
        [line.row() for line in lines],
        schema={
            "order_id": pl.String,
            "customer_id": pl.String,
            "order_ts": pl.Datetime("us"),
            "amount": pl.Decimal(18, 2),
            "status": pl.String,
            "refund_amount": pl.Decimal(18, 2),
            "customer_name": pl.String,
            "phone": pl.String,
            "email": pl.String,
        },
        orient="row",
    )


def rfm_scores(lines: list[Line], folder: Path, rules, as_of=None):
    """rfm's own path: the canonical CSV imported into an in-memory store and scored in Polars."""
    from rfm_cli.core import api
    from rfm_cli.core.ingest.pipeline import ImportOptions

    path = write_canonical_csv(lines, folder / "orders.csv")
    result, _ = api.score(":memory:", [path], rules, as_of, ImportOptions())
    return result


# ------------------------------------------------------------------ a private PostgreSQL server


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own on 127.0.0.1 with a private data folder, stopped and removed
    after; yields its URL. As root, the server runs as `nobody` (postgres refuses root)."""
    bindir = _postgres_bin()
    if bindir is None:
        skip_or_fail(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql"
        )
    folder = Path(tempfile.mkdtemp(prefix="rfm-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody", "nogroup")
        as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
    data, port = folder / "data", _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], check=False, capture_output=True, text=True, timeout=120,
                              cwd=folder)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr[-1500:]}")

    started = False
    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "rfm",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {folder} -F",
            "start",
        )
        started = True
        yield f"postgresql://rfm@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def load_postgres(url: str, lines: list[Line], table: str = "order_lines") -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(
            f"CREATE TABLE {table} (order_id text, customer_id text, order_ts timestamp, "
            "amount numeric(18, 2), status text, refund_amount numeric(18, 2), customer_name text, "
            "phone text, email text)"
        )
        with con.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:
            for line in lines:
                copy.write_row(line.row())
