"""Personal data at rest: AES-GCM encrypted columns, blind indexes for lookups, masks for display.

An :class:`EncryptedString` column stores ``<key id>:<base64url(nonce || ciphertext || tag)>``. Every
write draws a fresh random 96-bit nonce, so the same ID number encrypts differently each time; the
associated data is the ``table.column`` name given to the type, so a ciphertext copied into another
column does not decrypt. The key id in front of each value lets keys rotate: new writes use the first
key of the ring, reads find the key by its id. :class:`EncryptedBytes` seals a binary column the same way
(``<key id>:`` then the raw sealed bytes) and :class:`EncryptedJSON` a whole JSON document into a text
column: what names a person (a contract's PDF, the evidence of who signed) is never stored in clear.

Keys come from the environment:

* ``LOANFACTORY_PII_KEY``: the key ring, ``kid:base64key,kid:base64key`` (each key 32 bytes, the first
  one encrypts), or a single base64 key (key id ``k1``).
* ``LOANFACTORY_BLIND_INDEX_KEY``: base64 of 32 bytes for :func:`blind_index`. It is a separate key so
  that knowing the lookup key reveals nothing about the ciphertexts. Changing it means recomputing
  every index column.

When a variable is unset a development key is used whose id is ``dev``: values written with it say so,
and it must never hold real customers' data; :func:`key_problems` names what is unset or a development
key, and the app refuses to start on any of it outside the demo and the tests. Because equality on
ciphertexts is impossible, columns that need lookups carry a blind index: :func:`blind_index` is an
HMAC-SHA256 of the normalised value and a purpose label, so the same ID number gives unrelated indexes for
different purposes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    LargeBinary,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from core.errors import LoanFactoryError

PII_KEY_ENV = "LOANFACTORY_PII_KEY"
BLIND_INDEX_KEY_ENV = "LOANFACTORY_BLIND_INDEX_KEY"
DEV_KEY_ID = "dev"
_DEV_PII_KEY = hashlib.sha256(b"loanfactory DEVELOPMENT pii key - never for real data").digest()
_DEV_INDEX_KEY = hashlib.sha256(b"loanfactory DEVELOPMENT blind index key - never for real data").digest()
_NONCE_BYTES = 12
T = TypeVar("T")


class PiiKeyError(LoanFactoryError):
    """``LOANFACTORY_PII_KEY`` or ``LOANFACTORY_BLIND_INDEX_KEY`` is malformed (not base64 of 32 bytes)."""


class PiiDecryptionError(LoanFactoryError):
    """A stored value cannot be decrypted: it was altered, moved from another column, or its key is
    unknown or wrong. ``field`` is the ``table.column`` of the value."""


@dataclass(frozen=True)
class KeyRing:
    """The PII keys: ``active`` encrypts, ``keys`` (by id) decrypt."""

    active: str
    keys: dict[str, bytes]


def _decode_key(text: str, variable: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PiiKeyError(f"{variable}: the key is not valid base64", field=variable) from None
    if len(key) != 32:
        raise PiiKeyError(f"{variable}: a key must be 32 bytes, got {len(key)}", field=variable)
    return key


@lru_cache(maxsize=8)
def _parse_ring(spec: str | None) -> KeyRing:
    if not spec:
        return KeyRing(DEV_KEY_ID, {DEV_KEY_ID: _DEV_PII_KEY})
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in spec.split(","):
        kid, sep, encoded = item.strip().partition(":")
        if not sep:
            kid, encoded = "k1", item
        if not kid or not kid.isalnum():
            raise PiiKeyError(f"{PII_KEY_ENV}: key id {kid!r} must be letters and digits", field=PII_KEY_ENV)
        keys[kid] = _decode_key(encoded, PII_KEY_ENV)
        order.append(kid)
    return KeyRing(order[0], keys)


def key_ring() -> KeyRing:
    """The key ring configured in ``LOANFACTORY_PII_KEY`` (the labelled development key when unset)."""
    return _parse_ring(os.environ.get(PII_KEY_ENV))


@lru_cache(maxsize=8)
def _index_key(spec: str | None) -> bytes:
    return _decode_key(spec, BLIND_INDEX_KEY_ENV) if spec else _DEV_INDEX_KEY


def key_problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """What makes the PII keys in ``environ`` (default: the process environment) unfit for real customers'
    data, one sentence per problem naming the variable: unset, malformed, a development key, or the blind
    index key equal to an encryption key."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    ring_keys: list[bytes] = []
    spec = environ.get(PII_KEY_ENV)
    if not spec:
        problems.append(f"{PII_KEY_ENV} is not set")
    else:
        try:
            ring_keys = list(_parse_ring(spec).keys.values())
        except PiiKeyError as error:
            problems.append(str(error))
        if _DEV_PII_KEY in ring_keys:
            problems.append(f"{PII_KEY_ENV} holds the development key published in the source")
    index_spec = environ.get(BLIND_INDEX_KEY_ENV)
    if not index_spec:
        problems.append(f"{BLIND_INDEX_KEY_ENV} is not set")
        return problems
    try:
        index_key = _index_key(index_spec)
    except PiiKeyError as error:
        return [*problems, str(error)]
    if index_key == _DEV_INDEX_KEY:
        problems.append(f"{BLIND_INDEX_KEY_ENV} is the development key published in the source")
    if index_key in ring_keys:
        problems.append(f"{BLIND_INDEX_KEY_ENV} must differ from every key of {PII_KEY_ENV}")
    return problems


def _seal(data: bytes, aad: str) -> tuple[str, bytes]:
    """``(key id, nonce || ciphertext || tag)`` of ``data`` bound to ``aad`` under the active key."""
    ring = key_ring()
    nonce = os.urandom(_NONCE_BYTES)
    return ring.active, nonce + AESGCM(ring.keys[ring.active]).encrypt(nonce, data, aad.encode("utf-8"))


def _open(kid: str, raw: bytes, aad: str) -> bytes:
    key = key_ring().keys.get(kid)
    if key is None:
        raise PiiDecryptionError(f"{aad}: no key {kid!r} in {PII_KEY_ENV} for this value", field=aad)
    try:
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad.encode("utf-8"))
    except (InvalidTag, ValueError):
        raise PiiDecryptionError(
            f"{aad}: the stored value does not decrypt (altered, copied from another column, or wrong key)",
            field=aad,
        ) from None


def encrypt(plaintext: str, aad: str) -> str:
    """Encrypt ``plaintext`` bound to ``aad`` with the active key; returns ``kid:base64url``."""
    kid, sealed = _seal(plaintext.encode("utf-8"), aad)
    return f"{kid}:{base64.urlsafe_b64encode(sealed).decode('ascii')}"


def decrypt(stored: str, aad: str) -> str:
    """The plaintext of a value made by :func:`encrypt` for ``aad``.

    Raises:
        PiiDecryptionError: the value was tampered with, belongs to another column, or its key is
            not in the ring (or is a different key under the same id).
    """
    kid, sep, encoded = stored.partition(":")
    if not sep:
        raise PiiDecryptionError(f"{aad}: the stored value is not encrypted (no key id)", field=aad)
    try:
        raw = base64.urlsafe_b64decode(encoded.encode("ascii"))
    except (binascii.Error, ValueError):
        raw = b""
    return _open(kid, raw, aad).decode("utf-8")


def encrypt_bytes(data: bytes, aad: str) -> bytes:
    """Encrypt ``data`` bound to ``aad``; returns ``kid:`` followed by the raw nonce, ciphertext and tag."""
    kid, sealed = _seal(data, aad)
    return kid.encode("ascii") + b":" + sealed


def decrypt_bytes(stored: bytes, aad: str) -> bytes:
    """The data of a value made by :func:`encrypt_bytes` for ``aad`` (raises as :func:`decrypt`)."""
    kid, sep, raw = bytes(stored).partition(b":")
    if not sep or not kid.isalnum():
        raise PiiDecryptionError(f"{aad}: the stored value is not encrypted (no key id)", field=aad)
    return _open(kid.decode("ascii"), raw, aad)


class _Encrypted(TypeDecorator[T]):
    """A column whose values are sealed on the way in and opened on the way out, bound to ``aad`` (the
    column's ``table.column`` name); ``None`` stays ``None``. Subclasses name the storage type (``impl``)."""

    cache_ok = True

    def __init__(self, aad: str) -> None:
        super().__init__()
        self.aad = aad

    def seal(self, value: Any) -> Any:
        raise NotImplementedError

    def unseal(self, stored: Any) -> T:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> T | None:
        return None if value is None else self.unseal(value)


class EncryptedString(_Encrypted[str]):
    """A text column encrypted with AES-GCM; ``aad`` is the column's ``table.column`` name.

    Example: ``id_number: Mapped[str] = mapped_column(EncryptedString("customers.id_number"))``.
    Only equality through a blind index is possible in queries; never filter on this column.
    """

    impl = Text
    cache_ok = True

    def seal(self, value: Any) -> str:
        return encrypt(str(value), self.aad)

    def unseal(self, stored: Any) -> str:
        return decrypt(str(stored), self.aad)


class EncryptedBytes(_Encrypted[bytes]):
    """A binary column encrypted like :class:`EncryptedString` (a contract's PDF): ``kid:`` then the raw
    nonce, ciphertext and tag, no base64."""

    impl = LargeBinary
    cache_ok = True

    def seal(self, value: Any) -> bytes:
        return encrypt_bytes(bytes(value), self.aad)

    def unseal(self, stored: Any) -> bytes:
        return decrypt_bytes(bytes(stored), self.aad)


class EncryptedJSON(_Encrypted[Any]):
    """A JSON document encrypted whole into a text column like :class:`EncryptedString` (signature evidence
    naming its signers). Nothing inside can be queried; assign a new value to change it (in-place mutation is
    not tracked)."""

    impl = Text
    cache_ok = True

    def seal(self, value: Any) -> str:
        return encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")), self.aad)

    def unseal(self, stored: Any) -> Any:
        return json.loads(decrypt(str(stored), self.aad))


def encrypted_columns(table: Table) -> list[Column[Any]]:
    """The encrypted columns of ``table`` (:class:`EncryptedString`, :class:`EncryptedBytes`,
    :class:`EncryptedJSON`)."""
    return [column for column in table.columns if isinstance(column.type, _Encrypted)]


def _under_another_key(column: Column[Any], active: str) -> Any:
    """Whether ``column``'s stored value starts with another key id than ``active`` (``"kid:"``), in SQL."""
    if isinstance(column.type, EncryptedBytes):
        prefix = active.encode("ascii")
        return func.substr(column, 1, len(prefix), type_=LargeBinary) != bindparam(
            f"prefix_{column.name}", prefix, type_=LargeBinary)
    return not_(type_coerce(column, Text).startswith(active, autoescape=True))


def reencrypt_table(session: Session, table: Table, batch: int = 1000) -> int:
    """Re-encrypt with the active key every row of ``table`` holding a value under another key; returns
    how many rows were rewritten (the caller commits).

    Raises:
        PiiDecryptionError: a value's key is no longer in the ring (put the old key back behind the new one).
    """
    columns = encrypted_columns(table)
    keys = list(table.primary_key.columns)
    if not columns:
        return 0
    active = key_ring().active + ":"
    stale = or_(*(_under_another_key(column, active) for column in columns))
    statement = update(table).where(and_(*(key == bindparam(f"key_{key.name}") for key in keys)))
    done = 0
    while True:
        rows = session.execute(select(*keys, *columns).where(stale).order_by(*keys).limit(batch)).all()
        if not rows:
            return done
        session.execute(statement, [{**{f"key_{key.name}": row._mapping[key] for key in keys},
                                     **{column.name: row._mapping[column] for column in columns}} for row in rows])
        done += len(rows)


def reencrypt_all(session: Session, metadata: MetaData, batch: int = 1000) -> dict[str, int]:
    """:func:`reencrypt_table` on every table of ``metadata`` with an encrypted column: ``{table: rows}``.

    Rotating the PII key: put the new key first in ``LOANFACTORY_PII_KEY`` with the old one after it
    (``new:...,old:...``), restart, run this (``loanfactory pii reencrypt``); once it reports 0 everywhere
    the old key can leave the ring.
    """
    return {table.name: reencrypt_table(session, table, batch)
            for table in metadata.sorted_tables if encrypted_columns(table)}


def blind_index(value: str, purpose: str = "default") -> str:
    """A hex HMAC-SHA256 of ``value`` for equality lookups, keyed by ``LOANFACTORY_BLIND_INDEX_KEY``.

    ``purpose`` separates indexes (``"customers.id_number"`` and ``"customers.phone"`` give unrelated
    digests for the same text). Normalise ``value`` before calling (upper case, no spaces): the index
    matches exact text only.
    """
    key = _index_key(os.environ.get(BLIND_INDEX_KEY_ENV))
    message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """Keep the first 3 and last 4 characters: ``110105194912310021`` -> ``110***********0021``."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits: ``13812345678`` -> ``138****5678``."""
    if len(value) <= 7:
        return "*" * max(len(value) - 2, 0) + value[-2:]
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """Keep the first character (the surname in Chinese): ``张三`` -> ``张*``, ``欧阳娜娜`` -> ``欧***``."""
    if not value:
        return value
    return value[0] + "*" * max(len(value) - 1, 1)
