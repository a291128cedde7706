"""Pagination of list endpoints: ``?page=1&per_page=20`` (at most 100), answered with links."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.problems import invalid

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 1_000_000


def page_args() -> tuple[int, int]:
    """``(page, per_page)`` from the query string; a 422 naming the parameter when out of range."""
    errors = []
    values = {}
    for name, default, upper in (("page", 1, MAX_PAGE), ("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)):
        raw = request.args.get(name, str(default))
        value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= len(str(upper)) else 0
        if not 1 <= value <= upper:
            errors.append((f"query:{name}", f"must be a whole number from 1 to {upper}"))
        values[name] = value
    if errors:
        raise invalid(errors)
    return values["page"], values["per_page"]


def paginate(session: Session, query: Select[Any], endpoint: str, **view_args: Any) -> tuple[list[Any], dict[str, Any]]:
    """Run ``query`` for the requested page; return the rows and the page description with links."""
    page, per_page = page_args()
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    meta: dict[str, Any] = {"page": page, "per_page": per_page, "total": total, "next": None, "prev": None}
    if page * per_page < total:
        meta["next"] = url_for(endpoint, page=page + 1, per_page=per_page, **view_args)
    if page > 1:
        meta["prev"] = url_for(endpoint, page=page - 1, per_page=per_page, **view_args)
    return rows, meta


def paginate_list(items: list[Any], endpoint: str, **view_args: Any) -> tuple[list[Any], dict[str, Any]]:
    """The same for an in-memory list (the published catalogue)."""
    page, per_page = page_args()
    total = len(items)
    chunk = items[(page - 1) * per_page: page * per_page]
    meta: dict[str, Any] = {"page": page, "per_page": per_page, "total": total, "next": None, "prev": None}
    if page * per_page < total:
        meta["next"] = url_for(endpoint, page=page + 1, per_page=per_page, **view_args)
    if page > 1:
        meta["prev"] = url_for(endpoint, page=page - 1, per_page=per_page, **view_args)
    return chunk, meta
