"""The Amount column returns exactly the Decimal stored, on both back ends."""

from decimal import Decimal

import pytest
from sqlalchemy import Integer, select
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Amount, Base
from core.errors import FloatMoneyError


class AmountProbe(Base):
    __tablename__ = "test_amount_probe"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[Decimal] = mapped_column(Amount)


@pytest.mark.parametrize("value", ["0.01", "1234567890123.4567", "-0.10", "0"])
def test_amount_round_trips_exactly(db_session, value):
    db_session.add(AmountProbe(value=Decimal(value)))
    db_session.flush()
    stored = db_session.scalar(select(AmountProbe.value))
    assert stored == Decimal(value)
    assert isinstance(stored, Decimal)


def test_amount_refuses_floats(db_session):
    db_session.add(AmountProbe(value=0.1))
    with pytest.raises(Exception) as info:
        db_session.flush()
    assert isinstance(info.value, FloatMoneyError) or isinstance(info.value.__cause__, FloatMoneyError) \
        or "float" in str(info.value)
