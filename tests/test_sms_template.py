"""SMS templates as sellers write them, checked against the providers' rules (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rfm_cli.core.compliance.sms_template import check_template, segments

GOOD = {
    "aliyun": "【小王的店】${name}您好，您的专属10元券${coupon}已到账，7天内有效，回店即用。拒收请回复R",
    "tencent": "【小王的店】{1}您好，好久不见，送您一张10元无门槛券：{2}，回店即用。回T退订",
    "huawei": "【小王的店】${1}您好，好久不见，送您一张10元无门槛券，回店即用。回T退订",
}


@pytest.mark.parametrize("provider", sorted(GOOD))
def test_a_good_template_passes(provider: str) -> None:
    result = check_template(GOOD[provider], provider, list_vars=("name", "coupon"))
    assert result.ok, result.problems
    assert result.signature == "小王的店"
    assert result.variables == (["name"] if provider == "huawei" else ["name", "coupon"])


@pytest.mark.parametrize(("text", "rule"), [
    ("${name}您好，送您10元券，回店即用。拒收请回复R", "signature"),  # no signature
    ("【店】${name}您好，送您10元券。拒收请回复R", "signature"),  # a signature of one character
    ("【小王的店】${name}您好，【限时】送您10元券。拒收请回复R", "signature"),  # 【】 used again in the text
    ("【小王的店】${name}您好，送您10元券，回店即用。", "opt_out"),  # no way to refuse
    ("【小王的店】${name}您好，拒收请回复R，送您10元券，回店即用。", "opt_out"),  # not at the end
    ("【小王的店】${mobile}您好，送您10元券。拒收请回复R", "variables"),  # a name Aliyun reserves
    ("【小王的店】${1name}您好，送您10元券。拒收请回复R", "variables"),  # a name that starts with a digit
    ("【小王的店】${name}您好，券码${code}。拒收请回复R", "variables"),  # a column the list lacks
    ("【小王的店】${name}${coupon}拒收请回复R", "variables"),  # only variables, and side by side
    ("【小王的店】${name}您好，领券 https://shop.example.cn/${coupon} 。拒收请回复R", "variables"),
    ("【小王的店】" + "好久不见，" * 100 + "拒收请回复R", "length"),
])
def test_a_bad_template_names_the_rule_it_breaks(text: str, rule: str) -> None:
    result = check_template(text, "aliyun", list_vars=("name", "coupon"))
    assert rule in {p.rule for p in result.problems}, result.problems


def test_a_template_of_variables_only_is_refused() -> None:
    result = check_template("【小王的店】${name}，${coupon}。拒收请回复R", "aliyun",
                            list_vars=("name", "coupon"))
    assert "only variables" in " ".join(p.message for p in result.problems)


def test_a_notification_needs_no_opt_out_phrase() -> None:
    text = "【小王的店】${name}您好，您的订单已发货。"
    assert not check_template(text, "aliyun", list_vars=("name",), promotional=False).problems
    assert [p.rule for p in check_template(text, "aliyun", list_vars=("name",)).problems] == ["opt_out"]


def test_positional_variables_need_as_many_list_columns() -> None:
    result = check_template(GOOD["tencent"], "tencent", list_vars=("name",))
    assert [p.rule for p in result.problems] == ["variables"] and "{2}" in result.problems[0].message


@pytest.mark.parametrize(("characters", "parts"),
                         [(0, 0), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_billing_segments_are_70_in_one_else_67_each(characters: int, parts: int) -> None:
    assert segments(characters) == parts


def test_the_longest_message_uses_the_longest_value_of_each_variable() -> None:
    text = "【小王的店】${name}您好，送您10元券。拒收请回复R"  # 6 + 13 + 6 = 25 fixed characters
    short = check_template(text, "aliyun", list_vars=("name",), values={"name": ["王", "李雷"]})
    assert short.longest == len(text) - len("${name}") + 2 and short.segments == 1
    long = check_template(text, "aliyun", list_vars=("name",), values={"name": ["欧阳" * 30]})
    assert long.longest == len(text) - len("${name}") + 60 and long.segments == 2


def test_huawei_reports_its_sending_window() -> None:
    assert check_template(GOOD["huawei"], "huawei", list_vars=("name",)).send_window == ("08:00", "21:00")


def test_the_command_passes_a_good_template_and_refuses_a_bad_one(rfm, assert_cli_error,
                                                                  tmp_path: Path) -> None:
    good = rfm("sms", "check", GOOD["aliyun"], "--sms-vars", "name,coupon")
    assert good.returncode == 0 and good.stdout == "" and "passes every rule" in good.stderr
    line = assert_cli_error(rfm("sms", "check", "${name}您好，送您10元券", "--sms-vars", "name"), 78)
    assert "breaks 2 rules (signature: " in line and "; opt_out: " in line
    (tmp_path / "winback.txt").write_text("\ufeff" + GOOD["tencent"] + "\n", encoding="utf-8")
    shown = rfm("sms", "check", "winback.txt", "--provider", "tencent", "--sms-vars", "name,coupon",
                "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["ok"] is True and json.loads(shown.stdout)["segments"] == 1
    failed = rfm("sms", "check", "您好", "--format", "json")
    assert failed.returncode == 78 and not json.loads(failed.stdout)["ok"] and failed.stderr.count("\n") == 1
    assert_cli_error(rfm("sms", "check", "x", "--provider", "nokia"), 2)
    assert_cli_error(rfm("sms", "check", "missing.txt"), 66)
