"""The README's "Sending lawfully" examples run, in order, as a seller would type them (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

from test_readme import ROOT, rfm_lines, section, split_shell

EXAMPLES = rfm_lines(section("Sending lawfully"))


def test_the_sending_lawfully_examples_run_in_order(rfm, tmp_path: Path) -> None:
    assert len(EXAMPLES) == 7
    (tmp_path / "sample_data").mkdir()
    (tmp_path / "sample_data" / "orders.csv").write_bytes((ROOT / "sample_data" / "orders.csv").read_bytes())
    assert rfm("import", "sample_data/orders.csv", "-q").returncode == 0
    (tmp_path / "replies.csv").write_text("手机号码,上行内容,上行时间\n13842145006,R,2026-11-21 10:00:00\n",
                                          encoding="utf-8")
    for line in EXAMPLES:
        args, _, _ = split_shell(line)
        done = rfm(*args)
        assert done.returncode == 0, (line, done.stderr)
        if args[0] == "export" and "--template" in args:
            manifest = json.loads((tmp_path / "winback" / "manifest.json").read_text(encoding="utf-8"))
            # not expanded by a shell
            assert manifest["sending"]["template"].startswith("【小王的店】${name}")
    trail = json.loads(done.stdout)
    assert [row["command"] for row in trail] == ["export", "run", "export"]
