"""From our application, applicant and bureau report to the German credit characteristics.

The scorecard was trained on the German credit data, so each of our facts is expressed as the German
characteristic that carries the same information. Where the German category labels are ambiguous (the
data is known to rank "critical account" as the safest credit history, a selection effect of who was
granted credit), the mapping goes by the risk each category shows in the data, not by its label text.

=====================================================  ==========================================================
German characteristic                                  our source
=====================================================  ==========================================================
status_of_existing_checking_account (liquidity)        bureau: current overdue → ``< 0 DM``; revolving utilisation
                                                       ≥ 70% or no open account → ``0..200 DM``; else ``≥ 200 DM``
duration_in_month                                      application term in months
credit_history                                         bureau grids: 90+ days or bad debt ever → worst band; no
                                                       account ever → thin file (same band); 1-60 days late →
                                                       ``delay in paying off``; clean → ``paid back duly``; clean
                                                       with an account closed normally (C) → safest band
purpose                                                application purpose (codes or Chinese words, see PURPOSES)
credit_amount                                          amount in CNY × ``amount_scale`` (default 0.2: 1970s DM
                                                       amounts were about a fifth of today's CNY loan sizes,
                                                       judged by monthly incomes)
installment_rate_in_percentage_of_disposable_income    first installment / monthly income: <20% → 1, <25% → 2,
                                                       <35% → 3, else 4 (amount / term when no installment known)
age_in_years                                           applicant age
present_employment_since                               years employed (``unemployed`` by occupation)
other_installment_plans                                bureau: open consumer-finance or microloan accounts, or 3+
                                                       loan inquiries in 3 months (多头借贷) → ``stores``; open
                                                       bank loans → ``bank``; else ``none``
housing, job                                           applicant housing and occupation
=====================================================  ==========================================================

A fact we do not have (no bureau report, no employment declared) maps to ``None`` and scores the
"Missing" points, which are neutral (WoE 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.plugins.types import ApplicantProfile, ApplicationFacts, BureauReport

Value = Decimal | str | None


@dataclass(frozen=True, slots=True)
class Characteristic:
    """A scorecard characteristic: its German-data name, kind, reason code and what it means to a person."""

    name: str
    kind: str
    reason_code: str
    description: str


CHARACTERISTICS: tuple[Characteristic, ...] = (
    Characteristic("status_of_existing_checking_account", "categorical", "SC01", "征信显示资金紧张或当前逾期"),
    Characteristic("duration_in_month", "numerical", "SC02", "借款期限较长"),
    Characteristic("credit_history", "categorical", "SC03", "信用记录较短或有逾期历史"),
    Characteristic("purpose", "categorical", "SC04", "借款用途风险较高"),
    Characteristic("credit_amount", "numerical", "SC05", "借款金额与常见额度偏离"),
    Characteristic("installment_rate_in_percentage_of_disposable_income", "numerical", "SC06", "月供占收入比例较高"),
    Characteristic("age_in_years", "numerical", "SC07", "年龄段风险较高"),
    Characteristic("present_employment_since", "categorical", "SC08", "工作年限较短"),
    Characteristic("other_installment_plans", "categorical", "SC09", "在其他机构有分期或近期多头申请"),
    Characteristic("housing", "categorical", "SC10", "居住状况不稳定"),
    Characteristic("job", "categorical", "SC11", "职业稳定性较低"),
)

#: our purpose words -> German purpose categories
PURPOSES = {
    "consumption": "radio/television", "日常消费": "radio/television", "electronics": "radio/television",
    "数码": "radio/television", "appliances": "domestic appliances", "家电": "domestic appliances",
    "furniture": "furniture/equipment", "家具": "furniture/equipment", "renovation": "repairs", "装修": "repairs",
    "repairs": "repairs", "car": "car (new)", "购车": "car (new)", "used_car": "car (used)",
    "二手车": "car (used)", "education": "education", "教育": "education", "training": "retraining",
    "培训": "retraining", "business": "business", "经营": "business",
}
HOUSING = {"own": "own", "rent": "rent", "free": "for free"}
JOBS = {"unemployed": "unemployed/ unskilled - non-resident", "unskilled": "unskilled - resident",
        "skilled": "skilled employee / official",
        "management": "management/ self-employed/ highly qualified employee/ officer"}
DEFAULT_AMOUNT_SCALE = Decimal("0.2")


def characteristic_values(application: ApplicationFacts, applicant: ApplicantProfile, report: BureauReport | None,
                          amount_scale: Decimal = DEFAULT_AMOUNT_SCALE) -> dict[str, Value]:
    """The value of every characteristic for one application (``None`` where we lack the fact)."""
    return {
        "status_of_existing_checking_account": _liquidity(report),
        "duration_in_month": Decimal(application.term_months),
        "credit_history": _credit_history(report),
        "purpose": PURPOSES.get(application.purpose or "", "others"),
        "credit_amount": application.amount * amount_scale,
        "installment_rate_in_percentage_of_disposable_income": _installment_rate(application, applicant),
        "age_in_years": Decimal(applicant.age),
        "present_employment_since": _employment(applicant),
        "other_installment_plans": _other_plans(report),
        "housing": HOUSING.get(applicant.housing or ""),
        "job": JOBS.get(applicant.occupation or ""),
    }


def _liquidity(report: BureauReport | None) -> str | None:
    if report is None:
        return None
    if report.current_overdue > 0:
        return "... < 0 DM"
    revolving = [a for a in report.open_accounts if a.account_type == "R1" and a.credit_amount > 0]
    if not report.open_accounts:
        return "0 <= ... < 200 DM"
    if revolving:
        used = sum((a.balance for a in revolving), Decimal(0)) / sum((a.credit_amount for a in revolving), Decimal(0))
        if used >= Decimal("0.7"):
            return "0 <= ... < 200 DM"
    return "... >= 200 DM / salary assignments for at least 1 year"


def _credit_history(report: BureauReport | None) -> str | None:
    if report is None:
        return None
    worst = report.worst_status
    if worst >= 3:
        return "all credits at this bank paid back duly"
    if not report.accounts:
        return "no credits taken/ all credits paid back duly"
    if worst >= 1:
        return "delay in paying off in the past"
    if any("C" in a.grid for a in report.accounts):
        return "critical account/ other credits existing (not at this bank)"
    return "existing credits paid back duly till now"


def _installment_rate(application: ApplicationFacts, applicant: ApplicantProfile) -> Decimal | None:
    if applicant.monthly_income <= 0:
        return Decimal(4)
    payment = application.monthly_payment or application.amount / application.term_months
    share = payment / applicant.monthly_income
    for limit, code in ((Decimal("0.20"), 1), (Decimal("0.25"), 2), (Decimal("0.35"), 3)):
        if share < limit:
            return Decimal(code)
    return Decimal(4)


def _employment(applicant: ApplicantProfile) -> str | None:
    if applicant.occupation == "unemployed":
        return "unemployed"
    years = applicant.employment_years
    if years is None:
        return None
    if years < 1:
        return "... < 1 year"
    if years < 4:
        return "1 <= ... < 4 years"
    if years < 7:
        return "4 <= ... < 7 years"
    return "... >= 7 years"


def _other_plans(report: BureauReport | None) -> str | None:
    if report is None:
        return None
    open_lenders = {a.lender_type for a in report.open_accounts if a.account_type != "R1"}
    if open_lenders & {"consumer_finance", "microloan"} or report.inquiries_within(3, ("02",)) >= 3:
        return "stores"
    if "bank" in open_lenders:
        return "bank"
    return "none"
