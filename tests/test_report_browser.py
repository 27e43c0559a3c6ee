"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

Every chart the page lists must be drawn, the console must stay free of errors, no request may leave
the file (the report opens offline), and Chinese labels must render as glyphs, not boxes. A full-page
screenshot of each language is saved (in the test's tmp folder, and in $RFM_SCREENSHOTS when set).

Without a Chromium on the machine the tests skip, unless RFM_REQUIRE_BROWSER=1 (`.ci/run` sets it
after installing Chromium), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "orders.csv"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)

if CHROMIUM is None:
    if os.environ.get("RFM_REQUIRE_BROWSER"):
        pytest.fail("RFM_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium)",
                    pytrace=False)
    pytest.skip("no chromium on this machine (apt-get install chromium fonts-noto-cjk)",
                allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")

TIERS_ZH = ["钻石", "黄金", "潜力", "休眠"]

DRAWN = """() => {
  const ids = document.querySelector('main').dataset.charts.split(' ');
  return ids.map(id => {
    const div = document.getElementById(id);
    const svg = div && div.querySelector('svg.main-svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {id, width: box.width, height: box.height,
            marks: div ? div.querySelectorAll('g.trace, g.hm').length : 0,
            text: div ? div.textContent : ''};
  });
}"""

# Draw each character on a canvas in the page's font: real glyphs give distinct, non-empty pictures;
# a missing font gives the same empty box for all of them.
GLYPHS = """(chars) => {
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext('2d');
  ctx.font = '48px ' + getComputedStyle(document.body).fontFamily;
  return chars.map(ch => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.fillText(ch, 4, 52);
    const data = ctx.getImageData(0, 0, 64, 64).data;
    let inked = 0, hash = 0;
    for (let i = 3; i < data.length; i += 4) { if (data[i]) { inked++; hash = (hash * 31 + i) | 0; } }
    return inked + ':' + hash;
  });
}"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """The sample data run on two days (so there are tier moves), and the report in both languages."""
    work = tmp_path_factory.mktemp("browser")
    db = work / "rfm.duckdb"

    def rfm(*args) -> None:
        done = invoke(["--db", db, *args], cwd=work)
        assert done.returncode == 0, done.stderr

    rfm("run", SAMPLE, "--out-dir", work / "early", "--as-of", "2026-09-30")
    rfm("run", SAMPLE, "--out-dir", work / "late")
    rfm("report", "--html", work / "report-en.html")
    rfm("report", "--html", work / "report-zh.html", "--lang", "zh")
    return {"en": work / "report-en.html", "zh": work / "report-zh.html"}


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _open(browser, path: Path):
    """The page loaded offline: every request that is not the file itself is refused and recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    outside: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(
        "() => document.querySelector('main').dataset.charts.split(' ')"
        ".every(id => document.querySelector('#' + id + ' svg.main-svg'))",
        timeout=30_000,
    )
    return page, problems, outside


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_chart_is_drawn_offline_without_errors(browser, reports, lang, tmp_path):
    page, problems, outside = _open(browser, reports[lang])
    charts = page.evaluate(DRAWN)
    assert [c["id"] for c in charts] == ["chart-tiers", "chart-revenue", "chart-rf", "chart-monthly",
                                         "chart-cohorts", "chart-pareto", "chart-moves"]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 300, chart["id"]
        assert chart["marks"] > 0, f"{chart['id']} has no trace drawn"
    assert problems == []
    assert outside == []
    shot = tmp_path / f"report-{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000  # a whole page of charts, not a blank
    if os.environ.get("RFM_SCREENSHOTS"):
        target = Path(os.environ["RFM_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)
    page.close()


def test_chinese_labels_render_as_glyphs(browser, reports):
    page, problems, _ = _open(browser, reports["zh"])
    charts = {c["id"]: c for c in page.evaluate(DRAWN)}
    for tier in TIERS_ZH:  # the tier names are in the charts' own text, not only in the tables
        assert tier in charts["chart-tiers"]["text"] and tier in charts["chart-revenue"]["text"]
    pictures = page.evaluate(GLYPHS, ["钻", "石", "黄", "金", "潜", "力", "休", "眠"])
    assert all(not p.startswith("0:") for p in pictures), pictures
    assert len(set(pictures)) == len(pictures), "CJK characters draw as identical boxes: no Chinese font"
    assert problems == []
    page.close()
