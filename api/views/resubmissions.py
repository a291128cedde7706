"""Resubmission: the channel answers a return for supplement (退回补件) with the missing data.

``POST /applications/{id}/resubmission`` takes the :class:`~core.origination.returns.Supplement` document
(comment, documents, applicant finances), puts the returned application back under review on the step it
came from and answers with the application. Applications nobody resubmits expire: Celery beat runs
:func:`expire_returned_applications` every :data:`EXPIRY_SECONDS` (the deadline itself is fixed when the
application is returned).
"""

from __future__ import annotations

from celery import shared_task
from flask import Blueprint, Response, jsonify
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App

from api import clock
from api.auth import current_client
from api.body import json_body
from api.transactions import idempotent
from api.views.applications import application_json, channel_application
from core.db import make_session_factory
from core.origination.published import offer_of_version
from core.origination.returns import expire_returns, parse_supplement, resubmit
from loanfactory.database import db_session, get_db

EXPIRY_SECONDS = 600


@shared_task(name="loanfactory.api.expire_returned_applications")  # type: ignore[untyped-decorator]
def expire_returned_applications() -> int:
    """Expire the returned applications whose time to resubmit has passed; return how many."""
    session = make_session_factory(get_db().engine)()
    try:
        expired = expire_returns(session)
        session.commit()
    finally:
        session.close()
    return len(expired)


def schedule_expiry(app: App) -> None:
    """Add the expiry to Celery beat's schedule."""
    celery = app.extensions["celery"]
    schedule = dict(celery.conf.beat_schedule or {})
    schedule["loanfactory-expire-returns"] = {"task": "loanfactory.api.expire_returned_applications",
                                              "schedule": float(EXPIRY_SECONDS)}
    celery.conf.beat_schedule = schedule


def register(bp: Blueprint) -> None:
    bp.record_once(_on_register)

    @bp.post("/applications/<int:application_id>/resubmission")
    @idempotent
    def resubmit_application(application_id: int) -> Response:
        """Answer a return: the application goes back to the reviewer with the supplement."""
        application = channel_application(application_id, lock=True)
        supplement = parse_supplement(json_body())
        offer = offer_of_version(db_session(), application.product_version_id)
        resubmit(db_session(), application, offer, supplement, actor=f"channel:{current_client().channel}",
                 now=clock.now())
        return jsonify(application_json(application))


def _on_register(state: BlueprintSetupState) -> None:
    if "celery" in state.app.extensions:
        schedule_expiry(state.app)
