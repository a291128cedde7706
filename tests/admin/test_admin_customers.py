"""The customer screens: search by blind index, the 360 page, tags, reveal and the enterprise's representative."""

from __future__ import annotations

from decimal import Decimal

from admin_helpers import ID_NUMBER, PHONE, book_loan
from sqlalchemy import select

from core.backoffice.audit import AuditEvent
from core.customers.enterprises import register_enterprise
from core.customers.parties import Customer, find_by_id_number
from loanfactory.database import db_session

CODE = "9144030071526726XG"


def add_enterprise(app, representative_id: int) -> int:
    with app.app_context():
        db = db_session()
        enterprise, _ = register_enterprise(
            db, representative_id, name="深圳市示例科技有限公司", credit_code=CODE, industry_code="I6513",
            registered_capital=Decimal("1000000"), registered_address="深圳市南山区科技园 1 号",
            operating_address=None, account_bank_code="CMB", account_number="755912345678901",
            account_holder="深圳市示例科技有限公司")
        db.commit()
        return enterprise.id


def customer_id(app) -> int:
    with app.app_context():
        return find_by_id_number(db_session(), ID_NUMBER).id


def test_search_finds_by_id_number_phone_credit_code_and_number_never_showing_them_in_clear(app, login):
    book_loan(app)
    person = customer_id(app)
    enterprise = add_enterprise(app, person)
    auditor = login("auditor")
    for term in (ID_NUMBER, ID_NUMBER.lower(), PHONE, f"C{person}"):
        page = auditor.get("/admin/customers/", query_string={"q": term})
        assert page.status_code == 200 and f"/admin/customers/individual/{person}" in page.text
        assert ID_NUMBER not in page.text and PHONE not in page.text and "张三" not in page.text
    page = auditor.get("/admin/customers/", query_string={"q": CODE.lower()})
    assert f"/admin/customers/enterprise/{enterprise}" in page.text
    nothing = auditor.get("/admin/customers/", query_string={"q": "13900000000"})
    assert "没有匹配的个人" in nothing.text and "/admin/customers/individual/" not in nothing.text


def test_the_360_page_shows_file_profile_loans_and_enterprise_links_masked(app, login):
    loan = book_loan(app)
    person = customer_id(app)
    enterprise = add_enterprise(app, person)
    page = login("risk_officer").get(f"/admin/customers/individual/{person}")
    assert page.status_code == 200
    assert "张*" in page.text and "110***********002X" in page.text and "138****5678" in page.text
    assert ID_NUMBER not in page.text and PHONE not in page.text
    assert f"/admin/loans/{loan}" in page.text and "10,000.00" in page.text
    assert f"/admin/customers/enterprise/{enterprise}" in page.text and "用户画像" in page.text
    file = login("auditor").get(f"/admin/customers/enterprise/{enterprise}")
    assert CODE in file.text and "755********8901" in file.text and "755912345678901" not in file.text
    assert "法定代表人" in file.text and f"/admin/customers/individual/{person}" in file.text
    assert login("auditor").get("/admin/customers/enterprise/9999").status_code == 404
    assert login("auditor").get("/admin/customers/partner/1").status_code == 404


def test_staff_tag_and_untag_with_a_reason_audited_and_the_auditor_cannot(app, login):
    book_loan(app)
    person = customer_id(app)
    auditor = login("auditor")
    auditor.get(f"/admin/customers/individual/{person}")
    assert auditor.post(f"/admin/customers/individual/{person}/tags", {"code": "VIP"}).status_code == 403
    officer = login("risk_officer")
    officer.get(f"/admin/customers/individual/{person}")
    officer.post(f"/admin/customers/individual/{person}/tags", {"code": "vip", "note": "大客户"})
    page = officer.get(f"/admin/customers/individual/{person}")
    assert "VIP" in page.text and "人工标签：VIP" in page.text
    refused = officer.post(f"/admin/customers/individual/{person}/tags/VIP/remove", {"reason": ""},
                           follow_redirects=True)
    assert "reason" in refused.text and "VIP" in refused.text
    officer.post(f"/admin/customers/individual/{person}/tags/VIP/remove", {"reason": "降级"})
    officer.post(f"/admin/customers/individual/{person}/retag")
    with app.app_context():
        actions = db_session().scalars(select(AuditEvent.action).where(AuditEvent.actor == "risk_officer",
                                                                       AuditEvent.action.like("customer.%"))
                                       .order_by(AuditEvent.id)).all()
    assert actions == ["customer.tag", "customer.untag", "customer.retag"]


def test_reveal_needs_a_reason_and_is_audited(app, login):
    book_loan(app)
    person = customer_id(app)
    officer = login("risk_officer")
    officer.get(f"/admin/customers/individual/{person}")
    silent = officer.post(f"/admin/customers/individual/{person}/reveal", {"reason": " "}, follow_redirects=True)
    assert ID_NUMBER not in silent.text
    shown = officer.post(f"/admin/customers/individual/{person}/reveal", {"reason": "核实身份"})
    assert ID_NUMBER in shown.text and PHONE in shown.text
    with app.app_context():
        event = db_session().scalar(select(AuditEvent).where(AuditEvent.action == "pii.reveal"))
    assert event.entity_id == str(person) and event.comment == "核实身份"


def test_changing_the_legal_representative_needs_the_permission_and_a_reason(app, login):
    book_loan(app)
    person = customer_id(app)
    enterprise = add_enterprise(app, person)
    with app.app_context():
        db = db_session()
        other = Customer(name="李四", id_number="110101199001010058", phone="13912345678")
        db.add(other)
        db.commit()
        other_id = other.id
    officer = login("risk_officer")
    officer.get(f"/admin/customers/enterprise/{enterprise}")
    assert officer.post(f"/admin/customers/enterprise/{enterprise}/legal-representative",
                        {"customer_id": f"C{other_id}", "reason": "变更"}).status_code == 403
    manager = login("risk_manager")
    manager.get(f"/admin/customers/enterprise/{enterprise}")
    manager.post(f"/admin/customers/enterprise/{enterprise}/legal-representative",
                 {"customer_id": f"C{other_id}", "reason": "工商变更"})
    page = manager.get(f"/admin/customers/enterprise/{enterprise}")
    assert f"/admin/customers/individual/{other_id}" in page.text


def test_staff_upload_documents_checked_by_content_and_open_them_with_a_reason(app, login, tmp_path):
    from io import BytesIO

    from tests.customers.test_documents import WINDOWS_EXE, png

    app.config["DOCUMENTS_DIR"] = tmp_path / "documents"
    book_loan(app)
    person = customer_id(app)
    auditor = login("auditor")
    auditor.get(f"/admin/customers/individual/{person}")
    assert auditor.post(f"/admin/customers/individual/{person}/documents",
                        {"kind": "id_card_front", "file": (BytesIO(png()), "id.png")},
                        content_type="multipart/form-data").status_code == 403
    officer = login("risk_officer")
    officer.get(f"/admin/customers/individual/{person}")
    refused = officer.post(f"/admin/customers/individual/{person}/documents",
                           {"kind": "id_card_front", "file": (BytesIO(WINDOWS_EXE), "id.jpg")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "application/x-msdownload" in refused.text and "没有资料" in refused.text
    officer.get(f"/admin/customers/individual/{person}")
    officer.post(f"/admin/customers/individual/{person}/documents",
                 {"kind": "id_card_front", "file": (BytesIO(png()), "id.png")}, content_type="multipart/form-data")
    page = officer.get(f"/admin/customers/individual/{person}")
    assert "身份证人像面" in page.text and "image/png" in page.text
    with app.app_context():
        from core.documents.files import Document

        document_id = db_session().scalar(select(Document.id))
    silent = officer.post(f"/admin/customers/documents/{document_id}/open", {"reason": ""}, follow_redirects=True)
    assert silent.mimetype == "text/html"
    opened = officer.post(f"/admin/customers/documents/{document_id}/open", {"reason": "核对身份证"})
    assert opened.status_code == 200 and opened.mimetype == "image/png" and opened.data == png()
    with app.app_context():
        actions = db_session().scalars(select(AuditEvent.action).where(AuditEvent.action.like("document.%"))
                                       .order_by(AuditEvent.id)).all()
    assert actions == ["document.upload", "document.read"]


def test_the_review_inbox_shows_the_applicants_documents(app, login, tmp_path):
    from io import BytesIO

    from admin_helpers import queue_application

    from core.origination.approval import ApprovalTask
    from tests.customers.test_documents import PDF

    app.config["DOCUMENTS_DIR"] = tmp_path / "documents"
    application_id = queue_application(app)
    with app.app_context():
        from core.applications.models import Application

        db = db_session()
        applicant = db.get(Application, application_id).customer_id
        task_id = db.scalar(select(ApprovalTask.id).where(ApprovalTask.application_id == application_id))
    officer = login("risk_officer")
    officer.get(f"/admin/customers/individual/{applicant}")
    officer.post(f"/admin/customers/individual/{applicant}/documents",
                 {"kind": "bank_statement", "file": (BytesIO(PDF), "statement.pdf")},
                 content_type="multipart/form-data")
    page = officer.get(f"/admin/approvals/{task_id}")
    assert page.status_code == 200 and 'id="application-documents"' in page.text
    assert "银行流水" in page.text and "application/pdf" in page.text


def test_an_admin_upload_may_be_larger_than_a_form_but_not_than_a_document(app, login, tmp_path):
    from io import BytesIO

    from tests.customers.test_documents import PDF

    app.config.update(DOCUMENTS_DIR=tmp_path / "documents", DOCUMENTS_MAX_BYTES=3 * 1024 * 1024)
    book_loan(app)
    person = customer_id(app)
    officer = login("operations")
    officer.get(f"/admin/customers/individual/{person}")
    statement = PDF + b"0" * (2 * 1024 * 1024)  # over the app's 1 MiB form limit, under the document limit
    officer.post(f"/admin/customers/individual/{person}/documents",
                 {"kind": "bank_statement", "file": (BytesIO(statement), "statement.pdf")},
                 content_type="multipart/form-data")
    assert "application/pdf" in officer.get(f"/admin/customers/individual/{person}").text
    too_big = officer.post(f"/admin/customers/individual/{person}/documents",
                           {"kind": "bank_statement", "file": (BytesIO(PDF + b"0" * (4 * 1024 * 1024)), "s.pdf")},
                           content_type="multipart/form-data")
    assert too_big.status_code == 413
