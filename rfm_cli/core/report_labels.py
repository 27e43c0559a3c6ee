"""The words of `rfm report`, in English and Chinese; the terminal and the HTML report share them."""

from __future__ import annotations

from typing import Any

LANGS = ("en", "zh")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Customer tiers report",
        "as_of": "as of",
        "scheme": "scheme",
        "tier": "tier",
        "customers": "customers",
        "share": "share",
        "revenue": "revenue",
        "revenue_share": "revenue share",
        "orders": "orders",
        "aov": "avg order value",
        "avg_recency": "avg recency (days)",
        "repurchase": "repurchase rate",
        "total": "all customers",
        "tiers_title": "Tiers",
        "tier_distribution": "Customers per tier",
        "revenue_by_tier": "Revenue per tier",
        "rf_grid": "R x F grid: customers (and revenue) per recency and frequency score",
        "r_score": "recency score (R)",
        "f_score": "frequency score (F)",
        "concentration": "Revenue concentration",
        "top10": "top 10% of customers",
        "top20": "top 20% of customers",
        "of_revenue": "of revenue",
        "cut_points": "Cut points in force",
        "dimension": "dimension",
        "score": "score",
        "method": "method",
        "rule": "rule",
        "range": "values",
        "data_quality": "Data quality of the imports",
        "files": "files",
        "rows_read": "rows read",
        "imported": "imported",
        "duplicates": "duplicates",
        "excluded": "excluded",
        "rejected": "rejected",
        "monthly": "New and returning customers per month",
        "month": "month",
        "new": "new customers",
        "returning": "returning customers",
        "repurchase_rate": "repurchase rate (returning / active)",
        "cohorts": "Cohort retention by first-order month",
        "cohort": "first-order month",
        "months_since": "months since first order",
        "retained": "bought again",
        "pareto": "Pareto curve: revenue share of the top customers",
        "customer_share_axis": "share of customers (highest revenue first)",
        "revenue_share_axis": "share of revenue",
        "equality": "every customer equal",
        "moves": "Tier moves between the last two snapshots",
        "moves_from": "tier on",
        "moves_to": "tier on",
        "no_moves": "Tier moves need two snapshots: rfm run stores one each day it runs.",
        "methods": "How each number was computed",
        "generated_by": "Made by rfm",
        "no_data": "no data",
        "new_tier": "(new)",
        "gone_tier": "(gone)",
    },
    "zh": {
        "title": "客户分层报告",
        "as_of": "截至",
        "scheme": "方案",
        "tier": "层级",
        "customers": "客户数",
        "share": "占比",
        "revenue": "销售额",
        "revenue_share": "销售额占比",
        "orders": "订单数",
        "aov": "客单价",
        "avg_recency": "平均最近购买（天）",
        "repurchase": "复购率",
        "total": "全部客户",
        "tiers_title": "客户层级",
        "tier_distribution": "各层级客户数",
        "revenue_by_tier": "各层级销售额",
        "rf_grid": "R × F 矩阵：各最近购买分与购买频次分的客户数（及销售额）",
        "r_score": "最近购买分 (R)",
        "f_score": "购买频次分 (F)",
        "concentration": "销售额集中度",
        "top10": "前 10% 客户",
        "top20": "前 20% 客户",
        "of_revenue": "的销售额",
        "cut_points": "当前分档切点",
        "dimension": "维度",
        "score": "分数",
        "method": "方法",
        "rule": "规则",
        "range": "取值",
        "data_quality": "导入数据质量",
        "files": "文件数",
        "rows_read": "读取行数",
        "imported": "导入",
        "duplicates": "重复",
        "excluded": "排除",
        "rejected": "无法读取",
        "monthly": "每月新客与回头客",
        "month": "月份",
        "new": "新客",
        "returning": "回头客",
        "repurchase_rate": "复购率（回头客 / 活跃客户）",
        "cohorts": "按首单月份的同期群留存",
        "cohort": "首单月份",
        "months_since": "距首单月数",
        "retained": "再次购买",
        "pareto": "帕累托曲线：头部客户的销售额占比",
        "customer_share_axis": "客户占比（按销售额从高到低）",
        "revenue_share_axis": "销售额占比",
        "equality": "完全平均",
        "moves": "最近两次快照之间的层级变动",
        "moves_from": "层级",
        "moves_to": "层级",
        "no_moves": "层级变动需要两次快照：每天运行 rfm run 时保存一次。",
        "methods": "各项数字的计算方法",
        "generated_by": "由 rfm 生成",
        "no_data": "无数据",
        "new_tier": "（新客户）",
        "gone_tier": "（已离开）",
    },
}

METHODS_ZH = {
    "counted_order": "计入订单：状态为有效（已付款、未取消、未全额退款），"
                     "扣除全部退款后金额大于零，且下单日不晚于截至日。",
    "revenue": "客户销售额即其消费金额 M：计入订单的净额之和，"
               "再减去未对应已存订单的退款（按平均客单价口径时为 M × 频次）。",
    "customer_share": "占比 = 该层级客户数 / 参与评分的客户数；销售额占比同理。",
    "avg_order_value": "客单价 = 该层级销售额 / 该层级计入订单数。",
    "avg_recency": "平均最近购买 = 距上次购买天数的平均值（截至日减去最后一笔计入订单的日期）。",
    "repurchase_rate": "复购率 = 计入订单两笔及以上的客户 / 客户数。",
    "rf_grid": "R × F 矩阵：每个 (R 分, F 分) 格子的客户数与销售额；分数规则见切点。",
    "concentration": "前 10% / 20%：按销售额从高到低排序，取前 客户数 × 10%（或 20%）向上取整 位客户，"
                     "其销售额 / 总销售额。",
    "pareto": "帕累托曲线：从 1% 到 100% 的每一个百分比，销售额最高的该比例客户所占的销售额比例。",
    "monthly": "按计入订单的自然月统计：活跃客户（当月有计入订单）、新客（首笔计入订单在当月）、"
               "回头客（首单更早）；"
               "当月复购率 = 回头客 / 活跃客户。此处销售额为当月计入订单的净额（不含未对应订单的退款）。"
               "截至日所在月份只统计到截至日。",
    "cohorts": "同期群留存：按首笔计入订单的月份分组；每一格为该组在首单后第几个月仍有计入订单的客户占比"
               "（首单当月为 100%）。",
    "moves": "层级变动：行是上一次快照中的层级（（新客户）= 上次不在），"
             "列是最近一次快照中的层级（（已离开）= 本次不在），快照由 rfm run 保存。",
    "data_quality": "数据质量汇总数据库中的全部导入：读取行数 = 导入 + 重复 + 排除 + 无法读取。",
}


METHOD_TITLES = {
    "en": {"counted_order": "Counted order", "revenue": "Revenue", "customer_share": "Shares",
           "avg_order_value": "Average order value", "avg_recency": "Average recency",
           "repurchase_rate": "Repurchase rate", "rf_grid": "R x F grid", "concentration": "Top 10% / 20%",
           "pareto": "Pareto curve", "monthly": "New and returning customers", "cohorts": "Cohort retention",
           "moves": "Tier moves", "data_quality": "Data quality"},
    "zh": {"counted_order": "计入订单", "revenue": "销售额", "customer_share": "占比",
           "avg_order_value": "客单价",
           "avg_recency": "平均最近购买", "repurchase_rate": "复购率", "rf_grid": "R × F 矩阵",
           "concentration": "前 10% / 20%", "pareto": "帕累托曲线", "monthly": "新客与回头客",
           "cohorts": "同期群留存", "moves": "层级变动", "data_quality": "数据质量"},
}


def pct(x: float | None) -> str:
    """A share as shown in every report: 0.4123 -> 41.2%."""
    return "" if x is None else f"{100 * x:.1f}%"


def excluded_text(quality: dict[str, Any], lang: str = "en") -> str:
    """Excluded rows with their reasons: `316 (cancelled 173, unpaid 71, …)`, `316（已取消 173、…）`."""
    from rfm_cli.core.rules_words import reason_words

    text = f"{quality['excluded']:,}"
    reasons = [f"{reason_words(k, lang)} {v:,}" for k, v in quality["excluded_by_reason"].items()]
    if reasons:
        text += f"（{'、'.join(reasons)}）" if lang == "zh" else f" ({', '.join(reasons)})"
    return text


def labels(lang: str) -> dict[str, str]:
    return LABELS[lang]


def methods(numbers: dict[str, Any], lang: str) -> dict[str, str]:
    """{title: how it was computed}, in the report's language."""
    texts = METHODS_ZH if lang == "zh" else numbers["methods"]
    return {METHOD_TITLES[lang][key]: text for key, text in texts.items()}


def tier_label(tier: str, label_zh: str, lang: str) -> str:
    """The tier as shown: its Chinese label in zh (when the rules give one), its name otherwise."""
    if tier == "(new)":
        return LABELS[lang]["new_tier"]
    if tier == "(gone)":
        return LABELS[lang]["gone_tier"]
    return (label_zh or tier) if lang == "zh" else tier
