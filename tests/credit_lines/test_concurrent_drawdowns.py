"""Fifty drawdowns at once against one limit on PostgreSQL: the limit holds.

Each thread has its own app context and so its own database session (the app's scoped session is per
thread), as fifty workers would; every drawdown is 1,000.00 on a line of 20,000.00, so exactly twenty fit.
The product allows a hundred live loans per customer here, so the line's limit is the one that binds.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.credit_lines.limits import LimitExceededError
from core.credit_lines.models import Drawdown
from core.origination.booking import DisbursementOrder
from tests.api.conftest import sample
from tests.credit_lines.conftest import draw, grant, line_app, session_of, used

THREADS = 50


@pytest.fixture
def pg_lines(postgres_url: str) -> Iterator[Flask]:
    document = sample("revolving_credit_line")
    document["credit_limits"]["max_concurrent_loans"] = 100
    yield from line_app(postgres_url, document)


@pytest.mark.postgres
def test_fifty_concurrent_drawdowns_never_exceed_the_limit(pg_lines: Flask) -> None:
    line_id = grant(pg_lines, "20000.00")

    def one(_n: int) -> str:
        try:
            draw(pg_lines, line_id, "1000.00")
            return "drawn"
        except LimitExceededError as error:
            assert error.level == "line"
            return "refused"

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(one, range(THREADS)))
    assert (outcomes.count("drawn"), outcomes.count("refused")) == (20, 30)
    assert used(pg_lines, line_id) == Decimal("20000.00")
    with pg_lines.app_context():
        session = session_of(pg_lines)
        assert session.scalar(select(func.count()).select_from(Drawdown)) == 20
        assert session.scalar(select(func.sum(DisbursementOrder.amount))) == Decimal("20000.00")
