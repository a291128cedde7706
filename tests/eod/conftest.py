"""Servicing fixtures: every kernel table registered, a business calendar seeded; a second PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servicing.helpers import seed_calendar
from sqlalchemy.orm import Session

from tests.conftest import fresh_postgres_database


@pytest.fixture
def books(db_session: Session) -> Session:
    """``db_session`` with the business calendar seeded through 2028."""
    seed_calendar(db_session)
    db_session.commit()
    return db_session


@pytest.fixture
def second_postgres_url(postgres_url: str) -> Iterator[str]:
    """Another fresh PostgreSQL database beside ``postgres_url``, dropped afterwards."""
    yield from fresh_postgres_database()
