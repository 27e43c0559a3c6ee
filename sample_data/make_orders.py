#!/usr/bin/env python3
"""Generate ``orders.csv``: a synthetic, deterministic e-commerce order export for ``rfm``.

What the file contains
----------------------
An order export already in rfm's canonical form (UTF-8 without BOM, comma separated, ``\\n`` line
ends), header::

    order_id,customer_id,order_date,amount,status,refund_amount,currency,customer_name,phone,email

* About 3,200 distinct orders from 1,000 customers (``C00001``.., numbered in the order they first
  bought) between 2024-11-21 and 2026-11-20, the last paid order falling on 2026-11-20 so that the
  default as-of date is always 2026-11-20. ``order_date`` is ``YYYY-MM-DD HH:MM:SS``; volume grows over
  the two years with spikes on 618 (June 18) and Double 11 (Nov 11, including a midnight rush where
  several orders share the same second).
* Skew: ~59% of customers have exactly one counted order; the repeat buyers follow a power law
  (2 orders .. 30 orders); ~3% are "VIP" big spenders, and some frequent buyers only buy cheap refills.
  Repeat buyers are either still active (last order within 90 days) or lapsed, so every tier of the
  default scheme (dormant / diamond / gold / potential) and every recency band (<=30, 31-60, 61-90,
  91-180, >180 days) is populated.
* Ties on purpose: prices come from a fixed catalogue (a popular 99.00 item among them), so many
  one-time buyers have exactly the same monetary, and same-day / same-second last orders occur.
* ``status``: mostly ``paid``; ``completed``/``shipped``/``delivered`` (depending on the order's age) also
  count as paid; about 4% ``cancelled``, 1% ``closed``, 2% ``unpaid``/``pending`` (``pending`` only in the
  last week), 2% ``refunded`` (fully; ``refund_amount`` = the order total, or blank). A few customers have
  only orders that do not count, and some lapsed customers have a recent non-counted order.
* ``refund_amount``: blank for most; ~4% of the paid orders carry a partial refund (0 < refund < total).
* Multi-line orders: ~10% of orders are exported as 2-4 rows sharing the ``order_id``; each row carries
  its line amount, the order-level fields are repeated on every row, ``refund_amount`` only on the first.
* 10 refund rows: a row with a NEGATIVE amount, status ``refunded``, blank ``refund_amount``, appended to
  an existing paid order (same ``order_id``, date and customer fields) -- a returned line. Eight return
  part of the order; two return the whole order, so that order nets to 0.00 and is not counted.
* Contacts: names are mostly Chinese (张伟 and 李娜 occur several times: names are not keys), a few
  English, and a few containing a comma or a double quote (exercising CSV quoting). Phones are CN
  mobiles (``1[3-9]`` + 9 digits), some blank, a few masked (``138****1234``). Emails are mostly
  present, some in mixed case, some blank. ``currency`` is ``CNY`` on every row.
* Amounts have two decimals; every positive row is within 19.90 .. 5000.00, as is every order total.

How it is made
--------------
Pure standard library (``random``, ``csv``), no dependence on the current date or time, and only
``random.Random(seed).random()`` is used for randomness (its sequence is the part Python guarantees to
keep stable across versions), with money in integer cents: the same seed gives the same bytes.

Usage::

    python sample_data/make_orders.py [--out PATH] [--seed N]

``--out`` defaults to ``orders.csv`` next to this script; ``--seed`` defaults to 20261120.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20261120
HEADER = [
    "order_id",
    "customer_id",
    "order_date",
    "amount",
    "status",
    "refund_amount",
    "currency",
    "customer_name",
    "phone",
    "email",
]

FIRST_DAY = dt.date(2024, 11, 21)
LAST_DAY = dt.date(2026, 11, 20)  # the latest paid order falls on this day
N_DAYS = (LAST_DAY - FIRST_DAY).days + 1  # 730

N_CUSTOMERS_COUNTED = 992  # customers with at least one counted order
N_CUSTOMERS_NONE = 8  # customers whose every order was cancelled / unpaid / ...
ONE_TIMER_SHARE = 0.59
REPEAT_MAX_ORDERS = 30
REPEAT_POWER = 1.75  # P(n orders) ~ n ** -REPEAT_POWER for n in 2..30
VIP_SHARE = 0.04
THRIFTY_SHARE = 0.4  # repeat buyers (3+ orders) who only buy the cheap refills: frequent, low spend
ACTIVE_WINDOW = 90  # days: an "active" repeat buyer's last order is at most this old
N_ANCHORS = 4  # active repeat buyers whose last order is forced onto LAST_DAY
NONCOUNTED_SHARE = 0.09  # share of all orders that are cancelled/closed/unpaid/pending/refunded
PARTIAL_REFUND_SHARE = 0.04
MULTI_LINE = [(1, 90.0), (2, 6.5), (3, 2.5), (4, 1.0)]  # (rows per order, %)
MIN_CENTS, MAX_CENTS = 1990, 500000

# Regular catalogue: (price in cents, weight). 99.00 is the best seller (ties on monetary).
CATALOGUE = [
    (1990, 6),
    (2990, 8),
    (3900, 6),
    (4990, 8),
    (5900, 8),
    (6900, 6),
    (7990, 6),
    (9900, 22),
    (12800, 8),
    (14900, 8),
    (19900, 10),
    (25900, 5),
    (29900, 6),
    (39900, 4),
    (49900, 3),
    (69900, 2),
    (89900, 1.5),
    (129900, 1),
    (199900, 0.5),
]
THRIFTY_CATALOGUE = [(p, w) for p, w in CATALOGUE if p <= 7990]  # refills, small consumables
VIP_CATALOGUE = [(59900, 4), (89900, 4), (129900, 4), (159900, 3), (259900, 2), (329900, 1.5), (459900, 1)]

SURNAMES = [  # (hanzi, pinyin, weight)
    ("王", "wang", 10),
    ("李", "li", 10),
    ("张", "zhang", 10),
    ("刘", "liu", 8),
    ("陈", "chen", 7),
    ("杨", "yang", 5),
    ("黄", "huang", 4),
    ("赵", "zhao", 4),
    ("吴", "wu", 3.5),
    ("周", "zhou", 3.5),
    ("徐", "xu", 2.5),
    ("孙", "sun", 2.5),
    ("马", "ma", 2.5),
    ("朱", "zhu", 2),
    ("胡", "hu", 2),
    ("郭", "guo", 2),
    ("何", "he", 2),
    ("林", "lin", 2),
    ("高", "gao", 2),
    ("罗", "luo", 1.5),
    ("郑", "zheng", 1.5),
    ("梁", "liang", 1.5),
    ("谢", "xie", 1.2),
    ("宋", "song", 1.2),
    ("唐", "tang", 1.2),
    ("许", "xu", 1),
    ("韩", "han", 1),
    ("冯", "feng", 1),
    ("邓", "deng", 1),
    ("曹", "cao", 1),
    ("彭", "peng", 1),
    ("曾", "zeng", 1),
    ("田", "tian", 0.8),
    ("董", "dong", 0.8),
    ("潘", "pan", 0.8),
    ("袁", "yuan", 0.8),
    ("蔡", "cai", 0.8),
    ("蒋", "jiang", 0.8),
    ("余", "yu", 0.8),
    ("叶", "ye", 0.8),
    ("程", "cheng", 0.8),
    ("魏", "wei", 0.8),
    ("苏", "su", 0.8),
    ("吕", "lv", 0.6),
    ("丁", "ding", 0.6),
    ("沈", "shen", 0.6),
    ("欧阳", "ouyang", 0.3),
    ("司马", "sima", 0.1),
]
GIVEN_NAMES = [  # (hanzi, pinyin, weight)
    ("伟", "wei", 6),
    ("娜", "na", 5),
    ("芳", "fang", 5),
    ("敏", "min", 4),
    ("静", "jing", 4),
    ("丽", "li", 3),
    ("强", "qiang", 3),
    ("磊", "lei", 3),
    ("军", "jun", 2.5),
    ("洋", "yang", 2.5),
    ("勇", "yong", 2),
    ("艳", "yan", 2),
    ("杰", "jie", 2),
    ("娟", "juan", 2),
    ("涛", "tao", 2),
    ("明", "ming", 2),
    ("超", "chao", 2),
    ("秀英", "xiuying", 1.5),
    ("霞", "xia", 1.5),
    ("平", "ping", 1.5),
    ("刚", "gang", 1.5),
    ("桂英", "guiying", 1),
    ("婷", "ting", 2),
    ("雪", "xue", 1.5),
    ("欣怡", "xinyi", 1.5),
    ("子涵", "zihan", 1.5),
    ("浩然", "haoran", 1.5),
    ("宇轩", "yuxuan", 1.2),
    ("梓萱", "zixuan", 1.2),
    ("思远", "siyuan", 1),
    ("一诺", "yinuo", 1),
    ("佳琪", "jiaqi", 1.2),
    ("晨", "chen", 1.2),
    ("鑫", "xin", 1.2),
    ("琳", "lin", 1.2),
    ("博文", "bowen", 1),
    ("雨桐", "yutong", 1),
    ("俊杰", "junjie", 1),
    ("诗涵", "shihan", 1),
    ("建华", "jianhua", 1),
    ("国强", "guoqiang", 1),
    ("丹", "dan", 1.2),
    ("萍", "ping", 1.2),
    ("慧", "hui", 1.2),
    ("颖", "ying", 1.2),
    ("小红", "xiaohong", 0.8),
    ("晓燕", "xiaoyan", 0.8),
]
ENGLISH_NAMES = [
    ("Emily", "Chen"),
    ("David", "Wang"),
    ("Michael", "Li"),
    ("Sarah", "Zhang"),
    ("Kevin", "Liu"),
    ("Jessica", "Wu"),
    ("Tony", "Huang"),
    ("Grace", "Lin"),
    ("Jason", "Zhou"),
    ("Amy", "Xu"),
    ("Daniel", "Ma"),
    ("Olivia", "He"),
    ("Lucas", "Tan"),
    ("Sophie", "Müller"),
]
# Names that need CSV quoting; given to a few repeat buyers so they appear on many rows.
QUOTED_NAMES = [
    ("Chen, Lily", "lily.chen"),
    ('Tom "TJ" Zhao', "tj.zhao"),
    ('王芳 "Fiona"', "fiona.wang"),
    ("李娜, 上海徐汇", "lina.sh"),
]
EMAIL_DOMAINS = [
    ("qq.com", 30),
    ("163.com", 18),
    ("126.com", 8),
    ("gmail.com", 6),
    ("outlook.com", 5),
    ("sina.com", 4),
    ("foxmail.com", 4),
    ("hotmail.com", 3),
    ("139.com", 2),
    ("icloud.com", 3),
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
HOUR_WEIGHTS = [
    3,
    2,
    1,
    0.5,
    0.3,
    0.3,
    0.8,
    1.5,
    2.5,
    3.5,
    4.5,
    4.5,
    5,
    4.5,
    4,
    4,
    4,
    4,
    4.5,
    5.5,
    7,
    8,
    7,
    5,
]
PROMO_HOUR_WEIGHTS = [25, 12, 4, 1, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 4, 3.5, 3.5, 3.5, 3.5, 4, 5, 9, 10, 9, 7]


class Rng:
    """Every draw comes from ``random.Random.random()``, whose sequence is stable across Pythons."""

    def __init__(self, seed: int) -> None:
        self._r = random.Random(seed)

    def random(self) -> float:
        return self._r.random()

    def randint(self, a: int, b: int) -> int:
        """Integer in [a, b]."""
        return a + int(self._r.random() * (b - a + 1))

    def chance(self, p: float) -> bool:
        return self._r.random() < p

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self._r.random()

    def choice(self, seq):
        return seq[int(self._r.random() * len(seq))]

    def weighted(self, items, weights):
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        return items[min(bisect.bisect_right(cum, self._r.random() * total), len(items) - 1)]

    def shuffle(self, seq: list) -> None:
        for i in range(len(seq) - 1, 0, -1):
            j = self.randint(0, i)
            seq[i], seq[j] = seq[j], seq[i]


# --------------------------------------------------------------------------- calendar


def _day_weight(day: dt.date) -> float:
    t = (day - FIRST_DAY).days / (N_DAYS - 1)
    w = 0.6 + 0.8 * t  # the shop grows
    md = (day.month, day.day)
    if md == (11, 11):
        w *= 9
    elif day.month == 11 and day.day < 11:
        w *= 1.5
    elif md == (6, 18):
        w *= 5
    elif day.month == 6 and day.day < 18:
        w *= 1.3
    elif md == (12, 12):
        w *= 2.5
    if dt.date(2025, 1, 25) <= day <= dt.date(2025, 2, 4) or dt.date(2026, 2, 13) <= day <= dt.date(
        2026, 2, 23
    ):
        w *= 0.4  # Spring Festival: couriers stop
    if day.weekday() >= 5:
        w *= 1.1
    return w


DAY_WEIGHTS = [_day_weight(FIRST_DAY + dt.timedelta(days=i)) for i in range(N_DAYS)]
DAY_CUM = [0.0]
for _w in DAY_WEIGHTS:
    DAY_CUM.append(DAY_CUM[-1] + _w)


def pick_day(rng: Rng, lo: int, hi: int) -> int:
    """A day index in [lo, hi] (0 = FIRST_DAY), weighted by the shop's traffic."""
    lo, hi = max(0, lo), min(N_DAYS - 1, hi)
    if lo >= hi:
        return lo
    u = DAY_CUM[lo] + rng.random() * (DAY_CUM[hi + 1] - DAY_CUM[lo])
    return min(max(bisect.bisect_right(DAY_CUM, u) - 1, lo), hi)


def pick_time(rng: Rng, day_index: int) -> dt.datetime:
    day = FIRST_DAY + dt.timedelta(days=day_index)
    promo = (day.month, day.day) in ((11, 11), (6, 18))
    if promo and day.month == 11 and rng.chance(0.35):
        # midnight rush: many orders in the first half minute (same-second ties)
        return dt.datetime(day.year, day.month, day.day, 0, 0, rng.randint(0, 29))
    hour = rng.weighted(list(range(24)), PROMO_HOUR_WEIGHTS if promo else HOUR_WEIGHTS)
    return dt.datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59))


# --------------------------------------------------------------------------- model


@dataclass
class Line:
    cents: int


@dataclass(eq=False)
class Order:
    seq: int  # creation number: deterministic tie-break
    cust: Customer
    when: dt.datetime
    status: str
    lines: list[Line]
    refund_cents: int | None = None  # order-level refund_amount (first row)
    counted: bool = True  # planned as a counted order
    return_cents: int | None = None  # a negative refund row appended to the order
    anchor: bool = False
    order_id: str = ""

    @property
    def total(self) -> int:
        return sum(line.cents for line in self.lines)


@dataclass(eq=False)
class Customer:
    key: int
    n_counted: int
    vip: bool = False
    thrifty: bool = False
    active: bool = False
    name: str = ""
    phone: str = ""
    email: str = ""
    customer_id: str = ""
    orders: list[Order] = field(default_factory=list)


def fmt_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def repeat_quota(n_repeaters: int) -> dict[int, int]:
    """How many repeat buyers have 2, 3, .. 30 counted orders (largest-remainder rounding)."""
    weights = {n: n**-REPEAT_POWER for n in range(2, REPEAT_MAX_ORDERS + 1)}
    total = sum(weights.values())
    raw = {n: n_repeaters * w / total for n, w in weights.items()}
    quota = {n: int(v) for n, v in raw.items()}
    short = n_repeaters - sum(quota.values())
    for n in sorted(raw, key=lambda n: (quota[n] - raw[n], n))[:short]:
        quota[n] += 1
    return quota


def make_lines(rng: Rng, vip: bool, thrifty: bool) -> list[Line]:
    n_lines = rng.weighted([n for n, _ in MULTI_LINE], [w for _, w in MULTI_LINE])
    while True:
        lines: list[Line] = []
        used: list[int] = []
        for _ in range(n_lines):
            while True:
                if vip and rng.chance(0.5):
                    cat = VIP_CATALOGUE
                else:
                    cat = THRIFTY_CATALOGUE if thrifty else CATALOGUE
                price = rng.weighted([p for p, _ in cat], [w for _, w in cat])
                if price not in used:
                    break
            used.append(price)
            qty = 1 if price >= 59900 else rng.weighted([1, 2, 3], [82, 13, 5])
            lines.append(Line(price * qty))
        if rng.chance(0.08):  # member price: 88折 on every line
            for line in lines:
                if line.cents >= 5900:
                    line.cents = (line.cents * 88 + 50) // 100
        total = sum(line.cents for line in lines)
        if rng.chance(0.25):  # shop coupon 满199减20 / 满399减50 / 满999减100 on the biggest line
            off = 10000 if total >= 99900 else 5000 if total >= 39900 else 2000 if total >= 19900 else 0
            max(lines, key=lambda line: line.cents).cents -= off
        if (
            all(MIN_CENTS <= line.cents <= MAX_CENTS for line in lines)
            and sum(line.cents for line in lines) <= MAX_CENTS
        ):
            return lines


def paid_status(rng: Rng, when: dt.datetime) -> str:
    age = (LAST_DAY - when.date()).days
    if age <= 2:
        return rng.weighted(["paid", "shipped"], [85, 15])
    if age <= 9:
        return rng.weighted(["paid", "shipped", "delivered"], [55, 35, 10])
    if age <= 20:
        return rng.weighted(["paid", "shipped", "delivered", "completed"], [50, 10, 25, 15])
    return rng.weighted(["paid", "completed", "delivered"], [62, 30, 8])


# --------------------------------------------------------------------------- contacts


def make_contacts(rng: Rng, customers: list[Customer]) -> None:
    taken_emails: set[str] = set()
    taken_phones: set[str] = set()
    # a few repeat buyers get names that need CSV quoting
    repeaters = [c for c in customers if c.n_counted >= 3]
    special: dict[int, tuple[str, str]] = {}
    for name in QUOTED_NAMES:
        while True:
            c = rng.choice(repeaters)
            if c.key not in special:
                special[c.key] = name
                break
    for c in customers:
        if c.key in special:
            c.name, local = special[c.key]
        elif rng.chance(0.035):
            first, last = rng.choice(ENGLISH_NAMES)
            c.name = f"{first} {last}"
            local = rng.choice([f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}"]).lower()
            local = local.replace("ü", "u")
        else:
            sur = rng.weighted(SURNAMES, [w for _, _, w in SURNAMES])
            given = rng.weighted(GIVEN_NAMES, [w for _, _, w in GIVEN_NAMES])
            c.name = sur[0] + given[0]
            local = rng.choice([sur[1] + given[1], given[1] + "." + sur[1], sur[1] + "_" + given[1]])
        # phone: mostly a full CN mobile, some blank, a few masked
        r = rng.random()
        while True:
            number = rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(8))
            if number not in taken_phones:
                taken_phones.add(number)
                break
        c.phone = "" if r < 0.07 else number[:3] + "****" + number[-4:] if r < 0.10 else number
        # email: mostly present, some mixed case, some blank
        if rng.chance(0.12):
            c.email = ""
            continue
        while True:
            domain = rng.weighted([d for d, _ in EMAIL_DOMAINS], [w for _, w in EMAIL_DOMAINS])
            if domain == "qq.com" and rng.chance(0.6):
                user = str(rng.randint(10000000, 3999999999))
            else:
                user = local + (str(rng.randint(1, 9999)) if rng.chance(0.55) else "")
            email = f"{user}@{domain}"
            if email.lower() not in taken_emails:
                taken_emails.add(email.lower())
                break
        if rng.chance(0.08):  # mixed case, as typed on a phone keyboard or by a CRM
            style = rng.randint(0, 2)
            if style == 0:
                email = email[0].upper() + email[1:]
            elif style == 1:
                user, domain = email.split("@")
                email = user + "@" + domain.upper()
            else:
                user, domain = email.split("@")
                email = ".".join(p.capitalize() for p in user.split(".")) + "@" + domain.capitalize()
        c.email = email


# --------------------------------------------------------------------------- generation


def generate(seed: int) -> list[Order]:
    rng = Rng(seed)
    seq = 0

    def new_order(cust: Customer, when: dt.datetime, status: str, counted: bool) -> Order:
        nonlocal seq
        seq += 1
        order = Order(seq, cust, when, status, make_lines(rng, cust.vip, cust.thrifty), counted=counted)
        cust.orders.append(order)
        return order

    # 1. customers and how many counted orders each has
    n_one = round(N_CUSTOMERS_COUNTED * ONE_TIMER_SHARE)
    counts = [1] * n_one
    for n, k in sorted(repeat_quota(N_CUSTOMERS_COUNTED - n_one).items()):
        counts += [n] * k
    rng.shuffle(counts)
    customers = [Customer(key=i, n_counted=n) for i, n in enumerate(counts)]
    customers += [Customer(key=len(customers) + i, n_counted=0) for i in range(N_CUSTOMERS_NONE)]
    for c in customers:
        c.vip = rng.chance(VIP_SHARE * (2.0 if c.n_counted >= 4 else 0.6))
        c.thrifty = not c.vip and c.n_counted >= 3 and rng.chance(THRIFTY_SHARE)

    # 2. counted orders: when
    for c in customers:
        n = c.n_counted
        if n == 0:
            continue
        if n == 1:
            new_order(c, pick_time(rng, pick_day(rng, 0, N_DAYS - 1)), "", True)
            continue
        # heavier buyers are more often still active; refill buyers keep coming back
        p_active = 0.30 + 0.025 * n
        c.active = rng.chance(max(0.55, p_active) if c.thrifty else min(0.72, p_active))
        gap = rng.uniform(12, 60) if n >= 6 else rng.uniform(20, 150)
        span = int(gap * (n - 1) * rng.uniform(0.8, 1.2))
        if c.active:
            last = pick_day(rng, N_DAYS - 1 - ACTIVE_WINDOW, N_DAYS - 1)
        else:
            last = pick_day(rng, min((n - 1) * 7, N_DAYS - 2 - ACTIVE_WINDOW), N_DAYS - 2 - ACTIVE_WINDOW)
        first = max(0, last - span)
        days = [first, last] + [pick_day(rng, first, last) for _ in range(n - 2)]
        for d in days:
            new_order(c, pick_time(rng, d), "", True)

    # 3. the as-of anchor: a few active repeat buyers' latest order falls on LAST_DAY
    active = [c for c in customers if c.active]
    anchors: list[Customer] = []
    while len(anchors) < N_ANCHORS:
        c = rng.choice(active)
        if c not in anchors:
            anchors.append(c)
    for c in anchors:
        latest = max(c.orders, key=lambda o: o.when)
        latest.when = pick_time(rng, N_DAYS - 1)
        latest.anchor = True

    for c in customers:
        for o in c.orders:
            o.status = paid_status(rng, o.when)

    # 4. orders that are not counted
    n_counted_orders = sum(c.n_counted for c in customers)
    n_extra = round(n_counted_orders * NONCOUNTED_SHARE / (1 - NONCOUNTED_SHARE))
    statuses = ["cancelled", "closed", "unpaid", "pending", "refunded"]
    status_weights = [4, 1, 1.2, 0.8, 2]
    buyers = [c for c in customers if c.n_counted > 0]
    buyer_weights = [c.n_counted + 1.5 for c in buyers]
    for i in range(n_extra):
        status = rng.weighted(statuses, status_weights)
        c = customers[N_CUSTOMERS_COUNTED + i % N_CUSTOMERS_NONE] if i < N_CUSTOMERS_NONE * 2 else None
        if c is None:
            c = rng.weighted(buyers, buyer_weights)
        if status == "pending":  # still waiting for payment: only in the last week
            day = pick_day(rng, N_DAYS - 7, N_DAYS - 1)
        elif c.orders:
            lo = min(o.when for o in c.orders).date()
            hi = max(o.when for o in c.orders).date()
            day = pick_day(rng, (lo - FIRST_DAY).days - 30, (hi - FIRST_DAY).days + 30)
        else:
            day = pick_day(rng, 0, N_DAYS - 1)
        o = new_order(c, pick_time(rng, day), status, False)
        if status == "refunded" and rng.chance(0.8):
            o.refund_cents = o.total

    # 5. partial refunds on counted orders
    counted = sorted((o for c in customers for o in c.orders if o.counted), key=lambda o: o.seq)
    for o in counted:
        if rng.chance(PARTIAL_REFUND_SHARE):
            if len(o.lines) > 1 and rng.chance(0.5):
                o.refund_cents = rng.choice(o.lines[1:]).cents
            else:
                cents = int(o.total * rng.uniform(0.1, 0.6))
                if rng.chance(0.5):
                    cents = max(100, cents // 100 * 100)  # a round amount (price protection)
                o.refund_cents = cents
            if not 0 < o.refund_cents < o.total:
                o.refund_cents = None

    # 6. refund rows: negative lines on existing paid orders
    candidates = [o for o in counted if o.refund_cents is None and not o.anchor and o.cust.n_counted >= 3]
    multi = [o for o in candidates if len(o.lines) > 1]
    single = [o for o in candidates if len(o.lines) == 1]
    chosen: list[Order] = []

    def pick(pool: list[Order]) -> Order:
        while True:
            o = rng.choice(pool)
            if o not in chosen:
                chosen.append(o)
                return o

    for _ in range(5):  # a whole line of a multi-line order comes back
        o = pick(multi)
        o.return_cents = -rng.choice(o.lines).cents
    for _ in range(3):  # part of a single-line order comes back
        o = pick(single)
        o.return_cents = -max(100, int(o.total * rng.uniform(0.2, 0.7)))
    for _ in range(2):  # the whole order comes back: nets to 0.00, not counted
        o = pick(single)
        o.return_cents = -o.total

    # 7. ids: customers numbered by their first order, orders by day and time
    orders = sorted((o for c in customers for o in c.orders), key=lambda o: (o.when, o.seq))
    numbered: set[int] = set()
    n_cust = 0
    per_day: dict[dt.date, int] = {}
    for o in orders:
        if o.cust.key not in numbered:
            numbered.add(o.cust.key)
            n_cust += 1
            o.cust.customer_id = f"C{n_cust:05d}"
        d = o.when.date()
        per_day[d] = per_day.get(d, 0) + 1
        o.order_id = f"SO{d:%Y%m%d}{per_day[d]:04d}"

    make_contacts(rng, sorted(customers, key=lambda c: c.customer_id))
    return orders


def rows(orders: list[Order]):
    for o in orders:
        c = o.cust
        common = [c.customer_id, f"{o.when:%Y-%m-%d %H:%M:%S}"]
        contact = ["CNY", c.name, c.phone, c.email]
        for i, line in enumerate(o.lines):
            refund = fmt_cents(o.refund_cents) if i == 0 and o.refund_cents is not None else ""
            yield [o.order_id, *common, fmt_cents(line.cents), o.status, refund, *contact]
        if o.return_cents is not None:
            yield [o.order_id, *common, fmt_cents(o.return_cents), "refunded", "", *contact]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the deterministic sample order export orders.csv.")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "orders.csv",
        help="output CSV path (default: orders.csv next to this script)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)

    orders = generate(args.seed)
    tmp = args.out.with_name(args.out.name + ".tmp")
    n_rows = 0
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for row in rows(orders):
            writer.writerow(row)
            n_rows += 1
    os.replace(tmp, args.out)
    n_customers = len({o.cust.customer_id for o in orders})
    print(f"wrote {args.out}: {n_rows} rows, {len(orders)} orders, {n_customers} customers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
