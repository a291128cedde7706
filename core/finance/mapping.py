"""The mapping layer: which GL code of the lender's chart each kernel posting line belongs to.

The kernel posts to its own accounts (:mod:`core.ledger.accounts`); every line that carries a loan is a
sub-ledger line of that loan's product version, whose ``gl_accounts`` name the GL code of each *role*
(:data:`ROLE_ACCOUNTS`: ``principal_receivable`` is kernel 1303, ``cash_clearing`` every channel's
``1002.<channel>``, ...). A line maps to its product's code for its role; a line of no loan, or of a role
the product leaves out (a product without fees names no fee accounts), maps to the chart's default for
its kernel account (:meth:`core.finance.chart.Chart.default_for`). Every line maps to exactly one code,
so the general ledger sums to what the journal sums to, and balances when it does.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.finance.chart import Chart
from core.ledger import accounts as acc

#: a product's ``gl_accounts`` role -> the kernel account it maps (cash clearing: every channel's account)
ROLE_ACCOUNTS: Mapping[str, str] = {
    "principal_receivable": acc.PRINCIPAL_RECEIVABLE,
    "interest_receivable": acc.INTEREST_RECEIVABLE,
    "fee_receivable": acc.FEE_RECEIVABLE,
    "penalty_receivable": acc.PENALTY_RECEIVABLE,
    "interest_income": acc.INTEREST_INCOME,
    "fee_income": acc.FEE_INCOME,
    "penalty_income": acc.PENALTY_INCOME,
    "cash_clearing": acc.CASH_CLEARING_PREFIX,
    "overpayment_suspense": acc.OVERPAYMENT_SUSPENSE,
    "write_off_loss": acc.WRITE_OFF_EXPENSE,
}
_ROLE_OF = {account: role for role, account in ROLE_ACCOUNTS.items()}


def role_of(kernel_account: str) -> str | None:
    """The product role a kernel account plays (``None`` for accounts products do not map)."""
    return _ROLE_OF.get(kernel_account.partition(".")[0])


def gl_code(chart: Chart, kernel_account: str, gl_accounts: Mapping[str, str] | None) -> str:
    """The GL code of a line on ``kernel_account`` of a loan whose product maps ``gl_accounts`` (``None``: no
    loan or no product version), by the rule of the module docstring."""
    role = role_of(kernel_account)
    if gl_accounts is not None and role is not None and role in gl_accounts:
        return gl_accounts[role]
    return chart.default_for(kernel_account)
