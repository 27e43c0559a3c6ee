"""Rules in words, in English and Chinese, for people who read the report rather than the rules file:
`r_score <= 2` becomes "recency score at most 2" / "最近购买分不高于 2", a cut point
`recency_days > 30 and <= 60` becomes "31 to 60 days since the last order" / "距上次购买 31 至 60 天".

Conditions are read with rule_conditions.parse_condition (the same parse tree scoring uses) and walked here.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from rfm_cli.core.rule_conditions import parse_condition

FIELD_WORDS = {
    "en": {"r_score": "recency score", "f_score": "frequency score", "m_score": "monetary score",
           "recency_days": "days since the last order", "frequency": "orders", "monetary": "spend"},
    "zh": {"r_score": "最近购买分", "f_score": "购买频次分", "m_score": "消费金额分",
           "recency_days": "距上次购买天数", "frequency": "购买次数", "monetary": "消费金额"},
}
OPERATOR_WORDS = {
    "en": {ast.Lt: "below", ast.LtE: "at most", ast.Gt: "above", ast.GtE: "at least", ast.Eq: "is",
           ast.NotEq: "is not", ast.In: "is one of", ast.NotIn: "is none of"},
    "zh": {ast.Lt: "低于", ast.LtE: "不高于", ast.Gt: "高于", ast.GtE: "不低于", ast.Eq: "为",
           ast.NotEq: "不为", ast.In: "为以下之一：", ast.NotIn: "不为以下任何一个："},
}
JOIN_WORDS = {"en": {"and": " and ", "or": " or ", "not": "not ({})", "true": "everyone else",
                     "false": "no one", "list": ", "},
              "zh": {"and": "，且", "or": "，或", "not": "并非（{}）", "true": "其余所有客户",
                     "false": "没有客户", "list": "、"}}
DIMENSION_WORDS = {"en": {"recency": "recency", "frequency": "frequency", "monetary": "spend"},
                   "zh": {"recency": "最近购买", "frequency": "购买频次", "monetary": "消费金额"}}
METHOD_WORDS = {"en": {"fixed": "fixed bands", "quantile": "by rank, in fifths", "frozen": "frozen bands"},
                "zh": {"fixed": "固定分档", "quantile": "按排名五等分", "frozen": "冻结的分档"}}
REASON_WORDS_ZH = {"cancelled": "已取消", "unpaid": "未付款", "refunded": "已退款",
                   "fully refunded": "全额退款", "zero amount": "金额为零", "no customer id": "无客户标识"}


_FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}


def number(value: Any) -> str:
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def _words(node: ast.AST, lang: str) -> str:
    join = JOIN_WORDS[lang]
    match node:
        case ast.BoolOp(op=op, values=items):
            return join["and" if isinstance(op, ast.And) else "or"].join(_words(i, lang) for i in items)
        case ast.UnaryOp(op=ast.Not(), operand=inner):
            return join["not"].format(_words(inner, lang))
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=value)):
            return number(-value)
        case ast.Constant(value=bool() as value):
            return join["true" if value else "false"]
        case ast.Constant(value=value):
            return number(value)
        case ast.Name(id=name):
            return FIELD_WORDS[lang][name]
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return join["list"].join(_words(e, lang) for e in elts)
        case ast.Compare(left=left, ops=ops, comparators=rights):
            parts, current = [], left
            for op, right in zip(ops, rights):
                subject, kind, value = current, type(op), right
                if isinstance(subject, ast.Constant | ast.UnaryOp) and isinstance(value, ast.Name):
                    subject, kind, value = value, _FLIPPED.get(kind, kind), subject  # 1 <= x: x at least 1
                # Chinese puts no space between words: 最近购买分不高于 2
                before = " " if lang == "en" else ""
                after = "" if lang == "zh" and kind in (ast.In, ast.NotIn) else " "
                parts.append(f"{_words(subject, lang)}{before}{OPERATOR_WORDS[lang][kind]}{after}"
                             f"{_words(value, lang)}")
                current = right
            return join["and"].join(parts)
    raise AssertionError(f"unchecked node {ast.dump(node)}")


def condition_words(text: str, lang: str = "en") -> str:
    """A tier's `when` in words: `f_score >= 4 and m_score >= 4` -> "frequency score at least 4 and
    monetary score at least 4"."""
    return _words(parse_condition(text, "rule").tree, lang)


def _fixed_band(dimension: str, breakpoints: list[float], score: int, lang: str) -> str:
    edges = [-math.inf, *breakpoints, math.inf]
    en, zh = lang == "en", lang == "zh"
    if dimension == "recency":  # fewer days, higher score; whole days: > 30 and <= 60 is 31 to 60
        low, high = edges[5 - score], edges[6 - score]
        unit = " days since the last order" if en else " 天"
        if low == -math.inf:
            return f"at most {number(high)}{unit}" if en else f"距上次购买不超过 {number(high)}{unit}"
        if high == math.inf:
            return f"over {number(low)}{unit}" if en else f"距上次购买超过 {number(low)}{unit}"
        first = number(math.floor(low) + 1) if float(low).is_integer() else f"over {number(low)}"
        return f"{first} to {number(high)}{unit}" if en else f"距上次购买 {first} 至 {number(high)}{unit}"
    low, high = edges[score - 1], edges[score]
    if dimension == "frequency" and all(float(e).is_integer() for e in (low, high) if math.isfinite(e)):
        return _orders_band(low, high, lang)  # whole orders: >= 4 and < 6 is 4 to 5 orders
    if low == -math.inf:
        return f"spend below {number(high)}" if en else f"消费金额低于 {number(high)}"
    if high == math.inf:
        return f"spend at least {number(low)}" if en else f"消费金额不低于 {number(low)}"
    if zh:
        return f"消费金额 {number(low)} 至 {number(high)}（不含 {number(high)}）"
    return f"spend from {number(low)} to below {number(high)}"


def _orders_band(low: float, high: float, lang: str) -> str:
    en = lang == "en"
    if low == -math.inf:
        return f"fewer than {number(high)} orders" if en else f"少于 {number(high)} 笔订单"
    if high == math.inf:
        return f"at least {number(low)} orders" if en else f"至少 {number(low)} 笔订单"
    if high - 1 == low:
        return (f"{number(low)} order" + ("s" if low != 1 else "")) if en else f"{number(low)} 笔订单"
    if en:
        return f"{number(low)} to {number(high - 1)} orders"
    return f"{number(low)} 至 {number(high - 1)} 笔订单"


def band_words(cut: dict[str, Any], rules: dict[str, Any], lang: str = "en") -> str:
    """One cut point row (report's cut_points) in words, with the rules (RuleSet.to_dict) in force."""
    dimension = cut["dimension"]
    rule = rules[dimension]
    if rule.get("breakpoints"):
        return _fixed_band(dimension, rule["breakpoints"], cut["score"], lang)
    if cut["min_value"] is None:
        return "no customers" if lang == "en" else "无客户"
    shown = (lambda v: f"{v:,.2f}") if dimension == "monetary" else number  # money always with its cents
    low, high = shown(cut["min_value"]), shown(cut["max_value"])
    what = {"en": {"recency": "days since the last order", "frequency": "orders", "monetary": "spend"},
            "zh": FIELD_WORDS["zh"] | {"recency": "距上次购买天数"}}[lang][dimension]
    return f"{what} {low} to {high}" if lang == "en" else f"{what} {low} 至 {high}"


def source_words(source: str, lang: str) -> str:
    """Where the rules came from: `built-in tiers rules` / 内置规则, or the rules file's path."""
    if source.startswith("built-in"):
        return "built-in rules" if lang == "en" else "内置规则"
    return f"rules file {source}" if lang == "en" else f"规则文件 {source}"


def scheme_words(scheme: str, lang: str) -> str:
    names = {"en": {"tiers": "four tiers", "classic": "classic segments"},
             "zh": {"tiers": "四个层级", "classic": "经典 11 类客户"}}[lang]
    return names.get(scheme, scheme)


def reason_words(reason: str, lang: str) -> str:
    return REASON_WORDS_ZH.get(reason, reason) if lang == "zh" else reason
