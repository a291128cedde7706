"""Servicing: every operation on a booked loan, each one transaction's worth of changes and postings.

Call these inside a transaction the caller owns (nothing here commits); each takes an idempotency
``key`` so a retried request does its work once. The names are loaded on first use, because the
end-of-day (which the operations use to bring a loan to date) itself uses the pure kernels of this
package (allocation, penalty).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.servicing.adjustments import waive_penalty, write_off
    from core.servicing.allocation import AllocationBasis, AllocationOrder, Component, allocate
    from core.servicing.contract import PrepaymentRules, ServicingRules
    from core.servicing.disbursement import disburse
    from core.servicing.penalty import PenaltyPolicy
    from core.servicing.prepayment import PrepaymentQuote, prepay, prepayment_quote
    from core.servicing.repayment import apply_suspense, refund_suspense, repay
    from core.servicing.reversal import reverse_repayment

_WHERE = {
    "waive_penalty": "adjustments", "write_off": "adjustments",
    "AllocationBasis": "allocation", "AllocationOrder": "allocation", "Component": "allocation",
    "allocate": "allocation", "PrepaymentRules": "contract", "ServicingRules": "contract",
    "disburse": "disbursement", "PenaltyPolicy": "penalty", "PrepaymentQuote": "prepayment",
    "prepay": "prepayment", "prepayment_quote": "prepayment", "apply_suspense": "repayment",
    "refund_suspense": "repayment", "repay": "repayment", "reverse_repayment": "reversal",
}

__all__ = [
    "AllocationBasis", "AllocationOrder", "Component", "PenaltyPolicy", "PrepaymentQuote", "PrepaymentRules",
    "ServicingRules", "allocate", "apply_suspense", "disburse", "prepay", "prepayment_quote", "refund_suspense",
    "repay", "reverse_repayment", "waive_penalty", "write_off",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'core.servicing' has no attribute {name!r}")
    return getattr(import_module(f"core.servicing.{_WHERE[name]}"), name)
