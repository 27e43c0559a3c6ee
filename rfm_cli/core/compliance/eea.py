"""Country of a phone number, and Google's EU user consent columns for Customer Match lists.

Since March 2024 Google uses Customer Match data of people in the EEA only with two consents granted:
`ad_user_data` (sending their data to Google for advertising) and `ad_personalization`. Google's EU
user consent policy covers the EEA, the United Kingdom and Switzerland. rfm knows a person's country
from the country code of their phone (E.164); when a Google list holds anyone from those countries,
it gains the two columns, per row, from the consent ledger's `ads` channel (rfm consent add ...
--channel ads): GRANTED when that consent is in force, DENIED when withdrawn, UNSPECIFIED when never
recorded (Google treats that as not consented). Google applies consent per upload job: upload the
rows with GRANTED in both columns as one job, or leave the others out with --require-consent.
"""

from __future__ import annotations

from functools import cache

import polars as pl

EEA = frozenset(["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
                 "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"])
EU_CONSENT_POLICY = EEA | {"GB", "CH"}
# A calling code shared by several countries gives its main one only where all of them are in or out
# of the policy together (+44 GB/GG/IM/JE, +358 FI/AX, +47 NO/SJ, +39 IT/VA, +590 GP/BL/MF); else no
# country (+1 US/CA/…, +7 RU/KZ).
SHARED_OK = (44, 358, 47, 39, 590, 262)


@cache
def _calling_codes() -> dict[str, str]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    return {str(code): regions[0] for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()
            if regions[0] != "001" and (len(regions) == 1 or code in SHARED_OK)}


def countries(e164: pl.Series) -> pl.Series:
    """ISO 3166 alpha-2 country of each E.164 number (None when not known). Calling codes are
    prefix-free (ITU-T E.164), so at most one of a number's first 1, 2 or 3 digits is one."""
    digits = e164.cast(pl.String).str.strip_prefix("+")
    mapping = _calling_codes()
    found = [digits.str.slice(0, n).replace_strict(mapping, default=None, return_dtype=pl.String)
             for n in (1, 2, 3)]
    return pl.select(pl.coalesce([s.rename(str(i))
                                  for i, s in enumerate(found)])).to_series().rename("Country")


def consent_columns(country: pl.Series, customer_ids: pl.Series,
                    status: dict[str, str]) -> dict[str, pl.Series]:
    """ad_user_data and ad_personalization per row when any row's country is under the policy; else none."""
    if not country.is_in(sorted(EU_CONSENT_POLICY)).any():
        return {}
    words = {"granted": "GRANTED", "withdrawn": "DENIED"}
    values = customer_ids.replace_strict({k: words[v] for k, v in status.items()}, default="UNSPECIFIED",
                                         return_dtype=pl.String)
    return {"ad_user_data": values.rename("ad_user_data"),
            "ad_personalization": values.rename("ad_personalization")}
