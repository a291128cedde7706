"""Where documents' bytes live: one small interface, content-addressed by SHA-256, encrypted at rest.

:class:`DocumentStore` is what the rest of the system uses: ``put`` the bytes under their digest, ``get`` them
back (checked against the digest), ``delete`` them, list what is ``stored``. :class:`DirectoryStore` keeps each
under a configured directory as ``ab/cd/<digest>``, sealed with the PII key ring (AES-GCM, the digest as associated
data, so a file moved to another name does not open); a deployment can put an object store behind the same five methods.
The same content is stored once: ``put`` of a known digest writes nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from core.customers.pii import decrypt_bytes, encrypt_bytes
from core.errors import LoanFactoryError


class DocumentStoreError(LoanFactoryError):
    """A stored document is missing, or its bytes do not decrypt or do not match their digest."""


def digest_of(data: bytes) -> str:
    """The hex SHA-256 of ``data``: the document's address."""
    return hashlib.sha256(data).hexdigest()


class DocumentStore(Protocol):
    """Content-addressed storage of documents."""

    def put(self, digest: str, data: bytes) -> None:
        """Keep ``data`` under ``digest`` (its SHA-256); a known digest is kept already."""

    def get(self, digest: str) -> bytes:
        """The bytes under ``digest``; raises :class:`DocumentStoreError` if missing or damaged."""

    def delete(self, digest: str) -> None:
        """Forget the bytes under ``digest`` (nothing when there are none)."""

    def exists(self, digest: str) -> bool:
        """Whether bytes are kept under ``digest``."""

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every digest kept, with when its bytes were written (for the retention sweep of orphans)."""


class DirectoryStore:
    """:class:`DocumentStore` in a directory, each file encrypted."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
            raise DocumentStoreError(f"digest: {digest!r} is not a SHA-256", field="digest")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, digest: str, data: bytes) -> None:
        if digest_of(data) != digest:
            raise DocumentStoreError("digest: does not match the content", field="digest")
        path = self._path(digest)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(encrypt_bytes(data, f"documents/{digest}"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            raise DocumentStoreError(f"document {digest}: not in the store", field="digest") from None
        data = decrypt_bytes(sealed, f"documents/{digest}")
        if digest_of(data) != digest:
            raise DocumentStoreError(f"document {digest}: content does not match its digest", field="digest")
        return data

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()

    def stored(self) -> Iterator[tuple[str, datetime]]:
        for path in sorted(self.root.glob("??/??/*")):
            name = path.name
            if len(name) == 64 and all(ch in "0123456789abcdef" for ch in name) and path.is_file():
                yield name, datetime.fromtimestamp(path.stat().st_mtime, UTC)
