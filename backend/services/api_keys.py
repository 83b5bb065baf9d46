"""Keys of Open311 clients: issued once in clear, stored as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import DomainError
from backend.models import ApiKey
from backend.models.base import utcnow

PREFIX = "o311_"


class InvalidApiKey(DomainError):
    """A missing, unknown or revoked api_key (Open311 answers 403)."""

    status = 403
    code = "invalid_api_key"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, name: str) -> str:
    """A new key for a client (commits); the clear key is returned once and not stored."""
    key = PREFIX + secrets.token_urlsafe(24)
    session.add(ApiKey(name=name.strip() or "client", key_hash=_digest(key), created_at=utcnow()))
    session.commit()
    return key


def check_api_key(session: Session, key: str | None) -> ApiKey:
    """The active key row, or InvalidApiKey."""
    if not key:
        raise InvalidApiKey("api_key is required to create requests.", {"api_key": ["missing"]})
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(key)))
    if row is None or row.revoked_at is not None:
        raise InvalidApiKey("api_key is not valid.", {"api_key": ["unknown or revoked"]})
    row.last_used_at = utcnow()
    return row


def revoke_api_key(session: Session, name: str) -> int:
    """Revoke every active key with this name (commits); returns how many."""
    rows = list(session.scalars(select(ApiKey).where(ApiKey.name == name,
                                                     ApiKey.revoked_at.is_(None))))
    for row in rows:
        row.revoked_at = utcnow()
    session.commit()
    return len(rows)
