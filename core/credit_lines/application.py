"""Applying for a credit line: the ordinary application pipeline, with the limit asked for as the amount.

:func:`line_offer` is the offer a line application is checked and decided under: the product version with the
``credit_line.limit`` range read as the amount's, so the request's checks, the per-customer credit limits, the
eligibility rules and the approval chain (``amount`` in a condition) all see the limit asked for. A line
application needs no term or method; the product's defaults are recorded, and the debt-to-income check
prices the whole limit drawn over them (the heaviest use of the line the borrower could make by default).
:func:`apply_for_line` records and decides it (:func:`core.origination.pipeline.submit_application`);
:func:`accept_line` grants the line once it is approved (:func:`core.credit_lines.lifecycle.grant_line`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from core.applications.models import Application
from core.credit_lines.lifecycle import grant_line
from core.credit_lines.models import CreditLine
from core.origination.catalog import Offer
from core.origination.errors import RequestProblems
from core.origination.pipeline import submit_application
from core.origination.requests import parse_application
from core.plugins.manager import PluginManager
from core.products.credit_line import is_credit_line
from core.products.product import Product


def line_offer(offer: Offer) -> Offer:
    """``offer`` (a credit-line product version) with the limit range as the amount's.

    Raises:
        RequestProblems: the product is not a credit line (field ``product``).
    """
    if not is_credit_line(offer.document):
        raise RequestProblems([("product", f"{offer.code} is a loan product, not a credit line")])
    document = {**offer.document, "amount": offer.document["credit_line"]["limit"]}
    return Offer(version_id=offer.version_id, product=Product(document))


def apply_for_line(session: Session, plugins: PluginManager, offer: Offer, data: Mapping[str, Any], *,
                   channel: str, actor: str, now: datetime) -> Application:
    """Record and decide an application for a line of ``offer``; the limit asked for is ``amount``.

    Returns:
        The application, ``approved`` (the limit and rate in its decision), ``rejected`` or ``under_review``.

    Raises:
        RequestProblems: every bad field.
    """
    viewed = line_offer(offer)
    if not isinstance(data, Mapping):
        raise RequestProblems([("body", "must be a JSON object")])
    product = viewed.product
    filled = {"term": product.term_default, "method": product.default_method.value, **data}
    request = parse_application(viewed, filled, now, line=True)
    return submit_application(session, plugins, viewed, request, channel=channel, actor=actor, now=now)


def accept_line(session: Session, application: Application, offer: Offer, *, actor: str, today: date,
                now: datetime) -> CreditLine:
    """The borrower accepts an approved line on business date ``today``: it is granted (again: the line
    already granted)."""
    return grant_line(session, application, offer, actor=actor, today=today, now=now)
