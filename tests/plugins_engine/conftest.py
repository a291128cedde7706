"""Run the contract kit (plugins.testing) on both databases: its session becomes the shared ``db_session``."""

from __future__ import annotations

import pytest


@pytest.fixture
def contract_session(contract_manager, db_session):
    """The contract tests' session: SQLite and a fresh PostgreSQL database, every plugin table created."""
    return db_session
