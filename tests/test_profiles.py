"""Platform profiles: loading, detection, mapping, statuses, overrides and their errors."""

from __future__ import annotations

from importlib import resources

import duckdb
import platform_fixtures as pf
import pytest

from rfm_cli.core.errors import ConfigError, DataError, UsageError
from rfm_cli.core.ingest.profile_match import known_headers, match_profile
from rfm_cli.core.ingest.profiles import (
    BUILTIN_ORDER,
    CANONICAL_FIELDS,
    Profile,
    combine_statuses,
    load_profiles,
    normalize_header,
    normalize_status,
)
from rfm_cli.core.ingest.sniff import clean_header, sniff, to_duckdb

PROFILES = load_profiles()
KNOWN = known_headers(PROFILES)
FIXTURES = sorted(pf.EXPECTED)


def by_name(name: str) -> Profile:
    return next(p for p in PROFILES if p.name == name)


# ------------------------------------------------------------------------------------------
# loading


def test_builtin_profiles_load_in_order():
    assert [p.name for p in PROFILES] == list(BUILTIN_ORDER)
    for profile in PROFILES:
        assert profile.title and profile.source == "built-in"
        assert set(profile.columns) <= set(CANONICAL_FIELDS)
        assert set(profile.status_map.values()) <= {"counted", "cancelled", "unpaid", "refunded", "ignore"}
    assert {p.name for p in PROFILES if p.generic} == {"canonical", "generic_en", "generic_zh"}


def test_canonical_toml_documents_the_schema():
    text = (resources.files("rfm_cli") / "profiles" / "canonical.toml").read_text(encoding="utf-8")
    for key in ("detect", "[columns]", "[status]", "status_columns", "amount_from", "refund_prefix",
                "cancelled_if_set", "fill_order_fields", "date_format"):  # fmt: skip
        assert key in text


def test_the_canonical_profile_reads_every_canonical_field_under_its_own_name():
    """A file whose headers are rfm's field names is read whole: accepts_email and accepts_sms were
    missing, so a canonical export's consent never reached the ledger."""
    from rfm_cli.core.ingest.profiles import CANONICAL_FIELDS

    canonical = next(p for p in PROFILES if p.name == "canonical")
    assert {f for f in CANONICAL_FIELDS if f not in canonical.columns.get(f, [])} == set()


def test_known_headers_cover_every_profile():
    assert {"订单编号", "买家会员名", "amazon-order-id", "Customer ID", "售后状态", "Cancelled at"} <= KNOWN


def test_shopify_and_uci_options():
    shopify = by_name("shopify")
    assert shopify.options == {"cancelled_if_set": ["Cancelled at"], "fill_order_fields": True}
    retail = by_name("online_retail")
    assert retail.options["amount_from"] == ["quantity", "unit_price"]
    assert retail.options["refund_prefix"] == {"column": "order_id", "prefix": "C"}


# ------------------------------------------------------------------------------------------
# every fixture: the right profile and mapping, statuses and customers as the platform means them


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_matches_its_profile(tmp_path, name):
    expected = pf.EXPECTED[name]
    sniffed = sniff(pf.WRITERS[name](tmp_path), known_headers=KNOWN)
    match = match_profile(sniffed.headers, PROFILES, path=sniffed.path)
    assert match.profile.name == expected.profile
    assert match.mapping == expected.mapping
    assert match.status_columns == expected.status_columns
    assert match.amount_from == expected.amount_from
    assert match.missing == []


def _clean(value):
    return clean_header(value) if value is not None else None


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_statuses_and_customers(tmp_path, name):
    expected = pf.EXPECTED[name]
    sniffed = sniff(pf.WRITERS[name](tmp_path), known_headers=KNOWN)
    match = match_profile(sniffed.headers, PROFILES)
    con = duckdb.connect()
    to_duckdb(con, sniffed, "stage", tmp_path)
    cursor = con.execute('SELECT * FROM "stage" ORDER BY _line')
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    con.close()
    orders: dict[str, str | None] = {}
    customers = set()
    for row in rows:
        order = _clean(row[match.mapping["order_id"]])
        statuses = [match.profile.status_of(_clean(row[c]))
                    for c in match.status_columns if row[c] is not None]
        for column in match.cancelled_columns:
            if row[column]:
                statuses.append("cancelled")
        if statuses or order not in orders:
            orders[order] = combine_statuses(statuses)
        customer = _clean(row[match.mapping["customer_id"]])
        if customer:
            customers.add(customer)
    assert orders == expected.orders
    assert customers == expected.customers


def test_every_status_in_the_fixtures_is_mapped(tmp_path):
    """No raw status value of a fixture is left to the importer's guesswork."""
    for name in FIXTURES:
        expected = pf.EXPECTED[name]
        match = match_profile(expected.headers, PROFILES)
        for row in expected.rows:
            for column in match.status_columns:
                value = row.cells.get(column)
                if value:
                    assert match.profile.status_of(value) is not None, (name, value)


# ------------------------------------------------------------------------------------------
# matching rules


def test_header_normalisation():
    assert normalize_header(" 用户实付金额（元） ") == normalize_header("用户实付金额(元)")
    assert normalize_header("Customer  ID") == normalize_header("customer id")
    assert normalize_header("\ufeffOrder ID\t") == "order id"
    assert normalize_header("用户实付金额 (元)") == "用户实付金额(元)"


def test_status_lookup_is_trimmed_and_case_insensitive():
    taobao, woo = by_name("taobao"), by_name("woocommerce")
    assert taobao.status_of(" 买家已付款,等待卖家发货 ") == "counted"
    assert taobao.status_of("交易关闭") == "cancelled"
    assert taobao.status_of("something else") is None
    assert woo.status_of("Completed") == "counted"
    assert woo.status_of("wc-on-hold") == "unpaid"


def test_combine_statuses_precedence():
    assert combine_statuses(["counted", "refunded"]) == "refunded"
    assert combine_statuses(["refunded", "cancelled"]) == "cancelled"
    assert combine_statuses(["unpaid", "counted"]) == "unpaid"
    assert combine_statuses(["counted", "ignore", None]) == "counted"
    assert combine_statuses(["ignore"]) is None


def test_matching_uses_normalised_headers_and_returns_the_files_own():
    headers = ["订单号", "用户实付金额（元）", "支付时间", "用户购买手机号", "订单状态"]
    match = match_profile(headers, PROFILES)
    assert match.profile.name == "pinduoduo"
    assert match.mapping["amount"] == "用户实付金额（元）"
    assert match.how.startswith("detected by")


def test_generic_fallback_prefers_the_profile_with_the_required_fields():
    match = match_profile(["Order Number", "Customer", "Date", "Amount", "Phone"], PROFILES)
    assert match.profile.name == "generic_en"
    assert match.mapping == {"order_id": "Order Number", "customer_id": "Customer", "order_date": "Date",
                             "amount": "Amount", "phone": "Phone"}  # fmt: skip
    assert match.how.startswith("no platform detected")


def test_missing_fields_error_lists_headers_and_fields():
    headers = ["编号", "昵称", "日子", "价格"] + [f"列{i}" for i in range(20)]
    with pytest.raises(DataError) as caught:
        match_profile(headers, PROFILES, path="exports/jan.csv")
    message = str(caught.value)
    assert message.startswith(
        "no known export layout in exports/jan.csv: found headers [编号, 昵称, 日子, 价格,")
    assert "… +12 more]" in message
    assert ("; missing order_id, customer_id, order_date, amount; use --map FIELD=HEADER or --source NAME"
            in message)
    assert "\n" not in message


def test_detected_platform_without_a_required_column():
    headers = [h for h in pf.AMAZON_HEADERS if h not in ("buyer-email", "buyer-name")]
    with pytest.raises(DataError,
                       match=r"looks like a Amazon Seller Central export but has no column for customer_id"):
        match_profile(headers, PROFILES, path="All Orders Report.txt")
    match = match_profile(headers, PROFILES, require=False)
    assert match.profile.name == "amazon" and match.missing == ["customer_id"]


def test_map_overrides_win_and_fill_gaps():
    headers = [h for h in pf.AMAZON_HEADERS if h not in ("buyer-email", "buyer-name")]
    match = match_profile(headers, PROFILES, overrides={"customer_id": "ship-postal-code"})
    assert match.profile.name == "amazon"
    assert match.mapping["customer_id"] == "ship-postal-code"
    taobao = match_profile(pf.EXPECTED["taobao"].headers, PROFILES,
                           overrides={"phone": "联系电话", "status": ""})
    assert taobao.mapping["phone"] == "联系电话"
    assert "status" not in taobao.mapping and taobao.status_columns == []


def test_map_override_unknown_field_or_header_is_a_usage_error():
    headers = pf.EXPECTED["jd"].headers
    with pytest.raises(UsageError, match="unknown field 'buyer'"):
        match_profile(headers, PROFILES, overrides={"buyer": "下单帐号"})
    with pytest.raises(UsageError, match=r"--map amount=实付: no column '实付' in jd\.csv"):
        match_profile(headers, PROFILES, overrides={"amount": "实付"}, path="jd.csv")


def test_map_amount_replaces_amount_from():
    headers = pf.UCI_HEADERS + ["LineTotal"]
    match = match_profile(headers, PROFILES, overrides={"amount": "linetotal"})
    assert match.mapping["amount"] == "LineTotal"
    assert match.amount_from == []


def test_overrides_can_complete_an_unknown_layout():
    headers = ["单据", "手机号", "日期", "合计"]
    overrides = {"order_id": "单据", "customer_id": "手机号", "amount": "合计"}
    match = match_profile(headers, PROFILES, overrides=overrides)
    assert match.profile.name == "generic_zh"
    assert match.mapping == {"order_id": "单据", "customer_id": "手机号", "order_date": "日期",
                             "amount": "合计", "phone": "手机号"}  # fmt: skip


def test_forced_source():
    match = match_profile(pf.EXPECTED["taobao"].headers, PROFILES, forced="generic_zh")
    assert match.profile.name == "generic_zh"
    assert match.mapping["order_id"] == "订单编号" and match.how == "--source generic_zh"
    with pytest.raises(DataError,
                       match=r"the input has no column for order_id, customer_id, order_date, amount of "
                             r"--source shopify \(looked for order_id: Name;"):
        match_profile(pf.EXPECTED["taobao"].headers, PROFILES, forced="shopify")


def test_unknown_source_lists_the_valid_names():
    with pytest.raises(UsageError) as caught:
        match_profile(["a"], PROFILES, forced="youzan")
    assert str(caught.value).startswith("unknown source 'youzan'; use one of taobao, jd, pinduoduo")


# ------------------------------------------------------------------------------------------
# user profiles


YOUZAN = {
    "title": "Youzan (有赞)",
    "detect": ["订单号", "买家昵称", "订单实付金额"],
    "columns": {
        "order_id": ["订单号"],
        "customer_id": ["买家昵称"],
        "order_date": ["付款时间"],
        "amount": "订单实付金额",
        "status": ["订单状态"],
    },
    "status": {"交易成功": "counted", "已关闭": "cancelled"},
}


def test_user_profile_is_detected_and_wins():
    profiles = load_profiles({"youzan": YOUZAN})
    assert profiles[0].name == "youzan" and profiles[0].source == "rfm.toml [profiles.youzan]"
    match = match_profile(["订单号", "买家昵称", "付款时间", "订单实付金额", "订单状态"], profiles)
    assert match.profile.name == "youzan"
    assert match.mapping["amount"] == "订单实付金额"
    assert match.profile.status_of("已关闭") == "cancelled"
    assert "订单实付金额" in known_headers(profiles)


def test_user_profile_replaces_a_builtin():
    profiles = load_profiles({"jd": {"detect": ["订单号", "下单帐号"], "columns": {"amount": ["订单金额"]}}})
    assert [p.name for p in profiles].count("jd") == 1
    match = match_profile(pf.EXPECTED["jd"].headers, profiles, require=False)
    assert match.mapping == {"amount": "订单金额"}


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"columns": {"buyer": ["x"]}}, r"profiles\.bad\.columns\.buyer is not a field"),
        ({"columns": {"amount": 5}}, r"profiles\.bad\.columns\.amount must be a list of header names"),
        ({"status": {"ok": "paid"}}, r"profiles\.bad\.status\.ok is 'paid'; use one of counted, cancelled"),
        ({"options": {"amount_from": ["x"]}}, r"profiles\.bad\.options\.amount_from needs at least two"),
        ({"options": {"refund_prefix": {"column": "order_id"}}},
         r"profiles\.bad\.options\.refund_prefix must be"),
        ({"options": {"fill_order_fields": "yes"}},
         r"profiles\.bad\.options\.fill_order_fields must be true or false"),
        ({"options": {"speed": 1}}, r"profiles\.bad\.options\.speed is not an option"),
        ({"detect": 3}, r"profiles\.bad\.detect must be a list"),
        ({"colums": {}}, r"profiles\.bad\.colums is not a profile key"),
        ({"name": "other"}, r"profiles\.bad\.name is 'other' but the profile is 'bad'"),
    ],
)
def test_malformed_user_profile_names_the_key(profile, message):
    with pytest.raises(ConfigError, match=message):
        load_profiles({"bad": profile})


def test_user_profiles_must_be_tables():
    with pytest.raises(ConfigError, match=r"rfm\.toml \[profiles\.x\] must be a table"):
        load_profiles({"x": ["订单号"]})


def test_status_normalisation_folds_full_width_punctuation():
    assert normalize_status("卖家已发货，等待买家确认") == normalize_status("卖家已发货, 等待买家确认")
