"""The deployment's settings of the money guards, read once from the app's configuration and handed to the
kernel by the faces (the API and the admin call the same accessors, so neither can loosen a guard).

======================================= ======= ===========================================================
key (``LOANFACTORY_`` in the environment) default
======================================= ======= ===========================================================
``OVERPAYMENT_MAX_MULTIPLE``            ``2``   the most a repayment or prepayment may bring, with the
                                                suspense already held, in payoffs of the loan
                                                (:func:`core.loans.repayment.check_overpayment`)
``PAYMENT_CALLBACK_TOLERANCE_DAYS``     ``1``   how many days after today's business date a payment
                                                channel's settlement date may fall
                                                (:func:`core.origination.settlement.check_callback`)
======================================= ======= ===========================================================

:func:`init_app` refuses a value that is not a number of the right kind, naming the key, so a typo stops
the app at start rather than loosening a guard.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Flask, current_app

from core.errors import InvalidArgumentError
from core.loans.repayment import OVERPAYMENT_MULTIPLE
from core.origination.settlement import CALLBACK_TOLERANCE_DAYS

MULTIPLE_KEY = "OVERPAYMENT_MAX_MULTIPLE"
TOLERANCE_KEY = "PAYMENT_CALLBACK_TOLERANCE_DAYS"


def _multiple(value: object) -> Decimal:
    try:
        multiple = Decimal(str(value))
    except InvalidOperation:
        multiple = Decimal("NaN")
    if not multiple.is_finite() or multiple < 1:
        raise InvalidArgumentError(f"{MULTIPLE_KEY}: must be a number of at least 1 (got {value!r})",
                                   field=MULTIPLE_KEY, value=value)
    return multiple


def _days(value: object) -> int:
    if isinstance(value, bool) or not str(value).isdigit():
        raise InvalidArgumentError(f"{TOLERANCE_KEY}: must be a whole number of days, 0 or more (got {value!r})",
                                   field=TOLERANCE_KEY, value=value)
    return int(str(value))


def init_app(app: Flask) -> None:
    """Fill in the defaults and check the values (:class:`InvalidArgumentError` naming the key)."""
    app.config.setdefault(MULTIPLE_KEY, str(OVERPAYMENT_MULTIPLE))
    app.config.setdefault(TOLERANCE_KEY, CALLBACK_TOLERANCE_DAYS)
    _multiple(app.config[MULTIPLE_KEY])
    _days(app.config[TOLERANCE_KEY])


def overpayment_multiple() -> Decimal:
    """The current app's ``OVERPAYMENT_MAX_MULTIPLE``."""
    return _multiple(current_app.config.get(MULTIPLE_KEY, OVERPAYMENT_MULTIPLE))


def callback_tolerance_days() -> int:
    """The current app's ``PAYMENT_CALLBACK_TOLERANCE_DAYS``."""
    return _days(current_app.config.get(TOLERANCE_KEY, CALLBACK_TOLERANCE_DAYS))
