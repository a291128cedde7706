"""How the sandbox bank behaves beyond planned faults: the shares of debits that meet an empty card, are
collected in part, or whose callback is lost or sent twice, as a real bank's batch debits do.

Each share is a fraction from 0 to 1 in the plugin's configuration (default 0: the bank never misbehaves
unasked). Whether a given debit is in a share is decided by a digest, so the same order always meets the
same fate and a test can rely on it:

* ``insufficient_funds_share``: of the cards whose balance the sandbox does not track, the share that is
  short of funds on a given day (by card and day: an attempt later the same day fails too, the next day's
  may succeed); a debit that finds its card short fails ``INSUFFICIENT_FUNDS``...
* ``partial_share``: ...unless it allows a partial debit and falls in this share, when the bank collects
  between 20% and 80% of it (whole fen);
* ``lost_callback_share``: orders whose result callback never reaches the merchant (it must ask with
  ``payment_query``);
* ``duplicate_callback_share``: orders whose callback is sent twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from core.errors import LoanFactoryError
from core.rounding import FEN

SHARES = ("insufficient_funds_share", "partial_share", "lost_callback_share", "duplicate_callback_share")


def fraction(key: str) -> Decimal:
    """A fraction in [0, 1) fixed by ``key``."""
    return Decimal(int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16)) / Decimal(2 ** 32)


@dataclass(frozen=True)
class Behaviour:
    """The shares of :data:`SHARES`, as exact fractions."""

    insufficient_funds_share: Decimal = Decimal(0)
    partial_share: Decimal = Decimal(0)
    lost_callback_share: Decimal = Decimal(0)
    duplicate_callback_share: Decimal = Decimal(0)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Behaviour:
        """The behaviour the plugin's configuration asks for.

        Raises:
            LoanFactoryError: a share that is not a number from 0 to 1 (``field`` names it).
        """
        values = {}
        for name in SHARES:
            try:
                value = Decimal(str(config.get(name, 0)))
            except ArithmeticError:
                value = Decimal(-1)
            if not Decimal(0) <= value <= Decimal(1):
                raise LoanFactoryError(f"{name}: must be a fraction from 0 to 1", field=name, value=config.get(name))
            values[name] = value
        return cls(**values)

    def short_of_funds(self, account_number: str, day: date) -> bool:
        return fraction(f"funds:{account_number}:{day.isoformat()}") < self.insufficient_funds_share

    def partial_amount(self, request_id: str, amount: Decimal) -> Decimal | None:
        """What a partial debit of ``amount`` collects, or ``None`` when this one is not collected in part."""
        if fraction(f"partial:{request_id}") >= self.partial_share:
            return None
        part = (amount * (Decimal("0.2") + Decimal("0.6") * fraction(f"part:{request_id}"))).quantize(
            FEN, rounding=ROUND_DOWN)
        return part if Decimal(0) < part < amount else None

    def callbacks_for(self, request_id: str) -> int:
        """How many times the result callback of ``request_id`` is sent: 0 (lost), 1, or 2 (duplicated)."""
        if fraction(f"lost:{request_id}") < self.lost_callback_share:
            return 0
        return 2 if fraction(f"dup:{request_id}") < self.duplicate_callback_share else 1
