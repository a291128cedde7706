"""Applying for a line through the ordinary pipeline; the lender's dated caps as checked data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.applications.models import Application
from core.credit_lines.application import accept_line, apply_for_line
from core.credit_lines.models import CreditLine
from core.credit_lines.policy import InvalidPolicyError, cap_on, read_caps, shipped_caps
from core.errors import WrongStateError
from core.origination.approval import ApprovalTask
from core.origination.booking import accept_offer
from core.origination.errors import RequestProblems
from core.origination.expiry import expire_applications
from core.origination.pipeline import decide_task
from core.origination.published import offer_of_version, published_offer
from loanfactory.plugins_host import get_plugins
from tests.api.conftest import application_body
from tests.credit_lines.conftest import CODE, NOW, session_of


def apply(app, limit, **body_changes):
    body = application_body(limit)
    del body["term"], body["method"]
    body.update(body_changes)
    session = session_of(app)
    return apply_for_line(session, get_plugins(app), published_offer(session, CODE), body, channel="partner-app",
                          actor="channel:partner-app", now=NOW)


def test_the_limit_asked_for_is_checked_against_the_products_limit_range(lines):
    with lines.app_context():
        with pytest.raises(RequestProblems) as refused:
            apply(lines, "100500.00")
        assert refused.value.problems == [("amount", "must be at most 100000.00")]
        with pytest.raises(RequestProblems) as refused:
            apply(lines, "20500.00")
        assert refused.value.problems == [("amount", "must be 1000.00 plus a whole number of steps of 1000.00")]


def test_a_large_limit_waits_for_a_person_and_is_granted_after_approval(lines):
    with lines.app_context():
        session = session_of(lines)
        application = apply(lines, "40000.00")  # above the automatic approval's 30,000
        session.commit()
        assert (application.state, application.review_step) == ("under_review", "manual_review")
        task = session.scalars(select(ApprovalTask).where(ApprovalTask.application_id == application.id)).one()
        offer = offer_of_version(session, application.product_version_id)
        decide_task(session, task, offer, actor="officer:li", approve_it=True, now=NOW)
        session.commit()
        assert application.state == "approved"
        # the line is priced by the band of the applicant's score, as the sample's risk bands state
        bands = {(573, 1000): "0.0720", (551, 572): "0.1080", (528, 550): "0.1440", (450, 527): "0.1800"}
        (rate,) = [r for (low, high), r in bands.items() if low <= application.score <= high]
        assert (application.decision["approved_limit"], application.decision["annual_rate"]) == ("40000.00", rate)
        with pytest.raises(WrongStateError, match="credit line"):
            accept_offer(session, application, actor="channel:partner-app", now=NOW)
        line = accept_line(session, application, offer, actor="channel:partner-app", today=NOW.date(), now=NOW)
        assert accept_line(session, application, offer, actor="channel:partner-app", today=NOW.date(), now=NOW) is line
        session.commit()
        assert (line.limit, application.state) == (Decimal("40000.00"), "line_granted")


def test_an_approved_line_nobody_took_expires_with_the_offers(lines):
    with lines.app_context():
        session = session_of(lines)
        application = apply(lines, "20000.00")
        session.commit()
        deadline = application.decision["offer_expires_at"]
        assert expire_applications(session, NOW + timedelta(days=7)).offers == ()
        assert expire_applications(session, NOW + timedelta(days=7, seconds=1)).offers == (application.id,)
        session.commit()
        with pytest.raises(WrongStateError):
            accept_line(session, application, published_offer(session, CODE), actor="channel:partner-app",
                        today=NOW.date() + timedelta(days=8), now=NOW + timedelta(days=8))
        assert session.scalar(select(CreditLine.id)) is None
        assert session.get(Application, application.id).state == "expired" and deadline


def test_policy_caps_are_dated_and_every_fault_is_reported_at_its_pointer():
    caps = read_caps({"caps": [
        {"code": "per_borrower_balance", "amount": "200000.00", "effective_from": "2025-01-01", "source": "rule"},
        {"code": "per_borrower_balance", "amount": "150000.00", "effective_from": "2027-01-01", "source": "new"}]})
    assert cap_on("per_borrower_balance", date(2024, 12, 31), caps) is None
    assert cap_on("per_borrower_balance", date(2026, 12, 31), caps).amount == Decimal("200000.00")
    assert cap_on("per_borrower_balance", date(2027, 1, 1), caps).amount == Decimal("150000.00")
    assert cap_on("per_borrower_balance", date(2026, 3, 2)).amount == Decimal("200000.00")
    assert shipped_caps()[0].source.startswith("小额贷款公司监督管理暂行办法")
    with pytest.raises(InvalidPolicyError) as bad:
        read_caps({"caps": [
            {"code": "per_borrower", "amount": "1.005", "effective_from": "2025-13-01", "source": " "},
            {"code": "per_borrower_balance", "amount": "1.00", "effective_from": "2025-01-01", "source": "a"},
            {"code": "per_borrower_balance", "amount": "2.00", "effective_from": "2025-01-01", "source": "b"}]})
    assert [(p.pointer, p.code) for p in bad.value.problems] == [
        ("/caps/0/code", "policy.unknown_code"), ("/caps/0/amount", "policy.amount"),
        ("/caps/0/effective_from", "policy.date"), ("/caps/0/source", "policy.source"),
        ("/caps/2/effective_from", "policy.duplicate")]
    with pytest.raises(InvalidPolicyError):
        read_caps({"limits": []})
