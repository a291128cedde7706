"""The app factory builds an app per call, with its own database and an eager Celery by default."""

from decimal import Decimal

import pytest
from celery import shared_task
from sqlalchemy import text

from core.errors import InvalidArgumentError
from loanfactory import settings
from loanfactory.app import create_app
from loanfactory.database import db_session


@shared_task
def add(x: int, y: int) -> int:
    return x + y


def test_two_apps_have_separate_databases(tmp_path):
    first = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite3"})
    second = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3"})
    with first.app_context():
        db_session().execute(text("create table probe (x int)"))
        db_session().commit()
    with second.app_context():
        names = db_session().execute(text("select name from sqlite_master where name='probe'")).all()
    assert names == []


def test_tasks_run_eagerly_inside_the_app_context(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/c.sqlite3"})
    assert app.extensions["celery"].conf.task_always_eager
    assert add.delay(2, 3).get() == 5


def test_the_money_guards_have_documented_defaults_and_a_bad_setting_stops_the_app(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/d.sqlite3"})
    with app.app_context():
        assert (settings.overpayment_multiple(), settings.callback_tolerance_days()) == (Decimal(2), 1)
    for key, value in (("OVERPAYMENT_MAX_MULTIPLE", "twice"), ("OVERPAYMENT_MAX_MULTIPLE", 0.5),
                       ("PAYMENT_CALLBACK_TOLERANCE_DAYS", -1), ("PAYMENT_CALLBACK_TOLERANCE_DAYS", "1.5")):
        with pytest.raises(InvalidArgumentError) as error:
            create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/e.sqlite3", key: value})
        assert error.value.field == key
