"""The product versions table, and the guards that keep a submitted version from ever changing.

A product code has numbered versions; each row holds the product document exactly as reviewed and the
APR proof computed when it was submitted. Three guards keep a version that left the draft state fixed,
whatever code path tries to change it:

* the ORM refuses, before flush, any change to ``code``, ``version`` or ``document`` of a row whose stored
  status is not ``draft`` and any change to its ``proof`` once published, and any delete of such a row
  (:class:`FrozenVersionError`);
* database triggers (PostgreSQL and SQLite) refuse the same ``UPDATE`` or ``DELETE`` issued as plain SQL;
* a partial unique index allows one ``published`` row per code, and a check constraint holds the
  maker-checker rule for every released row (approved by someone other than its submitter);
* the ORM also refuses a status change the lifecycle table :data:`LIFECYCLE` does not list.

Documents are stored in canonical form (:func:`canonical`): every ``Decimal`` as its exact string, which
the schema accepts wherever a decimal may appear, so JSON columns never meet a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, synonym

from core.db.base import Base
from core.errors import LoanFactoryError

FROZEN_COLUMNS = ("code", "version", "document")
FROZEN_AFTER_PUBLISH = ("proof",)
EDITABLE_STATUS = "draft"
RELEASED_STATUSES = ("published", "paused", "retired")

#: the lifecycle: status -> the statuses it may move to (the one table; versions.py builds its machine on it)
LIFECYCLE: dict[str, frozenset[str]] = {
    "draft": frozenset({"in_review"}),
    "in_review": frozenset({"draft", "published"}),
    "published": frozenset({"paused", "retired"}),
    "paused": frozenset({"published", "retired"}),
    "retired": frozenset(),
}

JsonColumn = JSON().with_variant(JSONB(), "postgresql")


class FrozenVersionError(LoanFactoryError):
    """Something tried to change or delete a product version that has left the draft state.

    Editing a submitted or published product means cloning it into a new draft.
    """


def canonical(value: Any) -> Any:
    """``value`` with every ``Decimal`` replaced by its exact string (lists and mappings walked)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


class ProductVersion(Base):
    """One version of a product: its document, its proof and who made, submitted and approved it."""

    __tablename__ = "product_versions"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_product_versions_code_version"),
        CheckConstraint("status IN ('draft', 'in_review', 'published', 'paused', 'retired')", name="status"),
        CheckConstraint("status IN ('draft', 'in_review') OR (submitted_by IS NOT NULL AND approved_by IS NOT NULL "
                        "AND approved_by <> submitted_by)", name="maker_checker"),
        Index("uq_product_versions_one_published", "code", unique=True,
              postgresql_where=text("status = 'published'"), sqlite_where=text("status = 'published'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=EDITABLE_STATUS)
    document: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    proof: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, nullable=True)
    based_on_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    #: the name :class:`core.states.StateMachine` moves
    state: Mapped[str] = synonym("status")

    @property
    def label(self) -> str:
        """``CODE v3``: how people name a version."""
        return f"{self.code} v{self.version}"

    def __repr__(self) -> str:
        return f"<ProductVersion {self.label} {self.status}>"


def _stored_status(target: ProductVersion) -> str:
    history = inspect(target).attrs.status.history
    if history.deleted:
        return str(history.deleted[0])
    return str(target.status)


@event.listens_for(Session, "before_flush")
def _refuse_frozen_changes(session: Session, _context: object, _instances: object) -> None:
    for obj in session.dirty:
        if not isinstance(obj, ProductVersion) or not session.is_modified(obj):
            continue
        stored = _stored_status(obj)
        if obj.status != stored and obj.status not in LIFECYCLE.get(stored, frozenset()):
            raise FrozenVersionError(f"{obj.label} cannot go from {stored} to {obj.status}; use core.products.versions",
                                     field="status", value=obj.status)
        state = inspect(obj)
        frozen: tuple[str, ...] = FROZEN_COLUMNS if stored != EDITABLE_STATUS else ()
        if stored in RELEASED_STATUSES:
            frozen += FROZEN_AFTER_PUBLISH
        changed = [name for name in frozen if state.attrs[name].history.has_changes()]
        if changed:
            raise FrozenVersionError(
                f"{obj.label} is {stored}: {', '.join(changed)} cannot change; clone it into a new draft",
                field=changed[0], value=obj.label)
    for obj in session.deleted:
        if isinstance(obj, ProductVersion) and _stored_status(obj) != EDITABLE_STATUS:
            raise FrozenVersionError(f"{obj.label} is {_stored_status(obj)} and cannot be deleted",
                                     field="status", value=obj.label)


_SQLITE_TRIGGERS = (
    """CREATE TRIGGER product_versions_frozen BEFORE UPDATE ON product_versions
    WHEN OLD.status <> 'draft' AND (NEW.code IS NOT OLD.code OR NEW.version IS NOT OLD.version
         OR NEW.document IS NOT OLD.document
         OR (OLD.status IN ('published', 'paused', 'retired') AND NEW.proof IS NOT OLD.proof))
    BEGIN SELECT RAISE(ABORT, 'product version is frozen: clone it into a new draft'); END""",
    """CREATE TRIGGER product_versions_no_delete BEFORE DELETE ON product_versions
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'product version is frozen: it cannot be deleted'); END""",
)

_POSTGRES_TRIGGER = (
    """CREATE FUNCTION product_versions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status <> 'draft' THEN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'product version %% v%% is frozen: it cannot be deleted', OLD.code, OLD.version;
            END IF;
            IF NEW.code IS DISTINCT FROM OLD.code OR NEW.version IS DISTINCT FROM OLD.version
               OR NEW.document IS DISTINCT FROM OLD.document
               OR (OLD.status IN ('published', 'paused', 'retired') AND NEW.proof IS DISTINCT FROM OLD.proof) THEN
                RAISE EXCEPTION 'product version %% v%% is frozen: clone it into a new draft', OLD.code, OLD.version;
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER product_versions_frozen BEFORE UPDATE OR DELETE ON product_versions
    FOR EACH ROW EXECUTE FUNCTION product_versions_frozen()""",
)

def _ddl(statement: str) -> DDL:
    return DDL(statement)  # type: ignore[no-untyped-call]


for _statement in _SQLITE_TRIGGERS:
    event.listen(ProductVersion.__table__, "after_create", _ddl(_statement).execute_if(dialect="sqlite"))
for _statement in _POSTGRES_TRIGGER:
    event.listen(ProductVersion.__table__, "after_create", _ddl(_statement).execute_if(dialect="postgresql"))
event.listen(ProductVersion.__table__, "before_drop",
             _ddl("DROP FUNCTION IF EXISTS product_versions_frozen() CASCADE").execute_if(dialect="postgresql"))
