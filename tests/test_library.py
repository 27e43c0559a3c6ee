"""The library as a notebook uses it: `import rfm`, keyword defaults, str paths, the same numbers as
the CLI."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from cli_runner import clean_env

import rfm

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "orders.csv"


def test_import_rfm_loads_nothing_heavy() -> None:
    probe = ("import sys, rfm; heavy = [m for m in ('duckdb', 'polars', 'pyarrow', 'typer', 'rich', 'numpy') "
             "if m in sys.modules]; print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True,
                          timeout=60, env=clean_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_score_a_file_in_memory_equals_the_command_and_writes_nothing(tmp_path: Path, rfm) -> None:
    result = __import__("rfm").score(str(SAMPLE))
    assert list(tmp_path.iterdir()) == []  # no database, no rejects/ folder
    from_cli = rfm("score", SAMPLE, "-o", "-")
    assert from_cli.returncode == 0, from_cli.stderr
    cli_frame = pl.read_csv(io.StringIO(from_cli.stdout), infer_schema=False)
    assert cli_frame["customer_id"].to_list() == result.customers["customer_id"].to_list()
    assert cli_frame["tier"].to_list() == result.customers["tier"].to_list()
    assert cli_frame["m_score"].cast(pl.Int64).to_list() == result.customers["m_score"].to_list()


def test_a_shop_imports_scores_exports_and_explains(tmp_path: Path) -> None:
    shop = rfm.Shop(tmp_path / "shop.duckdb")  # a Path works as well as a str
    [report] = shop.import_files(str(SAMPLE))
    assert report.reconciles and report.imported > 0
    scored = shop.score(as_of="2026-11-01")
    assert scored.as_of.isoformat() == "2026-11-01"
    assert str(scored.customers["last_order_at"].max()) < "2026-11-02"
    assert 0 < scored.customers.height < shop.score().customers.height  # later customers are not there yet
    lists = shop.export(tmp_path / "out", tier="diamond", channel=["csv", "sms"])
    written = {p.relative_to(tmp_path / "out").as_posix() for p in lists.written}
    assert {"tiers/diamond.csv", "send/csv/diamond.csv", "send/sms/diamond.csv", "manifest.json"} <= written
    for entry in lists.manifest["files"]:
        assert entry["rows"] > 0
    assert shop.explain("C00053")["customer_id"] == "C00053"


def test_the_same_checks_as_the_command_before_any_work(tmp_path: Path) -> None:
    shop = rfm.Shop(tmp_path / "shop.duckdb")
    with pytest.raises(rfm.UsageError, match="--channel 'fax' is not a channel"):
        shop.export(tmp_path / "out", channel="fax")
    with pytest.raises(rfm.UsageError, match="--cooldown is below 1 day"):
        shop.export(tmp_path / "out", cooldown=0)
    assert not (tmp_path / "shop.duckdb").exists() and not (tmp_path / "out").exists()
    with pytest.raises(rfm.InputError, match="does not exist"):
        shop.score()


@pytest.mark.parametrize(("option", "flag"), [
    ({"bought": "category:护肤"}, "--bought"), ({"aov_band": "high"}, "--aov-band"),
    ({"days_since_first_order": "7:9"}, "--days-since-first-order"), ({"overdue": 0}, "--overdue"),
])
def test_a_campaign_refuses_the_selections_its_draw_cannot_build(tmp_path: Path, option: dict,
                                                                  flag: str) -> None:
    """The command line offers a campaign none of these; the library passes any list option through,
    and each used to fail in the middle with an internal error."""
    shop = rfm.Shop(tmp_path / "shop.duckdb")
    shop.import_files(SAMPLE)
    with pytest.raises(rfm.UsageError, match=f"a campaign cannot select by {flag} yet"):
        shop.campaigns.new("c1", tmp_path / "out", **option)
    assert not (tmp_path / "out").exists() and shop.campaigns.list() == []


def test_rules_from_a_dict_or_a_file(tmp_path: Path) -> None:
    rules = {"tiers": [{"name": "big", "when": "monetary >= 1000"}, {"name": "rest", "when": "true"}]}
    from_dict = rfm.score(SAMPLE, rules=rules)
    assert set(from_dict.customers["tier"]) == {"big", "rest"}
    path = tmp_path / "r.toml"
    path.write_text(
        '[[tiers]]\nname = "big"\nwhen = "monetary >= 1000"\n[[tiers]]\nname = "rest"\nwhen = "true"\n',
        encoding="utf-8")
    assert rfm.score(SAMPLE, rules=str(path)).customers["tier"].equals(from_dict.customers["tier"])
    assert set(rfm.score(SAMPLE, scheme="classic").customers["tier"]) >= {"champions", "hibernating"}


def _python_blocks(section_title: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {section_title}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [example] = _python_blocks("Use it from Python")
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    assert namespace["result"].customers.height > 0
    assert namespace["lists"].manifest["files"]
    assert (tmp_path / "shop.duckdb").is_file() and (tmp_path / "winback").is_dir()
