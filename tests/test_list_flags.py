"""The list flags are declared once (rfm_cli/commands/_list_flags.py) and reach every command that
writes lists, each one into the library's ListOptions."""

from __future__ import annotations

import dataclasses
import re

import pytest
import typer

from rfm_cli.commands._list_flags import CAMPAIGN_FLAGS, FLAGS, ListFlags, with_list_flags
from rfm_cli.core.options import ListOptions

# ListOptions fields that ListFlags.options fills from a converted flag or a setting, not as given.
CONVERTED = {"tag_settings", "channel", "hashed", "winback", "churn_thresholds", "exclude", "followups"}


def option_names(flag) -> list[str]:
    info = flag.option.__metadata__[0]  # in Annotated, Typer keeps the first name in `default`
    return [d for d in (info.default, *info.param_decls) if isinstance(d, str) and d.startswith("--")]


def test_every_list_option_has_its_flag() -> None:
    """A ListOptions field added without a flag (or a flag filling a field that does not exist) fails."""
    fields = {f.name for f in dataclasses.fields(ListOptions)}
    given = {flag.field for flag in FLAGS if flag.field}
    assert given <= fields
    assert fields == given | CONVERTED


@pytest.mark.parametrize(("command", "names"), [
    (["export"], [f.name for f in FLAGS]),
    (["run"], [f.name for f in FLAGS]),
    (["campaign", "new"], list(CAMPAIGN_FLAGS)),
])
def test_each_command_offers_its_flags(rfm, command: list[str], names: list[str]) -> None:
    shown = rfm(*command, "--help", env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    offered = set(re.findall(r"(--[a-z][a-z-]+)", shown.stdout))
    for flag in FLAGS:
        assert (option_names(flag)[0] in offered) == (flag.name in names), flag.name


def test_the_flags_become_the_options_a_notebook_would_pass(tmp_path) -> None:
    """What the CLI gives ListOptions equals ListOptions built by keyword, field for field."""
    values = {f.name: f.default for f in FLAGS} | {
        "tiers": ["gold"], "channels": ["sms,email"], "recency_days": "30:60", "no_hash": True,
        "cooldown": 7, "winback_days": "45:75", "exclude": [tmp_path / "optout.csv"], "churn_risk": ["high"],
    }

    class Settings:
        @staticmethod
        def get(key, flag):
            return flag

        @staticmethod
        def churn_thresholds():
            return "thresholds"

    st = type("State", (), {"settings": Settings()})()
    made = ListFlags(values).options(st, with_exclude=True)
    assert made == ListOptions(tier=["gold"], channel=["sms,email"], recency_days="30:60", hashed=False,
                               cooldown=7, winback="45:75", exclude=(tmp_path / "optout.csv",),
                               churn_risk=["high"], churn_thresholds="thresholds")
    assert ListFlags(values).options(st).exclude == ()  # export and run pass the files beside the options


def test_a_command_without_a_place_for_the_flags_is_refused() -> None:
    def command(ctx: typer.Context) -> None: ...

    with pytest.raises(AssertionError, match="lists: ListFlags"):
        with_list_flags()(command)
    with pytest.raises(AssertionError, match="no list flag named"):
        with_list_flags(["colour"])
