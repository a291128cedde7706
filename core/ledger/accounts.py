"""The chart of accounts, as data.

Each :class:`Account` has a code (numbered after the Chinese enterprise chart: 1xxx assets, 2xxx
liabilities, 6xxx income and expense), Chinese and English names, a kind and its normal side. Cash
clearing is one account per payment channel: ``1002.<channel code>`` (:func:`cash_clearing`), so each
channel's settlement file can be reconciled against its own account.

Five accounts are *per loan*: every posting to them carries a ``loan_id`` and they make up the loan's
balances (``LOAN_BUCKETS``): principal, interest, fee and penalty receivable (debit-normal), and the
overpayment suspense (溢缴款, credit-normal, money the lender holds for the borrower).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InvalidArgumentError


class Kind(StrEnum):
    """The element of the balance sheet or income statement an account belongs to."""

    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    MEMO = "memo"  # off-balance (表外): in no statement, balanced among themselves


class Side(StrEnum):
    """The side on which an account's balance normally stands."""

    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True)
class Account:
    """One account of the chart; ``bucket`` names the loan balance it feeds, if any."""

    code: str
    name_zh: str
    name_en: str
    kind: Kind
    normal: Side
    bucket: str | None = None


PRINCIPAL_RECEIVABLE = "1303"
INTEREST_RECEIVABLE = "1132"
FEE_RECEIVABLE = "1133"
PENALTY_RECEIVABLE = "1134"
OVERPAYMENT_SUSPENSE = "2241"
INTEREST_INCOME = "6011"
FEE_INCOME = "6021"
PENALTY_INCOME = "6012"
WRITE_OFF_EXPENSE = "6702"
CASH_CLEARING_PREFIX = "1002"
#: the loan-loss allowance (贷款损失准备, contra-asset): provisions credit it, write-offs consume it, recoveries
#: post back to it (core.finance.provision_posting, core.loans.adjustments, core.loans.recovery)
LOAN_LOSS_ALLOWANCE = "1304"
#: contra-assets holding the interest and penalty of non-accrual loans out of income (core.loans.nonaccrual)
INTEREST_SUSPENDED = "1137"
PENALTY_SUSPENDED = "1138"
#: the off-balance memo (表外) of the same amounts, against their memo contra
MEMO_INTEREST = "7001"
MEMO_PENALTY = "7002"
MEMO_CONTRA = "7009"

CHART: dict[str, Account] = {a.code: a for a in (
    Account(PRINCIPAL_RECEIVABLE, "贷款本金", "Principal receivable", Kind.ASSET, Side.DEBIT, "principal"),
    Account(INTEREST_RECEIVABLE, "应收利息", "Interest receivable", Kind.ASSET, Side.DEBIT, "interest"),
    Account(FEE_RECEIVABLE, "应收费用", "Fee receivable", Kind.ASSET, Side.DEBIT, "fee"),
    Account(PENALTY_RECEIVABLE, "应收罚息", "Penalty receivable", Kind.ASSET, Side.DEBIT, "penalty"),
    Account(OVERPAYMENT_SUSPENSE, "溢缴款", "Overpayment suspense", Kind.LIABILITY, Side.CREDIT, "suspense"),
    Account(INTEREST_INCOME, "利息收入", "Interest income", Kind.INCOME, Side.CREDIT),
    Account(PENALTY_INCOME, "罚息收入", "Penalty income", Kind.INCOME, Side.CREDIT),
    Account(FEE_INCOME, "手续费收入", "Fee income", Kind.INCOME, Side.CREDIT),
    Account(WRITE_OFF_EXPENSE, "信用减值损失", "Credit impairment loss (provisions)", Kind.EXPENSE, Side.DEBIT),
    Account(LOAN_LOSS_ALLOWANCE, "贷款损失准备", "Loan loss allowance", Kind.ASSET, Side.CREDIT),
    Account(INTEREST_SUSPENDED, "非应计利息调整", "Interest in suspense (non-accrual)", Kind.ASSET, Side.CREDIT),
    Account(PENALTY_SUSPENDED, "非应计罚息调整", "Penalty in suspense (non-accrual)", Kind.ASSET, Side.CREDIT),
    Account(MEMO_INTEREST, "表外应收未收利息", "Off-balance: interest not recognised", Kind.MEMO, Side.DEBIT),
    Account(MEMO_PENALTY, "表外应收未收罚息", "Off-balance: penalty not recognised", Kind.MEMO, Side.DEBIT),
    Account(MEMO_CONTRA, "表外科目对转", "Off-balance contra", Kind.MEMO, Side.CREDIT),
)}

#: the per-loan balances, in the order they are reported
LOAN_BUCKETS = ("principal", "interest", "fee", "penalty", "suspense")

#: account code -> loan balance bucket, for the per-loan accounts
BUCKET_OF = {a.code: a.bucket for a in CHART.values() if a.bucket}

_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,50}$")


def cash_clearing(channel: str) -> str:
    """The cash clearing account of a payment channel: ``cash_clearing("sandbox_bank")`` is ``1002.sandbox_bank``."""
    if not _CHANNEL.match(channel):
        raise InvalidArgumentError(f"channel: {channel!r} is not a channel code (lower-case letters, digits, _ -)",
                                   field="channel", value=channel)
    return f"{CASH_CLEARING_PREFIX}.{channel}"


def account(code: str) -> Account:
    """The :class:`Account` for ``code``, cash clearing accounts included.

    Raises:
        InvalidArgumentError: ``code`` is not in the chart (``field`` is ``account``).
    """
    found = CHART.get(code)
    if found is not None:
        return found
    prefix, dot, channel = code.partition(".")
    if prefix == CASH_CLEARING_PREFIX and dot and _CHANNEL.match(channel):
        return Account(code, f"银行存款-{channel}", f"Cash clearing ({channel})", Kind.ASSET, Side.DEBIT)
    raise InvalidArgumentError(f"account: {code!r} is not in the chart of accounts", field="account", value=code)
