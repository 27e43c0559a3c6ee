"""Check a marketing SMS template against the rules its provider enforces, before a list is sent.

What is checked (each a rule with a name, so a refusal says which one):
- signature: the message starts with one signature in 【】, 2-12 characters; 【】 appear nowhere else
  (the providers add or check the signature themselves; a second one is refused);
- opt_out: a promotional message ends with the provider's way to refuse (拒收请回复R, 回T退订 …),
  as the MIIT SMS rules (2015) require of every commercial message;
- variables: written in the provider's syntax, named as the provider allows (Aliyun: a letter then
  letters, digits or _, at most 25, not email/mobile/id/nick/site), each provided by the list
  (`--sms-vars`), none standing alone without words around it, none inside a link;
- length: at most the provider's template limit (500 characters); the billing segments are
  counted on the longest message the list will produce: one segment up to 70 characters, else
  67 characters per segment (the signature counts);
- sending window: the hours the provider lets promotional SMS go out (Huawei Cloud: 08:00-21:00).

The profiles are data; `[sms.providers.NAME]` in rfm.toml may add or override one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

SINGLE_SEGMENT = 70
MULTI_SEGMENT = 67
TEMPLATE_LIMIT = 500
SIGNATURE = re.compile(r"^【([^【】]{2,12})】")
LINK = re.compile(r"(https?://|www\.)\S*", re.IGNORECASE)


@dataclass(frozen=True)
class Provider:
    name: str
    opt_out_phrases: tuple[str, ...]
    variable: str  # a regex whose group 1 is the variable's name or position
    positional: bool = False  # {1}, {2}: the n-th --sms-vars column
    reserved_names: tuple[str, ...] = ()
    send_window: tuple[str, str] | None = None  # (from, to) local time, promotional messages


PROVIDERS: dict[str, Provider] = {
    "aliyun": Provider("aliyun", ("拒收请回复R",), r"\$\{([^{}]*)\}",
                       reserved_names=("email", "mobile", "id", "nick", "site")),
    "tencent": Provider("tencent", ("拒收请回复R", "回T退订"), r"\{(\d+)\}", positional=True),
    "huawei": Provider("huawei", ("回T退订", "拒收请回复R"), r"\$\{(\d+)\}", positional=True,
                       send_window=("08:00", "21:00")),
}
VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,24}")


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str


@dataclass
class TemplateCheck:
    provider: str
    text: str
    signature: str | None = None
    variables: list[str] = field(default_factory=list)  # as the list's columns, in template order
    longest: int = 0  # characters of the longest message the list produces (or of the template)
    segments: int = 0
    send_window: tuple[str, str] | None = None
    problems: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"provider": self.provider, "template": self.text, "signature": self.signature,
                "variables": self.variables, "longest_message": self.longest, "segments": self.segments,
                "send_window": "-".join(self.send_window) if self.send_window else None, "ok": self.ok,
                "problems": [{"rule": p.rule, "message": p.message} for p in self.problems]}


def check_template(text: str, provider: str = "aliyun", *, list_vars: tuple[str, ...] = (),
                   values: dict[str, list[str]] | None = None, promotional: bool = True) -> TemplateCheck:
    """Check `text` for `provider`. `list_vars` are the columns the list provides (in --sms-vars
    order, for positional syntaxes); `values` their values, to count the longest message."""
    from rfm_cli.core.errors import UsageError

    if provider not in PROVIDERS:
        raise UsageError(f"SMS provider {provider!r} is not known; use one of {', '.join(PROVIDERS)}")
    rules = PROVIDERS[provider]
    body = text.strip()
    check = TemplateCheck(provider=provider, text=body, send_window=rules.send_window)
    _check_signature(body, check)
    names = _check_variables(body, rules, list_vars, check)
    if promotional and not any(body.endswith(p) or body.rstrip("。.！! ").endswith(p)
                               for p in rules.opt_out_phrases):
        check.problems.append(Finding("opt_out", f"a promotional message must end with "
                                      f"{' or '.join(rules.opt_out_phrases)} ({provider})"))
    if len(body) > TEMPLATE_LIMIT:
        check.problems.append(Finding("length", f"the template has {len(body):,} characters; "
                                      f"{provider} takes at most {TEMPLATE_LIMIT}"))
    check.longest = longest_message(body, rules, names, values or {})
    check.segments = segments(check.longest)
    return check


def _check_signature(body: str, check: TemplateCheck) -> None:
    found = SIGNATURE.match(body)
    if not found:
        check.problems.append(Finding("signature",
                                      "the message must start with the shop's signature in 【】, "
                                      "2-12 characters, e.g. 【小王的店】"))
        rest = body
    else:
        check.signature = found.group(1)
        rest = body[found.end():]
    if "【" in rest or "】" in rest:
        check.problems.append(Finding("signature", "【】 may hold only the signature at the start; "
                                                   "use other brackets in the text"))


def _check_variables(body: str, rules: Provider, list_vars: tuple[str, ...],
                     check: TemplateCheck) -> list[str]:
    """The list columns the template uses, in order; problems for unknown, misnamed or bare variables."""
    pattern = re.compile(rules.variable)
    columns: list[str] = []
    for found in pattern.finditer(body):
        raw = found.group(1)
        if rules.positional:
            index = int(raw) - 1
            if not 0 <= index < len(list_vars):
                check.problems.append(Finding("variables",
                                              f"{found.group(0)} has no column: the list provides "
                                              f"{len(list_vars)} "
                                              f"(--sms-vars {','.join(list_vars) or 'none'})"))
                continue
            columns.append(list_vars[index])
            continue
        if not VARIABLE_NAME.fullmatch(raw) or raw.lower() in rules.reserved_names:
            check.problems.append(Finding("variables",
                                          f"variable name {raw!r} is not allowed by {rules.name}: "
                                          "a letter, then letters, digits or _ (at most 25), and not "
                                          f"{'/'.join(rules.reserved_names)}"))
        elif raw not in list_vars:
            check.problems.append(Finding("variables", f"${{{raw}}} is not a column of the list; add it with "
                                          f"--sms-vars (the list has {','.join(list_vars) or 'none'})"))
        columns.append(raw)
    words = pattern.sub("", SIGNATURE.sub("", body))
    for phrase in rules.opt_out_phrases:
        words = words.replace(phrase, "")
    if columns and not words.strip(" ，,:：。.!！"):
        check.problems.append(Finding("variables", "the template is only variables; providers refuse a "
                                                   "message without words of its own"))
    if re.search(f"(?:{rules.variable})\\s*(?:{rules.variable})", body):
        check.problems.append(Finding("variables", "two variables stand side by side; put words between "
                                                   "them (providers refuse combined variables)"))
    for link in LINK.finditer(body):
        if pattern.search(link.group(0)):
            check.problems.append(Finding("variables", "a link may not contain a variable; write the whole "
                                                       "address in the template"))
    check.variables = columns
    return columns


def longest_message(body: str, rules: Provider, columns: list[str], values: dict[str, list[str]]) -> int:
    """Characters of the longest message: each variable replaced by its longest value in the list
    (or by nothing when the list is not known yet)."""
    pattern = re.compile(rules.variable)
    fixed = len(pattern.sub("", body))
    return fixed + sum(max((len(v) for v in values.get(column, []) if v is not None), default=0)
                       for column in columns)


def segments(characters: int) -> int:
    """Billing segments of one message (Chinese carriers: 70 in one, else 67 each)."""
    if characters <= SINGLE_SEGMENT:
        return 1 if characters else 0
    return math.ceil(characters / MULTI_SEGMENT)


def read_template(text_or_file: str) -> str:
    """The template itself, or the text of the file it names (UTF-8, with or without a BOM)."""
    from pathlib import Path

    from rfm_cli.core.errors import InputError

    candidate = Path(text_or_file)
    if (len(text_or_file) < 4096 and "\n" not in text_or_file
            and candidate.suffix in (".txt", ".tmpl", ".sms")):
        try:
            return candidate.read_text(encoding="utf-8-sig").strip()
        except FileNotFoundError:
            raise InputError(f"template file {candidate} does not exist; check the path, or pass the "
                             "text itself") from None
        except UnicodeDecodeError:
            raise InputError(f"template file {candidate} is not UTF-8 text; save it as UTF-8") from None
    return text_or_file.strip()


def refuse_unless_ok(check: TemplateCheck) -> None:
    """One line, exit 78, naming every rule the template breaks."""
    from rfm_cli.core.errors import ConfigError

    if check.ok:
        return
    broken = "; ".join(f"{p.rule}: {p.message.replace(';', ',')}" for p in check.problems)
    count = len(check.problems)
    raise ConfigError(f"the SMS template breaks {count} rule{'s' if count > 1 else ''} ({broken}); "
                      "fix the template")
