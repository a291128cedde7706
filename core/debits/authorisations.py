"""The debit authorisation (代扣授权): stated in the contract, captured at signing, revocable, audited.

The contract the borrower is shown names the account and carries the product's consent wording
(:func:`contract_statement`, printed by the e-signature plugin); signing that contract is the consent, so
:func:`capture` stores the authorisation when the signature verifies, with the contract's SHA-256, the
moment and the channel. :func:`revoke` ends it (the borrower withdrew it through the channel, or staff
recorded a withdrawal): from then on the due run makes no debit of the loan (the product's
``on_authorisation_missing`` says whether the installment's attempts go on being counted or stop). Both
are audit events (``debit_authorisation.granted`` / ``.revoked``), the account masked in them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.backoffice import audit
from core.debits.models import DebitAuthorisation
from core.debits.policy import DebitPolicy, consent_clause
from core.errors import WrongStateError
from core.inputs import parse_text
from core.loans.models import Loan

MAX_REASON = 500


def masked_account(account_number: str) -> str:
    """The account as contracts and screens show it: ``6222 **** **** 3445`` style, last four kept."""
    return "*" * max(len(account_number) - 4, 0) + account_number[-4:]


def contract_statement(policy: DebitPolicy, bank_code: str, account_number: str) -> dict[str, str] | None:
    """What the contract prints about the authorisation (``None`` when the product has no debit section):
    the bank, the masked account and the consent wording in both languages."""
    if policy.consent_text is None:
        return None
    masked = masked_account(account_number)
    return {"bank": bank_code, "account": masked, "text": consent_clause(policy, bank_code, masked, "zh"),
            "text_en": consent_clause(policy, bank_code, masked, "en")}


def capture(session: Session, *, application_id: int, bank_code: str, account_number: str, holder_name: str,
            policy: DebitPolicy, contract_sha256: str, channel: str, actor: str,
            now: datetime) -> DebitAuthorisation | None:
    """Store the authorisation the signed contract states (again: the one stored; none without a policy)."""
    existing = session.scalar(select(DebitAuthorisation).where(DebitAuthorisation.application_id == application_id))
    if existing is not None:
        return existing
    statement = contract_statement(policy, bank_code, account_number)
    if statement is None:
        return None
    now = now.astimezone(UTC)
    authorisation = DebitAuthorisation(
        application_id=application_id, bank_code=bank_code, account_number=account_number,
        holder_name=holder_name, account_tail=account_number[-4:], consent_text=statement["text"],
        contract_sha256=contract_sha256, granted_at=now, channel=channel, granted_by=actor)
    session.add(authorisation)
    session.flush()
    audit.record(session, actor=actor, action="debit_authorisation.granted", entity_type="application",
                 entity_id=application_id, after=_shown(authorisation), at=now)
    return authorisation


def _shown(authorisation: DebitAuthorisation) -> dict[str, Any]:
    return {"id": authorisation.id, "bank": authorisation.bank_code,
            "account": "*" * 4 + authorisation.account_tail, "granted_at": authorisation.granted_at,
            "channel": authorisation.channel, "contract_sha256": authorisation.contract_sha256,
            "revoked_at": authorisation.revoked_at, "revoked_by": authorisation.revoked_by,
            "revoke_reason": authorisation.revoke_reason}


def of_loan(session: Session, loan: Loan, *, lock: bool = False) -> DebitAuthorisation | None:
    """The authorisation given for ``loan`` (live or revoked), or ``None``."""
    if loan.application_id is None:
        return None
    query = select(DebitAuthorisation).where(DebitAuthorisation.application_id == loan.application_id)
    return session.scalar(query.with_for_update() if lock else query)


def revoke(session: Session, *, loan_id: int, reason: object, actor: str, now: datetime) -> DebitAuthorisation:
    """End the loan's debit authorisation; no debit is made after it (revoking again: no change).

    Raises:
        WrongStateError: no such loan, or it has no authorisation (field ``authorisation``).
        InvalidArgumentError: ``reason`` is empty or longer than :data:`MAX_REASON` (field ``reason``).
    """
    text = parse_text(reason, "reason", MAX_REASON)
    now = now.astimezone(UTC)  # SQLite keeps no offset: moments are stored in UTC
    loan = session.get(Loan, loan_id)
    authorisation = of_loan(session, loan, lock=True) if loan is not None else None
    if authorisation is None:
        raise WrongStateError(f"authorisation: loan {loan_id} has no debit authorisation", field="authorisation",
                              value=loan_id)
    if not authorisation.live:
        return authorisation
    before = _shown(authorisation)
    authorisation.revoked_at, authorisation.revoked_by, authorisation.revoke_reason = now, actor, text
    session.flush()
    audit.record(session, actor=actor, action="debit_authorisation.revoked", entity_type="loan", entity_id=loan_id,
                 before=before, after=_shown(authorisation), comment=text, at=now)
    return authorisation


def require_live(authorisation: DebitAuthorisation | None, loan_id: int) -> DebitAuthorisation:
    """The live authorisation, or :class:`WrongStateError` (a manual retry of a loan without one)."""
    if authorisation is None or not authorisation.live:
        raise WrongStateError(f"authorisation: loan {loan_id} has no live debit authorisation",
                              field="authorisation", value=loan_id)
    return authorisation
