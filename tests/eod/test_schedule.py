"""End-of-day on beat's schedule: the date the schedule closes at a local time, the beat entries, catching up
after downtime, and a stalled run seen (``eod status``) and resent. Eager Celery on SQLite: the tasks run in
this process, with the same code a worker runs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from celery.schedules import crontab
from click.testing import CliRunner

from core.businessday.closes import last_closed
from core.eod.runs import open_run, record_dispatch
from core.errors import InvalidArgumentError
from loanfactory.app import create_app
from loanfactory.cli import main
from loanfactory.database import db_session
from loanfactory.tasks.eod import dispatch_eod, scheduled_date
from tests.eod.test_celery import FIRST, LAST, inline, picture, prepare


@pytest.mark.parametrize(("local", "closes"), [
    ("2026-03-05T00:14", date(2026, 3, 3)),  # before 00:30 the day that just ended is still open
    ("2026-03-05T00:30", date(2026, 3, 4)),
    ("2026-03-05T23:59", date(2026, 3, 4)),
])
def test_the_schedule_closes_the_day_that_ended_once_eod_at_has_passed(local: str, closes: date) -> None:
    now = datetime.fromisoformat(local)
    assert scheduled_date(now, now.date(), time(0, 30)) == closes


def test_beat_runs_end_of_day_at_the_configured_local_time_and_catches_up_between(tmp_path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite3", "EOD_AT": "01:15",
                      "EOD_CATCHUP_SECONDS": 120})
    celery = app.extensions["celery"]
    schedule = celery.conf.beat_schedule
    assert schedule["loanfactory-eod"]["schedule"] == crontab(hour=1, minute=15)
    assert schedule["loanfactory-eod-catch-up"]["schedule"] == 120.0
    assert celery.conf.timezone == "Asia/Shanghai"
    off = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3", "EOD_AT": ""})
    assert "loanfactory-eod" not in off.extensions["celery"].conf.beat_schedule
    with pytest.raises(InvalidArgumentError, match="EOD_AT"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/c.sqlite3", "EOD_AT": "25:00"})


def test_beat_after_downtime_closes_every_missed_date_with_the_books_of_a_run_inline(tmp_path) -> None:
    expected = inline(f"sqlite:///{tmp_path}/inline.sqlite3", 12)
    url = f"sqlite:///{tmp_path}/beat.sqlite3"
    prepare(url, 12)  # closed through FIRST; beat was down for three nights
    app = create_app({"DATABASE_URL": url, "EOD_PARTITION_SIZE": 5})
    # 00:40 in Shanghai on the morning after LAST (16:40 UTC the day before)
    with time_machine.travel(datetime(2026, 3, 4, 16, 40, tzinfo=UTC), tick=False), app.app_context():
        result = dispatch_eod.apply().get()
        assert result["target"] == LAST.isoformat() and result["open"] is None
        assert last_closed(db_session()) == LAST
    assert picture(url) == expected


def test_a_run_with_no_progress_is_stalled_shown_by_eod_status_and_resent(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path}/stall.sqlite3"
    prepare(url, 12)
    monkeypatch.setenv("DATABASE_URL", url)
    app = create_app({"DATABASE_URL": url, "EOD_PARTITION_SIZE": 5, "EOD_STALL_SECONDS": 60})
    on = FIRST + timedelta(days=1)
    with app.app_context():
        session = db_session()
        # a run sent ten minutes ago whose worker died before any partition committed
        record_dispatch(session, on, 3, datetime.now(UTC) - timedelta(minutes=10))
        session.commit()
        assert open_run(session).done == 0
    status = CliRunner().invoke(main, ["eod", "status", "--json"])
    assert status.exit_code == 0, status.output
    shown = json.loads(status.stdout)
    assert shown["stalled"] is True and shown["running"]["business_date"] == on.isoformat()
    assert shown["running"]["partitions"] == 3 and shown["running"]["done"] == 0
    with app.app_context():
        dispatch_eod.apply((on.isoformat(),)).get()  # beat's tick resends the missing partitions
        assert last_closed(db_session()) == on
    assert json.loads(CliRunner().invoke(main, ["eod", "status", "--json"]).stdout)["stalled"] is False


def test_a_fresh_run_is_not_stalled(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.sqlite3"
    prepare(url, 4)
    app = create_app({"DATABASE_URL": url, "EOD_STALL_SECONDS": 60})
    with app.app_context():
        session = db_session()
        record_dispatch(session, FIRST + timedelta(days=1), 1, datetime.now(UTC))
        session.commit()
        assert not open_run(session).stalled(datetime.now(UTC), timedelta(seconds=60))
