"""SMS replies that refuse further messages, from the reply exports of Aliyun, Tencent Cloud and Huawei
Cloud, into the suppression list with their date and source (issue 23)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from rfm_cli.core.compliance.replies import is_opt_out


@pytest.mark.parametrize("reply", ["R", "r", "Ｒ", " T ", "td", "ＴＤ", "N", "退", "退订", "退订。", "拒收",
                                   "STOP", "Stop!", "unsubscribe", "请帮我退订，谢谢", "拒收谢谢",
                                   "不要再发了", "stop sending me these", "【退订】", "不退订"])
def test_refusals(reply: str) -> None:
    assert is_opt_out(reply)


@pytest.mark.parametrize("reply", ["好的", "谢谢", "Roger", "Thanks", "什么时候发货？", "NO PROBLEM", "nice",
                                   "stopwatch", "", "   ", "TT", "退货怎么办"])
def test_other_replies_are_not_refusals(reply: str) -> None:
    assert not is_opt_out(reply)


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


ALIYUN = [["手机号码", "上行内容", "上行时间", "签名名称", "扩展号"],
          ["13812345678", "R", "2026-11-20 10:01:02", "小王的店", "01"],
          ["13912345678", "好的，谢谢", "2026-11-20 10:05:00", "小王的店", "01"],
          ["13712345678", "退订", "2026/11/21 8:00", "小王的店", "01"],
          ["138****5678", "TD", "2026-11-21 09:00:00", "小王的店", "01"]]
TENCENT = [["手机号", "回复内容", "回复时间", "签名", "国家码"],
           ["8613612345678", "ＴＤ", "2026-11-22 12:00:00", "小王的店", "86"],
           ["8613512345678", "拒收", "2026-11-22 12:30:00", "小王的店", "86"],
           ["8613812345678", "T", "2026-11-23 12:00:00", "小王的店", "86"]]  # refused again, later
HUAWEI = [["发送方号码", "上行内容", "上行时间", "通道号"],
          ["+8613412345678", "Unsubscribe", "2026-11-24T20:00:00", "1069"],
          ["+8613312345678", "在吗", "2026-11-24T20:01:00", "1069"]]


def write(tmp_path: Path, name: str, text: str, encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def listed(rfm, db: Path) -> list[dict[str, str]]:
    shown = rfm("suppress", "list", "--db", db)
    assert shown.returncode == 0, shown.stderr
    return list(csv.DictReader(io.StringIO(shown.stdout)))


def test_reply_exports_of_each_provider_go_to_the_suppression_list(rfm, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    aliyun = write(tmp_path, "aliyun.csv", "\ufeff" + _csv(ALIYUN), "utf-8")
    tencent = write(tmp_path, "tencent.csv", _csv(TENCENT), "gbk")
    huawei = write(tmp_path, "huawei.txt", "\ufeff" + _csv(HUAWEI, "\t"), "utf-16-le")

    first = rfm("suppress", "import-replies", aliyun, "--provider", "aliyun", "--db", db)
    assert first.returncode == 0 and first.stdout == "", first.stderr
    assert "2 refusals (2 numbers new" in first.stderr and "1 other reply counted" in first.stderr
    assert "masked 1 (first at line 5)" in first.stderr and "5678" not in first.stderr.replace("line 5", "")
    assert rfm("suppress", "import-replies", tencent, "--db", db).returncode == 0
    third = rfm("suppress", "import-replies", huawei, "--provider", "huawei", "--db", db)
    assert "1 refusal (1 number new" in third.stderr, third.stderr

    rows = {r["value"]: r for r in listed(rfm, db) if r["kind"] == "phone"}
    assert sorted(v for v in rows if not v.startswith("+")) == [
        "13412345678", "13512345678", "13612345678", "13712345678", "13812345678"]
    assert rows["+8613812345678"]["value"] in rows  # both forms are kept, as for `rfm suppress add`
    # The first refusal keeps its date and source: Tencent's later "T" from 13812345678 changes neither.
    assert rows["13812345678"]["opted_out_at"].startswith("2026-11-20 10:01:02")
    assert rows["13812345678"]["source"] == "sms reply (aliyun) aliyun.csv line 2"
    assert rows["13712345678"]["opted_out_at"].startswith("2026-11-21 08:00:00")
    assert rows["13612345678"]["source"] == "sms reply (auto) tencent.csv line 2"
    assert rows["13412345678"]["opted_out_at"].startswith("2026-11-24 20:00:00")
    assert "13912345678" not in rows and "13312345678" not in rows  # other replies are not stored
    assert not any("好的" in str(r) or "在吗" in str(r) for r in listed(rfm, db))


def test_refused_numbers_are_left_off_every_later_list(rfm, write_orders, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    header = ("order_id", "customer_id", "order_date", "amount", "status", "phone")
    orders = write_orders("orders.csv", [("O1", "C1", "2026-11-01", "10.00", "paid", "13812345678"),
                                         ("O2", "C2", "2026-11-02", "12.00", "paid", "13912345678")],
                          header=header)
    assert rfm("import", orders, "--db", db).returncode == 0
    replies = write(tmp_path, "r.csv", _csv(ALIYUN[:3]), "utf-8")
    assert rfm("suppress", "import-replies", replies, "--db", db).returncode == 0
    done = rfm("export", "--db", db, "--out-dir", "out", "--channel", "sms")
    assert done.returncode == 0, done.stderr
    phones = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out" / "send" / "sms").glob("*.csv"))
    assert "13912345678" in phones and "13812345678" not in phones


def test_a_file_without_a_reply_column_is_refused_and_changes_nothing(rfm, tmp_path: Path,
                                                                       assert_cli_error) -> None:
    db = tmp_path / "t.db"
    assert rfm("suppress", "add", "13000000000", "--db", db).returncode == 0
    before = db.read_bytes()
    wrong = write(tmp_path, "orders.csv", _csv([["手机号码", "金额"], ["13812345678", "10"]]), "utf-8")
    line = assert_cli_error(rfm("suppress", "import-replies", wrong, "--db", db), 65)
    assert "no content column" in line and "orders.csv" in line
    assert_cli_error(rfm("suppress", "import-replies", tmp_path / "missing.csv", "--db", db), 66)
    assert_cli_error(rfm("suppress", "import-replies", wrong, "--provider", "nokia", "--db", db), 2)
    assert db.read_bytes() == before
