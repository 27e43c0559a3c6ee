"""Settings with one precedence: CLI flag > RFM_* environment > ./rfm.toml > built-in default.

rfm.toml (in the current folder, or the file named by RFM_CONFIG) may hold:

    db = "shop.duckdb"          # like --db
    scheme = "tiers"            # like --scheme
    rules = "my-rules.toml"     # like --rules
    max_rejects = "1%"          # like --max-rejects
    wait = 600                  # like --wait (seconds)
    memory_limit = "4GB"        # like --memory-limit
    winback_days = "60:90"      # like --winback-days
    [[followups]]               # a day-N list rfm run writes each night (core/followups.py)
    name = "day7_coupon"        # send/<channel>/<name>.csv
    window = "7:9"              # days since the trigger order, both in
    since = "first_order"       # or "last_order"; who = "all" or "first_time"; channel = "sms" …
    sms_vars = ["category"]     # its SMS list's template columns (default: the run's --sms-vars)
    [churn]                     # churn-risk thresholds (rfm predict, --churn-risk lists)
    high_below_p_alive = 0.3    # and medium_below_p_alive = 0.6, quiet_high_days = 90, quiet_medium_days = 60
    [tags]                      # customer tags (core/tags.py): top categories kept, fixed AOV bands
    top_categories = 3          # and aov_bands = [100, 300] (default: tertiles of the customers' AOV)
    [rules_inline]              # or the rules themselves, same keys as a rules file
    ...
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rfm_cli.core.errors import ConfigError

DEFAULTS: dict[str, Any] = {"db": "rfm.duckdb", "scheme": "tiers", "rules": None, "max_rejects": "1%",
                            "source": None, "date_format": None, "wait": 0.0, "memory_limit": None,
                            "winback_days": "60:90"}
KNOWN_KEYS = set(DEFAULTS) | {"rules_inline", "profiles"}  # [profiles.NAME]: column maps of your own
KNOWN_KEYS |= {"churn"}  # [churn]: the churn-risk thresholds of rfm predict and the lists
KNOWN_KEYS |= {"followups"}  # [[followups]]: the day-N lists rfm run writes each night (core/followups.py)
KNOWN_KEYS |= {"tags"}  # [tags]: top_categories, aov_bands (core/tags.py)



@dataclass
class Settings:
    file_values: dict[str, Any] = field(default_factory=dict)
    file_path: Path | None = None

    def get(self, key: str, flag: Any = None) -> Any:
        if flag is not None:
            return flag
        env = os.environ.get(f"RFM_{key.upper()}")
        if env:
            return env
        if key in self.file_values:
            return self.file_values[key]
        return DEFAULTS.get(key)

    def source_of(self, key: str, flag: Any = None) -> str:
        if flag is not None:
            return "command line"
        if os.environ.get(f"RFM_{key.upper()}"):
            return f"RFM_{key.upper()}"
        if key in self.file_values:
            return str(self.file_path)
        return "default"

    def followups(self) -> list[Any]:
        """rfm.toml's [[followups]] as core.followups.Followup, checked (none: [])."""
        from rfm_cli.core.followups import from_config

        entries = self.file_values.get("followups")
        return from_config(entries, str(self.file_path)) if entries is not None else []

    def churn_thresholds(self) -> Any:
        """rfm.toml's [churn] table as predict's ChurnThresholds, or None (the defaults)."""
        table = self.file_values.get("churn")
        if not table:
            return None
        from rfm_cli.core.predict.churn import ChurnThresholds

        return ChurnThresholds.from_table(table, f"{self.file_path} [churn]")

    def tag_settings(self) -> Any:
        """rfm.toml's [tags] table as core/tags.py's TagSettings (the defaults without one)."""
        from rfm_cli.core.tags import TagSettings

        return TagSettings.from_table(self.file_values.get("tags"), f"{self.file_path} [tags]")

    def rules_overrides(self, rules_flag: Path | None) -> list[tuple[str, dict[str, Any]]]:
        """Rules laid over the built-in scheme, lowest precedence first."""
        from rfm_cli.core.rules import read_rules_file

        layers: list[tuple[str, dict[str, Any]]] = []
        inline = self.file_values.get("rules_inline")
        if inline:
            layers.append((f"{self.file_path} [rules_inline]", inline))
        path = self.get("rules", str(rules_flag) if rules_flag else None)
        if path:
            rules_path = Path(path)
            if (
                self.file_path
                and not rules_path.is_absolute()
                and self.source_of("rules", rules_flag) == str(self.file_path)
            ):
                rules_path = self.file_path.parent / rules_path
            layers.append((str(rules_path), read_rules_file(rules_path)))
        return layers


# What each key of rfm.toml holds: the TOML types it accepts, and how to write it.
KEY_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "db": ((str,), 'text, e.g. db = "shop.duckdb"'),
    "scheme": ((str,), 'text, e.g. scheme = "tiers"'),
    "rules": ((str,), 'text, e.g. rules = "my-rules.toml"'),
    "max_rejects": ((str, int), 'a count or a percentage, e.g. max_rejects = 50 or max_rejects = "1%"'),
    "source": ((str,), 'text, e.g. source = "taobao"'),
    "date_format": ((str,), 'text, e.g. date_format = "%d/%m/%Y"'),
    "wait": ((int, float), "seconds, e.g. wait = 600"),
    "memory_limit": ((str,), 'a size, e.g. memory_limit = "4GB"'),
    "winback_days": ((str,), 'text FROM:TO, e.g. winback_days = "45:75"'),
    "rules_inline": ((dict,), "a table, e.g. [rules_inline]"),
    "profiles": ((dict,), "tables, e.g. [profiles.myshop]"),
    "churn": ((dict,), "a table, e.g. [churn] with high_below_p_alive = 0.3"),
    "followups": ((list,), 'tables, e.g. [[followups]] with name = "day7", window = "7:9"'),
    "tags": ((dict,), "a table, e.g. [tags] with aov_bands = [100, 300]"),
}
_MAX_REJECTS = re.compile(r"\s*\d+\s*|\s*\d+(\.\d+)?\s*%\s*")


def _toml_type(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
             dict: "a table"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "a date")


def _check_types(path: Path, values: dict[str, Any]) -> None:
    for key, value in values.items():
        kinds, example = KEY_TYPES[key]
        # bool is an int in Python, never a count in rfm.toml
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ConfigError(f"{path}: key {key!r} is {_toml_type(value)}; write it as {example}")
    limit = values.get("max_rejects")
    if isinstance(limit, int) and limit < 0 or isinstance(limit, str) and not _MAX_REJECTS.fullmatch(limit):
        raise ConfigError(f"{path}: key 'max_rejects' = {limit!r} is not a count or a percentage; "
                          f"write it as {KEY_TYPES['max_rejects'][1]}")
    if values.get("wait", 0) < 0:
        raise ConfigError(f"{path}: key 'wait' is negative; write it as {KEY_TYPES['wait'][1]}")
    if "followups" in values:  # checked when read, so a typo stops every command, not only the night's run
        from rfm_cli.core.followups import from_config

        from_config(values["followups"], str(path))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}; check the file's permissions") from None
    try:
        return data.decode("utf-8-sig")  # Notepad's UTF-8 starts with a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (line {line}, byte {exc.start}: another encoding, "
                          "such as GBK); save it as UTF-8") from None


def load_settings(cwd: Path | None = None) -> Settings:
    explicit = os.environ.get("RFM_CONFIG")
    path = Path(explicit) if explicit else (cwd or Path.cwd()) / "rfm.toml"
    if not path.is_file():
        if explicit:
            raise ConfigError(f"RFM_CONFIG names {path}, which does not exist; fix the path or unset it")
        return Settings()
    try:
        values = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax") from None
    unknown = set(values) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {min(unknown)!r}; known keys: {', '.join(sorted(KNOWN_KEYS))}"
        )
    _check_types(path, values)
    return Settings(file_values=values, file_path=path)
