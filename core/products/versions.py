"""Product versions and their lifecycle: draft → in_review → published ⇄ paused → retired.

A maker writes a draft (:func:`create_draft`, :func:`update_draft`, or :func:`clone` of any version) and
submits it (:func:`submit`): the document must pass the whole validation, and its APR proof is stored
with it from then on. A checker who is not the submitter publishes it (:func:`publish`) or returns it
(:func:`return_to_draft`). Publishing a version retires the code's previous published or paused version,
so at most one version per code is published (also held by a partial unique index). A published version
may be paused and resumed, and retired. Every move goes through :data:`PRODUCT_VERSION_STATES` and is
recorded in ``state_transitions`` with its actor and reason. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidArgumentError, LoanFactoryError
from core.products.models import LIFECYCLE, FrozenVersionError, ProductVersion, canonical
from core.products.references import DEFAULT_ROLES
from core.products.validate import InvalidProductError, PluginRegistry, check_product
from core.states import StateMachine

PRODUCT_VERSION_STATES = StateMachine("product_version", "draft", LIFECYCLE)


class MakerCheckerError(LoanFactoryError):
    """The person who submitted a version tried to publish it; a second person must approve."""


class AlreadyPublishedError(LoanFactoryError):
    """A paused version was resumed while another version of the same code is published."""


class VersionNotFoundError(LoanFactoryError):
    """No version matches the code (and number) asked for."""


def _now(at: datetime | None) -> datetime:
    return at or datetime.now(UTC)


def _code_of(document: Mapping[str, Any]) -> str:
    code = document.get("code") if isinstance(document, Mapping) else None
    if not isinstance(code, str) or not code:
        raise InvalidArgumentError("code: a product document needs its code before it can be saved", field="code")
    return code


def create_draft(session: Session, document: Mapping[str, Any], *, actor: str, note: str | None = None,
                 based_on: ProductVersion | None = None, at: datetime | None = None) -> ProductVersion:
    """Save ``document`` as the next version number of its code, in ``draft``.

    A draft may still have problems; :func:`submit` is where it must be sound.
    """
    code = _code_of(document)
    latest = session.scalar(select(func.max(ProductVersion.version)).where(ProductVersion.code == code))
    row = ProductVersion(code=code, version=(latest or 0) + 1, document=canonical(document), created_by=actor,
                         created_at=_now(at), note=note, based_on_id=based_on.id if based_on else None)
    PRODUCT_VERSION_STATES.start(session, row, actor=actor, reason=note or "created", at=at)
    return row


def update_draft(session: Session, version: ProductVersion, document: Mapping[str, Any], *, actor: str) -> None:
    """Replace the document of a draft (the ORM refuses it for any other status).

    Raises:
        FrozenVersionError: ``version`` is not a draft.
        InvalidArgumentError: the document's code is not the version's code.
    """
    if version.status != "draft":
        raise FrozenVersionError(f"{version.label} is {version.status}: clone it into a new draft to edit it",
                                 field="status", value=version.label)
    if _code_of(document) != version.code:
        raise InvalidArgumentError(f"code: a draft of {version.code} cannot become {document.get('code')}",
                                   field="code", value=document.get("code"))
    version.document = canonical(document)
    session.flush([version])


def clone(session: Session, version: ProductVersion, *, actor: str, at: datetime | None = None) -> ProductVersion:
    """A new draft of the same code with ``version``'s document: how a published product is edited."""
    return create_draft(session, version.document, actor=actor, based_on=version,
                        note=f"cloned from {version.label}", at=at)


def submit(session: Session, version: ProductVersion, *, actor: str, roles: Collection[str] = DEFAULT_ROLES,
           plugins: PluginRegistry | None = None, chart: Collection[str] | None = None,
           at: datetime | None = None) -> None:
    """Send a draft for review after validating it in full; the APR proof is stored with it.

    Raises:
        IllegalTransitionError: ``version`` is not a draft.
        InvalidProductError: the document has problems (all attached).
    """
    PRODUCT_VERSION_STATES.check(version.status, "in_review", version.id)
    report = check_product(version.document, roles=roles, plugins=plugins, chart=chart)
    if report.problems:
        raise InvalidProductError(report.problems, version.label)
    assert report.proof is not None
    version.proof = report.proof.as_dict()
    version.submitted_by = actor
    version.submitted_at = _now(at)
    PRODUCT_VERSION_STATES.transition(session, version, "in_review", actor=actor, reason="submitted", at=at)
    session.flush([version])


def return_to_draft(session: Session, version: ProductVersion, *, actor: str, reason: str,
                    at: datetime | None = None) -> None:
    """A checker sends a version under review back to its maker, with the reason."""
    PRODUCT_VERSION_STATES.transition(session, version, "draft", actor=actor, reason=reason, at=at)
    version.proof = None
    version.submitted_by = None
    version.submitted_at = None
    session.flush([version])


def publish(session: Session, version: ProductVersion, *, actor: str, roles: Collection[str] = DEFAULT_ROLES,
            plugins: PluginRegistry | None = None, chart: Collection[str] | None = None,
            at: datetime | None = None) -> ProductVersion | None:
    """Approve and publish a version under review; returns the version it superseded, if any.

    The document is validated again (plugins or roles may have changed since submission), except for
    the APR proof, which depends on the frozen document alone and was stored at submission. The code's
    previously published or paused version is retired in the same transaction.

    Raises:
        IllegalTransitionError: ``version`` is not under review.
        MakerCheckerError: ``actor`` submitted it.
        InvalidProductError: it no longer validates.
    """
    PRODUCT_VERSION_STATES.check(version.status, "published", version.id)
    if actor == version.submitted_by:
        raise MakerCheckerError(f"approved_by: {actor} submitted {version.label} and cannot also approve it",
                                field="approved_by", value=actor)
    # the document is frozen since submission and its proof stored then: re-check everything but the proof
    problems = check_product(version.document, roles=roles, plugins=plugins, chart=chart, prove=False).problems
    if problems:
        raise InvalidProductError(problems, version.label)
    superseded = session.scalar(select(ProductVersion).where(
        ProductVersion.code == version.code, ProductVersion.status.in_(("published", "paused")),
        ProductVersion.id != version.id))
    if superseded is not None:
        retire(session, superseded, actor=actor, reason=f"superseded by v{version.version}", at=at)
    version.approved_by = actor
    version.published_at = _now(at)
    PRODUCT_VERSION_STATES.transition(session, version, "published", actor=actor, reason="approved", at=at)
    session.flush([version])
    return superseded


def pause(session: Session, version: ProductVersion, *, actor: str, reason: str, at: datetime | None = None) -> None:
    """Stop selling a published version for now; its loans are unaffected."""
    PRODUCT_VERSION_STATES.transition(session, version, "paused", actor=actor, reason=reason, at=at)
    session.flush([version])


def resume(session: Session, version: ProductVersion, *, actor: str, at: datetime | None = None) -> None:
    """Sell a paused version again.

    Raises:
        AlreadyPublishedError: another version of the code is published meanwhile.
    """
    PRODUCT_VERSION_STATES.check(version.status, "published", version.id)
    other = published_version(session, version.code)
    if other is not None:
        raise AlreadyPublishedError(f"status: {other.label} is published; {version.label} cannot be resumed",
                                    field="status", value=version.label)
    PRODUCT_VERSION_STATES.transition(session, version, "published", actor=actor, reason="resumed", at=at)
    session.flush([version])


def retire(session: Session, version: ProductVersion, *, actor: str, reason: str, at: datetime | None = None) -> None:
    """Retire a published or paused version for good; its loans keep their terms."""
    PRODUCT_VERSION_STATES.transition(session, version, "retired", actor=actor, reason=reason, at=at)
    version.retired_at = _now(at)
    session.flush([version])


def published_version(session: Session, code: str) -> ProductVersion | None:
    """The published version of ``code``, or ``None`` when none is on sale."""
    return session.scalar(select(ProductVersion).where(ProductVersion.code == code,
                                                       ProductVersion.status == "published"))


def get_version(session: Session, code: str, number: int | None = None) -> ProductVersion:
    """Version ``number`` of ``code``, or its latest version when ``number`` is ``None``.

    Raises:
        VersionNotFoundError: there is no such version.
    """
    query = select(ProductVersion).where(ProductVersion.code == code)
    query = query.where(ProductVersion.version == number) if number is not None else query.order_by(
        ProductVersion.version.desc()).limit(1)
    found = session.scalar(query)
    if found is None:
        label = f"{code} v{number}" if number is not None else code
        raise VersionNotFoundError(f"product: no version {label}", field="product", value=label)
    return found


def list_versions(session: Session, code: str | None = None) -> list[ProductVersion]:
    """Every version (of ``code`` when given), by code then version number."""
    query = select(ProductVersion).order_by(ProductVersion.code, ProductVersion.version)
    if code is not None:
        query = query.where(ProductVersion.code == code)
    return list(session.scalars(query))

