"""What a contract says about every charge: one clause per charge, written from the contract itself.

:func:`charge_clauses` turns a :class:`~core.loans.contract.Contract` into the clauses the contract document
prints (Chinese, figures exact): interest and its day basis, the upfront fee and when it is paid, the fee
with each installment, penalty interest (罚息: rate, daily rate, the day basis it is charged on, grace), 复利
(charged or not), each late fee, the prepayment window and each prepayment fee, and the allocation order.
Servicing charges only what these clauses state, from the same contract values: the document cannot drift
from the books because both read one record. The booking's contract terms pass them to the e-signature
plugin (``terms["charges"]``), which prints each as a clause.

Rates print as exact percentages (``0.05%``, never rounded); a penalty in multiplier mode prints its daily
rate as the annual penalty rate over the day-count basis, which is how it is charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.loans.allocation import AllocationBasis, Component
from core.loans.contract import Contract
from core.loans.fees import ContractFee, PrepaymentRules

ZERO = Decimal(0)
COMPONENT_NAMES = {Component.PENALTY: "罚息", Component.FEE: "费用", Component.INTEREST: "利息",
                   Component.PRINCIPAL: "本金"}
COMPOUND_TEXT = {True: "逾期未付的利息按同一罚息利率计收复利。", False: "逾期未付的利息不计收复利。"}
WINDOW_UNIT_NAMES = {"day": "天", "week": "周", "month": "个月"}


@dataclass(frozen=True)
class ChargeClause:
    """One printed clause: ``code`` names the charge (``interest``, ``upfront_fee``, ``installment_fee``,
    ``penalty``, ``compound``, ``late_fee``, ``prepayment``, ``allocation``), ``heading`` and ``text`` print."""

    code: str
    heading: str
    text: str


def percent(rate: Decimal) -> str:
    """An exact percentage: ``Decimal('0.0005')`` -> ``'0.05%'``, ``Decimal('0.18')`` -> ``'18%'``."""
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"


def yuan(amount: Decimal) -> str:
    """``Decimal('20')`` -> ``'人民币20.00元'``."""
    return f"人民币{amount:,.2f}元"


def fee_words(fee: ContractFee, outstanding: str) -> str:
    """A fee's amount in words: fixed yuan, or its percentage of the principal or of ``outstanding``."""
    if fee.basis == "fixed":
        return yuan(fee.value)
    base = "借款本金" if fee.basis == "percent_of_principal" else outstanding
    return f"{base}的{percent(fee.value)}"


def charge_clauses(contract: Contract) -> tuple[ChargeClause, ...]:
    """Every charge ``contract`` lets servicing levy, as printed clauses (module docstring)."""
    terms, rules = contract.terms, contract.rules
    basis = terms.day_count.basis
    clauses = [ChargeClause("interest", "利息", f"借款年利率为{percent(terms.annual_rate)}（单利），按日计息，"
                                                 f"日利率 = 年利率 / {basis}（{terms.day_count.value}）。")]
    if terms.upfront_fee:
        clauses.append(ChargeClause("upfront_fee", "放款手续费",
                                    f"借款人于放款当日另行支付手续费{yuan(terms.upfront_fee)}，不从借款本金中扣除。"))
    if terms.fee_per_period:
        clauses.append(ChargeClause("installment_fee", "分期服务费",
                                    f"每期还款时支付服务费{yuan(terms.fee_per_period)}，已列入还款计划。"))
    clauses += _overdue_clauses(contract)
    clauses.append(_prepayment_clause(rules.prepayment))
    order = "、".join(COMPONENT_NAMES[c] for c in rules.allocation.components)
    scope = "逐期（先到期的一期还清后再还下一期）" if rules.allocation.basis is AllocationBasis.INSTALLMENT \
        else "按项目（先还清各期的同一项目）"
    clauses.append(ChargeClause("allocation", "还款冲抵顺序", f"借款人的还款{scope}依次抵偿{order}。"))
    return tuple(clauses)


def _overdue_clauses(contract: Contract) -> list[ChargeClause]:
    terms, penalty = contract.terms, contract.rules.penalty
    basis = terms.day_count.basis
    annual = percent(penalty.annual_equivalent(terms.annual_rate, basis))
    if penalty.daily_rate is not None:
        daily = (f"日罚息率{percent(penalty.daily_rate)}（按每个自然日计收，折合年利率{annual}"
                 f" = 日罚息率 × {basis}）")
    else:
        daily = (f"罚息年利率{annual}（借款年利率 × {penalty.multiplier.normalize()}），按每个自然日计收，"
                 f"日罚息率 = 罚息年利率 / {basis}")
    grace = "无宽限期" if penalty.grace_days == 0 else (
        f"宽限期{penalty.grace_days}天，宽限期内还清的不计罚息；逾期超过宽限期的"
        + ("自应还款日次日起计收罚息" if penalty.grace_retroactive else "自宽限期届满次日起计收罚息"))
    clauses = [ChargeClause("penalty", "罚息",
                            f"借款人未按期足额还款的，每期逾期本金自应还款日次日起按{daily}计收罚息；{grace}。"),
               ChargeClause("compound", "复利", COMPOUND_TEXT[penalty.compound])]
    for fee in contract.rules.late_fees.fees:
        clauses.append(ChargeClause("late_fee", fee.name,
                                    f"每期还款逾期超过宽限期（{penalty.grace_days}天）仍未还清的，该期收取{fee.name}"
                                    f"{fee_words(fee, '该期逾期本金及利息')}，每期只收取一次。"))
    return clauses


def _prepayment_clause(rules: PrepaymentRules) -> ChargeClause:
    if not rules.allowed:
        return ChargeClause("prepayment", "提前还款", "本合同不允许提前还款。")
    if rules.earliest_period <= 1:
        window = "借款人可自放款之日起提前偿还全部或部分借款"
    elif rules.earliest_unit == "installment":
        window = f"借款人可自第{rules.earliest_period}期还款日起提前偿还全部或部分借款"
    else:
        window = f"借款人可自放款之日起满{rules.earliest_period}{WINDOW_UNIT_NAMES[rules.earliest_unit]}后提前还款"
    text = f"{window}，利息按实际借款期间计算。"
    if rules.fees:
        parts = " + ".join(f"{fee.name}{fee_words(fee, '提前偿还本金')}" for fee in rules.fees)
        text += f"提前还款手续费为{parts}（各项相加）"
        if rules.min_fee:
            text += f"，最低{yuan(rules.min_fee)}"
        if rules.free_after_periods is not None:
            text += f"；已到期{rules.free_after_periods}期后提前还款免收"
        text += "。"
    else:
        text += "提前还款不收取手续费。"
    return ChargeClause("prepayment", "提前还款", text)
