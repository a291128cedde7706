"""What a document may be: its kind, the file types it takes (told by content), the size limit, its retention.

A file's type is read from its first bytes with ``filetype`` (magic numbers), never from its name or the media
type a client claims: an executable named ``id.jpg`` is ``application/x-msdownload`` and refused.
:func:`checked_content` returns the media type of acceptable content, or raises
:class:`DocumentRefusedError` on ``file`` (empty, over the size limit, a type the kind does not take) or on
``kind``. Each kind carries the retention class its records belong to (``docs/customers.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import filetype

from core.errors import InvalidArgumentError

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
#: the largest file accepted unless the deployment says otherwise (``DOCUMENTS_MAX_BYTES``)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class DocumentRefusedError(InvalidArgumentError):
    """A document's content or kind is not acceptable (``field`` ``file`` or ``kind``); nothing is stored."""


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document: the media types it takes and the retention class of its record."""

    code: str
    media_types: tuple[str, ...]
    retention_class: str
    label: dict[str, str]


KINDS: dict[str, DocumentKind] = {kind.code: kind for kind in (
    DocumentKind("id_card_front", (JPEG, PNG), "customer_identification",
                 {"zh": "身份证人像面", "en": "ID card, photo side"}),
    DocumentKind("id_card_back", (JPEG, PNG), "customer_identification",
                 {"zh": "身份证国徽面", "en": "ID card, emblem side"}),
    DocumentKind("face_photo", (JPEG, PNG), "customer_identification",
                 {"zh": "活体人脸照片", "en": "Live face capture"}),
    DocumentKind("business_licence", (JPEG, PNG, PDF), "customer_identification",
                 {"zh": "营业执照", "en": "Business licence"}),
    DocumentKind("bank_statement", (PDF, JPEG, PNG), "transaction", {"zh": "银行流水", "en": "Bank statement"}),
    DocumentKind("proof_of_use", (PDF, JPEG, PNG), "transaction", {"zh": "资金用途证明", "en": "Proof of use"}),
)}


def document_kind(code: object) -> DocumentKind:
    """The kind named ``code``, or :class:`DocumentRefusedError` on ``kind``."""
    kind = KINDS.get(code) if isinstance(code, str) else None
    if kind is None:
        raise DocumentRefusedError(f"kind: must be one of {', '.join(KINDS)}", field="kind", value=code)
    return kind


def sniffed_type(data: bytes) -> str | None:
    """The media type the content's magic numbers say, or ``None`` when they say nothing known."""
    found = filetype.guess(data[:8192])
    return None if found is None else str(found.mime)


def checked_content(kind: DocumentKind, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The media type of ``data`` if ``kind`` takes it and it is not empty nor over ``max_bytes``."""
    if not data:
        raise DocumentRefusedError("file: is empty", field="file")
    if len(data) > max_bytes:
        raise DocumentRefusedError(f"file: is {len(data)} bytes, at most {max_bytes} are accepted", field="file",
                                   value=len(data))
    media_type = sniffed_type(data)
    if media_type not in kind.media_types:
        shown = media_type or "of an unknown type"
        raise DocumentRefusedError(f"file: its content is {shown}; a {kind.code} must be "
                                   f"{' or '.join(kind.media_types)}", field="file", value=media_type)
    return media_type
