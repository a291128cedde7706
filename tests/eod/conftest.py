"""Servicing fixtures: every kernel table registered, a business calendar seeded."""

from __future__ import annotations

import pytest
from servicing.helpers import seed_calendar
from sqlalchemy.orm import Session


@pytest.fixture
def books(db_session: Session) -> Session:
    """``db_session`` with the business calendar seeded through 2028."""
    seed_calendar(db_session)
    db_session.commit()
    return db_session
