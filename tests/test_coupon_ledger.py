"""The coupon-code ledger (issue 17): a code issued once is never issued again, and codes left is true."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


def _codes(folder: Path) -> dict[str, str]:
    with (folder / "send" / "coupon" / "potential.csv").open(encoding="utf-8") as fh:
        return {row["customer_id"]: row["coupon_code"] for row in csv.DictReader(fh)}


@pytest.fixture
def nights(write_orders) -> tuple[Path, Path, Path]:
    first = write_orders("night1.csv", [(f"O{i}", f"C{i}", "2026-03-01", f"{10 + i}.00", "paid", "")
                                        for i in range(1, 5)])
    second = write_orders("night2.csv", [(f"P{i}", f"D{i}", "2026-03-02", f"{20 + i}.00", "paid", "")
                                         for i in range(1, 4)])
    codes = Path("codes.txt")
    codes.write_text("code\n" + "".join(f"WB{i:03d}\n" for i in range(1, 11)), encoding="utf-8")
    return first, second, codes


def test_two_nights_never_reissue_a_code_and_codes_left_is_true(rfm, nights) -> None:
    first, second, codes = nights
    args = ("--channel", "coupon", "--codes", codes, "--db", "shop.duckdb")
    assert rfm("run", first, "--out-dir", "n1", *args).returncode == 0
    night1 = _codes(Path("n1"))
    # every customer of night 1 is potential (one order, recent): 4 codes issued, 6 left
    assert sorted(night1.values()) == ["WB001", "WB002", "WB003", "WB004"]
    assert json.loads(Path("n1/manifest.json").read_text())["coupon_codes_left"] == 6

    done = rfm("run", second, "--out-dir", "n2", *args)
    assert done.returncode == 0, done.stderr
    night2 = _codes(Path("n2"))
    # night 2 lists all 7 potential customers; only 6 codes were never issued: the old customers
    # keep nothing of night 1's codes, and the one left without a code is counted, not given a repeat
    assert not set(night2.values()) & set(night1.values())
    assert sorted(night2.values()) == [f"WB{i:03d}" for i in range(5, 11)]
    manifest = json.loads(Path("n2/manifest.json").read_text())
    assert manifest["coupon_codes_left"] == 0
    [entry] = [f for f in manifest["files"] if f["path"] == "send/coupon/potential.csv"]
    assert entry["dropped"] == {"no coupon code left": 1}


def test_rerunning_the_same_night_writes_the_same_codes(rfm, nights) -> None:
    first, _, codes = nights
    args = ("--channel", "coupon", "--codes", codes, "--db", "shop.duckdb")
    assert rfm("run", first, "--out-dir", "a", *args).returncode == 0
    assert rfm("export", "--out-dir", "b", *args).returncode == 0  # the same as-of date: given back
    coupon = Path("send") / "coupon" / "potential.csv"
    assert (Path("a") / coupon).read_bytes() == (Path("b") / coupon).read_bytes()
    assert json.loads(Path("b/manifest.json").read_text())["coupon_codes_left"] == 6


def test_export_and_a_later_export_share_the_ledger(rfm, nights) -> None:
    first, second, codes = nights
    assert rfm("import", first, "--db", "shop.duckdb").returncode == 0
    assert rfm("export", "--out-dir", "a", "--channel", "coupon", "--codes", codes, "--db", "shop.duckdb",
               ).returncode == 0
    assert rfm("import", second, "--db", "shop.duckdb").returncode == 0
    out = rfm("export", "--tier", "potential", "--channel", "coupon", "--codes", codes, "-o", "-",
              "--db", "shop.duckdb")
    assert out.returncode == 0, out.stderr
    streamed = {row["customer_id"]: row["coupon_code"] for row in csv.DictReader(out.stdout.splitlines())}
    assert not set(streamed.values()) & set(_codes(Path("a")).values())
