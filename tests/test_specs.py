"""The options of score, report, predict and explain as the library takes them (core/specs.py): a
notebook gets the command line's refusals, with the same one-line text, before any work is done."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

import rfm as library  # the `rfm` fixture is the command line

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "orders.csv"

TAGS_WITH_PREDICTIONS = ("--with-tags reads the orders' lines here, not on an --engine nor with "
                         "--with-predictions; leave out one of them")


@pytest.fixture
def usage_error(assert_cli_error):
    """The command's usage error (exit 2, the contract's one line), without its `rfm: error: `."""
    return lambda result: assert_cli_error(result, 2).removeprefix("rfm: error: ")


# ------------------------------------------------------------------ score


def test_score_refuses_tags_with_predictions_in_the_library_as_in_the_command(tmp_path: Path,
                                                                              rfm, usage_error) -> None:
    said = usage_error(rfm("score", SAMPLE, "--with-tags", "--with-predictions", "-o", "-"))
    assert said == TAGS_WITH_PREDICTIONS
    with pytest.raises(library.UsageError) as in_memory:
        library.score(SAMPLE, with_tags=True, with_predictions=True)
    assert str(in_memory.value) == said
    shop = library.Shop(tmp_path / "shop.duckdb")
    with pytest.raises(library.UsageError) as on_shop:  # before the missing database is noticed
        shop.score(with_tags=True, with_predictions=True)
    assert str(on_shop.value) == said
    assert not (tmp_path / "shop.duckdb").exists()


def test_score_spec_refuses_an_engine_without_its_table() -> None:
    from rfm_cli.core.specs import ScoreOptions

    with pytest.raises(library.UsageError, match="^--engine URL and --table NAME go together"):
        ScoreOptions(engine="duckdb:orders.duckdb")
    with pytest.raises(library.UsageError, match="^--window is not part of the scoring plan of --engine"):
        ScoreOptions(engine="duckdb:orders.duckdb", table="order_lines", window="12m")
    assert ScoreOptions(engine="duckdb:orders.duckdb", table="order_lines").on_engine


@pytest.mark.parametrize(("flag", "keyword", "columns"), [
    ("--with-tags", "with_tags", ["categories", "aov_band", "favourite_weekday", "favourite_hour"]),
    ("--with-predictions", "with_predictions", ["p_alive", "clv_90d", "churn_risk"]),
])
def test_the_library_adds_the_columns_the_command_adds(rfm, flag: str, keyword: str,
                                                       columns: list[str]) -> None:
    from_cli = rfm("score", SAMPLE, flag, "-o", "-")
    assert from_cli.returncode == 0, from_cli.stderr
    cli_frame = pl.read_csv(io.StringIO(from_cli.stdout), infer_schema=False)
    scored = library.score(str(SAMPLE), **{keyword: True}).customers
    assert scored.columns == cli_frame.columns
    assert set(columns) <= set(scored.columns)
    assert scored["customer_id"].to_list() == cli_frame["customer_id"].to_list()
    if keyword == "with_tags":
        assert scored["aov_band"].to_list() == cli_frame["aov_band"].to_list()


# ------------------------------------------------------------------ report


@pytest.mark.parametrize(("flags", "keywords"), [
    (["--lang", "fr"], {"lang": "fr"}),
    (["--with-predictions", "--holdout-from", "next week"], {"with_predictions": True,
                                                               "holdout_from": "next week"}),
])
def test_report_refuses_in_the_library_as_in_the_command(tmp_path: Path, rfm, usage_error, flags: list[str],
                                                          keywords: dict) -> None:
    said = usage_error(rfm("report", *flags))  # before the missing database is noticed
    shop = library.Shop(tmp_path / "shop.duckdb")
    with pytest.raises(library.UsageError) as refused:
        shop.report(**keywords)
    assert str(refused.value) == said
    assert not (tmp_path / "shop.duckdb").exists()


def test_report_refuses_an_html_path_that_is_a_folder_before_any_work(tmp_path: Path, rfm,
                                                                       assert_cli_error) -> None:
    (tmp_path / "page").mkdir()
    said = assert_cli_error(rfm("report", "--html", tmp_path / "page"), 73)
    with pytest.raises(library.OutputError) as refused:
        library.Shop(tmp_path / "shop.duckdb").report(html=tmp_path / "page")
    assert f"rfm: error: {refused.value}" == said


def test_the_library_writes_the_report_page_the_command_writes(tmp_path: Path, rfm) -> None:
    shop = library.Shop(tmp_path / "shop.duckdb")
    shop.import_files(SAMPLE)
    numbers = shop.report(html=tmp_path / "library.html", lang="zh")
    done = rfm("--db", tmp_path / "shop.duckdb", "report", "--html", tmp_path / "cli.html", "--lang", "zh")
    assert done.returncode == 0, done.stderr
    assert numbers["totals"]["customers"] > 0
    assert (tmp_path / "library.html").read_bytes() == (tmp_path / "cli.html").read_bytes()


# ------------------------------------------------------------------ predict


@pytest.mark.parametrize(("flags", "keywords"), [
    (["--holdout-from", "next week"], {"holdout_from": "next week"}),
    (["--horizon", "0"], {"horizon_days": 0}),
    (["--model", "arima"], {"model": "arima"}),
    (["--discount-rate", "12"], {"discount_rate": 12.0}),
])
def test_predict_refuses_in_the_library_as_in_the_command(tmp_path: Path, rfm, usage_error, flags: list[str],
                                                           keywords: dict) -> None:
    said = usage_error(rfm("predict", *flags, "-o", "-"))  # before the missing database is noticed
    with pytest.raises(library.UsageError) as refused:
        library.Shop(tmp_path / "shop.duckdb").predict(**keywords)
    assert str(refused.value) == said
    assert not (tmp_path / "shop.duckdb").exists()


def test_the_library_predicts_what_the_command_predicts(tmp_path: Path, rfm) -> None:
    shop = library.Shop(tmp_path / "shop.duckdb")
    shop.import_files(SAMPLE)
    predicted = shop.predict(horizon_days=30, model="bg-nbd")
    done = rfm("--db", tmp_path / "shop.duckdb", "predict", "--horizon", "30", "--model", "bg-nbd", "-o", "-")
    assert done.returncode == 0, done.stderr
    cli_frame = pl.read_csv(io.StringIO(done.stdout), infer_schema=False)
    assert predicted.customers.columns == cli_frame.columns
    assert "clv_30d" in cli_frame.columns
    assert predicted.customers["customer_id"].to_list() == cli_frame["customer_id"].to_list()
    assert predicted.customers["churn_risk"].to_list() == cli_frame["churn_risk"].to_list()


# ------------------------------------------------------------------ explain


def test_explain_asks_whose_account_in_the_library_as_in_the_command(tmp_path: Path, rfm,
                                                                      usage_error) -> None:
    said = usage_error(rfm("explain"))
    assert said.startswith("say whose account to show")
    shop = library.Shop(tmp_path / "shop.duckdb")
    with pytest.raises(library.UsageError) as refused:
        shop.explain()
    assert str(refused.value) == said
    # both given: the command reads CUSTOMER_ID as an export beside --find; the library says which
    with pytest.raises(library.UsageError, match="^give a customer id or a search"):
        shop.explain("C00053", find="138")
    assert not (tmp_path / "shop.duckdb").exists()


def test_explain_by_search_in_the_library_as_in_the_command(tmp_path: Path, rfm, usage_error) -> None:
    shop = library.Shop(tmp_path / "shop.duckdb")
    shop.import_files(SAMPLE)
    db = tmp_path / "shop.duckdb"
    account = shop.explain(find="C00053")
    assert account["customer_id"] == "C00053" == shop.explain("C00053")["customer_id"]
    assert "predictions" not in account and "predictions" in shop.explain("C00053", with_predictions=True)
    nobody = usage_error(rfm("--db", db, "explain", "--find", "no-such-customer-zz"))
    with pytest.raises(library.UsageError) as refused:
        shop.explain(find="no-such-customer-zz")
    assert str(refused.value) == nobody
    listed = rfm("--db", db, "explain", "--find", "C0005", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    matches = len(__import__("json").loads(listed.stdout))
    assert matches > 1
    with pytest.raises(library.UsageError, match=f"^{matches:,} customers match; explain one"):
        shop.explain(find="C0005")


# ------------------------------------------------------------------ campaign


@pytest.mark.parametrize("margin", ["lots", "150%"])
def test_campaign_margin_is_refused_in_the_library_as_in_the_command(tmp_path: Path, rfm, usage_error,
                                                                     margin: str) -> None:
    """The library used to name --holdout for a bad margin (it read it with the hold-out's parser)."""
    shop = library.Shop(tmp_path / "shop.duckdb")
    shop.import_files(SAMPLE)
    db = tmp_path / "shop.duckdb"
    said = usage_error(rfm("--db", db, "campaign", "report", "no-such", "--margin", margin))
    assert said == f"--margin {margin!r} is not a share; write it like 30% or 0.3"
    with pytest.raises(library.UsageError) as on_report:
        shop.campaigns.report("no-such", margin=margin)
    assert str(on_report.value) == said
    new = usage_error(rfm("--db", db, "campaign", "new", "dec", "--out-dir", tmp_path / "c",
                         "--margin", margin))
    assert new == said
    with pytest.raises(library.UsageError) as on_new:
        shop.campaigns.new("dec", tmp_path / "c", margin=margin)
    assert str(on_new.value) == said
    assert not (tmp_path / "c").exists()


# ------------------------------------------------------------------ values of the wrong type


@pytest.mark.parametrize(("call", "said"), [
    (lambda shop: shop.predict(horizon_days=90.5), "^--horizon 90.5 is not a whole number of days"),
    (lambda shop: shop.predict(horizon_days="90"), "^--horizon '90' is not a whole number of days"),
    (lambda shop: shop.predict(discount_rate="0.1"), "^--discount-rate '0.1' is not an annual rate"),
    (lambda shop: shop.predict(holdout_from=20240101), "^--holdout-from 20240101 is not a date"),
    (lambda shop: shop.report(holdout_from=20240101), "^--holdout-from 20240101 is not a date"),
    (lambda shop: shop.score(window=12), "^--window 12 is not a span or a date"),
    (lambda shop: shop.explain(138), "^customer id 138 is not text"),
    (lambda shop: shop.explain(find=138), "^--find 138 is not text"),
])
def test_a_value_of_the_wrong_type_is_a_one_line_refusal_not_a_traceback(tmp_path: Path, call,
                                                                         said: str) -> None:
    """What the command's flags cannot receive (Typer types them) a notebook can pass: a float horizon
    was taken as it is, the others ended in a TypeError or AttributeError from deep inside."""
    shop = library.Shop(tmp_path / "shop.duckdb")
    with pytest.raises(library.UsageError, match=said):
        call(shop)
    assert not (tmp_path / "shop.duckdb").exists()


def test_campaign_lists_given_twice_is_refused_not_half_dropped(tmp_path: Path) -> None:
    """campaigns.new(lists=ListOptions(...), tier=["gold"]) dropped the tier= without a word: the arms'
    lists held every tier."""
    from rfm_cli.core.options import ListOptions

    shop = library.Shop(tmp_path / "shop.duckdb")
    shop.import_files(SAMPLE)
    with pytest.raises(library.UsageError, match="^the lists' options are given twice: lists= and tier="):
        shop.campaigns.new("dec", tmp_path / "c", lists=ListOptions(), tier=["gold"])
    assert not (tmp_path / "c").exists()
