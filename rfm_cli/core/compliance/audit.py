"""The audit trail: every list written, recorded in the database (rfm_audit) as it is written.

A privacy review asks, for each list that left the machine: when, by which command, chosen how,
how many people, which file exactly (sha256), and which personal fields it carried. One row per
export or run answers that, written inside the same transaction as the send ledger, so a list is in
the trail exactly when its files were published. The row holds no personal data: no ids, phones,
emails or names, only counts, hashes and field names. `rfm audit` lists the rows.

The selection hash covers what decides who is on the lists (selection, channels, cooldown,
sending rules, the opt-out files' names); the rules hash the tier rules. Two rows with the same
hashes chose people the same way.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from rfm_cli.core.store import Store


def _sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True,
                                     default=str).encode()).hexdigest()


def _files(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    keep = ("path", "channel", "tier", "rows", "sha256", "personal_fields", "hashed")
    return [{k: entry.get(k) for k in keep} for entry in manifest.get("files", [])]


def record(store: Store, command: str, manifest: dict[str, Any], *, out_dir: str | None,
           exclude: list[str] = ()) -> None:
    """One row for the lists of `manifest` (segments.stage_lists' manifest, or `stream_manifest`'s),
    inside the caller's transaction."""
    files = _files(manifest)
    sending = dict(manifest.get("sending") or {})
    if "template_check" in sending:  # the check's verdict, not its per-list detail
        check = sending.pop("template_check")
        sending["template_ok"] = check.get("ok")
        sending["template_segments"] = [{"tier": t["tier"], "segments": t["segments"]}
                                        for t in check.get("lists", [])]
    chosen = {"selection": manifest.get("selection"), "channels": manifest.get("channels"),
              "cooldown_days": manifest.get("cooldown_days"), "sending": manifest.get("sending"),
              "exclude_files": sorted(exclude)}
    fields = sorted({f for entry in files for f in entry.get("personal_fields") or []})
    store.con.execute(
        "INSERT INTO rfm_audit (audit_id, written_at, command, as_of, selection_sha256, rules_sha256, "
        "customers_selected, rows_written, files, personal_fields, out_dir, detail) "
        "SELECT coalesce(max(audit_id), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM rfm_audit",
        [datetime.now().replace(microsecond=0), command, manifest.get("as_of"), _sha256(chosen),
         _sha256(manifest.get("rules")), manifest.get("customers_selected", 0),
         sum(entry["rows"] or 0 for entry in files), json.dumps(files, ensure_ascii=False),
         json.dumps(fields), out_dir, json.dumps(sending, ensure_ascii=False)])


def stream_manifest(each: Any, result: Any, spec: Any) -> dict[str, Any]:
    """What `record` needs of a list streamed to stdout (-o -): no file, so no sha256."""
    from rfm_cli.core.compliance.sending import personal_fields

    entry = {"path": "-", "channel": each.channel, "tier": each.tier, "rows": each.rows, "sha256": None}
    entry |= personal_fields(each.frame, each.channel, spec.options.hashed)
    manifest = {"as_of": result.as_of.isoformat(), "customers_selected": each.selected,
                "selection": spec.selection.describe(), "channels": spec.channels, "files": [entry],
                "rules": result.rules.to_dict(), "cooldown_days": spec.cooldown_days}
    if spec.sending is not None:
        manifest["sending"] = spec.sending.describe([each])
    return manifest


def listing(store: Store) -> pl.DataFrame:
    from rfm_cli.core.frames import frame

    return frame(store.con.sql(
        "SELECT audit_id, written_at, command, as_of, customers_selected, rows_written, "
        "json_array_length(files) AS files, "
        "array_to_string(from_json(personal_fields, '[\"VARCHAR\"]'), ' ') "
        "AS personal_fields, out_dir, selection_sha256, rules_sha256, "
        "files AS file_list, detail FROM rfm_audit ORDER BY audit_id"))
