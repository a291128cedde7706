"""Loans and their installments: the contract booked at disbursement and its servicing state."""

from core.loans.models import FiveTier, InstallmentStatus, Loan, LoanInstallment, Rate

__all__ = ["FiveTier", "InstallmentStatus", "Loan", "LoanInstallment", "Rate"]
