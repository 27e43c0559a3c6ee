"""Which cells of an opt-out file are opt-outs: the header row and note columns never are.

Sellers keep opt-outs in whatever sheet they have: one phone per row, `手机号 | 备注`, the output of
`rfm suppress list` (kind, value, added_at, note), an Excel export with a title. The layout is read
from the file:

- a header row is a first row naming a column (phone, 手机号, email, customer_id, 备注, note …), or
  a first row with no phone or email where the rows below have them;
- a column named like a contact or an id, or whose values are mostly phones or emails, holds
  opt-outs; a column named like a note, a date or a kind, or any other column beside a column of
  phones or emails, is a note;
- a single column with neither holds customer ids.
A file whose layout cannot be told (several columns, none of phones or emails, no header naming
one) is an error: dropping a column of opt-outs would message people who asked not to be.
"""

from __future__ import annotations

import re

from rfm_cli.core.errors import DataError
from rfm_cli.core.ingest.profiles import normalize_header

VALUE_HEADERS = {
    "phone", "phones", "mobile", "mobile phone", "tel", "telephone", "phone number", "cell", "contact",
    "value", "email", "e-mail", "mail", "email address", "emails",
    "手机", "手机号", "手机号码", "电话", "电话号码", "联系电话", "联系方式", "号码",
    "邮箱", "电子邮箱", "邮件", "值",
}
ID_HEADERS = {
    "customer_id", "customer id", "customer", "id", "buyer", "buyer nick", "nick", "user", "username",
    "member", "member id", "客户", "客户id", "客户编号", "买家", "买家会员名", "会员名", "会员",
    "用户名", "用户", "昵称",
}
NOTE_HEADERS = {
    "note", "notes", "remark", "remarks", "comment", "comments", "reason", "memo", "kind", "type", "source",
    "status", "date", "time", "added", "added_at", "added at", "name", "first name", "last name",
    "备注", "原因", "说明", "留言", "类型", "来源", "状态", "日期", "时间", "姓名", "名字", "添加时间",
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[\d\s+()\-]+")


def _is_contact(value: str) -> bool:
    value = value.strip()
    if _EMAIL.fullmatch(value):
        return True
    return bool(_PHONE.fullmatch(value)) and sum(ch.isdigit() for ch in value) >= 7


def _mostly_contacts(values: list[str]) -> bool:
    present = [v for v in values if v.strip()]
    return bool(present) and sum(_is_contact(v) for v in present) * 2 > len(present)


def opt_out_values(rows: list[list[str]], label: str) -> list[str]:
    """The opt-out values of a table of cells (rows of text), in file order."""
    rows = [[cell.strip() for cell in row] for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    header = _header(rows)
    body = rows[1:] if header else rows
    keep = []
    for index in range(width):
        values = [row[index] for row in body]
        name = normalize_header(header[index]) if header else ""
        if name in NOTE_HEADERS:
            continue
        if name in VALUE_HEADERS or name in ID_HEADERS or _mostly_contacts(values):
            keep.append(index)
    if not keep:
        filled = [i for i in range(width) if any(row[i] for row in body)]
        if len(filled) == 1 and not (header and normalize_header(header[filled[0]]) in NOTE_HEADERS):
            keep = filled  # one column of neither phones nor emails: customer ids
        elif filled:
            raise DataError(
                f"cannot tell which column of {label} holds the opt-outs (none is phones or emails); "
                "add a header row naming it phone, email or customer_id (and note for notes)")
    return [row[i] for row in body for i in keep if row[i]]


def _header(rows: list[list[str]]) -> list[str] | None:
    first = rows[0]
    names = {normalize_header(cell) for cell in first if cell}
    if names & (VALUE_HEADERS | ID_HEADERS | NOTE_HEADERS):
        return first
    below = rows[1:]
    for index, cell in enumerate(first):
        if cell and not _is_contact(cell) and below and _mostly_contacts([row[index] for row in below]):
            return first
    return None
