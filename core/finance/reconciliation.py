"""The loan sub-ledger reconciled to the GL control accounts: zero difference, or every difference listed.

The *sub-ledger* is what servicing says each loan owes, from its installments (not from the journal):
principal scheduled less paid; interest accrued less paid; fees fallen due less paid; penalty charged less
paid and waived; written-off installments owe nothing on the books. The overpayment suspense, which no
installment holds, is the projection's (``loan_balances``). Each amount is summed by product and by the GL
control account it belongs to (the product's ``principal_receivable``, ``interest_receivable``,
``fee_receivable``, ``penalty_receivable`` and ``overpayment_suspense`` codes, :mod:`core.finance.mapping`).

The *general ledger* side is the balance of those codes per product from the journal through the same day
(:mod:`core.finance.general_ledger`), lines of the five per-loan kernel accounts only. :func:`reconcile`
lists a :class:`Difference` for every (product, control account) where the two differ; none means the
books reconcile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.finance.chart import Chart
from core.finance.general_ledger import general_ledger
from core.finance.mapping import gl_code
from core.ledger import accounts as acc
from core.ledger.models import LoanBalance
from core.loans.models import Loan, LoanInstallment
from core.products.models import ProductVersion

ZERO = Decimal(0)
#: loan balance bucket -> the kernel account it is the balance of
#: the buckets the installments give, in the order :func:`_owed` sums them
BUCKETS = ("principal", "interest", "fee", "penalty")
CONTROL = {"principal": acc.PRINCIPAL_RECEIVABLE, "interest": acc.INTEREST_RECEIVABLE, "fee": acc.FEE_RECEIVABLE,
           "penalty": acc.PENALTY_RECEIVABLE, "suspense": acc.OVERPAYMENT_SUSPENSE}


@dataclass(frozen=True)
class Difference:
    """A control account of a product where the sub-ledger and the general ledger disagree."""

    product: str | None
    gl_code: str
    kernel_account: str
    sub_ledger: Decimal
    general_ledger: Decimal

    @property
    def amount(self) -> Decimal:
        return self.sub_ledger - self.general_ledger


@dataclass(frozen=True)
class Reconciliation:
    """Both sides per (product, GL code, kernel account), and the differences."""

    sub_ledger: Mapping[tuple[str | None, str, str], Decimal]
    general_ledger: Mapping[tuple[str | None, str, str], Decimal]

    @property
    def differences(self) -> list[Difference]:
        keys = sorted(set(self.sub_ledger) | set(self.general_ledger), key=lambda k: (k[0] or "", k[1], k[2]))
        return [Difference(*key, self.sub_ledger.get(key, ZERO), self.general_ledger.get(key, ZERO))
                for key in keys if self.sub_ledger.get(key, ZERO) != self.general_ledger.get(key, ZERO)]

    @property
    def reconciled(self) -> bool:
        return not self.differences


def _owed(session: Session) -> dict[tuple[str, int], dict[str, Decimal]]:
    """What the loans of each (product code, product version) owe by bucket, from their installments
    (module docstring): summed in SQL on PostgreSQL; on SQLite, which stores amounts as text (arithmetic on
    them in SQL would be floating point), the rows are read and summed exactly in Python."""
    owed: dict[tuple[str, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    i, group = LoanInstallment, (Loan.product_code, Loan.product_version_id)
    unsettled = i.status != "written_off"
    if session.get_bind().dialect.name == "postgresql":
        sums = select(*group, func.sum(i.principal - i.paid_principal), func.sum(i.interest_accrued - i.paid_interest),
                      func.sum(case((i.status != "pending", i.fee), else_=0) - i.paid_fee),
                      func.sum(i.penalty - i.paid_penalty - i.waived_penalty))
        for product, version, *values in session.execute(
                sums.join(Loan, Loan.id == i.loan_id).where(unsettled).group_by(*group)):
            for bucket, value in zip(BUCKETS, values, strict=True):
                owed[(product, version)][bucket] += value or ZERO
        held = select(*group, func.sum(LoanBalance.suspense)).join(Loan, Loan.id == LoanBalance.loan_id)
        for product, version, suspense in session.execute(held.group_by(*group)):
            owed[(product, version)]["suspense"] += suspense or ZERO
        return owed
    rows = select(*group, i.status, i.principal, i.paid_principal, i.interest_accrued, i.paid_interest, i.fee,
                  i.paid_fee, i.penalty, i.paid_penalty, i.waived_penalty).join(Loan, Loan.id == i.loan_id)
    for (product, version, status, principal, paid_principal, accrued, paid_interest, fee, paid_fee, penalty,
         paid_penalty, waived) in session.execute(rows.where(unsettled)):
        mine = owed[(product, version)]
        mine["principal"] += principal - paid_principal
        mine["interest"] += accrued - paid_interest
        mine["fee"] += (fee if status != "pending" else ZERO) - paid_fee
        mine["penalty"] += penalty - paid_penalty - waived
    for product, version, suspense in session.execute(
            select(*group, LoanBalance.suspense).join(Loan, Loan.id == LoanBalance.loan_id)):
        owed[(product, version)]["suspense"] += suspense
    return owed


def reconcile(session: Session, *, chart: Chart | None = None) -> Reconciliation:
    """The sub-ledger as it stands against the journal's control accounts (module docstring)."""
    ledger = general_ledger(session, chart=chart)
    mapped = ledger.chart
    owed = _owed(session)
    versions = {version for _, version in owed}
    documents: dict[int, Any] = dict(session.execute(select(ProductVersion.id, ProductVersion.document).where(
        ProductVersion.id.in_(versions))).tuples().all()) if versions else {}
    sub: dict[tuple[str | None, str, str], Decimal] = defaultdict(lambda: ZERO)
    for (product, version), buckets in owed.items():
        document = documents.get(version)
        roles = document.get("gl_accounts") if isinstance(document, dict) else None
        for bucket, amount in buckets.items():
            if amount:
                kernel = CONTROL[bucket]
                sub[(product, gl_code(mapped, kernel, roles), kernel)] += amount
    controls = set(CONTROL.values())
    gl: dict[tuple[str | None, str, str], Decimal] = defaultdict(lambda: ZERO)
    for line in ledger.lines:
        if line.kernel_account in controls:
            net = line.debit - line.credit
            gl[(line.product, line.gl_code, line.kernel_account)] += (
                -net if line.kernel_account == acc.OVERPAYMENT_SUSPENSE else net)
    return Reconciliation({k: v for k, v in sub.items() if v}, {k: v for k, v in gl.items() if v})
