"""rfm report: every number it shows, checked against a hand-worked fixture and against the database.

The browser half (the HTML drawn in headless Chromium) is in test_report_browser.py.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "orders.csv"

# Ten customers, worked by hand (amounts in yuan, as of 2024-03-31):
#   A  Jan 100, Feb 50, Mar 30            -> 3 orders, 180, cohort Jan, active Jan Feb Mar
#   B  Jan 200, Mar 100 fully refunded     -> 1 order, 200, cohort Jan (the March order does not count)
#   C  Feb 60                               -> cohort Feb
#   D  Feb 40 cancelled, Mar 70             -> 1 order, 70, cohort Mar (a cancelled order is no first order)
#   E..J  one March order each: 10 20 25 35 45 1000
HAND_ROWS = [
    ("A1", "A", "2024-01-05 10:00:00", "100.00", "paid", ""),
    ("A2", "A", "2024-02-10 10:00:00", "50.00", "paid", ""),
    ("A3", "A", "2024-03-15 10:00:00", "30.00", "paid", ""),
    ("B1", "B", "2024-01-20 10:00:00", "200.00", "paid", ""),
    ("B2", "B", "2024-03-02 10:00:00", "100.00", "paid", "100.00"),
    ("C1", "C", "2024-02-01 10:00:00", "60.00", "paid", ""),
    ("D1", "D", "2024-02-14 10:00:00", "40.00", "cancelled", ""),
    ("D2", "D", "2024-03-01 10:00:00", "70.00", "paid", ""),
    ("E1", "E", "2024-03-05 10:00:00", "10.00", "paid", ""),
    ("F1", "F", "2024-03-06 10:00:00", "20.00", "paid", ""),
    ("G1", "G", "2024-03-07 10:00:00", "25.00", "paid", ""),
    ("H1", "H", "2024-03-08 10:00:00", "35.00", "paid", ""),
    ("I1", "I", "2024-03-09 10:00:00", "45.00", "paid", ""),
    ("J1", "J", "2024-03-10 10:00:00", "1000.00", "paid", ""),
]


@pytest.fixture
def hand_report(rfm, write_orders, tmp_path):
    orders = write_orders("orders.csv", HAND_ROWS)
    done = rfm("--db", tmp_path / "hand.duckdb", "import", orders)
    assert done.returncode == 0, done.stderr
    done = rfm("--db", tmp_path / "hand.duckdb", "report", "--as-of", "2024-03-31", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_hand_worked_totals_and_concentration(hand_report):
    t = hand_report["totals"]
    assert (t["customers"], t["orders"], t["revenue"]) == (10, 12, 1645.0)
    assert t["avg_order_value"] == round(1645 / 12, 2)
    assert t["repurchase_rate"] == pytest.approx(1 / 10)  # only A bought twice or more
    c = hand_report["concentration"]
    assert c["top_10pct"] == {"customers": 1, "revenue": 1000.0, "revenue_share": pytest.approx(1000 / 1645)}
    assert c["top_20pct"] == {"customers": 2, "revenue": 1200.0, "revenue_share": pytest.approx(1200 / 1645)}
    curve = hand_report["pareto"]
    assert len(curve) == 101 and curve[0] == {"customer_share": 0.0, "revenue_share": 0.0}
    assert curve[-1]["revenue_share"] == pytest.approx(1.0)
    assert curve[50]["revenue_share"] == pytest.approx((1000 + 200 + 180 + 70 + 60) / 1645)  # top 5 of 10


def test_hand_worked_months_and_cohorts(hand_report):
    assert hand_report["monthly"] == [
        {"month": "2024-01", "active_customers": 2, "new_customers": 2, "returning_customers": 0, "orders": 2,
         "revenue": 300.0, "repurchase_rate": 0.0},
        {"month": "2024-02", "active_customers": 2, "new_customers": 1, "returning_customers": 1, "orders": 2,
         "revenue": 110.0, "repurchase_rate": 0.5},
        {"month": "2024-03", "active_customers": 8, "new_customers": 7, "returning_customers": 1, "orders": 8,
         "revenue": 1235.0, "repurchase_rate": 1 / 8},
    ]
    assert hand_report["cohorts"] == [
        {"cohort": "2024-01", "customers": 2, "retention": [1.0, 0.5, 0.5]},
        {"cohort": "2024-02", "customers": 1, "retention": [1.0]},
        {"cohort": "2024-03", "customers": 7, "retention": [1.0]},
    ]


def test_hand_worked_data_quality_reconciles(hand_report):
    q = hand_report["data_quality"]
    assert q["files"] == 1 and q["rows_read"] == len(HAND_ROWS)
    assert q["excluded_by_reason"] == {"cancelled": 1, "fully refunded": 1}
    assert q["rows_read"] == q["imported"] + q["duplicates"] + q["excluded"] + q["rejected"]
    assert hand_report["moves"] is None  # `rfm import` takes no snapshot


# ------------------------------------------------------------------ the sample data, against the database


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """The sample data run twice (two snapshots), the report as JSON and the scores as CSV."""

    work = tmp_path_factory.mktemp("report")
    db = work / "rfm.duckdb"

    def rfm(*args):
        done = invoke(["--db", db, *args], cwd=work)
        assert done.returncode == 0, done.stderr
        return done

    rfm("run", SAMPLE, "--out-dir", work / "early", "--as-of", "2026-09-30")
    rfm("run", SAMPLE, "--out-dir", work / "late")
    report = json.loads(rfm("report", "--format", "json").stdout)
    scores = list(csv.DictReader(io.StringIO(rfm("score", "-o", "-").stdout)))
    moves = list(csv.DictReader(io.StringIO(rfm("moves", "-o", "-").stdout)))
    return {"db": db, "report": report, "scores": scores, "moves": moves, "rfm": rfm, "work": work}


def test_tiers_match_the_scores(sample_db):
    report, scores = sample_db["report"], sample_db["scores"]
    per_tier = defaultdict(list)
    for row in scores:
        per_tier[row["tier"]].append(row)
    total_revenue = sum(float(r["monetary"]) for r in scores)
    assert [t["tier"] for t in report["tiers"]] == ["dormant", "diamond", "gold", "potential"]
    for t in report["tiers"]:
        rows = per_tier[t["tier"]]
        revenue = sum(float(r["monetary"]) for r in rows)
        orders = sum(int(r["frequency"]) for r in rows)
        assert t["customers"] == len(rows) > 0
        assert t["customer_share"] == pytest.approx(len(rows) / len(scores))
        assert t["revenue"] == pytest.approx(revenue, abs=0.01)
        assert t["revenue_share"] == pytest.approx(revenue / total_revenue)
        assert t["orders"] == orders
        assert t["avg_order_value"] == pytest.approx(revenue / orders, abs=0.01)
        assert t["avg_recency_days"] == pytest.approx(sum(int(r["recency_days"]) for r in rows) / len(rows),
                                                      abs=0.05)
        assert t["repurchase_rate"] == pytest.approx(sum(int(r["frequency"]) >= 2 for r in rows) / len(rows))
    assert report["totals"]["customers"] == len(scores)
    assert report["totals"]["revenue"] == pytest.approx(total_revenue, abs=0.01)


def test_rf_grid_and_concentration_match_the_scores(sample_db):
    report, scores = sample_db["report"], sample_db["scores"]
    cells = {(c["r_score"], c["f_score"]): c for c in report["rf_grid"]}
    assert len(cells) == 25
    for r in range(1, 6):
        for f in range(1, 6):
            rows = [s for s in scores if int(s["r_score"]) == r and int(s["f_score"]) == f]
            assert cells[(r, f)]["customers"] == len(rows)
            assert cells[(r, f)]["revenue"] == pytest.approx(sum(float(s["monetary"]) for s in rows),
                                                             abs=0.01)
    spend = sorted((float(s["monetary"]) for s in scores), reverse=True)
    for key, share in (("top_10pct", 0.1), ("top_20pct", 0.2)):
        k = math.ceil(len(spend) * share)
        assert report["concentration"][key]["customers"] == k
        assert report["concentration"][key]["revenue_share"] == pytest.approx(sum(spend[:k]) / sum(spend))


def _counted_orders(db: Path, as_of: date) -> list[tuple[str, date, float]]:
    """(customer, day, net) of every counted order, worked out here in Python from the raw tables."""
    con = duckdb.connect(str(db), read_only=True)
    refunds = defaultdict(float)
    for order_id, amount in con.execute("SELECT order_id, amount FROM rfm_refunds").fetchall():
        refunds[order_id] += float(amount)
    out = []
    rows = con.execute(
        "SELECT order_id, customer_id, ordered_at, amount, refund_amount, status FROM rfm_orders "
        "WHERE customer_id IS NOT NULL").fetchall()
    con.close()
    for order_id, customer, at, amount, refund, status in rows:
        net = float(amount) - float(refund) - refunds[order_id]
        if status == "counted" and net > 0 and at.date() <= as_of:
            out.append((customer, at.date(), net))
    return out


def test_months_and_cohorts_match_the_orders(sample_db):
    report = sample_db["report"]
    orders = _counted_orders(sample_db["db"], date.fromisoformat(report["as_of"]))
    first = {}
    for customer, day, _ in orders:
        first[customer] = min(first.get(customer, day), day)
    active = defaultdict(set)
    revenue = defaultdict(float)
    for customer, day, net in orders:
        active[day.strftime("%Y-%m")].add(customer)
        revenue[day.strftime("%Y-%m")] += net
    assert [m["month"] for m in report["monthly"]] == sorted(active)
    for m in report["monthly"]:
        new = {c for c in active[m["month"]] if first[c].strftime("%Y-%m") == m["month"]}
        assert (m["active_customers"], m["new_customers"]) == (len(active[m["month"]]), len(new))
        assert m["returning_customers"] == len(active[m["month"]]) - len(new)
        assert m["revenue"] == pytest.approx(revenue[m["month"]], abs=0.01)
    months = sorted(active)
    for cohort in report["cohorts"]:
        members = {c for c, d in first.items() if d.strftime("%Y-%m") == cohort["cohort"]}
        assert cohort["customers"] == len(members)
        start = months.index(cohort["cohort"])
        for k, share in enumerate(cohort["retention"]):
            later = months[start + k] if start + k < len(months) else None
            expected = len(members & active[later]) / len(members) if later else 0.0
            # months with no orders at all are absent from `months`; the sample has none
            assert share == pytest.approx(expected), (cohort["cohort"], k)


def test_moves_match_rfm_moves(sample_db):
    report, moves = sample_db["report"], sample_db["moves"]
    assert report["moves"]["from"] == "2026-09-30" and report["moves"]["to"] == report["as_of"]
    table = {row["from_tier"]: row for row in moves}
    for from_tier, counts in zip(report["moves"]["rows"], report["moves"]["customers"], strict=True):
        for to_tier, n in zip(report["moves"]["columns"], counts, strict=True):
            assert int(table[from_tier][to_tier]) == n


def test_data_quality_reconciles_with_the_file(sample_db):
    q = sample_db["report"]["data_quality"]
    lines = SAMPLE.read_text(encoding="utf-8").count("\n") - 1  # minus the header
    assert q["files"] == 1  # the second run skipped the same bytes
    assert q["rows_read"] == lines
    assert q["rows_read"] == q["imported"] + q["duplicates"] + q["excluded"] + q["rejected"]
    assert sum(q["excluded_by_reason"].values()) == q["excluded"]


def test_cut_points_are_the_scores_cut_points(sample_db):
    report = sample_db["report"]
    assert len(report["cut_points"]) == 15
    counts = defaultdict(int)
    for s in sample_db["scores"]:
        counts[("monetary", int(s["m_score"]))] += 1
    for row in report["cut_points"]:
        if row["dimension"] == "monetary":
            assert row["customers"] == counts[("monetary", row["score"])]


# ------------------------------------------------------------ HTML: self-contained, small, in both languages


@pytest.fixture(scope="module")
def pages(sample_db):
    work = sample_db["work"]
    sample_db["rfm"]("report", "--html", work / "en.html")
    sample_db["rfm"]("report", "--html", work / "zh.html", "--lang", "zh")
    return {lang: (work / f"{lang}.html").read_text(encoding="utf-8") for lang in ("en", "zh")}


EXPECTED_CHARTS = ["chart-tiers", "chart-revenue", "chart-rf", "chart-pareto", "chart-monthly",
                   "chart-cohorts", "chart-moves"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_is_self_contained(pages, lang):
    page = pages[lang]
    assert page.startswith("<!DOCTYPE html>")
    # no network: nothing loaded from elsewhere
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", page,
                         re.IGNORECASE)
    # plotly.js is inline (its own source names URLs it would only fetch for maps, which we never draw)
    assert page.count('<script type="text/javascript">') == 1 and "Plotly.newPlot" in page
    assert set(re.search(r"<main data-charts=\"([^\"]+)\"", page).group(1).split()) == set(EXPECTED_CHARTS)
    for chart in EXPECTED_CHARTS:
        assert f'id="{chart}"' in page
    assert len(page.encode("utf-8")) < 6_000_000


def test_html_never_carries_customers(pages, sample_db):
    ids = {s["customer_id"] for s in sample_db["scores"]}
    names = {s["customer_name"] for s in sample_db["scores"] if s["customer_name"]}
    # One pass over each page (a 5 MB page scanned once per customer took 30 s): every quoted or
    # tag-delimited token, and one alternation of every name.
    name_pattern = re.compile("|".join(sorted((re.escape(n) for n in names if len(n) >= 2), key=len,
                                              reverse=True)))
    for page in pages.values():
        # customer ids look like C00001: none of them, nor any customer's name, is in the page
        tokens = (set(re.findall(r'(?<=")([^"<>]{1,64})(?=")', page))
                  | set(re.findall(r">([^<>]{1,64})<", page)))
        assert not ids & tokens
        assert name_pattern.search(page) is None


def test_html_labels_follow_the_language(pages):
    for word in ("钻石", "黄金", "潜力", "休眠", "客户分层报告", "复购率", "同期群留存",
                 "各项数字的计算方法"):
        assert word in pages["zh"]
    assert 'lang="zh-CN"' in pages["zh"] and 'lang="en"' in pages["en"]
    assert "Customer tiers report" in pages["en"] and "钻石" not in pages["en"].split("<body>")[1]


def test_html_is_deterministic(sample_db, pages):
    work = sample_db["work"]
    sample_db["rfm"]("report", "--html", work / "again.html")
    assert (work / "again.html").read_text(encoding="utf-8") == pages["en"]


def test_html_numbers_are_the_json_numbers(sample_db, pages):
    report = sample_db["report"]
    summary = re.search(r'<script type="application/json" id="rfm-summary">(.*?)</script>',
                        pages["en"]).group(1)
    assert json.loads(summary)["totals"] == report["totals"]
    for t in report["tiers"]:
        assert f"{t['customers']:,}" in pages["en"] and f"{t['revenue']:,.2f}" in pages["en"]


def _visible_text(page: str) -> str:
    """What a reader sees: no scripts, styles or tags, entities decoded."""
    import html as html_lib

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


# ASCII a Chinese reader is expected to see: the score letters, the method's name, the tool's own
# name in "由 rfm 生成" and the command "rfm run".
ZH_ALLOWED_ASCII = {"R", "F", "M", "RFM", "CSV", "rfm", "run"}


def test_zh_html_has_no_english_words(pages):
    text = _visible_text(pages["zh"])
    words = set(re.findall(r"[A-Za-z_][A-Za-z_-]*", text))
    assert words <= ZH_ALLOWED_ASCII, sorted(words - ZH_ALLOWED_ASCII)
    assert "`" not in text
    for said in ("最近购买分不高于 2", "其余所有客户", "距上次购买 31 至 60 天", "按排名五等分", "内置规则"):
        assert said in text, said


def test_html_rules_read_as_words(pages):
    # The rules and cut points (the method notes below them may name the fields, for analysts)
    sections = re.findall(r'<section id="(?:tiers|cuts)">.*?</section>', pages["en"], flags=re.DOTALL)
    text = _visible_text(" ".join(sections))
    for field in ("r_score", "f_score", "m_score", "recency_days", "quantile band", "`"):
        assert field not in text, field
    for said in ("recency score at most 2", "frequency score at least 4 and monetary score at least 4",
                 "everyone else", "31 to 60 days since the last order", "4 to 5 orders"):
        assert said in text, said
    assert not re.search(r"\btrue\b", text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_charts_have_no_toolbar_but_keep_hover(pages, lang):
    page = pages[lang]
    assert page.count('"displayModeBar": false') == len(EXPECTED_CHARTS)
    assert page.count("hovertemplate") >= len(EXPECTED_CHARTS)


@pytest.mark.parametrize("scheme", ["tiers", "classic"])
def test_every_built_in_rule_reads_in_words(scheme):
    from rfm_cli.core.rules import load_rules
    from rfm_cli.core.rules_words import band_words, condition_words

    rules = load_rules(scheme)
    for tier in rules.tiers:
        assert not re.search(r"[A-Za-z]", condition_words(tier.when.text, "zh")), tier.name
        assert "_" not in condition_words(tier.when.text, "en"), tier.name
    spec = rules.to_dict()
    for dimension in ("recency", "frequency"):
        for score in range(1, 6):
            cut = {"dimension": dimension, "score": score, "min_value": None, "max_value": None}
            assert not re.search(r"[A-Za-z]", band_words(cut, spec, "zh")), (dimension, score)


def test_methods_cover_every_number_in_both_languages():
    from rfm_cli.core.report import METHODS
    from rfm_cli.core.report_labels import LABELS, METHOD_TITLES, METHODS_ZH

    assert set(METHODS) == set(METHODS_ZH) == set(METHOD_TITLES["en"]) == set(METHOD_TITLES["zh"])
    assert set(LABELS["en"]) == set(LABELS["zh"])


# ------------------------------------------------------------------ the command-line contract


def test_terminal_report_is_on_stderr_only(sample_db, rfm):
    done = rfm("--db", sample_db["db"], "report")
    assert done.returncode == 0 and done.stdout == ""
    for words in ("Tiers", "R x F grid", "top 10% of customers", "Cut points in force", "Data quality"):
        assert words in done.stderr
    zh = rfm("--db", sample_db["db"], "report", "--lang", "zh")
    assert zh.stdout == "" and "钻石" in zh.stderr and "复购率" in zh.stderr


def test_report_of_files_in_memory(rfm, tmp_path):
    done = rfm("report", SAMPLE, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["customers"] > 900
    assert not (tmp_path / "rfm.duckdb").exists()  # nothing written


def test_report_errors_follow_the_contract(rfm, tmp_path, assert_cli_error):
    assert_cli_error(rfm("--db", tmp_path / "none.duckdb", "report"), 66)
    assert_cli_error(rfm("report", SAMPLE, "--lang", "fr"), 2)
    assert_cli_error(rfm("report", SAMPLE, "--format", "xml"), 2)


def test_failed_html_write_exits_73_and_leaves_nothing(rfm, tmp_path, assert_cli_error):
    (tmp_path / "a_file").write_text("not a folder\n")
    line = assert_cli_error(rfm("report", SAMPLE, "--html", "a_file/r.html"), 73)
    assert "r.html" in line
    (tmp_path / "taken").mkdir()
    assert_cli_error(rfm("report", SAMPLE, "--html", "taken"), 73)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "taken"]
    assert list((tmp_path / "taken").iterdir()) == []


def test_html_without_snapshots_says_how_to_get_moves(rfm, tmp_path):
    done = rfm("report", SAMPLE, "--html", "r.html")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    charts = re.search(r"<main data-charts=\"([^\"]+)\"", page).group(1).split()
    assert "chart-moves" not in charts and set(charts) == set(EXPECTED_CHARTS) - {"chart-moves"}
    assert "Tier moves need two snapshots" in page
