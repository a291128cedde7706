"""The Amount column returns exactly the Decimal stored, on both back ends, and adds in SQL."""

from decimal import Decimal

import pytest
from sqlalchemy import Integer, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.db.base import Amount
from core.errors import FloatMoneyError


class ProbeBase(DeclarativeBase):
    """A metadata of its own, so the probe table never joins the app's schema."""


class AmountProbe(ProbeBase):
    __tablename__ = "test_amount_probe"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[Decimal] = mapped_column(Amount)


@pytest.fixture
def probe_session(db_session):
    ProbeBase.metadata.create_all(db_session.get_bind())
    return db_session


@pytest.mark.parametrize("value", ["0.01", "1234567890123.4567", "-0.10", "0"])
def test_amount_round_trips_exactly(probe_session, value):
    probe_session.add(AmountProbe(value=Decimal(value)))
    probe_session.flush()
    stored = probe_session.scalar(select(AmountProbe.value))
    assert stored == Decimal(value)
    assert isinstance(stored, Decimal)


def test_amount_adds_in_sql(probe_session):
    probe_session.add(AmountProbe(value=Decimal("1.25")))
    probe_session.flush()
    assert Decimal(str(probe_session.scalar(select(AmountProbe.value + Decimal("2.50"))))) == Decimal("3.75")


def test_amount_refuses_floats(probe_session):
    probe_session.add(AmountProbe(value=0.1))
    with pytest.raises(Exception) as info:
        probe_session.flush()
    assert isinstance(info.value, FloatMoneyError) or isinstance(info.value.__cause__, FloatMoneyError)
