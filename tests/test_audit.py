"""The audit trail (`rfm audit`): every list written is recorded with its files' sha256 and the personal
fields they carry, and neither it nor `--log-json` holds personal data (issue 23)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "customer_name", "phone", "email")
PEOPLE = [("O1", "nick_wang", "2026-01-05", "120.00", "paid", "王小明", "13812345678", "wang@example.com"),
          ("O2", "nick_li", "2026-03-06", "80.00", "paid", "李雷", "13912345678", "li.lei@example.com"),
          ("O3", "nick_ann", "2026-03-07", "30.00", "paid", "Ann Lee", "+44 7700 900123",
           "ann@example.co.uk")]
PERSONAL = [value for row in PEOPLE for value in row[1:2] + row[5:]]


@pytest.fixture
def orders(write_orders) -> Path:
    return write_orders("orders.csv", PEOPLE, header=HEADER)


def audit_rows(rfm, db: Path) -> list[dict]:
    shown = rfm("audit", "--db", db, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_every_list_written_is_in_the_audit_trail_with_its_files(rfm, orders, tmp_path) -> None:
    db = tmp_path / "t.db"
    assert rfm("run", orders, "--db", db, "--out-dir", "night", "--channel", "sms,google").returncode == 0
    assert rfm("export", "--db", db, "--out-dir", "gold", "--tier", "potential", "--channel",
               "email").returncode == 0
    streamed = rfm("export", "--db", db, "--tier", "potential", "--channel", "meta", "-o", "-")
    assert streamed.returncode == 0, streamed.stderr
    rows = audit_rows(rfm, db)
    assert [r["command"] for r in rows] == ["run", "export", "export -o -"]
    night = rows[0]
    manifest = json.loads((tmp_path / "night" / "manifest.json").read_text(encoding="utf-8"))
    assert night["as_of"] == manifest["as_of"] and night["out_dir"] == "night"
    assert len(night["files"]) == len(manifest["files"])
    for entry in night["files"]:  # the sha256 recorded is the file's, as published
        assert (hashlib.sha256((tmp_path / "night" / entry["path"]).read_bytes()).hexdigest()
                == entry["sha256"])
    assert night["rows_written"] == sum(e["rows"] for e in manifest["files"])
    assert {"phone", "email", "first_name", "last_name"} <= set(night["personal_fields"])
    assert any(e["hashed"] for e in night["files"] if e["channel"] == "google")
    sent = [f for f in rows[1]["files"] if f["path"].startswith("send/")]
    assert ([f["path"] for f in sent] == ["send/email/potential.csv"]
            and sent[0]["personal_fields"] == ["email", "name"])
    assert {"email", "name"} <= set(rows[1]["personal_fields"])  # and the tiers' state files beside it
    assert (rows[2]["files"][0]["path"] == "-"
            and rows[2]["files"][0]["rows"] == streamed.stdout.count("\n") - 1)
    # the same choice of people shares a selection hash; another choice does not
    again = rfm("export", "--db", db, "--out-dir", "gold2", "--tier", "potential", "--channel", "email")
    assert again.returncode == 0
    after = audit_rows(rfm, db)
    assert after[3]["selection_sha256"] == after[1]["selection_sha256"] != after[0]["selection_sha256"]
    assert after[3]["rules_sha256"] == after[0]["rules_sha256"]
    table = rfm("audit", "--db", db)
    listed = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [r["command"] for r in listed] == ["run", "export", "export -o -", "export"]


def test_a_refused_export_leaves_no_audit_row(rfm, orders, tmp_path) -> None:
    db = tmp_path / "t.db"
    assert rfm("import", orders, "--db", db).returncode == 0
    refused = rfm("export", "--db", db, "--out-dir", "o", "--channel", "sms", "--template", "您好")
    assert refused.returncode == 78
    assert audit_rows(rfm, db) == []


def test_no_personal_data_in_the_audit_trail_or_the_json_log(rfm, orders, tmp_path) -> None:
    db = tmp_path / "t.db"
    replies = tmp_path / "replies.csv"
    replies.write_text("手机号码,上行内容,上行时间\n13912345678,退订,2026-03-08 10:00:00\n", encoding="utf-8")
    runs = [
        rfm("--log-json", "run", orders, "--db", db, "--out-dir", "o", "--channel", "sms,csv,email,google"),
        rfm("--log-json", "export", "--db", db, "--out-dir", "o2", "--channel", "shopify,meta", "--no-hash"),
        rfm("--log-json", "suppress", "import-replies", replies, "--db", db),
        rfm("--log-json", "suppress", "add", "wang@example.com", "--db", db),
        rfm("--log-json", "forget", "13812345678", "--db", db),
        rfm("--log-json", "forget", "nobody@example.com", "--db", db),  # an error repeats no contact
        rfm("--log-json", "audit", "--db", db, "--format", "json"),
    ]
    for result in runs:
        lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
        assert lines, result.stderr
        logged = json.dumps(lines, ensure_ascii=False)
        leaked = [value for value in PERSONAL if value in logged or value in result.stderr]
        assert leaked == [], (leaked, result.stderr)
    trail = runs[-1].stdout
    assert json.loads(trail) and not [value for value in PERSONAL if value in trail]


def test_a_campaigns_lists_are_in_the_audit_trail(rfm, orders, tmp_path) -> None:
    db = tmp_path / "t.db"
    assert rfm("import", orders, "--db", db).returncode == 0
    made = rfm("campaign", "new", "spring", "--db", db, "--channel", "sms", "--holdout", "0%",
               "--out-dir", "spring")
    assert made.returncode == 0, made.stderr
    [row] = audit_rows(rfm, db)
    assert row["command"] == "campaign new spring" and row["out_dir"] == "spring"
    for entry in row["files"]:
        assert (hashlib.sha256((tmp_path / "spring" / entry["path"]).read_bytes()).hexdigest()
                == entry["sha256"])
    written = json.loads((tmp_path / "spring" / "campaign.json").read_text(encoding="utf-8"))
    assert ("phone" in row["personal_fields"]
            and row["rows_written"] == sum(f["rows"] for f in written["files"]) > 0)
