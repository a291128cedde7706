"""A product's debit policy (the ``debit`` section of its document), read into a frozen record.

The schema (``product_configs/schema/product.schema.json``, ``debit``) says what each setting means and
:mod:`core.products.debit_checks` refuses the combinations it cannot say; this module reads a valid
section, filling the schema's defaults, and answers the one question the due run asks of it: when is attempt
``n`` of an installment due (:meth:`DebitPolicy.attempt_time`). Attempts are numbered from 1: the plan's
entries first, then one every ``overdue_retry_every_days`` days at the last entry's hour, up to
``max_attempts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.errors import InvalidArgumentError

AUTHORISATION_MISSING = ("skip", "stop")
OVERPAYMENT = ("apply_to_next", "refund")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One planned attempt: ``offset_days`` after the due date, from local ``hour`` on."""

    offset_days: int
    hour: int


@dataclass(frozen=True, slots=True)
class DebitPolicy:
    """How a product's installments are collected by debit."""

    enabled: bool
    attempts: tuple[Attempt, ...]
    max_attempts: int
    overdue_retry_every_days: int = 0
    partial: bool = False
    on_authorisation_missing: str = "skip"
    overpayment: str = "apply_to_next"
    batch_size: int = 500
    query_after_minutes: int = 30
    consent_text: Mapping[str, str] | None = None

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> DebitPolicy:
        """The policy of a product document; a product without a ``debit`` section is never debited.

        Raises:
            InvalidArgumentError: the section does not hold what the schema promises (field ``debit.<key>``).
        """
        section = document.get("debit")
        if not section:
            return DISABLED
        try:
            attempts = tuple(Attempt(int(a["offset_days"]), int(a["hour"]))
                             for a in section.get("attempts") or [{"offset_days": 0, "hour": 9}])
            policy = cls(enabled=bool(section["enabled"]), attempts=attempts,
                         max_attempts=int(section.get("max_attempts", 5)),
                         overdue_retry_every_days=int(section.get("overdue_retry_every_days", 0)),
                         partial=bool(section.get("partial", False)),
                         on_authorisation_missing=str(section.get("on_authorisation_missing", "skip")),
                         overpayment=str(section.get("overpayment", "apply_to_next")),
                         batch_size=int(section.get("batch_size", 500)),
                         query_after_minutes=int(section.get("query_after_minutes", 30)),
                         consent_text=dict(section["consent_text"]))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidArgumentError(f"debit: the product's debit policy is malformed ({error})",
                                       field="debit") from None
        if policy.on_authorisation_missing not in AUTHORISATION_MISSING:
            raise InvalidArgumentError("debit.on_authorisation_missing: must be skip or stop",
                                       field="debit.on_authorisation_missing")
        if policy.overpayment not in OVERPAYMENT:
            raise InvalidArgumentError("debit.overpayment: must be apply_to_next or refund", field="debit.overpayment")
        return policy

    def attempt_plan(self, number: int) -> Attempt | None:
        """When attempt ``number`` (from 1) falls, relative to the due date; ``None`` past the last one."""
        if number < 1 or number > self.max_attempts:
            return None
        if number <= len(self.attempts):
            return self.attempts[number - 1]
        if not self.overdue_retry_every_days:
            return None
        last = self.attempts[-1]
        return Attempt(last.offset_days + (number - len(self.attempts)) * self.overdue_retry_every_days, last.hour)

    def attempt_time(self, number: int, due_date: date) -> tuple[date, int] | None:
        """The local date and hour from which attempt ``number`` of an installment due ``due_date`` is made."""
        plan = self.attempt_plan(number)
        if plan is None:
            return None
        return due_date + timedelta(days=plan.offset_days), plan.hour

    def due_dates_for(self, number: int, on: date, hour: int) -> tuple[date, date] | None:
        """The due dates whose attempt ``number`` has come by local ``on`` at ``hour``, as an inclusive range
        ``(earliest, latest)``: ``None`` when no installment's attempt ``number`` can be due (past the plan).

        The earliest bound is open (``date.min``): a late attempt that was never made (the run did not run that
        day) is made at the next run.
        """
        plan = self.attempt_plan(number)
        if plan is None:
            return None
        latest = on - timedelta(days=plan.offset_days)
        if hour < plan.hour:
            latest -= timedelta(days=1)
        return date.min, latest


#: the policy of a product that does not debit
DISABLED = DebitPolicy(enabled=False, attempts=(Attempt(0, 9),), max_attempts=1)


def consent_clause(policy: DebitPolicy, bank: str, masked_account: str, language: str = "zh") -> str:
    """The authorisation's wording with the account filled in, as the contract prints it."""
    text = (policy.consent_text or {}).get(language) or ""
    return text.replace("{bank}", bank).replace("{account}", masked_account)
