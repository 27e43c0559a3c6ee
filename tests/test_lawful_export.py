"""Lists that are lawful to send (issue 23): the SMS template checked by export and run before any work
and kept in the manifest, the sending window, and which personal fields each file carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "customer_name", "phone", "email")
ROWS = [
    ("O1", "C1", "2026-01-05", "120.00", "paid", "王小明", "13812345678", "wang@example.com"),
    ("O2", "C2", "2026-01-06", "80.00", "paid", "欧阳娜娜娜娜", "13912345678", "ouyang@example.com"),
    ("O3", "C3", "2026-01-07", "30.00", "paid", "Ann Lee", "", "ann@example.com"),
    ("O4", "C1", "2026-02-01", "60.00", "paid", "王小明", "13812345678", "wang@example.com"),
]
GOOD = "【小王的店】${name}您好，好久不见，送您10元券，回店即用。拒收请回复R"


@pytest.fixture
def db(rfm, write_orders, tmp_path: Path) -> Path:
    orders = write_orders("orders.csv", ROWS, header=HEADER)
    assert rfm("import", orders, "--db", tmp_path / "t.db").returncode == 0
    return tmp_path / "t.db"


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_a_good_template_is_kept_in_the_manifest_with_each_lists_longest_message(rfm, db, tmp_path) -> None:
    done = rfm("export", "--db", db, "--out-dir", "out", "--channel", "sms", "--sms-vars", "name",
               "--template", GOOD)
    assert done.returncode == 0, done.stderr
    sending = manifest(tmp_path / "out")["sending"]
    assert sending["template"] == GOOD and sending["sms_provider"] == "aliyun"
    assert sending["template_check"]["ok"] is True and sending["template_check"]["problems"] == []
    per_list = {each["tier"]: each for each in sending["template_check"]["lists"]}
    # The longest name on the lists replaces ${name}: counted by hand from the template's fixed text.
    fixed = len(GOOD) - len("${name}")
    by_tier = {}
    for entry in manifest(tmp_path / "out")["files"]:
        if entry["kind"] != "send":
            continue
        rows = (tmp_path / "out" / entry["path"]).read_text(encoding="utf-8").splitlines()[1:]
        by_tier[entry["tier"]] = [row.split(",")[1] for row in rows]
    for tier, names in by_tier.items():
        expected = fixed + max((len(n) for n in names), default=0)
        assert per_list[tier]["longest_message"] == expected
        assert per_list[tier]["segments"] == (1 if expected <= 70 else -(-expected // 67))
        assert per_list[tier]["segments_total"] == per_list[tier]["segments"] * len(names)
    assert "send/sms/" in done.stderr and "longest message" in done.stderr


@pytest.mark.parametrize(("template", "rule"), [
    ("【小王的店】${name}您好，送您10元券，回店即用。", "opt_out"),
    ("${name}您好，送您10元券。拒收请回复R", "signature"),
    ("【小王的店】${name}您好，券码${coupon}。拒收请回复R", "variables"),  # the list has no coupon column
])
def test_a_bad_template_stops_export_and_run_before_any_work(rfm, db, tmp_path, assert_cli_error,
                                                             write_orders, template, rule) -> None:
    before = db.read_bytes()
    line = assert_cli_error(rfm("export", "--db", db, "--out-dir", "out", "--channel", "sms", "--sms-vars",
                                "name", "--template", template), 78)
    assert f"({rule}: " in line or f"; {rule}: " in line
    assert not (tmp_path / "out").exists() and db.read_bytes() == before
    more = write_orders("more.csv", [("O9", "C9", "2026-03-01", "10.00", "paid", "", "13700000000", "")],
                        header=HEADER)
    assert_cli_error(rfm("run", more, "--db", db, "--out-dir", "out", "--channel", "sms", "--sms-vars",
                         "name", "--template", template), 78)
    assert not (tmp_path / "out").exists() and db.read_bytes() == before


def test_a_template_file_is_read_and_a_template_without_sms_is_refused(rfm, db, tmp_path,
                                                                       assert_cli_error) -> None:
    (tmp_path / "winback.txt").write_text("\ufeff" + GOOD + "\n", encoding="utf-8")
    done = rfm("export", "--db", db, "--out-dir", "out", "--channel", "sms", "--sms-vars", "name",
               "--template", "winback.txt")
    assert done.returncode == 0, done.stderr
    assert manifest(tmp_path / "out")["sending"]["template"] == GOOD
    assert "--channel sms" in assert_cli_error(
        rfm("export", "--db", db, "--out-dir", "o2", "--template", GOOD), 2)


def test_positional_variables_must_follow_the_files_column_order(rfm, db, assert_cli_error) -> None:
    text = "【小王的店】{1}会员{2}您好，送您10元券，回店即用。回T退订"
    line = assert_cli_error(rfm("export", "--db", db, "--out-dir", "out", "--channel", "sms",
                                "--sms-provider", "tencent", "--sms-vars", "tier,name", "--template", text),
                            2)
    assert "--sms-vars name,tier" in line
    ok = rfm("export", "--db", db, "--out-dir", "out", "--channel", "sms", "--sms-provider", "tencent",
             "--sms-vars", "name,tier", "--template", text)
    assert ok.returncode == 0, ok.stderr


def test_the_sending_window_defaults_to_the_providers_and_cannot_be_wider(rfm, db, tmp_path,
                                                                          assert_cli_error) -> None:
    huawei = rfm("export", "--db", db, "--out-dir", "h", "--channel", "sms", "--sms-provider", "huawei")
    assert huawei.returncode == 0, huawei.stderr
    assert manifest(tmp_path / "h")["sending"]["may_send"] == {
        "from": "08:00", "to": "21:00", "local_time_of": "Asia/Shanghai (UTC+08:00)", "set_by": "huawei"}
    narrower = rfm("run", tmp_path / "orders.csv", "--db", db, "--out-dir", "n", "--channel", "sms",
                   "--send-window", "09:30-20:00")
    assert narrower.returncode == 0, narrower.stderr
    assert manifest(tmp_path / "n")["sending"]["may_send"]["from"] == "09:30"
    assert "send only between 09:30 and 20:00" in narrower.stderr
    assert "wider than huawei" in assert_cli_error(rfm("export", "--db", db, "--out-dir", "w", "--channel",
                                                       "sms", "--sms-provider", "huawei", "--send-window",
                                                       "07:00-22:00"), 78)
    assert_cli_error(rfm("export", "--db", db, "--out-dir", "w", "--send-window", "21:00-08:00"), 2)
    assert not (tmp_path / "w").exists()


# ------------------------------------------------------------------ minimisation

# What each target needs (BRIEF §5), and so all a file of that channel may carry.
COLUMNS = {
    "sms": ["phone"],
    "coupon": ["customer_id"],
    "email": ["Email", "Name", "Tier"],
    "shopify": ["First Name", "Last Name", "Email", "Phone", "Tags"],
    "klaviyo": ["Email Address", "First Name", "Last Name", "Phone Number", "Tags"],
    "mailchimp": ["Email Address", "First Name", "Last Name", "Phone Number", "Tags"],
    "google": ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"],
    "meta": ["email", "phone", "fn", "ln", "ct", "st", "zip", "country"],
}
FIELDS = {
    "sms": ["phone"], "coupon": ["customer_id"], "email": ["email", "name"],
    "shopify": ["email", "first_name", "last_name", "phone"],
    "klaviyo": ["email", "first_name", "last_name", "phone"],
    "mailchimp": ["email", "first_name", "last_name", "phone"],
    "google": ["country", "email", "first_name", "last_name", "phone"],
    "meta": ["email", "first_name", "last_name", "phone"],
}


@pytest.mark.parametrize("channel", sorted(COLUMNS))
def test_each_channel_file_carries_only_what_its_target_needs(rfm, db, tmp_path, channel) -> None:
    done = rfm("export", "--db", db, "--out-dir", "out", "--channel", channel, "--tier", "potential")
    assert done.returncode == 0, done.stderr
    (entry,) = [f for f in manifest(tmp_path / "out")["files"] if f["channel"] == channel]
    header = (tmp_path / "out" / entry["path"]).read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == COLUMNS[channel]
    assert entry["personal_fields"] == FIELDS[channel]
    assert entry["hashed"] is (channel in ("google", "meta"))
    assert "monetary" not in header and "recency_days" not in header


def test_the_full_csv_list_says_it_carries_the_profile(rfm, db, tmp_path) -> None:
    assert rfm("export", "--db", db, "--out-dir", "out").returncode == 0
    entry = next(f for f in manifest(tmp_path / "out")["files"] if f["rows"])
    assert entry["personal_fields"] == ["customer_id", "email", "name", "phone"]
    assert {"monetary", "recency_days", "tier"} <= set(entry["profile_fields"])
