"""A bank's settlement that arrives after end-of-day closed its date: booked on the first open business date
with its value date kept, never stuck in ``disbursing``, and listed by the daily reconciliation of both days.

The payout is placed and settled by the bank on 2026-03-02 (10:05 Asia/Shanghai); end-of-day closes 03-02 and
03-03 before the callback is delivered on 03-04. The loan is booked on 03-04, the first open date.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from core.eod.run import run_eod
from core.origination.booking import DisbursementOrder
from loanfactory.database import get_db
from plugins.sandbox_bank.bank import open_bank
from plugins.sandbox_bank.reconcile import reconcile_with_ledger
from plugins.sandbox_bank.statement import read_statement
from tests.api.conftest import PAYOUT_DAY, bank_callbacks, to_disbursing

SETTLED, CLOSED_THROUGH, TODAY = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


def test_a_settlement_for_a_closed_date_books_on_the_open_date_and_is_reconciled_on_its_value_date(
        selling_app, seller) -> None:
    url = to_disbursing(selling_app, seller)
    ((headers, payload),) = bank_callbacks(selling_app)  # the bank settled on 03-02; the callback is late
    with selling_app.app_context():
        session = get_db(selling_app).session()
        run_eod(session, CLOSED_THROUGH)
        session.commit()
    selling_app.config["API_BUSINESS_DATE"] = TODAY.isoformat()

    answer = selling_app.test_client().post("/api/v1/callbacks/payments/sandbox_bank", data=payload, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    application = seller.get(url).get_json()
    assert application["state"] == "disbursed"
    loan = seller.get(f"/api/v1/loans/{application['loan_id']}").get_json()
    assert loan["disbursed_on"] == TODAY.isoformat()
    schedule = seller.get(f"/api/v1/loans/{application['loan_id']}/schedule").get_json()["installments"]
    assert schedule[0]["due_date"] == "2026-04-04"
    again = selling_app.test_client().post("/api/v1/callbacks/payments/sandbox_bank", data=payload, headers=headers)
    assert again.status_code == 200 and again.get_json()["loan_id"] == application["loan_id"]

    with selling_app.app_context():
        session = get_db(selling_app).session()
        order = session.scalars(select(DisbursementOrder)).one()
        assert (order.value_date, order.booked_on) == (SETTLED, TODAY)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "disbursement.booked_late")).one()
        assert event.entity_id == order.request_id
        for day in (SETTLED, TODAY):
            with open_bank({}, PAYOUT_DAY, session) as bank:
                on, lines = read_statement(bank.statement(day))
            result = reconcile_with_ledger(session, "sandbox_bank", on, lines)
            assert result.balanced, (day, result.differences)
            assert [(b.request_id, b.value_date, b.booked_on) for b in result.late] == [
                (order.request_id, SETTLED, TODAY)]
            assert "booked_late" in result.to_csv().decode()
        assert reconcile_with_ledger(session, "sandbox_bank", SETTLED, []).differences[0].kind == \
            "missing_in_bank"  # the payout counts on its value date: without the bank's line it is missing there
