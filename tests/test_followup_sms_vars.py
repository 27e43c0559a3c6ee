"""A [[followups]] table's own `sms_vars`: its SMS list gets those template columns, whatever the run's
--sms-vars (which the tier lists keep), so the day-7 coupon can name the category bought the same night
the tiers' SMS lists go out without one; a bad variable is refused in one line when rfm.toml is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = ("order_id", "customer_id", "order_date", "amount", "status", "phone", "sku", "product")
LINES = [  # one row per line; days since the first order on 2026-03-10: amy 8, bob 8, cat 40 (a repeat buyer)
    ("A1", "amy", "2026-03-02 10:00:00", "60.00", "paid", "13800000001", "S1", "玻尿酸面霜"),
    ("A1", "amy", "2026-03-02 10:00:00", "40.00", "paid", "13800000001", "S2", "纯棉袜子"),
    ("B1", "bob", "2026-03-02 11:00:00", "30.00", "paid", "13800000002", "S2", "纯棉袜子"),
    ("C0", "cat", "2026-01-29 10:00:00", "80.00", "paid", "13800000003", "S1", "玻尿酸面霜"),
    ("C1", "cat", "2026-03-08 10:00:00", "20.00", "paid", "13800000003", "S2", "纯棉袜子"),
]
CATEGORIES = "pattern,category\n*面霜*,护肤套装\nS2,服饰\n"
FOLLOWUP = """
[[followups]]
name = "day7_coupon"
window = "7:9"
channel = "sms"
sms_vars = ["category"]
"""
TEMPLATE = "【小店】您买的${category}有新品，拒收请回复R"


@pytest.fixture
def shop(tmp_path: Path, write_orders, rfm) -> Path:
    (tmp_path / "cats.csv").write_text(CATEGORIES, encoding="utf-8")
    src = write_orders("lines.csv", LINES, header=HEADER)
    done = rfm("import", src, "--categories", tmp_path / "cats.csv")
    assert done.returncode == 0, done.stderr
    return src


def _table(path: Path) -> list[list[str]]:
    return [row.split(",") for row in path.read_text(encoding="utf-8").splitlines()]


def test_a_followups_sms_vars_give_its_list_the_category_and_the_tier_lists_keep_theirs(
        tmp_path: Path, shop: Path, rfm) -> None:
    (tmp_path / "rfm.toml").write_text(FOLLOWUP, encoding="utf-8")
    done = rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10", "--channel", "sms",
               "--sms-vars", "tier", "--template", TEMPLATE)
    assert done.returncode == 0, done.stderr
    # amy's first order: 护肤套装 60 beats 服饰 40; bob's: 服饰
    assert _table(Path("night/send/sms/day7_coupon.csv")) == [
        ["phone", "category"], ["13800000001", "护肤套装"], ["13800000002", "服饰"]]
    tier_lists = [p for p in Path("night/send/sms").glob("*.csv") if p.name != "day7_coupon.csv"]
    assert tier_lists  # the tiers' SMS lists: the run's --sms-vars tier, no category
    for path in tier_lists:
        assert _table(path)[0] == ["phone", "tier"]
    manifest = json.loads(Path("night/manifest.json").read_text(encoding="utf-8"))
    per_list = {entry["tier"]: entry for entry in manifest["sending"]["template_check"]["lists"]}
    assert per_list["day7_coupon"]["longest_message"] == len(TEMPLATE.replace("${category}", "护肤套装"))
    tier = next(entry for name, entry in per_list.items() if name != "day7_coupon")
    assert tier["longest_message"] == len(TEMPLATE.replace("${category}", ""))
    assert tier["variables_missing"] == ["category"]  # said, not hidden: that list has no such column
    followup = next(f for f in manifest["selection"]["followups"] if f["name"] == "day7_coupon")
    assert followup["sms_vars"] == ["category"]


def test_without_its_own_sms_vars_a_followup_takes_the_runs(tmp_path: Path, shop: Path, rfm) -> None:
    (tmp_path / "rfm.toml").write_text(FOLLOWUP.replace('sms_vars = ["category"]\n', ""), encoding="utf-8")
    done = rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10", "--channel", "sms",
               "--sms-vars", "tier")
    assert done.returncode == 0, done.stderr
    assert _table(Path("night/send/sms/day7_coupon.csv"))[0] == ["phone", "tier"]


@pytest.mark.parametrize(("value", "said"), [
    ('["category", "colour"]', "'colour' is not a variable"),
    ('"category"', "is not a list of variables"),
])
def test_a_bad_sms_vars_is_refused_in_one_line(tmp_path: Path, shop: Path, rfm, assert_cli_error,
                                                value: str, said: str) -> None:
    (tmp_path / "rfm.toml").write_text(FOLLOWUP.replace('["category"]', value), encoding="utf-8")
    line = assert_cli_error(rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10"), 78)
    assert "rfm.toml: [[followups]] #1 (day7_coupon): key 'sms_vars'" in line and said in line
    assert "name, tier, category, coupon" in line
    assert not (tmp_path / "night").exists()


def test_category_on_a_followup_without_product_data_is_refused(tmp_path: Path, write_orders, rfm,
                                                               assert_cli_error) -> None:
    src = write_orders("plain.csv", [row[:6] for row in LINES], header=HEADER[:6])
    (tmp_path / "rfm.toml").write_text(FOLLOWUP, encoding="utf-8")
    line = assert_cli_error(rfm("run", src, "--out-dir", "night", "--as-of", "2026-03-10"), 65)
    assert "day7_coupon" in line and "no product data in these imports" in line
    assert not (tmp_path / "night").exists()


def test_a_numbered_template_needs_the_same_columns_on_every_sms_list(tmp_path: Path, shop: Path, rfm,
                                                                     assert_cli_error) -> None:
    """tencent's {1} is the first column of the file: it cannot mean tier on one list and category on
    another. With one set of columns (the follow-up the only SMS list) the same template is taken."""
    (tmp_path / "rfm.toml").write_text(FOLLOWUP, encoding="utf-8")
    numbered = "【小店】您买的{1}有新品，回T退订"
    line = assert_cli_error(rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10", "--channel",
                                "sms", "--sms-vars", "tier", "--sms-provider", "tencent", "--template",
                                numbered), 2)
    assert "tier / category" in line and "same variables" in line
    assert not (tmp_path / "night").exists()
    done = rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10", "--sms-provider", "tencent",
               "--template", numbered)  # the tiers' lists on csv: the follow-up's is the only SMS list
    assert done.returncode == 0, done.stderr
    manifest = json.loads(Path("night/manifest.json").read_text(encoding="utf-8"))
    [only] = manifest["sending"]["template_check"]["lists"]
    assert only["tier"] == "day7_coupon"
    assert only["longest_message"] == len(numbered.replace("{1}", "护肤套装"))


def test_a_followups_own_coupon_variable_takes_codes_only_on_its_list(tmp_path: Path, shop: Path,
                                                                      rfm) -> None:
    (tmp_path / "rfm.toml").write_text(FOLLOWUP.replace('["category"]', '["category", "coupon"]'),
                                       encoding="utf-8")
    (tmp_path / "codes.txt").write_text("".join(f"CODE{n}\n" for n in range(10)), encoding="utf-8")
    done = rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10", "--channel", "sms",
               "--codes", tmp_path / "codes.txt")
    assert done.returncode == 0, done.stderr
    header, *rows = _table(Path("night/send/sms/day7_coupon.csv"))
    assert header == ["phone", "category", "coupon_code"]
    assert [row[:2] for row in rows] == [["13800000001", "护肤套装"], ["13800000002", "服饰"]]
    assert len({row[2] for row in rows}) == 2 and all(row[2].startswith("CODE") for row in rows)
    for path in Path("night/send/sms").glob("*.csv"):
        if path.name != "day7_coupon.csv":
            assert _table(path)[0] == ["phone"]  # the run's --sms-vars: none


def test_a_followups_own_coupon_without_codes_is_refused_whatever_the_runs_channel(
        tmp_path: Path, shop: Path, rfm, assert_cli_error) -> None:
    """The run's lists on csv (no sms among --channel), the follow-up's own channel sms with the coupon:
    it needs --codes as --sms-vars coupon does (was: written empty, 'no coupon code left' on every row)."""
    (tmp_path / "rfm.toml").write_text(FOLLOWUP.replace('["category"]', '["coupon"]'), encoding="utf-8")
    line = assert_cli_error(rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10"), 2)
    assert "the coupon variable needs codes" in line
    assert not (tmp_path / "night").exists()


def test_a_followups_sms_vars_out_of_the_files_order_are_named_where_they_are_written(
        tmp_path: Path, shop: Path, rfm, assert_cli_error) -> None:
    """A numbered template numbers the columns as the list writes them (name before category): the
    refusal names the rfm.toml key the variables came from, not --sms-vars, which was not given."""
    (tmp_path / "rfm.toml").write_text(FOLLOWUP.replace('["category"]', '["category", "name"]'),
                                       encoding="utf-8")
    line = assert_cli_error(rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10", "--sms-provider",
                                "tencent", "--template", "【小店】{2}，您买的{1}有新品，回T退订"), 2)
    assert 'sms_vars = ["category", "name"]' in line and 'write sms_vars = ["name", "category"]' in line
    assert "--sms-vars" not in line
    (tmp_path / "rfm.toml").unlink()  # the run's own variables, out of order: named as --sms-vars
    line = assert_cli_error(rfm("run", shop, "--out-dir", "night", "--as-of", "2026-03-10", "--channel",
                                "sms", "--sms-vars", "tier,name", "--sms-provider", "tencent", "--template",
                                "【小店】{2}，您是{1}会员，回T退订"), 2)
    assert "--sms-vars tier,name numbers the columns" in line and "pass --sms-vars name,tier" in line
