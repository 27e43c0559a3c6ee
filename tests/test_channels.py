"""Upload lists (BRIEF §5) from a fixture of hard cases, checked byte for byte against golden files.

Regenerate the golden files after an intended change with RFM_UPDATE_GOLDEN=1 and read the diff.
Hashes are also checked against values computed here, independently, from the platforms'
published normalisation rules.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest
from cli_runner import CliResult, invoke

GOLDEN = Path(__file__).parent / "golden" / "channels"
HEADER = "order_id,customer_id,order_date,amount,status,customer_name,phone,email,accepts_marketing\n"
# All one order on the same day, so every customer is in the same tier (potential); amounts fall
# by 100 so list order (best customer first) is K1, K2, ... K10.
CUSTOMERS = [
    ("K1", "张伟", "138 1234 5678", " Zhang.Wei@Example.COM ", ""),
    ("K2", '=HYPERLINK("http://x")', "+86 139-0000-0001", "evil@example.com", "yes"),
    ("K3", "Li Na", "0086 13800000002", "li.na@gmail.com", ""),
    ("K4", "王芳", "138****1234", "wf@qq.com", ""),
    ("K5", "Bob Stone", "010-12345678", "BOB@EXAMPLE.COM", ""),
    ("K6", "赵六", "13812345678", "zhang.wei@example.com", ""),
    ("K7", "@home", "", "", ""),
    ("K8", "Opt Out", "13700000008", "optout@example.com", "no"),
    ("K9", "陈静", "13600000009", "cj@example.com", ""),
    ("K10", "-minus", "8613500000010", "ten@example.com", ""),
]
CHANNELS = ["csv", "sms", "coupon", "email", "shopify", "klaviyo", "mailchimp", "google", "meta"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rfm(*args: str, cwd: Path) -> CliResult:
    return invoke(["--db", "shop.duckdb", *args], cwd=cwd)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("channels")
    lines = [
        f'O{i},{cid},2026-06-01 10:00:00,{1100 - 100 * i},paid,"{name.replace(chr(34), chr(34) * 2)}",'
        f'{phone},{email},{consent}'
        for i, (cid, name, phone, email, consent) in enumerate(CUSTOMERS, 1)
    ]
    (work / "orders.csv").write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    (work / "optouts.csv").write_text("whatever,col\nnote,+86 136 0000 0009\n", encoding="utf-8")
    (work / "codes.txt").write_text("code\nA1\nA2\nA3\n", encoding="utf-8")
    done = rfm("run", "orders.csv", "--out-dir", "out", "--exclude", "optouts.csv", "--sms-vars",
               "name,coupon", "--codes", "codes.txt", *[f"--channel={c}" for c in CHANNELS], cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return work / "out"


@pytest.mark.parametrize("channel", CHANNELS)
def test_channel_matches_golden(exported: Path, channel: str) -> None:
    path = exported / "send" / channel / "potential.csv"
    golden = GOLDEN / f"{channel}.csv"
    if os.environ.get("RFM_UPDATE_GOLDEN"):
        golden.write_bytes(path.read_bytes())
    assert path.read_bytes() == golden.read_bytes()


def rows(exported: Path, channel: str) -> list[dict[str, str]]:
    with (exported / "send" / channel / "potential.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sms_has_only_usable_mobiles_once_each(exported: Path) -> None:
    sms = rows(exported, "sms")
    phones = [r["phone"] for r in sms]
    # K4 masked, K5 landline, K6 dup, K8/K9 out
    assert phones == ["13812345678", "13900000001", "13800000002"]
    assert [r["coupon_code"] for r in sms] == ["A1", "A2", "A3"]
    assert sms[1]["name"].startswith("'=")  # never a formula


def test_manifest_counts_every_dropped_row(exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    by_path = {f["path"]: f for f in manifest["files"]}
    sms = by_path["send/sms/potential.csv"]
    assert sms["rows"] == 3
    assert sms["dropped"] == {"duplicate phone": 1, "excluded by optouts.csv": 1, "no coupon code left": 1,
                              "opted out (accepts marketing: no)": 1, "phone landline": 1, "phone masked": 1,
                              "phone missing": 1}
    assert sum(sms["dropped"].values()) + sms["rows"] == len(CUSTOMERS)
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256((exported / entry["path"]).read_bytes()).hexdigest()
        if entry["list"] is not None:  # a list, not summary.csv or cut_points.csv
            assert entry["rows"] + sum(entry["dropped"].values()) <= len(CUSTOMERS)
    assert manifest["coupon_codes_left"] == 0
    assert manifest["rules"]["tiers"][0]["name"] == "dormant"


def test_google_hashes_follow_googles_rules(exported: Path) -> None:
    google = rows(exported, "google")
    k1 = google[0]
    assert k1["Email"] == sha("zhang.wei@example.com")
    assert k1["Phone"] == sha("+8613812345678")
    # Gmail addresses lose their dots before hashing (Google Customer Match formatting rules).
    assert google[2]["Email"] == sha("lina@gmail.com")
    assert google[2]["First Name"] == sha("li") and google[2]["Last Name"] == sha("na")


def test_meta_hashes_follow_metas_rules(exported: Path) -> None:
    meta = rows(exported, "meta")
    assert meta[0]["email"] == sha("zhang.wei@example.com")
    assert meta[0]["phone"] == sha("8613812345678")  # digits only, country code, no +
    assert meta[0]["fn"] == sha("伟") and meta[0]["ln"] == sha("张")
    assert all(len(r["email"]) in (0, 64) for r in meta)


def test_no_cell_starts_a_formula_except_strict_e164(exported: Path) -> None:
    for path in exported.rglob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        assert (cell.startswith("+") and cell[1:].isdigit()
                                and 8 <= len(cell) - 1 <= 15), (path, cell)


def test_opted_out_and_excluded_customers_are_in_no_send_list(exported: Path) -> None:
    sends = list((exported / "send").rglob("*.csv"))
    assert {path.parent.name for path in sends} == set(CHANNELS)
    for path in sends:
        text = path.read_text(encoding="utf-8")
        for needle in ("K8", "13700000008", "optout@example.com", "K9", "13600000009", "cj@example.com"):
            assert needle not in text, (path, needle)


def test_the_tier_file_is_state_and_holds_every_customer_opted_out_or_not(exported: Path) -> None:
    """tiers/<tier>.csv says who is in the tier (as summary.csv counts them), not whom to message."""
    with (exported / "tiers" / "potential.csv").open(encoding="utf-8", newline="") as fh:
        ids = [row["customer_id"] for row in csv.DictReader(fh)]
    assert sorted(ids) == sorted(cid for cid, *_ in CUSTOMERS)
    manifest = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    kinds = {f["path"]: f["kind"] for f in manifest["files"]}
    assert kinds["tiers/potential.csv"] == kinds["summary.csv"] == kinds["entered/potential.csv"] == "state"
    assert {kinds[f"send/{c}/potential.csv"] for c in CHANNELS} == {"send"}


@pytest.mark.parametrize("answers", [("yes", "no"), ("no", "yes")])
def test_of_two_orders_placed_at_the_same_moment_a_no_to_marketing_wins(tmp_path: Path, answers) -> None:
    """The latest order's consent decides; a tie went to whichever row was stored first."""
    lines = [f"T{i},K1,2026-06-01 10:00:00,50,paid,Ann,13812345678,a@example.com,{answer}"
             for i, answer in enumerate(answers, 1)]
    lines.append("T3,K2,2026-06-01 10:00:00,50,paid,Bo,13812345679,b@example.com,yes")
    (tmp_path / "orders.csv").write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    done = rfm("run", "orders.csv", "--out-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = {row["customer_id"] for row in csv.DictReader(
        (tmp_path / "out" / "send" / "csv" / "potential.csv").open(encoding="utf-8"))}
    assert listed == {"K2"}


def test_no_hash_gives_plain_normalised_values(exported: Path) -> None:
    work = exported.parent
    done = rfm("export", "--tier", "potential", "--channel", "meta", "--no-hash", "-o", "-", cwd=work)
    assert done.returncode == 0, done.stderr
    first = next(csv.DictReader(done.stdout.splitlines()))
    assert first["email"] == "zhang.wei@example.com" and first["phone"] == "8613812345678"


def test_zh_headers_and_labels(exported: Path) -> None:
    work = exported.parent
    done = rfm("export", "--tier", "potential", "--channel", "sms", "--lang", "zh", "--sms-vars", "name,tier",
               "-o", "-", cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "手机号码,姓名,等级"
    assert done.stdout.splitlines()[1].endswith(",潜力")


def test_suppression_list_round_trip(exported: Path) -> None:
    work = exported.parent
    assert rfm("suppress", "add", "Zhang.Wei@Example.com", cwd=work).returncode == 0
    listed = rfm("suppress", "list", cwd=work)
    assert "email,zhang.wei@example.com" in listed.stdout
    email = rfm("export", "--tier", "potential", "--channel", "email", "-o", "-", cwd=work)
    assert "zhang.wei@example.com" not in email.stdout
    assert rfm("suppress", "remove", "zhang.wei@example.com", cwd=work).returncode == 0
    email = rfm("export", "--tier", "potential", "--channel", "email", "-o", "-", cwd=work)
    assert email.stdout.splitlines()[1].startswith("zhang.wei@example.com,")
