"""Ledger lines of settling debts: which receivable each allocated component credits."""

from __future__ import annotations

from decimal import Decimal

from core.ledger.accounts import FEE_RECEIVABLE, INTEREST_RECEIVABLE, PENALTY_RECEIVABLE, PRINCIPAL_RECEIVABLE
from core.ledger.posting import Line
from core.loans.allocation import Allocation, Component

RECEIVABLE = {
    Component.PENALTY: PENALTY_RECEIVABLE,
    Component.FEE: FEE_RECEIVABLE,
    Component.INTEREST: INTEREST_RECEIVABLE,
    Component.PRINCIPAL: PRINCIPAL_RECEIVABLE,
}


def settlement_lines(allocation: Allocation) -> list[Line]:
    """One credit per component the allocation settled (summed over installments), in chart order."""
    lines = []
    for component in Component:
        amount: Decimal = allocation.total(component)
        if amount:
            lines.append(Line.cr(RECEIVABLE[component], amount))
    return lines
