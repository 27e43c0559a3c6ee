"""rfm audit: every list written, when, by which command, how many people, which fields."""

from __future__ import annotations

import json
import sys

import typer

from rfm_cli.commands._common import OutputOption, TextOrJson, state

HELP = """The audit trail: every list rfm wrote (export, run, -o -), newest last: when, by which command,
the as-of date, customers selected, rows written, each file's sha256, the personal fields that left
the machine (phone, email, name, customer_id; hashed or not), and hashes of the selection and of
the tier rules (two lists chosen the same way share them). It holds no personal data.

CSV on stdout when piped; --format json gives every file of every list.

\b
Examples:
  rfm audit
  rfm audit --format json > audit.json"""


def command(ctx: typer.Context, output: OutputOption = None, fmt: TextOrJson = "text") -> None:
    from rfm_cli.commands._common import check_text_or_json, emit_table
    from rfm_cli.core.compliance.audit import listing
    from rfm_cli.core.store import open_store

    st = state(ctx)
    check_text_or_json(fmt)
    with open_store(st.db, create=False, wait_seconds=st.wait) as store:
        frame = listing(store)
    if fmt == "json":
        rows = []
        for row in frame.to_dicts():
            files, detail = row.pop("file_list"), row.pop("detail")
            rows.append(row | {"files": json.loads(files),
                               "personal_fields": (row["personal_fields"] or "").split(),
                               "detail": json.loads(detail or "{}")})
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    emit_table(st, frame.drop("file_list", "detail"), f"Lists written from {st.db}", output)
