"""Find customers by what a seller knows of them: a phone (in any written form, or its last
digits, or masked), an email, a name or part of a nickname (`rfm explain --find`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from rfm_cli.core.frames import frame as as_frame
from rfm_cli.core.store import Store, sql

_PHONE_LIKE = re.compile(r"[\d\s()+*.\-]+")


@dataclass(frozen=True)
class Search:
    """A search text read as what it looks like: the parameters of queries/find_customers.sql."""

    phone: str | None = None
    phone_prefix: str | None = None
    phone_suffix: str | None = None
    email: str | None = None
    text: str | None = None

    @property
    def kind(self) -> str:
        return "phone" if self.phone else "email" if self.email else "name"


def read_search(text: str) -> Search:
    """`138 1234 5678`, `+86 138-1234-5678`, `5678` and `138****5678` are phones; `A@B.com` an email;
    anything else part of a name or id. Digits searched as a phone are matched against ids too."""
    text = text.strip()
    if "@" in text:
        return Search(email=text.lower())
    digits = re.sub(r"[^0-9*]", "", text)
    if _PHONE_LIKE.fullmatch(text) and sum(c.isdigit() for c in digits) >= 4:
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        prefix = re.match(r"[0-9]*", digits).group(0)
        suffix = re.search(r"[0-9]*$", digits).group(0)
        masked = "*" in digits
        return Search(phone=digits, phone_prefix=prefix if masked else None,
                      phone_suffix=suffix if masked else None, text=None if masked else digits)
    return Search(text=text.lower())


def find_customers(store: Store, text: str) -> pl.DataFrame:
    """The customers matching `text`, latest order first (see queries/find_customers.sql)."""
    search = read_search(text)
    relation = store.con.sql(sql("find_customers"), params=dict(search.__dict__))
    return as_frame(relation)
