"""The kernel's errors: one base, one subclass per broken rule.

Every error the kernel raises on purpose is a :class:`LoanFactoryError`. Each subclass names the rule it
guards and carries the context a caller needs to explain the refusal (the argument or field at fault, the
offending value). The CLI prints ``str(error)`` and exits 2; the API turns ``field`` into a JSON pointer.
"""

from __future__ import annotations

from typing import Any


class LoanFactoryError(Exception):
    """Base of every deliberate refusal by the kernel.

    Args:
        message: what went wrong, in words a user can act on.
        field: the argument, option or JSON field at fault, when there is one.
        value: the offending value, when it helps the reader.
    """

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value

    def __str__(self) -> str:
        if self.field and self.field not in self.message:
            return f"{self.field}: {self.message}"
        return self.message


class RecordedRefusal(LoanFactoryError):
    """A refusal the kernel has also written down in the caller's session, for people to follow up (a payment
    callback flagged for reconciliation): the caller commits that record and answers with the refusal.

    The kernel raises it before it changed anything else, so committing keeps the record and nothing more.
    """


class InvalidArgumentError(LoanFactoryError, ValueError):
    """An input is outside what the rule accepts (zero term, negative amount, unknown method...)."""


class FieldProblems(InvalidArgumentError):
    """A request has one or more bad fields; ``problems`` lists every one as ``(field, message)`` with the field
    dotted (``enterprise.credit_code``), so a face can point at each. ``field`` is the first one's."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        first_field, first_message = problems[0]
        super().__init__(f"{first_field}: {first_message}" + (f" (and {len(problems) - 1} more)"
                                                               if len(problems) > 1 else ""), field=first_field)
        self.problems = list(problems)


class WrongStateError(LoanFactoryError):
    """The operation does not apply in the entity's current state (accepting a rejected offer, prepaying a
    loan before its contract allows it...); the API answers it with 409 Conflict."""


class InputError(InvalidArgumentError):
    """A value a person or a channel sent is not in the form its field takes (an amount, a date, text);
    the message is ``"<field>: <reason>"``."""

    @property
    def reason(self) -> str:
        """Why, without the field's name (for a list of problems that names the field itself)."""
        return self.message.removeprefix(f"{self.field}: ")


class FloatMoneyError(InvalidArgumentError, TypeError):
    """A ``float`` was given where money or a rate is expected; floats cannot hold fen exactly."""


class CurrencyMismatchError(LoanFactoryError):
    """Two amounts in different currencies were combined."""


class AprNotConvergedError(LoanFactoryError):
    """The IRR solver found no rate for the cash flows (no sign change, or no convergence)."""


class StoredRecordError(LoanFactoryError):
    """A record the kernel stored earlier (an application's approved offer, a loan's contract) lacks a key or
    holds a value that does not parse; ``field`` is the key's path (``terms.penalty.multiplier``).

    The stored data is damaged, not the request: the reader never puts a default in the gap, which would
    bring into force terms nobody agreed to. Each record raises its own subclass.
    """
