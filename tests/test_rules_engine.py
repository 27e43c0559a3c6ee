"""Rules: parsing, unknown fields, coverage, and Polars/Python evaluation agreeing."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest

from rfm_cli.core.errors import ConfigError
from rfm_cli.core.rules import build_rules, find_uncovered, load_rules, parse_condition, read_rules_file

DIMS = {"recency": {"method": "fixed", "breakpoints": [30, 60, 90, 180]},
        "frequency": {"method": "fixed", "breakpoints": [2, 3, 4, 6]},
        "monetary": {"method": "quantile"}}


def rules_with(*tiers: tuple[str, str]):
    return build_rules({**DIMS, "tiers": [{"name": n, "when": w} for n, w in tiers]}, "test.toml")


@pytest.mark.parametrize("scheme", ["tiers", "classic"])
def test_builtin_schemes_cover_all_125_cells_and_polars_agrees(scheme: str) -> None:
    rules = load_rules(scheme)
    cells = list(itertools.product(range(1, 6), repeat=3))
    frame = pl.DataFrame(cells, schema=["r_score", "f_score", "m_score"], orient="row").with_columns(
        recency_days=pl.lit(10), frequency=pl.lit(1), monetary=pl.lit(1.0))
    expr = pl
    for tier in rules.tiers:
        expr = expr.when(tier.when.to_polars()).then(pl.lit(tier.name))
    polars_tiers = frame.select(expr.otherwise(None).alias("t"))["t"].to_list()
    python_tiers = [rules.tier_for(dict(zip(("r_score", "f_score", "m_score"), c))).name for c in cells]
    assert None not in polars_tiers and polars_tiers == python_tiers
    if scheme == "classic":
        assert set(python_tiers) == set(rules.tier_names())  # every named segment is reachable


def test_default_tier_rules_are_the_brief() -> None:
    rules = load_rules()
    assert [(t.name, t.when.text) for t in rules.tiers] == [
        ("dormant", "r_score <= 2"), ("diamond", "f_score >= 4 and m_score >= 4"),
        ("gold", "f_score >= 3"), ("potential", "true")]
    assert rules.recency.breakpoints == (30, 60, 90, 180) and rules.frequency.breakpoints == (2, 3, 4, 6)
    assert rules.monetary.method == "quantile"


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown field 'spend'"):
        rules_with(("big", "spend > 100"), ("rest", "true"))


def test_a_gap_is_found_with_an_example() -> None:
    with pytest.raises(ConfigError, match="matches no tier"):
        rules_with(("recent", "r_score >= 3"), ("old", "r_score <= 1"))
    assert find_uncovered(rules_with(("a", "monetary >= 100"), ("b", "monetary < 100")).tiers) is None
    gap = find_uncovered(tuple(
        t for t in rules_with(("a", "monetary > 100"), ("b", "monetary < 100"), ("c", "true")).tiers[:2]))
    assert gap == {"monetary": 100}


def test_conditions_support_in_chains_and_not() -> None:
    cond = parse_condition("r_score in [4, 5] and not (2 <= f_score <= 3)", "t")
    assert cond.evaluate({"r_score": 4, "f_score": 1}) is True
    assert cond.evaluate({"r_score": 4, "f_score": 2}) is False
    assert cond.evaluate({"r_score": 3, "f_score": 1}) is False


@pytest.mark.parametrize("text", ["__import__('os')", "r_score.real > 1", "r_score + 1 > 2", "f_score > 'a'"])
def test_conditions_cannot_run_code(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_condition(text, "t")


def test_rules_file_overrides_scoring_and_tiers(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('[monetary]\nmethod = "fixed"\nbreakpoints = [100, 300, 1000, 3000]\n'
                    '[[tiers]]\nname = "vip"\nwhen = "m_score == 5"\n[[tiers]]\nname = "rest"\n',
                    encoding="utf-8")
    rules = load_rules("tiers", [(str(path), read_rules_file(path))])
    assert rules.tier_names() == ["vip", "rest"] and rules.monetary.breakpoints == (100, 300, 1000, 3000)
    assert rules.recency.breakpoints == (30, 60, 90, 180)  # untouched sections keep the defaults


def test_bad_breakpoints_are_refused() -> None:
    with pytest.raises(ConfigError, match="4 increasing numbers"):
        build_rules({**DIMS, "recency": {"method": "fixed", "breakpoints": [60, 30, 90, 180]},
                     "tiers": [{"name": "all"}]}, "x.toml")
