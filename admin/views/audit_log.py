"""The audit log, newest first, filterable by user, action and entity (read-only)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_admin import expose
from sqlalchemy import func, select

from admin.base import SecureView
from core.backoffice.audit import AuditEvent
from loanfactory.database import db_session

PAGE_SIZE = 50


class AuditLogView(SecureView):
    permission = "audit.view"

    @expose("/")
    def index(self) -> Any:
        query = select(AuditEvent)
        filters = {key: request.args.get(key, "").strip() for key in ("actor", "action", "entity_type", "entity_id")}
        for key, value in filters.items():
            if value:
                query = query.where(getattr(AuditEvent, key) == value)
        page = max(request.args.get("page", 1, type=int), 1)
        db = db_session()
        total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
        events = list(db.scalars(query.order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return self.render("lf/audit/list.html", events=events, filters=filters, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))
