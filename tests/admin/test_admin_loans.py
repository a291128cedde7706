"""Loans in the admin: masked personal data, offline repayment, prepayment, dual-control waiver and write-off.

The loan: 10,000 CNY over 12 months at 14% (等额本息), disbursed 2026-01-15, first due 2026-02-15. By
2026-03-01 the first installment is 14 days overdue and has accrued 0.45 CNY of penalty interest.
"""

from decimal import Decimal

from admin_helpers import book_loan, fingerprint
from sqlalchemy import select

from core.backoffice.audit import AuditEvent, ChangeRequest
from core.backoffice.users import Role, User
from core.ledger import loan_balances
from core.loans.contract import PrepaymentRules, ServicingRules
from core.loans.events import ServicingEvent
from core.loans.models import Loan
from loanfactory.database import db_session

ID_NUMBER = "11010519491231002X"


def test_the_loan_page_masks_personal_data_and_a_reveal_is_audited(app, login, loan_id):
    officer = login("risk_officer")
    page = officer.get(f"/admin/loans/{loan_id}")
    assert page.status_code == 200
    assert "110***********002X" in page.text and "138****5678" in page.text and "张**" in page.text
    assert ID_NUMBER not in page.text and "13812345678" not in page.text
    assert officer.post(f"/admin/loans/{loan_id}/reveal", {"reason": ""}).status_code == 302
    shown = officer.post(f"/admin/loans/{loan_id}/reveal", {"reason": "核实客户身份"})
    assert ID_NUMBER in shown.text and "张三丰" in shown.text
    with app.app_context():
        events = db_session().scalars(select(AuditEvent).where(AuditEvent.action == "pii.reveal")).all()
    assert [(e.actor, e.comment) for e in events] == [("risk_officer", "核实客户身份")]


def test_the_loan_list_finds_a_loan_by_phone_through_the_blind_index(app, login, loan_id):
    page = login("auditor").get("/admin/loans/?q=13812345678")
    assert f"#{loan_id}" in page.text and "13812345678" not in page.text
    assert f"#{loan_id}" not in login("auditor").get("/admin/loans/?q=13900000000").text


def test_operations_records_an_offline_repayment_once_even_if_posted_twice(app, login, loan_id):
    ops = login("operations")
    page = ops.get(f"/admin/loans/{loan_id}")
    key = page.text.split('name="key" value="')[1].split('"')[0]
    for _ in range(2):
        ops.post(f"/admin/loans/{loan_id}/repay", {"amount": "500.00", "business_date": "2026-02-10", "key": key})
    with app.app_context():
        db = db_session()
        repayments = db.scalars(select(ServicingEvent).where(ServicingEvent.kind == "repayment")).all()
        audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "loan.repay_offline")).all()
    assert [r.amount for r in repayments] == [Decimal("500.00")]
    assert len(audited) >= 1 and audited[0].after["amount"] == "500.00"
    detail = ops.get(f"/admin/loans/{loan_id}")
    assert "500.00" in detail.text


def test_an_offline_repayment_written_otherwise_than_the_money_pattern_is_refused_naming_the_amount(
        app, login, loan_id):
    ops = login("operations")
    key = ops.get(f"/admin/loans/{loan_id}").text.split('name="key" value="')[1].split('"')[0]
    for amount in ("５００.00", "٥٠٠", " 500.00 ", "5E2", "+500.00", "5_00", "500.001", "1e400"):
        page = ops.post(f"/admin/loans/{loan_id}/repay", {"amount": amount, "business_date": "2026-02-10", "key": key},
                        follow_redirects=True)
        assert "金额请写成以元为单位、最多两位小数的数字" in page.text, amount
    with app.app_context():
        assert db_session().scalars(select(ServicingEvent).where(ServicingEvent.kind == "repayment")).all() == []


def test_a_penalty_waiver_needs_a_second_person_and_then_takes_effect(app, login, loan_id):
    ops = login("operations")
    ops.get(f"/admin/loans/{loan_id}")
    ops.post(f"/admin/loans/{loan_id}/request/penalty_waiver",
             {"amount": "0.40", "business_date": "2026-03-01", "reason": "客户投诉"})
    with app.app_context():
        request_id = db_session().scalar(select(ChangeRequest.id))
    finance = login("finance")
    assert "0.40" in finance.get("/admin/loans/requests").text
    finance.post(f"/admin/loans/requests/{request_id}", {"decision": "approve", "comment": "同意"})
    with app.app_context():
        db = db_session()
        change = db.get(ChangeRequest, request_id)
        waiver = db.scalar(select(ServicingEvent).where(ServicingEvent.kind == "penalty_waiver"))
    assert change.state == "executed" and change.checker == "finance"
    assert waiver.amount == Decimal("0.40") and waiver.actor == "finance"


def test_a_waiver_larger_than_the_penalty_is_refused_and_stays_pending(app, login, loan_id):
    ops = login("operations")
    ops.get(f"/admin/loans/{loan_id}")
    ops.post(f"/admin/loans/{loan_id}/request/penalty_waiver", {"amount": "5.00", "business_date": "2026-03-01"})
    finance = login("finance")
    finance.get("/admin/loans/requests")
    response = finance.post("/admin/loans/requests/1", {"decision": "approve"}, follow_redirects=True)
    assert "金额 5.00 超过此处允许的上限（0.45）" in response.text
    with app.app_context():
        assert db_session().get(ChangeRequest, 1).state == "pending"


def test_the_maker_of_a_write_off_cannot_approve_it_a_second_person_can(app, login, loan_id):
    with app.app_context():
        db = db_session()
        both = db.scalar(select(User).where(User.username == "risk_manager"))
        both.roles = [Role.RISK_MANAGER, Role.FINANCE]
        db.commit()
    maker = login("risk_manager")
    maker.get(f"/admin/loans/{loan_id}")
    maker.post(f"/admin/loans/{loan_id}/request/write_off", {"business_date": "2026-06-30", "reason": "无法联系"})
    maker.get("/admin/loans/requests")
    refused = maker.post("/admin/loans/requests/1", {"decision": "approve"}, follow_redirects=True)
    assert "risk_manager" in refused.text
    with app.app_context():
        assert db_session().get(Loan, loan_id).state == "active"
    checker = login("finance")
    checker.get("/admin/loans/requests")
    checker.post("/admin/loans/requests/1", {"decision": "approve"})
    with app.app_context():
        assert db_session().get(Loan, loan_id).state == "written_off"


def test_a_full_prepayment_is_quoted_first_and_executes_what_was_quoted(app, login, loan_id):
    """On the first due date, 2026-02-15, paying off costs the whole principal plus one regular month of
    interest: 10,000 + 10,000 × 14% / 12 = 10,000 + 116.67 = 10,116.67 (no prepayment fee on this loan)."""
    ops = login("operations")
    assert 'id="quote-prepayment"' in ops.get(f"/admin/loans/{loan_id}").text
    quote = ops.get(f"/admin/loans/{loan_id}/prepay/quote", query_string={"business_date": "2026-02-15"})
    assert 'id="quote-total">10116.67<' in quote.text and "提前结清" in quote.text
    ops.get(f"/admin/loans/{loan_id}/prepay/quote", query_string={"business_date": "2026-02-15"})
    form = {"business_date": "2026-02-15", "key": "p1", "principal": "", "mode": "keep_term"}
    stale = ops.post(f"/admin/loans/{loan_id}/prepay", {**form, "key": "p0", "quoted_total": "9000.00"},
                     follow_redirects=True)
    assert "10116.67" in stale.text
    with app.app_context():
        assert db_session().get(Loan, loan_id).state == "active"
    ops.post(f"/admin/loans/{loan_id}/prepay", {**form, "quoted_total": "10116.67"})
    ops.post(f"/admin/loans/{loan_id}/prepay", {**form, "quoted_total": "10116.67"})
    with app.app_context():
        assert db_session().get(Loan, loan_id).state == "prepaid_closed"
        (event,) = db_session().scalars(select(ServicingEvent).where(ServicingEvent.kind == "prepayment")).all()
        assert event.amount == Decimal("10116.67")


def test_a_partial_prepayment_quote_shows_the_broken_interest_and_the_rescheduling_mode(app, login, loan_id):
    """Ten days into the first period (2026-01-25), prepaying 2,000.00 of principal costs the interest of
    those days on the whole principal, ACT/360: 10,000 × 14% × 10 / 360 = 38.888… → 38.89; total 2,038.89."""
    finance = login("finance")
    args = {"business_date": "2026-01-25", "principal": "2000.00", "mode": "keep_installment"}
    quote = finance.get(f"/admin/loans/{loan_id}/prepay/quote", query_string=args)
    assert ">38.89<" in quote.text and 'id="quote-total">2038.89<' in quote.text
    assert 'id="quote-mode">保持月供不变，缩短期限<' in quote.text
    finance.post(f"/admin/loans/{loan_id}/prepay", {**args, "key": "pp", "quoted_total": "2038.89"})
    with app.app_context():
        loan = db_session().get(Loan, loan_id)
        event = db_session().scalars(select(ServicingEvent).where(ServicingEvent.kind == "prepayment")).one()
        assert loan.state == "active" and event.params["mode"] == "keep_installment"
        assert event.amount == Decimal("2038.89")


def test_a_prepayment_keyed_in_inside_the_contracts_window_is_refused_and_nothing_is_written(app, login):
    """The contract accepts prepayment from installment 3's due date, 2026-04-15: on 2026-02-15 both the
    quote and the prepayment are refused with the kernel's error naming the date, and no row changes;
    on 2026-04-15 the quote is given."""
    loan_id = book_loan(app, "window", rules=ServicingRules(prepayment=PrepaymentRules(earliest_period=3)))
    ops = login("operations")
    ops.get(f"/admin/loans/{loan_id}")
    before = fingerprint(app)
    refusal = "本贷款合同自 2026-04-15 起方可提前还款"
    form = {"business_date": "2026-02-15", "key": "w1", "principal": "", "mode": "keep_term",
            "quoted_total": "10116.67"}
    refused = ops.post(f"/admin/loans/{loan_id}/prepay", form, follow_redirects=True)
    assert refusal in refused.text
    quote = ops.get(f"/admin/loans/{loan_id}/prepay/quote", query_string={"business_date": "2026-02-15"},
                    follow_redirects=True)
    assert refusal in quote.text and 'id="quote-total"' not in quote.text
    assert fingerprint(app) == before
    opened = ops.get(f"/admin/loans/{loan_id}/prepay/quote", query_string={"business_date": "2026-04-15"})
    assert 'id="quote-total">' in opened.text


def test_an_offline_repayment_dated_after_the_business_date_or_before_the_payout_is_refused(app, login, loan_id):
    """The admin holds an operator to the rule a channel meets: a repayment lies between the loan's last event
    (its payout on 2026-01-15) and today's business date (pinned to 2026-03-01 here)."""
    app.config["API_BUSINESS_DATE"] = "2026-03-01"
    ops = login("operations")
    detail = ops.get(f"/admin/loans/{loan_id}")
    assert 'name="business_date" value="2026-03-01"' in detail.text
    for day in ("2026-03-02", "2099-01-01", "2026-01-14"):
        refused = ops.post(f"/admin/loans/{loan_id}/repay", {"amount": "500.00", "business_date": day, "key": day},
                           follow_redirects=True)
        assert f"日期 {day} 不可用" in refused.text, day
    with app.app_context():
        assert db_session().scalars(select(ServicingEvent).where(ServicingEvent.kind == "repayment")).all() == []
        assert db_session().get(Loan, loan_id).days_past_due == 0
    ops.post(f"/admin/loans/{loan_id}/repay", {"amount": "500.00", "business_date": "2026-03-01", "key": "ok"})
    with app.app_context():
        (taken,) = db_session().scalars(select(ServicingEvent).where(ServicingEvent.kind == "repayment")).all()
        assert taken.business_date.isoformat() == "2026-03-01"


def test_a_prepayment_quote_nets_a_repayment_made_before_the_first_due_date_and_leaves_nothing_held(
        app, login, loan_id):
    """500.00 paid on 2026-02-10, before anything was due, waits in the overpayment suspense. Paying off on
    2026-02-12 costs 10,000 + 28 days of interest, ACT/360: 10,000 × 14% × 28 / 360 = 108.888… → 108.89,
    10,108.89 in all, of which the 500.00 already paid covers part: the operator collects 9,608.89 and
    the loan closes with nothing held."""
    ops = login("operations")
    ops.get(f"/admin/loans/{loan_id}")
    ops.post(f"/admin/loans/{loan_id}/repay", {"amount": "500.00", "business_date": "2026-02-10", "key": "early"})
    assert 'id="loan-held">500.00' in ops.get(f"/admin/loans/{loan_id}").text
    gross = Decimal("10000") + (Decimal("10000") * Decimal("0.14") * 28 / 360).quantize(Decimal("0.01"))
    quote = ops.get(f"/admin/loans/{loan_id}/prepay/quote", query_string={"business_date": "2026-02-12"})
    assert f'id="quote-gross">{gross}<' in quote.text and 'id="quote-held">500.00<' in quote.text
    assert f'id="quote-total">{gross - 500}<' in quote.text and 'id="keep-for-refund"' not in quote.text
    ops.post(f"/admin/loans/{loan_id}/prepay", {"business_date": "2026-02-12", "key": "p1", "principal": "",
                                                "mode": "keep_term", "quoted_total": f"{gross - 500}"})
    with app.app_context():
        assert db_session().get(Loan, loan_id).state == "prepaid_closed"
        assert loan_balances(db_session(), loan_id).suspense == 0
    assert 'id="form-refund"' not in ops.get(f"/admin/loans/{loan_id}").text


def test_a_prepayment_that_would_strand_money_needs_the_refund_choice_and_the_loan_page_offers_the_refund(
        app, login, loan_id):
    """12,000.00 paid early is more than the 10,108.89 payoff of 2026-02-12: the quote collects nothing, and
    closing would strand 1,891.11. Refused until the operator ticks "keep it for a refund"; the closed loan
    then shows the money held and offers its refund request, which finance approves: no debit collected the
    money, so it is paid out offline and nothing stays held."""
    ops = login("operations")
    ops.get(f"/admin/loans/{loan_id}")
    ops.post(f"/admin/loans/{loan_id}/repay", {"amount": "12000.00", "business_date": "2026-02-10", "key": "big"})
    quote = ops.get(f"/admin/loans/{loan_id}/prepay/quote", query_string={"business_date": "2026-02-12"})
    gross = Decimal("10000") + (Decimal("10000") * Decimal("0.14") * 28 / 360).quantize(Decimal("0.01"))
    left = Decimal("12000.00") - gross
    assert 'id="quote-total">0.00<' in quote.text and 'id="keep-for-refund"' in quote.text
    assert f"{left}" in quote.text
    form = {"business_date": "2026-02-12", "principal": "", "mode": "keep_term", "quoted_total": "0.00"}
    refused = ops.post(f"/admin/loans/{loan_id}/prepay", {**form, "key": "k0"}, follow_redirects=True)
    assert f"贷款结清后仍将留存 {left} 元溢缴款" in refused.text
    with app.app_context():
        assert db_session().get(Loan, loan_id).state == "active"
    ops.post(f"/admin/loans/{loan_id}/prepay", {**form, "key": "k1", "keep_for_refund": "yes"})
    detail = ops.get(f"/admin/loans/{loan_id}")
    assert 'id="form-refund"' in detail.text and f'id="loan-held">{left:,.2f}' in detail.text
    assert 'id="refund-overpayment"' not in detail.text  # one refund control: the request
    ops.post(f"/admin/loans/{loan_id}/request/suspense_refund",
             {"amount": f"{left}", "business_date": "2026-02-12", "reason": "借款人申请退还"})
    with app.app_context():
        assert loan_balances(db_session(), loan_id).suspense == left  # filed, not yet decided
        change = db_session().scalars(select(ChangeRequest).where(ChangeRequest.kind == "suspense_refund")).one()
    finance = login("finance")
    finance.get("/admin/loans/requests")
    finance.post(f"/admin/loans/requests/{change.id}", {"decision": "approve", "comment": "已核对"})
    with app.app_context():
        assert db_session().get(Loan, loan_id).state == "prepaid_closed"
        assert loan_balances(db_session(), loan_id).suspense == 0
        refund = db_session().scalars(select(ServicingEvent).where(ServicingEvent.kind == "suspense_refund")).one()
        assert (refund.channel, refund.amount) == ("offline", left)
    assert 'id="form-refund"' not in ops.get(f"/admin/loans/{loan_id}").text
