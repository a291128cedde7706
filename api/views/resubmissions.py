"""Resubmission: the channel answers a return for supplement (退回补件) with the missing data.

``POST /applications/{id}/resubmission`` takes the :class:`~core.origination.returns.Supplement` document
(comment, documents, applicant finances), puts the returned application back under review on the step it
came from and answers with the application. Applications nobody resubmits in time expire
(:mod:`loanfactory.tasks.expiry`).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api import clock
from api.auth import current_client
from api.body import json_body
from api.transactions import idempotent
from api.views.applications import application_json, channel_application
from core.origination.published import offer_of_version
from core.origination.returns import parse_supplement, resubmit
from loanfactory.database import db_session


def register(bp: Blueprint) -> None:
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
