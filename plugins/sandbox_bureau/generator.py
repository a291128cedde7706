"""Synthetic credit reports: the same ID number on the same day always gets the same report.

A report is drawn from a random generator seeded by SHA-256 of the ID number. The seed first picks a
profile (thin file 10%, clean 50%, a past slip 22%, serious trouble 18%), which sets how many accounts,
how they behaved, how many lenders looked the person up lately (多头借贷), and whether court or
blacklist records exist. Dates are laid out backwards from ``as_of``, so each month's report is
consistent with its 24-month grid (oldest month first; ``/`` before opening, ``N`` paid, ``1``-``7``
overdue bands, ``M`` paid late within the month, ``*`` nothing due, ``C`` closed, ``B`` bad debt,
``#`` unknown; ``G``/``D``/``Z`` for settlements by guarantor or assets).
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta
from decimal import Decimal

from core.plugins.types import BlacklistRecord, BureauAccount, BureauInquiry, BureauReport, CourtRecord

GRID_MONTHS = 24
PROFILES = (("thin", 10), ("clean", 50), ("slip", 22), ("trouble", 18))
LENDERS = (("工商银行", "bank"), ("招商银行", "bank"), ("建设银行", "bank"), ("马上消费金融", "consumer_finance"),
           ("招联消费金融", "consumer_finance"), ("重庆小额贷款", "microloan"), ("深圳网络小贷", "microloan"))


def subject_hash(id_number: str) -> str:
    """The SHA-256 hex of a normalised ID number: the sandbox's key, so it never stores the number."""
    return hashlib.sha256(id_number.strip().upper().encode("utf-8")).hexdigest()


def generate_report(id_number: str, as_of: date, bureau: str = "sandbox_bureau") -> BureauReport:
    """The report of ``id_number`` as of ``as_of`` (deterministic)."""
    digest = subject_hash(id_number)
    rng = random.Random(int(digest, 16))
    profile = rng.choices([p for p, _ in PROFILES], weights=[w for _, w in PROFILES])[0]
    account_count = 0 if profile == "thin" else rng.randint(1, 6)
    troubled = set(rng.sample(range(account_count), min(account_count, 1 if profile == "slip" else 2)))
    accounts = tuple(_account(rng, profile if n in troubled else "clean", as_of, n, digest)
                     for n in range(account_count))
    inquiry_count = {"thin": rng.randint(0, 2), "clean": rng.randint(0, 3), "slip": rng.randint(1, 6),
                     "trouble": rng.randint(3, 14)}[profile]
    inquiries = tuple(sorted((_inquiry(rng, as_of) for _ in range(inquiry_count)), key=lambda q: q.queried_on))
    court, blacklist = (), ()
    if profile == "trouble" and rng.random() < 0.4:
        court = (CourtRecord(case_number=f"({as_of.year - 1})京0105民初{rng.randint(1000, 99999)}号",
                             filed_on=as_of - timedelta(days=rng.randint(60, 700)), kind="民间借贷纠纷",
                             amount=Decimal(rng.randint(20, 500) * 100), status=rng.choice(["已结案", "执行中"])),)
    if any(a.status == "4" for a in accounts) and rng.random() < 0.5:
        blacklist = (BlacklistRecord(source="失信被执行人名单", listed_on=as_of - timedelta(days=rng.randint(30, 500)),
                                     reason="有履行能力而拒不履行生效法律文书确定义务"),)
    return BureauReport(report_id=f"SBR-{digest[:12]}-{as_of:%Y%m%d}", bureau=bureau, as_of=as_of, accounts=accounts,
                        inquiries=inquiries, court_records=court, blacklist=blacklist)


def _account(rng: random.Random, profile: str, as_of: date, n: int, digest: str) -> BureauAccount:
    lender, lender_type = rng.choice(LENDERS)
    revolving = lender_type == "bank" and rng.random() < 0.5
    age = rng.randint(3, 60)  # months since opening
    closed_ago = rng.randint(1, min(age - 1, 20)) if not revolving and age > 2 and rng.random() < 0.35 else None
    grid = _grid(rng, profile, age, closed_ago, revolving)
    credit = Decimal(rng.randint(10, 500) * 100)
    last = grid[-1]
    status = "3" if closed_ago is not None else "4" if last == "B" else "2" if last.isdigit() else "1"
    balance = Decimal(0) if status == "3" else (credit * Decimal(rng.randint(5, 95)) / 100).quantize(Decimal("1"))
    overdue = (balance * Decimal(int(last)) / 10).quantize(Decimal("1")) if last.isdigit() else Decimal(0)
    if status == "4":
        overdue = balance
    return BureauAccount(account_id=f"{digest[:8]}-{n + 1:02d}", lender=lender, lender_type=lender_type,
                         account_type="R1" if revolving else "D1", opened_on=_months_ago(as_of, age),
                         closed_on=_months_ago(as_of, closed_ago) if closed_ago is not None else None,
                         credit_amount=credit, balance=balance, overdue_amount=overdue, status=status, grid=grid)


def _grid(rng: random.Random, profile: str, age: int, closed_ago: int | None, revolving: bool) -> str:
    symbols = []
    for months_ago in range(GRID_MONTHS - 1, -1, -1):
        if months_ago >= age:
            symbols.append("/")
        elif closed_ago is not None and months_ago <= closed_ago:
            symbols.append("C")
        elif revolving and rng.random() < 0.3:
            symbols.append("*")
        else:
            symbols.append("#" if months_ago > 18 and rng.random() < 0.03 else "N")
    open_months = [i for i, s in enumerate(symbols) if s in "N*#"]
    if profile in ("slip", "trouble") and open_months:
        start = rng.choice(open_months)
        depth = rng.randint(1, 2) if profile == "slip" else rng.randint(3, 7)
        closing = symbols.index("C") if "C" in symbols else len(symbols)
        end = min(start + depth, closing)
        for step in range(end - start):
            symbols[start + step] = str(step + 1)
        if profile == "trouble" and closing < len(symbols) and end == closing:
            symbols[closing:] = [rng.choice("GDZ")] * (len(symbols) - closing)  # closed abnormally
        elif profile == "trouble" and depth >= 6 and closing == len(symbols) and end < len(symbols):
            symbols[end:] = ["B"] * (len(symbols) - end)  # written off as bad debt
    if profile == "clean" and open_months and rng.random() < 0.15:
        symbols[rng.choice(open_months)] = "M"
    return "".join(symbols)


def _inquiry(rng: random.Random, as_of: date) -> BureauInquiry:
    lender, _ = rng.choice(LENDERS)
    return BureauInquiry(queried_on=as_of - timedelta(days=rng.randint(1, 360)), institution=lender,
                         reason=rng.choices(["02", "03", "01"], weights=[6, 2, 2])[0])


def _months_ago(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, 28))
