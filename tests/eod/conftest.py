"""Servicing fixtures: every kernel table registered, a business calendar seeded; a second PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from servicing.helpers import seed_calendar
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def books(db_session: Session) -> Session:
    """``db_session`` with the business calendar seeded through 2028."""
    seed_calendar(db_session)
    db_session.commit()
    return db_session


@pytest.fixture
def second_postgres_url(postgres_url: str) -> Iterator[str]:
    """Another fresh PostgreSQL database beside ``postgres_url``, dropped afterwards."""
    name = f"lf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
