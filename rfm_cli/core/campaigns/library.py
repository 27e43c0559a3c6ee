"""`Shop(...).campaigns`: the campaign commands for a notebook, with the same checks and files.

    shop = rfm.Shop("shop.duckdb")
    made = shop.campaigns.new("winback-dec", "campaigns/winback-dec", tier="dormant",
                              recency_days="91:180", channel="sms", codes="codes.txt")
    shop.campaigns.report("winback-dec")        # the numbers of `rfm campaign report --format json`
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rfm_cli.core.campaigns.create import CampaignSpec, Created
    from rfm_cli.core.options import ListOptions
    from rfm_cli.core.shop import Shop


def _share(value: str | float | None) -> float | None:
    from rfm_cli.core.campaigns.assign import parse_share

    return value if value is None or isinstance(value, float) else parse_share(str(value))


def parse_margin(value: str | float | None) -> float | None:
    """--margin as '30%', '0.3' or 0.3 (a share of revenue kept)."""
    from rfm_cli.core.errors import UsageError

    try:
        return _share(value)
    except UsageError:
        raise UsageError(f"--margin {value!r} is not a share; write it like 30% or 0.3") from None


def campaign_spec(name: str, *, holdout: str | float = "10%", arms: str | Sequence[str] = ("treatment",),
                  seed: str | None = None, window: str | int = "14d", sent_on: date | str | None = None,
                  cost_per_message: float | None = None, coupon_value: float | None = None,
                  margin: str | float | None = None) -> CampaignSpec:
    """`rfm campaign new`'s options as the command line or Python gives them ('10%' or 0.1, 'A,B' or
    ['A', 'B'], '14d' or 14), read and checked in one place for both."""
    from rfm_cli.core.campaigns.assign import ArmPlan
    from rfm_cli.core.campaigns.create import CampaignSpec, parse_window
    from rfm_cli.core.shop import as_of_date

    names = tuple(a.strip() for a in (arms.split(",") if isinstance(arms, str) else arms) if a.strip())
    return CampaignSpec(name, ArmPlan(names, _share(holdout)), seed=seed, window_days=parse_window(window),
                        cost_per_message=cost_per_message, coupon_value=coupon_value,
                        margin=parse_margin(margin), sent_on=as_of_date(sent_on) if sent_on else None)


class Campaigns:
    """A shop's campaigns with a hold-out (see `rfm campaign --help`)."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def new(self, name: str, out_dir: str | Path, *, holdout: str | float = "10%",
            arms: str | Sequence[str] = ("treatment",), seed: str | None = None, window: str | int = "14d",
            sent_on: date | str | None = None, cost_per_message: float | None = None,
            coupon_value: float | None = None, margin: str | float | None = None,
            as_of: date | str | None = None, scheme: str = "tiers", rules: Any = None,
            lists: ListOptions | None = None, **list_kwargs: Any) -> Created:
        """Draw the groups and write the arms' lists; the lists' options as a ListOptions (`lists`) or as
        its keywords."""
        from rfm_cli.core.campaigns.create import new_campaign
        from rfm_cli.core.options import ListOptions
        from rfm_cli.core.shop import as_of_date, rule_set

        if lists is not None and list_kwargs:  # one would be dropped without a word (a tier= not kept)
            from rfm_cli.core.errors import UsageError

            given = ", ".join(f"{k}=" for k in sorted(list_kwargs))
            raise UsageError(f"the lists' options are given twice: lists= and {given}; put them all in the "
                             "ListOptions, or pass keywords only")
        spec = campaign_spec(name, holdout=holdout, arms=arms, seed=seed, window=window, sent_on=sent_on,
                             cost_per_message=cost_per_message, coupon_value=coupon_value, margin=margin)
        options = lists if lists is not None else ListOptions(**list_kwargs)
        return new_campaign(self.shop.db, spec, options, out_dir,
                            rule_set(scheme, rules), as_of_date(as_of), wait=self.shop.wait)

    def list(self) -> list[dict[str, Any]]:
        from rfm_cli.core.campaigns.report import listing

        with self._store() as store:
            return listing(store)

    def show(self, name: str) -> dict[str, Any]:
        from rfm_cli.core.campaigns.report import show

        with self._store() as store:
            return show(store, name)

    def report(self, name: str, *, margin: str | float | None = None) -> dict[str, Any]:
        from rfm_cli.core.campaigns.report import build

        with self._store() as store:
            return build(store, name, margin=parse_margin(margin))

    def _store(self):
        from rfm_cli.core.store import open_store

        return open_store(self.shop.db, create=False, wait_seconds=self.shop.wait)
