"""Loans: the booked contract, its installments, and every rule a loan lives by, day by day.

The models (:mod:`core.loans.models`, the servicing event log and state in :mod:`core.loans.events`) and
the contract's servicing rules (:mod:`core.loans.contract`). The day's close of one loan
(:mod:`core.loans.daily`: interest accrued by :mod:`core.loans.accrual`, installments falling due, penalty
by :mod:`core.loans.penalty`, the five-tier class by :mod:`core.loans.delinquency`, settlement from
suspense by :mod:`core.loans.allocation`, the ledger lines by :mod:`core.loans.ledger_lines`), read and
written in bulk by :mod:`core.loans.rows`. The operations staff and channels perform, each one
transaction: :mod:`core.loans.disbursement`, :mod:`core.loans.repayment`, :mod:`core.loans.prepayment` (its window and
quote check too), :mod:`core.loans.adjustments` (waiver, write-off, and deciding their maker-checker
requests) and :mod:`core.loans.reversal`, sharing
:mod:`core.loans.context`. End-of-day (:mod:`core.eod`) runs the day's close over the whole book.
"""

from core.loans.models import FiveTier, InstallmentStatus, Loan, LoanInstallment, Rate

__all__ = ["FiveTier", "InstallmentStatus", "Loan", "LoanInstallment", "Rate"]
