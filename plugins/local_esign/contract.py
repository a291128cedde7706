"""What a loan contract says: the parties, the key terms, the schedule and the template's clauses.

:func:`build_contract` turns a :class:`~core.plugins.types.ContractRequest` into :class:`ContractContent`,
plain text the renderer lays out. The fixed parts (parties, amounts, rates, schedule) are built here; the
clauses come from the product's template, a JSON file in ``templates/`` (``${name}`` placeholders, see
:data:`TEMPLATE_VARIABLES`). Amounts appear in figures and in Chinese capitals (大写金额, by ``cn2an``):
the capitals are what a court reads when the two disagree.

The borrower's ID number is masked (PIPL Art. 28; the full number stays in the encrypted customer
record and in the signature evidence's signer identifier); the lender's unified social credit code is
public and printed in full.

``request.terms`` keys read here (money and rates as ``Decimal``, ``int`` or numeric strings, dates as
``date`` or ISO strings): ``amount``, ``annual_rate``, ``apr``, ``term``, ``method``, ``start_date``,
``schedule`` (a list of mappings with ``period``, ``due_date``, ``principal``, ``interest``, ``fee``,
``total``, ``remaining_principal``); optional ``maturity_date`` (default: the last due date),
``penalty_rate`` (default: the annual rate × 1.5), ``charges`` (a list of mappings with ``heading`` and ``text``:
every charge the contract lets servicing levy, :func:`core.loans.disclosure.charge_clauses`; printed where the
template has the clause ``{"insert": "charges"}``, else after its clauses), ``purpose`` (default 个人消费),
``signed_on`` (default: ``start_date``), ``term_unit`` (``month``, ``week`` or ``day``; default: the term counts
periods), ``product_name`` (printed among the key terms when given) and ``debit_authorisation`` (a mapping
with ``bank``, the masked ``account`` and the consent ``text``: the account among the key terms and the
authorisation as the last clause, 代扣授权).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.resources import files
from string import Template
from typing import Any

import cn2an

from core.customers.pii import mask_id_number
from core.errors import LoanFactoryError
from core.money import to_decimal
from core.plugins.types import ContractRequest, Signer

METHOD_NAMES = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only": "先息后本",
    "bullet": "到期还本付息",
}

TERM_UNITS = {"month": "个月", "week": "周", "day": "天", "period": "期"}

#: the placeholders a template may use
TEMPLATE_VARIABLES = (
    "contract_id", "lender_name", "borrower_name", "amount", "amount_words", "annual_rate", "apr",
    "penalty_rate", "term", "periods", "method", "start_date", "maturity_date", "purpose", "total_interest",
    "total_interest_words", "total_fees", "total_fees_words",
)


class ContractTermsError(LoanFactoryError):
    """``request.terms`` lacks a key the contract needs, or a value is malformed; ``field`` names it."""


class ContractTemplateError(LoanFactoryError):
    """The template named by the product does not exist, is malformed, or uses an unknown placeholder."""


@dataclass(frozen=True)
class ScheduleLine:
    """One row of the schedule as printed: amounts already formatted."""

    period: int
    due_date: str
    principal: str
    interest: str
    fee: str
    total: str
    remaining_principal: str


@dataclass(frozen=True)
class Clause:
    heading: str
    text: str


@dataclass(frozen=True)
class ContractContent:
    """Everything printed on the contract, in reading order."""

    contract_id: str
    title: str
    template: str
    signed_on: date
    preamble: str
    parties: tuple[tuple[str, str], ...]
    key_terms: tuple[tuple[str, str], ...]
    schedule: tuple[ScheduleLine, ...]
    schedule_totals: ScheduleLine
    clauses: tuple[Clause, ...]

    def all_text(self) -> str:
        """Every string printed, for choosing the font's glyphs."""
        parts = [self.contract_id, self.title, self.preamble, self.signed_on.isoformat()]
        parts += [s for pair in self.parties + self.key_terms for s in pair]
        for line in (*self.schedule, self.schedule_totals):
            parts += [str(line.period), line.due_date, line.principal, line.interest, line.fee, line.total,
                      line.remaining_principal]
        parts += [c.heading + c.text for c in self.clauses]
        return "\n".join(parts)


def yuan(amount: Decimal) -> str:
    """``Decimal('12345.6')`` -> ``'¥12,345.60'``."""
    return f"¥{amount:,.2f}"


def capitals(amount: Decimal) -> str:
    """The amount in Chinese capitals: ``Decimal('100000.05')`` -> ``'壹拾万元零伍分'``."""
    if amount < 0:
        raise ContractTermsError(f"amount: a contract amount cannot be negative, got {amount}", field="amount")
    return str(cn2an.an2cn(f"{amount:.2f}", "rmb"))


def percent(rate: Decimal) -> str:
    """``Decimal('0.182345')`` -> ``'18.23%'`` (a rate shown to the basis point)."""
    return f"{rate * 100:.2f}%"


def _required(terms: Mapping[str, Any], key: str) -> Any:
    if key not in terms or terms[key] is None:
        raise ContractTermsError(f"terms.{key}: the contract needs it", field=f"terms.{key}")
    return terms[key]


def _decimal(terms: Mapping[str, Any], key: str) -> Decimal:
    value = to_decimal(_required(terms, key), f"terms.{key}")
    if value < 0:
        raise ContractTermsError(f"terms.{key}: must not be negative, got {value}", field=f"terms.{key}")
    return value


def _date(value: Any, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ContractTermsError(f"{key}: {value!r} is not a date (YYYY-MM-DD)", field=key, value=value) from None


def _schedule(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[ScheduleLine, ...], ScheduleLine, Decimal, Decimal]:
    if not rows:
        raise ContractTermsError("terms.schedule: the contract needs at least one installment",
                                 field="terms.schedule")
    lines = []
    sums = dict.fromkeys(("principal", "interest", "fee", "total"), Decimal(0))
    for index, row in enumerate(rows):
        values = {}
        for key in ("principal", "interest", "fee", "total", "remaining_principal"):
            values[key] = to_decimal(_required(row, key), f"terms.schedule[{index}].{key}")
        for key in sums:
            sums[key] += values[key]
        lines.append(ScheduleLine(
            period=int(_required(row, "period")),
            due_date=_date(_required(row, "due_date"), f"terms.schedule[{index}].due_date").isoformat(),
            **{key: f"{value:,.2f}" for key, value in values.items()},
        ))
    totals = ScheduleLine(period=0, due_date="合计", principal=f"{sums['principal']:,.2f}",
                          interest=f"{sums['interest']:,.2f}", fee=f"{sums['fee']:,.2f}",
                          total=f"{sums['total']:,.2f}", remaining_principal="")
    return tuple(lines), totals, sums["interest"], sums["fee"]


def load_template(name: str) -> dict[str, Any]:
    """The template ``templates/<name>.json``.

    Raises:
        ContractTemplateError: no such template, or it is not a JSON object with title and clauses.
    """
    if not name.replace("_", "").isalnum():
        raise ContractTemplateError(f"template: {name!r} is not a template name", field="template", value=name)
    resource = files("plugins.local_esign") / "templates" / f"{name}.json"
    if not resource.is_file():
        raise ContractTemplateError(f"template: no contract template named {name!r}", field="template", value=name)
    document = json.loads(resource.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("clauses"), list) or "title" not in document:
        raise ContractTemplateError(f"template {name!r}: needs a title and a list of clauses", field="template")
    return document


def _fill(text: str, variables: Mapping[str, str], where: str) -> str:
    try:
        return Template(text).substitute(variables)
    except KeyError as missing:
        name = missing.args[0]
        raise ContractTemplateError(f"{where}: unknown placeholder ${{{name}}}", field=where, value=name) from None
    except ValueError as error:
        raise ContractTemplateError(f"{where}: {error}", field=where) from None


def _charges(terms: Mapping[str, Any]) -> tuple[Clause, ...]:
    found = terms.get("charges") or ()
    if not isinstance(found, Sequence) or not all(isinstance(c, Mapping) and c.get("heading") and c.get("text")
                                                  for c in found):
        raise ContractTermsError("terms.charges: a list of clauses, each with a heading and a text",
                                 field="terms.charges")
    return tuple(Clause(heading=str(c["heading"]), text=str(c["text"])) for c in found)


def _clauses(template: Sequence[Mapping[str, Any]], variables: Mapping[str, str],
             charges: tuple[Clause, ...]) -> tuple[Clause, ...]:
    """The template's clauses filled in, the charge clauses where it says ``{"insert": "charges"}`` (or last)."""
    out: list[Clause] = []
    placed = False
    for i, c in enumerate(template):
        if c.get("insert") == "charges":
            out += charges
            placed = True
            continue
        out.append(Clause(heading=str(c.get("heading", "")), text=_fill(str(c.get("text", "")), variables,
                                                                        f"template.clauses[{i}]")))
    return tuple(out) if placed else (*out, *charges)


def _party_rows(borrower: Signer, lender: Signer) -> tuple[tuple[str, str], ...]:
    return (
        ("出借人（甲方）", lender.name),
        ("统一社会信用代码", lender.identifier),
        ("借款人（乙方）", borrower.name),
        ("身份证号码", mask_id_number(borrower.identifier)),
    )


def _debit_authorisation(value: object) -> Mapping[str, str] | None:
    """The ``debit_authorisation`` term (bank, masked account, consent wording), checked, or ``None``."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(value.get(k), str) and value.get(k)
                                                 for k in ("bank", "account", "text")):
        raise ContractTermsError("terms.debit_authorisation: needs the bank, the masked account and the text",
                                 field="terms.debit_authorisation")
    return value


def build_contract(request: ContractRequest) -> ContractContent:
    """The contract's content for ``request``.

    Raises:
        ContractTermsError: a term is missing or malformed (``field`` is ``terms.<key>``).
        ContractTemplateError: the template is unknown or uses an unknown placeholder.
    """
    terms = request.terms
    amount = _decimal(terms, "amount")
    annual_rate = _decimal(terms, "annual_rate")
    apr = _decimal(terms, "apr")
    penalty = terms.get("penalty_rate")
    penalty_rate = annual_rate * Decimal("1.5") if penalty is None else to_decimal(penalty, "terms.penalty_rate")
    term = int(_required(terms, "term"))
    unit = TERM_UNITS.get(str(terms.get("term_unit") or "period"))
    if unit is None:
        raise ContractTermsError(f"terms.term_unit: {terms.get('term_unit')!r} is not month, week or day",
                                 field="terms.term_unit")
    method = str(_required(terms, "method"))
    if method not in METHOD_NAMES:
        raise ContractTermsError(f"terms.method: unknown repayment method {method!r}", field="terms.method",
                                 value=method)
    start = _date(_required(terms, "start_date"), "terms.start_date")
    lines, totals, total_interest, total_fees = _schedule(_required(terms, "schedule"))
    maturity = _date(terms.get("maturity_date") or lines[-1].due_date, "terms.maturity_date")
    signed_on = _date(terms.get("signed_on") or start, "terms.signed_on")
    template = load_template(request.template)
    variables = {
        "contract_id": request.contract_id, "lender_name": request.lender.name,
        "borrower_name": request.borrower.name, "amount": yuan(amount), "amount_words": capitals(amount),
        "annual_rate": percent(annual_rate), "apr": percent(apr), "penalty_rate": percent(penalty_rate),
        "term": f"{term}{unit}", "periods": str(len(lines)), "method": METHOD_NAMES[method],
        "start_date": start.isoformat(),
        "maturity_date": maturity.isoformat(), "purpose": str(terms.get("purpose") or "个人消费"),
        "total_interest": yuan(total_interest), "total_interest_words": capitals(total_interest),
        "total_fees": yuan(total_fees), "total_fees_words": capitals(total_fees),
    }
    clauses = _clauses(template["clauses"], variables, _charges(terms))
    debit = _debit_authorisation(terms.get("debit_authorisation"))
    if debit is not None:
        clauses += (Clause(heading="代扣授权", text=debit["text"]),)
    product = (("产品名称", str(terms["product_name"])),) if terms.get("product_name") else ()
    key_terms = (
        *product,
        ("借款本金", f"人民币{capitals(amount)}（{yuan(amount)}）"),
        ("借款期限", f"{term}{unit}，分{len(lines)}期，{start.isoformat()} 至 {maturity.isoformat()}"),
        ("还款方式", METHOD_NAMES[method]),
        ("年利率（单利）", percent(annual_rate)),
        ("年化利率（IRR）", percent(apr)),
        ("逾期罚息年利率", percent(penalty_rate)),
        ("总利息", f"人民币{capitals(total_interest)}（{yuan(total_interest)}）"),
        ("总费用", f"人民币{capitals(total_fees)}（{yuan(total_fees)}）"),
        *((("代扣账户", f"{debit['bank']} {debit['account']}"),) if debit is not None else ()),
    )
    return ContractContent(
        contract_id=request.contract_id, title=str(template["title"]), template=request.template,
        signed_on=signed_on, preamble=_fill(str(template.get("preamble", "")), variables, "template.preamble"),
        parties=_party_rows(request.borrower, request.lender), key_terms=key_terms, schedule=lines,
        schedule_totals=totals, clauses=clauses,
    )
