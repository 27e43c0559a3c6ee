"""SMS replies that refuse further messages, read from a provider's uplink (上行/回复) export.

The MIIT SMS rules (2015) and PIPL Art. 24 say a refusal must be honoured: a number that replied
R, T, TD, 退订 … goes on the suppression list with the time of its reply and the file it came from.
Other replies ("好的", "谢谢", a question) are counted and reported, never stored: rfm keeps no
message text.

The files: CSV/TSV/XLSX with a mobile, a content and a time column, as the Aliyun, Tencent Cloud and
Huawei Cloud consoles export them (their header words are in `HEADERS`; `--provider` only says which
words to expect first, every provider's are accepted). Text goes through the encoding detection of
order exports (UTF-8 with or without a BOM, UTF-16, GBK).

What counts as a refusal (`is_opt_out`), after the reply is made comparable: Unicode NFKC (full-width
letters as half-width: ＴＤ is TD), case ignored, spaces and punctuation removed at both ends:
- the whole reply is one of the refusal words: R, T, TD, N, Q, 退, 退订, 拒收, STOP, UNSUBSCRIBE,
  UNSUB, 取消, 取消订阅 (one letter on its own, because letters inside words are not refusals:
  "Roger" is not R);
- or it contains 退订, 拒收, 取消订阅, 不要再发, 别再发 anywhere ("请帮我退订，谢谢"), or the words STOP,
  UNSUBSCRIBE or UNSUB standing as words ("stop sending").
A doubtful reply such as "不退订" counts as a refusal: sending to someone who meant to refuse breaks
the rules, while leaving out someone who did not costs one message. The rule is deliberately kept
to what a seller's reply export shows; a reply a person typed otherwise ("烦死了") is reported as
"other" with its count, so the seller can read the file.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rfm_cli.core.errors import DataError, UsageError

PROVIDERS = ("auto", "aliyun", "tencent", "huawei")
# Header words per provider and column (normalised: lower case, no spaces), most specific first.
HEADERS = {
    "aliyun": {"mobile": ("手机号码", "phonenumber", "phone_number"), "content": ("上行内容", "content"),
               "time": ("上行时间", "接收时间", "sendtime", "send_time")},
    "tencent": {"mobile": ("手机号", "手机号码", "mobile"), "content": ("回复内容", "text", "content"),
                "time": ("回复时间", "reply_time", "time")},
    "huawei": {"mobile": ("发送方号码", "主叫号码", "from", "手机号码"),
               "content": ("上行内容", "短信内容", "body"),
               "time": ("上行时间", "接收时间", "createtime", "create_time")},
    "any": {"mobile": ("手机", "号码", "电话", "mobile", "phone", "msisdn", "number", "sender"),
            "content": ("内容", "回复", "短信", "message", "reply", "msg", "sms"),
            "time": ("时间", "日期", "date", "time")},
}
WHOLE = {"r", "t", "td", "n", "q", "退", "退订", "拒收", "stop", "unsubscribe", "unsub", "取消", "取消订阅"}
CONTAINED = ("退订", "拒收", "取消订阅", "不要再发", "别再发")
WORDS = re.compile(r"\b(stop|unsubscribe|unsub)\b")
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_TIME = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def comparable(reply: str) -> str:
    """The reply as compared: NFKC (full width to half width), case folded, edges trimmed."""
    return _EDGES.sub("", unicodedata.normalize("NFKC", reply).casefold())


def is_opt_out(reply: str) -> bool:
    text = comparable(reply)
    if not text:
        return False
    if text in WHOLE or re.sub(r"[\s\W_]+", "", text) in WHOLE:
        return True
    return any(word in text for word in CONTAINED) or bool(WORDS.search(text))


def parse_time(value: str) -> datetime | None:
    found = _TIME.search(value or "")
    if not found:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


@dataclass
class Replies:
    """A reply file read: the refusals (phone, time) and the count of everything else."""

    path: Path
    provider: str
    columns: dict[str, str]  # mobile/content/time -> the header found
    opt_outs: list[tuple[str, datetime | None, int]] = field(default_factory=list)  # raw phone, time, line
    other: int = 0  # replies that are not refusals: counted, not stored
    empty: int = 0  # rows with no reply text
    unusable: Counter[str] = field(default_factory=Counter)  # refusals whose number cannot be used, by reason
    first_unusable_line: int | None = None


def _key(header: str) -> str:
    return re.sub(r"[\s()（）]+", "", header.strip().lower())


def find_columns(header: list[str], provider: str, label: str) -> dict[str, int]:
    """Which column holds the mobile, the content and the time (time optional)."""
    keys = [_key(h) for h in header]
    order = ([provider] if provider in HEADERS else []) + [p for p in HEADERS if p != provider]
    found: dict[str, int] = {}
    for role in ("mobile", "content", "time"):
        for name in order:
            words = HEADERS[name][role]
            exact = next((i for i, k in enumerate(keys) if k in words and i not in found.values()), None)
            part = exact if exact is not None or name != "any" else next(
                (i for i, k in enumerate(keys) if any(w in k for w in words) and i not in found.values()),
                None)
            if part is not None:
                found[role] = part
                break
    missing = [role for role in ("mobile", "content") if role not in found]
    if missing:
        raise DataError(f"reply file {label} has no {' or '.join(missing)} column (header: "
                        f"{', '.join(h for h in header if h)[:120]}); export the uplink replies with the "
                        "mobile number and the reply text, or rename the columns")
    return found


def read_replies(path: Path, provider: str = "auto", default_region: str = "CN") -> Replies:
    from rfm_cli.core.suppression import classify, read_table

    if provider not in PROVIDERS:
        raise UsageError(f"--provider {provider!r} is not known; use one of {', '.join(PROVIDERS)}")
    rows = read_table(path, "reply file")
    start = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if start is None:
        raise DataError(f"reply file {path} has no rows; pass the provider's uplink reply export")
    header = [c.strip() for c in rows[start]]
    columns = find_columns(header, provider, str(path))
    result = Replies(path, provider, {role: header[i] for role, i in columns.items()})
    for line, row in enumerate(rows[start + 1:], start + 2):
        cells = row + [""] * (len(header) - len(row))
        text = cells[columns["content"]].strip()
        if not text:
            result.empty += 1 if any(c.strip() for c in cells) else 0
            continue
        if not is_opt_out(text):
            result.other += 1
            continue
        raw = cells[columns["mobile"]].strip().lstrip("\t").strip('="')
        phones = [value for kind, value in classify([raw], "auto", default_region) if kind == "phone"]
        reason = "masked" if "*" in raw else "not a phone number" if raw else "no number"
        if not phones or "*" in raw:
            result.unusable[reason] += 1
            result.first_unusable_line = result.first_unusable_line or line
            continue
        when = parse_time(cells[columns["time"]]) if "time" in columns else None
        result.opt_outs.append((raw, when, line))
    return result


def import_replies(store, path: Path, provider: str = "auto", default_region: str = "CN") -> dict:
    """Read the file and add its refusals to the suppression list (one transaction). Returns the
    counts: refusals, numbers new to the list, other replies, unusable refusals by reason."""
    from rfm_cli.core import suppression

    replies = read_replies(path, provider, default_region)
    source = f"sms reply ({replies.provider}) {path.name}"
    # The earliest refusal of a number first: an entry keeps the date and line it was first given.
    entries = [(kind, value, when, f"{source} line {line}")
               for raw, when, line in sorted(replies.opt_outs, key=lambda r: (r[1] is None, r[1] or 0, r[2]))
               for kind, value in suppression.classify([raw], "phone", default_region)]
    with store.transaction():
        before = _numbers(store)
        suppression.insert(store, entries, source)
        added = _numbers(store) - before
    return {"file": str(path), "columns": replies.columns, "opt_outs": len(replies.opt_outs),
            "numbers_added": added, "other_replies": replies.other, "empty_rows": replies.empty,
            "unusable": dict(replies.unusable), "first_unusable_line": replies.first_unusable_line}


def _numbers(store) -> int:
    """Distinct numbers on the list (a number is kept in its national and E.164 forms)."""
    return store.con.execute("SELECT count(*) FROM rfm_suppressions WHERE kind = 'phone' "
                             "AND value NOT LIKE '+%'").fetchall()[0][0]
