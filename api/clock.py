"""The API's clock: the business date the API and the admin share (:mod:`loanfactory.clock`)."""

from __future__ import annotations

from loanfactory.clock import now, today, zone

__all__ = ["now", "today", "zone"]
