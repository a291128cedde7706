"""Customers: search by blind index, and the customer 360 page of an individual or an enterprise.

The search takes an ID number, a mobile number, a credit code or a customer number (``C12``, ``E5``)
(:func:`core.customers.search.find_customers`). The 360 page shows the file (personal data masked; revealed
only through the audited reveal), the computed profile (:mod:`core.portfolio.customer_profile`), tags,
relations, applications, loans and the warnings a reviewer should see first. Staff tag and untag
(``customer.tag``), re-run the tag rules, and a risk manager or operations changes an enterprise's legal
representative (``customer.edit``); each change is audited in its transaction by the kernel or here.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin.base import SecureView
from admin.pii import masked, reveal
from core.applications.models import Application
from core.customers.enterprises import Enterprise, change_legal_representative
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, PartyRef
from core.customers.pii import mask_id_number, mask_name, mask_phone
from core.customers.relations import relations_of, represented_enterprises
from core.customers.search import find_customers
from core.customers.tags import remove_staff_tag, set_staff_tag, tags_of
from core.documents.files import Document, add_document, documents_of, read_document
from core.documents.kinds import KINDS as DOCUMENT_KINDS
from core.errors import LoanFactoryError
from core.portfolio.customer_profile import CustomerProfile, applications_of, customer_profile, loans_of
from core.portfolio.customer_tags import apply_tag_rules, rule_set_on
from loanfactory import clock
from loanfactory.database import db_session
from loanfactory.documents import document_store, max_document_bytes

KINDS = {"individual": INDIVIDUAL, "enterprise": ENTERPRISE}


def masked_enterprise(enterprise: Enterprise) -> dict[str, Any]:
    """What any screen may show of an enterprise: the registry facts, the account and addresses masked."""
    return {"id": enterprise.id, "name": enterprise.name, "credit_code": enterprise.credit_code,
            "industry_code": enterprise.industry_code, "registered_capital": enterprise.registered_capital,
            "registered_address": mask_name(enterprise.registered_address[:6]),
            "operating_address": mask_name(enterprise.operating_address[:6]) if enterprise.operating_address else "",
            "account": f"{enterprise.account_bank_code} {mask_id_number(enterprise.account_number)}",
            "legal_representative_id": enterprise.legal_representative_id}


def _warnings(profile: CustomerProfile, tags: list[Any]) -> list[str]:
    """What a reviewer should see first on the page, in words."""
    warnings = []
    if profile.unpaid_past_due:
        warnings.append(_("%(count)s installments unpaid past their due date", count=profile.unpaid_past_due))
    if profile.max_days_past_due > 30:
        warnings.append(_("Once %(days)s days past due", days=profile.max_days_past_due))
    staff = [tag.code for tag in tags if tag.source == "staff"]
    if staff:
        warnings.append(_("Staff tags: %(tags)s", tags=", ".join(staff)))
    return warnings


def document_kinds() -> dict[str, str]:
    """Kind code -> its name in the page's language."""
    language = str(get_locale() or "zh")[:2]
    return {code: kind.label.get(language, code) for code, kind in DOCUMENT_KINDS.items()}


class CustomersView(SecureView):
    permission = "customer.view"

    @expose("/")
    def index(self) -> Any:
        term = (request.args.get("q") or "").strip()
        found = find_customers(db_session(), term) if term else None
        shown = term if len(term) < 11 else (mask_phone(term) if len(term) == 11 else mask_id_number(term))
        return self.render("lf/customers/search.html", q=shown, searched=bool(term),
                           customers=[masked(c) for c in found.customers] if found else [],
                           enterprises=[masked_enterprise(e) for e in found.enterprises] if found else [])

    def _subject(self, kind: str, subject_id: int) -> tuple[PartyRef, Customer | Enterprise]:
        if kind not in KINDS:
            abort(404)
        row = db_session().get(Customer if kind == INDIVIDUAL else Enterprise, subject_id)
        if row is None:
            abort(404)
        return PartyRef(KINDS[kind], subject_id), row

    @expose("/<kind>/<int:subject_id>")
    def detail(self, kind: str, subject_id: int) -> Any:
        db = db_session()
        subject, row = self._subject(kind, subject_id)
        today = clock.today()
        profile = customer_profile(db, subject, today)
        tags = tags_of(db, subject)
        relations = relations_of(db, subject)
        people = {c.id: masked(c) for c in db.scalars(select(Customer).where(
            Customer.id.in_({r.customer_id for r in relations if r.customer_id})))}
        applications = list(db.scalars(applications_of(subject).order_by(Application.id.desc()).limit(50)))
        loans = loans_of(db, subject)[::-1]
        if kind == INDIVIDUAL:
            file = masked(row)  # type: ignore[arg-type]
            represented = [masked_enterprise(e) for e in represented_enterprises(db, subject_id)]
        else:
            file = masked_enterprise(row)  # type: ignore[arg-type]
            represented = []
        documents = documents_of(db, subject)
        rule_set = rule_set_on(today)
        relation_labels = {"legal_representative": _("Legal representative"), "guarantor": _("Guarantor"),
                           "spouse": _("Spouse"), "emergency_contact": _("Emergency contact")}
        return self.render("lf/customers/detail.html", kind=kind, subject=subject, file=file, profile=profile,
                           tags=tags, relations=relations, people=people, applications=applications, loans=loans,
                           represented=represented, warnings=_warnings(profile, tags), today=today,
                           labels={rule.tag: rule.label for rule in rule_set.rules} if rule_set else {},
                           relation_labels=relation_labels, language=str(get_locale() or "zh")[:2],
                           documents=documents, kinds=document_kinds())

    def _back(self, kind: str, subject_id: int) -> Response:
        return redirect(url_for(".detail", kind=kind, subject_id=subject_id))

    @expose("/<kind>/<int:subject_id>/tags", methods=["POST"])
    def add_tag(self, kind: str, subject_id: int) -> Any:
        self.require("customer.tag")
        subject, _row = self._subject(kind, subject_id)
        try:
            set_staff_tag(db_session(), subject, request.form.get("code", ""), actor=current_user.username,
                          note=request.form.get("note", ""), now=datetime.now(UTC))
            db_session().commit()
            flash(_("Tag set."), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return self._back(kind, subject_id)

    @expose("/<kind>/<int:subject_id>/tags/<code>/remove", methods=["POST"])
    def remove_tag(self, kind: str, subject_id: int, code: str) -> Any:
        self.require("customer.tag")
        subject, _row = self._subject(kind, subject_id)
        try:
            remove_staff_tag(db_session(), subject, code, actor=current_user.username,
                             reason=request.form.get("reason", ""))
            db_session().commit()
            flash(_("Tag removed."), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return self._back(kind, subject_id)

    @expose("/<kind>/<int:subject_id>/retag", methods=["POST"])
    def retag(self, kind: str, subject_id: int) -> Any:
        """Run the tag rules in force today over the profile now, instead of waiting for the scheduled
        ``loanfactory customers retag``."""
        self.require("customer.tag")
        subject, _row = self._subject(kind, subject_id)
        db = db_session()
        before = [t.code for t in tags_of(db, subject) if t.source == "rule"]
        after = apply_tag_rules(db, subject, as_of=clock.today(), now=datetime.now(UTC))
        self.audit("customer.retag", kind, subject_id, before={"rule_tags": before}, after={"rule_tags": after})
        db.commit()
        flash(_("Tag rules applied."), "success")
        return self._back(kind, subject_id)

    @expose("/enterprise/<int:subject_id>/legal-representative", methods=["POST"])
    def change_representative(self, subject_id: int) -> Any:
        self.require("customer.edit")
        _subject, row = self._subject(ENTERPRISE, subject_id)
        try:
            customer_id = int(request.form.get("customer_id", "").strip().lstrip("Cc") or "0")
            change_legal_representative(db_session(), row, customer_id,  # type: ignore[arg-type]
                                        actor=current_user.username, reason=request.form.get("reason", ""))
            db_session().commit()
            flash(_("Legal representative changed."), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        except ValueError:
            flash(_("Refused: %(reason)s", reason=_("give the customer number, such as C12")), "error")
        return self._back(ENTERPRISE, subject_id)

    @expose("/<kind>/<int:subject_id>/documents", methods=["POST"])
    def upload_document(self, kind: str, subject_id: int) -> Any:
        """A document handed in at the counter or by post, scanned by staff."""
        self.require("customer.documents")
        subject, _row = self._subject(kind, subject_id)
        file = request.files.get("file")
        try:
            add_document(db_session(), document_store(), subject, request.form.get("kind", ""),
                         file.read() if file else b"", actor=current_user.username, now=datetime.now(UTC),
                         filename=file.filename if file else None, max_bytes=max_document_bytes())
            db_session().commit()
            flash(_("Document stored."), "success")
        except LoanFactoryError as error:
            self.refuse(error)
        return self._back(kind, subject_id)

    @expose("/documents/<int:document_id>/open", methods=["POST"])
    def open_document(self, document_id: int) -> Any:
        """The document's bytes, for a person who says why (audited as ``document.read``)."""
        self.require("pii.reveal")
        db = db_session()
        document = db.get(Document, document_id) or abort(404)
        try:
            data = read_document(db, document_store(), document, actor=current_user.username,
                                 reason=request.form.get("reason", ""))
        except LoanFactoryError as error:
            self.refuse(error)
            return self._back(document.subject.kind, document.subject.id)
        db.commit()
        extension = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(document.media_type, "bin")
        return send_file(io.BytesIO(data), mimetype=document.media_type, as_attachment=True,
                         download_name=f"document-{document.id}.{extension}")

    @expose("/individual/<int:subject_id>/reveal", methods=["POST"])
    def reveal_customer(self, subject_id: int) -> Any:
        self.require("pii.reveal")
        db = db_session()
        customer = db.get(Customer, subject_id) or abort(404)
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            flash(_("Say why you need to see the personal data."), "error")
            return self._back(INDIVIDUAL, subject_id)
        clear = reveal(db, customer, actor=current_user.username, reason=reason, context=f"customer {subject_id}")
        db.commit()
        return self.render("lf/revealed_person.html", customer=clear, back_label=_("Back to the customer"),
                           back_url=url_for(".detail", kind=INDIVIDUAL, subject_id=subject_id))
