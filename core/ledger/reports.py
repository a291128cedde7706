"""The trial balance: every account's debits and credits, and whether the books balance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.ledger.accounts import Side, account
from core.ledger.models import Posting

ZERO = Decimal(0)


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account: total debits, total credits and the balance on its normal side."""

    account: str
    name_zh: str
    name_en: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit minus credit for debit-normal accounts, credit minus debit for the others."""
        net = self.debit - self.credit
        return net if account(self.account).normal is Side.DEBIT else -net


@dataclass(frozen=True)
class TrialBalance:
    """All accounts with postings, by code; ``difference`` is total debits minus total credits (zero)."""

    rows: tuple[TrialBalanceRow, ...]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def difference(self) -> Decimal:
        return self.total_debit - self.total_credit

    @property
    def balanced(self) -> bool:
        return self.difference == 0


def trial_balance(session: Session) -> TrialBalance:
    """Sum every account of the journal (in SQL on PostgreSQL, exactly in Python on SQLite)."""
    session.flush()
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    if session.get_bind().dialect.name == "postgresql":
        statement = select(Posting.account, func.sum(Posting.debit), func.sum(Posting.credit)).group_by(Posting.account)
    else:
        statement = select(Posting.account, Posting.debit, Posting.credit)
    for code, debit, credit in session.execute(statement):
        pair = totals[code]
        pair[0] += debit
        pair[1] += credit
    rows = []
    for code in sorted(totals):
        info = account(code)
        debit, credit = totals[code]
        rows.append(TrialBalanceRow(code, info.name_zh, info.name_en, debit, credit))
    return TrialBalance(tuple(rows), sum((r.debit for r in rows), ZERO), sum((r.credit for r in rows), ZERO))
