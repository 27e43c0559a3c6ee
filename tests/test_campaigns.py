"""rfm campaign (issue 20): the draw, the files, the ledger, and a worked report with a known truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from scipy.stats import fisher_exact

AS_OF = "2026-06-01"  # the anchor customer's order: every other customer is dormant


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _ids(folder: Path) -> dict[str, set[str]]:
    """customer ids on every list under send/, by arm (lists written with a customer_id column)."""
    found: dict[str, set[str]] = {}
    for path in sorted((folder / "send").rglob("*.csv")):
        arm = path.relative_to(folder / "send").parts[0]
        found.setdefault(arm, set()).update(r["customer_id"] for r in _read(path))
    return found


@pytest.fixture
def dormant_shop(rfm, write_orders) -> Path:
    """250 dormant customers (one order in January) and one recent customer who sets the as-of date."""
    rows = [(f"O{i:03d}", f"C{i:03d}", "2026-01-10", f"{50 + i % 7}.00", "paid", "") for i in range(250)]
    rows.append(("A1", "ANCHOR", AS_OF, "80.00", "paid", ""))
    done = rfm("import", write_orders("night1.csv", rows), "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    return Path("shop.duckdb")


def test_the_worked_campaign_reports_the_hand_computed_numbers(rfm, dormant_shop, write_orders) -> None:
    # 250 dormant customers, 20% held back: 200 sent, 50 held back. The send day is 2026-06-04, so the
    # 14-day window is 2026-06-04 .. 2026-06-17. After the send, 24 of the 200 buy (12%) and 2 of the
    # 50 (4%), one order of 100.00 each, in the window. Also: a treated customer whose window order is
    # refunded in full (not a buyer), one who buys only after the window (not a buyer), and a held-back
    # customer who bought on 2026-06-02, before the send (not a buyer; stays in the control group).
    done = rfm("campaign", "new", "worked", "--tier", "dormant", "--holdout", "20%", "--sent-on",
               "2026-06-04", "--cost-per-message", "0.045", "--coupon-value", "10", "--out-dir", "worked",
               "--db", dormant_shop)
    assert done.returncode == 0, done.stderr
    treated = sorted(r["customer_id"] for r in _read(Path("worked/send/treatment/csv/dormant.csv")))
    held = sorted(r["customer_id"] for r in _read(Path("worked/control.csv")))
    assert (len(treated), len(held)) == (200, 50)
    orders = [(f"T{i}", cid, "2026-06-05", "100.00", "paid", "") for i, cid in enumerate(treated[:24])]
    orders += [(f"K{i}", cid, "2026-06-06", "100.00", "paid", "") for i, cid in enumerate(held[:2])]
    orders += [("R1", treated[30], "2026-06-07", "100.00", "refunded", ""),
               ("L1", treated[31], "2026-06-20", "100.00", "paid", ""),
               ("P1", held[10], "2026-06-02", "100.00", "paid", "")]
    assert rfm("import", write_orders("night2.csv", orders), "--db", dormant_shop).returncode == 0

    out = rfm("campaign", "report", "worked", "--format", "json", "--db", dormant_shop)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    arms = {a["arm"]: a for a in report["arms"]}
    assert (arms["treatment"]["customers"], arms["treatment"]["buyers"]) == (200, 24)
    assert (arms["control"]["customers"], arms["control"]["buyers"]) == (50, 2)
    assert arms["treatment"]["conversion"] == 0.12 and arms["control"]["conversion"] == 0.04
    assert arms["treatment"]["revenue"] == 2400.0 and arms["treatment"]["revenue_per_customer"] == 12.0
    [versus] = report["against_control"]
    # uplift 0.12 - 0.04 = 0.08; incremental revenue (12.00 - 4.00) x 200 = 1600.00
    # cost 200 x 0.045 + 24 coupons (no code column: every buyer) x 10 = 249; ROI (1600 - 249) / 249
    assert versus["uplift"] == pytest.approx(0.08) and versus["relative_uplift"] == pytest.approx(2.0)
    assert versus["incremental_orders"] == pytest.approx(16.0)
    assert versus["incremental_revenue"] == pytest.approx(1600.0)
    assert versus["cost"] == pytest.approx(249.0)
    assert versus["roi"] == pytest.approx((1600 - 249) / 249, abs=1e-6)
    assert versus["fisher_p"] == pytest.approx(fisher_exact([[24, 176], [2, 48]]).pvalue, abs=1e-6)
    assert versus["verdict"].startswith("too small to tell")
    assert report["not_attributed"] == {"refunded_orders": 1, "later_orders": 1, "pre_send_orders": 1,
                                        "refunds": 0.0, "pre_send_buyers": 1, "control_sent_other_lists": 0}
    assert report["window"]["status"] == "closed"
    assert any("counted as used by every buyer" in line for line in report["methods"])
    margin = json.loads(rfm("campaign", "report", "worked", "--margin", "30%", "--format", "json",
                            "--db", dormant_shop).stdout)
    assert margin["against_control"][0]["roi"] == pytest.approx((1600 * 0.3 - 249) / 249, abs=1e-6)
    text = rfm("campaign", "report", "worked", "--db", dormant_shop)
    assert text.stdout == "" and "uplift +8.0 points" in text.stderr and "too small to tell" in text.stderr


def test_a_window_not_closed_is_reported_partial(rfm, dormant_shop) -> None:
    assert rfm("campaign", "new", "early", "--tier", "dormant", "--window", "14d", "--out-dir", "early",
               "--db", dormant_shop).returncode == 0
    report = json.loads(rfm("campaign", "report", "early", "--format", "json", "--db", dormant_shop).stdout)
    # orders imported through 2026-06-01; the window is 2026-06-02 .. 2026-06-15
    assert report["window"]["status"] == "partial, 14 days left"


def test_same_seed_same_files_byte_for_byte(rfm, write_orders) -> None:
    rows = [(f"O{i:03d}", f"C{i:03d}", f"2026-0{1 + i % 5}-1{i % 10}", f"{20 + i}.00", "paid", "")
            for i in range(120)]
    source = write_orders("orders.csv", rows)
    codes = Path("codes.txt")
    codes.write_text("".join(f"X{i:04d}\n" for i in range(300)), encoding="utf-8")
    folders = []
    for db in ("one.duckdb", "two.duckdb"):
        assert rfm("import", source, "--db", db).returncode == 0
        done = rfm("campaign", "new", "spring", "--arms", "A,B", "--holdout", "25%", "--seed", "s1",
                   "--channel", "csv,coupon", "--codes", codes, "--out-dir", db[:3], "--db", db)
        assert done.returncode == 0, done.stderr
        folders.append(Path(db[:3]))
    first = {p.relative_to(folders[0]): p.read_bytes() for p in folders[0].rglob("*") if p.is_file()}
    second = {p.relative_to(folders[1]): p.read_bytes() for p in folders[1].rglob("*") if p.is_file()}
    assert first == second and len(first) >= 5
    # another seed draws other groups
    assert rfm("import", source, "--db", "three.duckdb").returncode == 0
    assert rfm("campaign", "new", "spring", "--arms", "A,B", "--holdout", "25%", "--seed", "s2",
               "--out-dir", "thr", "--db", "three.duckdb").returncode == 0
    assert Path("thr/control.csv").read_bytes() != (folders[0] / "control.csv").read_bytes()


def test_draw_is_balanced_per_tier_and_control_is_on_no_list(rfm, write_orders) -> None:
    rows = []
    for i in range(90):  # a mix of tiers: repeat buyers, recent one-timers, long-silent ones
        day = "2026-05-2" + str(i % 9) if i % 3 else "2025-11-0" + str(1 + i % 9)
        rows += [(f"O{i:03d}-{k}", f"C{i:03d}", day, f"{30 + 10 * (i % 11)}.00", "paid", "")
                 for k in range(1 + i % 5)]
    assert rfm("import", write_orders("orders.csv", rows), "--db", "shop.duckdb").returncode == 0
    done = rfm("campaign", "new", "mix", "--arms", "A,B", "--holdout", "30%", "--channel", "csv,coupon",
               "--out-dir", "mix", "--db", "shop.duckdb")
    assert done.returncode == 0, done.stderr
    with duckdb.connect("shop.duckdb", read_only=True) as con:
        groups = con.execute(
            "SELECT stratum, arm, count(*) FROM rfm_campaign_members GROUP BY ALL").fetchall()
        control_sent = con.execute("SELECT count(*) FROM rfm_campaign_members WHERE arm = 'control' "
                                   "AND sent").fetchone()[0]
    per_tier: dict[str, dict[str, int]] = {}
    for tier, arm, n in groups:
        per_tier.setdefault(tier, {})[arm] = n
    assert len(per_tier) >= 3
    for tier, counts in per_tier.items():
        total = sum(counts.values())
        assert abs(counts.get("control", 0) - total * 0.3) <= 1, (tier, counts)
        assert abs(counts.get("A", 0) - counts.get("B", 0)) <= 1, (tier, counts)
    held = {r["customer_id"] for r in _read(Path("mix/control.csv"))}
    on_lists = _ids(Path("mix"))
    assert held and control_sent == 0
    assert not held & (on_lists["A"] | on_lists["B"]) and not on_lists["A"] & on_lists["B"]
    assert not list(Path("mix").glob("send/control*"))
    assert oct(Path("mix/control.csv").stat().st_mode & 0o777) == "0o600"


def test_cooldown_of_a_later_export_sees_the_campaign(rfm, dormant_shop) -> None:
    assert rfm("campaign", "new", "cool", "--tier", "dormant", "--out-dir", "cool", "--db",
               dormant_shop).returncode == 0
    treated = {r["customer_id"] for r in _read(Path("cool/send/treatment/csv/dormant.csv"))}
    held = {r["customer_id"] for r in _read(Path("cool/control.csv"))}
    later = rfm("export", "--tier", "dormant", "--cooldown", "7", "--as-of", "2026-06-03", "-o", "-",
                "--db", dormant_shop)
    assert later.returncode == 0, later.stderr
    listed = {r["customer_id"] for r in csv.DictReader(later.stdout.splitlines())}
    assert listed == held and f"sent within 7 days {len(treated)}" in later.stderr
    # that later list reached the held-back customers: the report says so
    report = json.loads(rfm("campaign", "report", "cool", "--format", "json", "--db", dormant_shop).stdout)
    assert report["not_attributed"]["control_sent_other_lists"] == len(held) == 25
    assert any("held-back customers were put on other lists" in line for line in report["methods"])


def test_errors_are_one_line_and_write_nothing(rfm, dormant_shop, assert_cli_error) -> None:
    line = assert_cli_error(rfm("campaign", "report", "nope", "--db", dormant_shop), 2)
    assert "no campaign named 'nope'" in line
    assert_cli_error(rfm("campaign", "show", "nope", "--db", dormant_shop), 2)
    short = Path("short.txt")
    short.write_text("A1\nA2\nA3\n", encoding="utf-8")
    line = assert_cli_error(rfm("campaign", "new", "c1", "--tier", "dormant", "--channel", "coupon",
                                "--codes", short, "--out-dir", "c1", "--db", dormant_shop), 65)
    assert "too few codes" in line and "short.txt" in line
    assert not Path("c1").exists()
    with duckdb.connect(str(dormant_shop), read_only=True) as con:
        assert con.execute(
            "SELECT (SELECT count(*) FROM rfm_campaigns) + (SELECT count(*) FROM rfm_coupon_codes) "
            "+ (SELECT count(*) FROM rfm_send_lists)").fetchone()[0] == 0
    assert rfm("campaign", "new", "c1", "--tier", "dormant", "--out-dir", "c1", "--db",
               dormant_shop).returncode == 0
    line = assert_cli_error(rfm("campaign", "new", "c1", "--tier", "dormant", "--out-dir", "again",
                                "--db", dormant_shop), 2)
    assert "exists already" in line and not Path("again").exists()
    assert_cli_error(rfm("campaign", "new", "c2", "--holdout", "120%", "--out-dir", "c2", "--db",
                         dormant_shop), 2)
    line = assert_cli_error(rfm("campaign", "new", "c3", "--codes", short, "--out-dir", "c3", "--db",
                                dormant_shop), 2)
    assert "add --channel sms or --channel coupon" in line and not Path("c3").exists()


def test_list_and_show(rfm, dormant_shop) -> None:
    assert rfm("campaign", "new", "one", "--tier", "dormant", "--holdout", "10%", "--out-dir", "one",
               "--db", dormant_shop).returncode == 0
    listed = json.loads(rfm("campaign", "list", "--format", "json", "--db", dormant_shop).stdout)
    assert [(c["name"], c["customers"], c["control"]) for c in listed] == [("one", 250, 25)]
    shown = json.loads(rfm("campaign", "show", "one", "--format", "json", "--db", dormant_shop).stdout)
    assert {(g["arm"], g["customers"], g["sent"]) for g in shown["groups"]} == {("treatment", 225, 225),
                                                                                 ("control", 25, 0)}


def test_the_library_does_the_same(dormant_shop) -> None:
    import rfm

    shop = rfm.Shop(dormant_shop)
    made = shop.campaigns.new("lib", "lib-out", tier="dormant", holdout="20%")
    assert made.manifest["customers_by_arm"] == {"treatment": 200, "control": 50}
    assert [c["name"] for c in shop.campaigns.list()] == ["lib"]
    assert shop.campaigns.report("lib")["arms"][0]["customers"] == 200


def test_the_html_report_has_a_campaigns_section_only_when_there_are_campaigns(rfm, dormant_shop) -> None:
    assert rfm("report", "--html", "before.html", "--db", dormant_shop).returncode == 0
    assert 'id="campaigns"' not in Path("before.html").read_text(encoding="utf-8")
    assert "campaigns" not in json.loads(rfm("report", "--format", "json", "--db", dormant_shop).stdout)
    assert rfm("campaign", "new", "spring-sms", "--tier", "dormant", "--holdout", "20%", "--out-dir", "c",
               "--db", dormant_shop).returncode == 0
    assert rfm("report", "--html", "after.html", "--lang", "zh", "--db", dormant_shop).returncode == 0
    page = Path("after.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="campaigns">'):]
    assert "spring-sms" in section and "营销活动" in section and "<td>200</td>" in section
    [shown] = json.loads(rfm("report", "--format", "json", "--db", dormant_shop).stdout)["campaigns"]
    assert shown["campaign"] == "spring-sms" and shown["arms"][0]["customers"] == 200


def test_no_hold_out_and_no_reach(rfm, dormant_shop, assert_cli_error) -> None:
    # --holdout 0%: nothing to compare with, said in words, and the JSON stays JSON (no NaN)
    assert rfm("campaign", "new", "all-in", "--tier", "dormant", "--holdout", "0%", "--out-dir", "a",
               "--db", dormant_shop).returncode == 0
    report = json.loads(rfm("campaign", "report", "all-in", "--format", "json", "--db", dormant_shop).stdout)
    assert "the control group is empty" in report["against_control"][0]["verdict"]
    assert report["against_control"][0]["revenue_diff_low"] is None
    assert "control group is empty" in rfm("campaign", "report", "all-in", "--db", dormant_shop).stderr
    # the customers have no phone: an SMS campaign reaches nobody, and says why
    line = assert_cli_error(rfm("campaign", "new", "nobody", "--tier", "dormant", "--channel", "sms",
                                "--out-dir", "n", "--db", dormant_shop), 2)
    assert "reaches no customer on sms (250 selected: phone missing 250)" in line and not Path("n").exists()
