"""Fixtures for the books: a customer and loans to post against, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

import core.ledger  # noqa: F401  (registers the ledger tables before the db fixtures create them)
from books.factories import add_customer, add_loan
from core.loans.models import Loan


@pytest.fixture
def make_loan(db_session: Session) -> Callable[..., Loan]:
    """A factory of loans (one customer for all of them) in ``db_session``."""
    customer = add_customer(db_session)

    def make(principal: str = "12000.00") -> Loan:
        return add_loan(db_session, customer, principal)

    return make
