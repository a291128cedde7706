"""A kernel refusal in the user's language.

The kernel's errors carry an English sentence for logs and the API, a ``field`` and often a ``value``
(:class:`core.errors.LoanFactoryError`). The admin shows the user :func:`refusal_text`: the refusal's rule in
words from the catalogue, by the error's class (the nearest class in :data:`REFUSALS` along its MRO), with
the figures it names (its value, the dates and amounts in its sentence). An error of a rule this table does
not know yet is shown as the kernel wrote it, after a translated lead.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import LoanFactoryError

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
AMOUNT = re.compile(r"\b\d+\.\d{2}\b")

#: error class name -> what the user reads (``%(value)s``; from the kernel's sentence ``%(date)s``, its last
#: date, ``%(amount)s``, its first amount, ``%(limit)s``, its last)
REFUSALS = {
    "MoneyLeftHeldError": _l("The loan would close with %(value)s still held for the borrower: collect exactly "
                             "the amount to collect, or tick \u201ckeep it for a refund\u201d."),
    "QuoteChangedError": _l("The quote has changed to %(amount)s since it was shown: quote again."),
    "PrepaymentTooEarlyError": _l("This loan's contract accepts prepayment from %(date)s."),
    "PrepaymentNotAllowedError": _l("Prepayment is not possible now: the contract forbids it, nothing is left "
                                    "to prepay, or something is due or overdue (collect that first)."),
    "AmountExceedsOutstandingError": _l("The amount %(value)s is more than it may be here (%(limit)s)."),
    "ServicingDateError": _l("The date %(value)s cannot be used: it must fall between the loan's last event and "
                             "today's business date, on a day not yet closed (the limit here: %(date)s)."),
    "MoneyInputError": _l("Write the amount as a number of yuan with at most two decimals, such as 5000.00."),
    "LoanNotServiceableError": _l("The loan's state does not allow this."),
    "IllegalTransitionError": _l("This step is not possible from the current status."),
    "FourEyesError": _l("A second person must do this: the one who asked for it may not."),
    "MakerCheckerError": _l("A second person must do this: the one who asked for it may not."),
}


def refusal_text(error: LoanFactoryError) -> str:
    """``error`` as the user reads it, prefixed "Refused:"."""
    for cls in type(error).__mro__:
        template = REFUSALS.get(cls.__name__)
        if template is not None:
            message = str(error)
            dates, amounts = DATE.findall(message), AMOUNT.findall(message)
            values: dict[str, Any] = {"value": _shown(getattr(error, "value", None)),
                                      "date": dates[-1] if dates else "", "amount": amounts[0] if amounts else "",
                                      "limit": amounts[-1] if amounts else ""}
            return _("Refused: %(reason)s", reason=str(template) % values)
    return _("Refused: %(reason)s", reason=str(error))


def _shown(value: object) -> str:
    return "" if value is None else str(value)
