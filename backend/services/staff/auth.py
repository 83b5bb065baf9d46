"""Staff login sessions and API tokens.

The session cookie holds a random secret; the database keeps only its SHA-256, so a database
leak yields no usable sessions. Every login makes a new session id (no fixation), logout
revokes the row (the cookie is worthless afterwards, even if kept).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidCredentials
from backend.models import ApiToken, AuditEntry, StaffSession, StaffUser
from backend.models.base import utcnow
from backend.rate_limit import FailureLimiter
from backend.services.staff.users import get_user, password_matches

TOKEN_PREFIX = "mmk_"
# A session's last use is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=1)
# Attempts per address may be this many times the per-user limit (shared offices, NAT).
ADDRESS_FACTOR = 4


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Login:
    """A new session: the cookie value (secret) and its row."""

    cookie: str
    session: StaffSession


def login(session: Session, limiter: FailureLimiter, *, username: str, password: str,
          address: str, max_failures: int, lifetime: timedelta,
          replaces: str | None = None) -> Login:
    """Check the password (rate-limited per user name and per address) and open a session.

    `replaces` is the cookie the browser sent along, if any: that old session is revoked.
    """
    name = (username or "").strip().lower()
    keys = [(f"user:{name}", max_failures), (f"addr:{address}", max_failures * ADDRESS_FACTOR)]
    limiter.check(keys, "Too many failed logins. Please wait before trying again.")
    user = session.scalar(select(StaffUser).where(StaffUser.username == name))
    if not password_matches(user, password or "") or user is None or not user.active:
        limiter.fail([key for key, _ in keys])
        raise InvalidCredentials("User name or password is wrong.",
                                 {"username": ["check user name and password"],
                                  "password": ["check user name and password"]})
    limiter.clear(f"user:{name}")
    if replaces:
        logout(session, replaces, commit=False)
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    row = StaffSession(id=_digest(cookie), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                       created_at=now, last_seen_at=now, expires_at=now + lifetime)
    session.add(row)
    session.add(AuditEntry(at=now, user_id=user.id, actor=user.username, action="login",
                           details={"address": address}))
    session.commit()
    return Login(cookie, row)


def session_for_cookie(session: Session, cookie: str | None, lifetime: timedelta
                       ) -> StaffSession | None:
    """The live session for a cookie (sliding expiry), or None."""
    if not cookie:
        return None
    row = session.get(StaffSession, _digest(cookie))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at, row.expires_at = now, now + lifetime
        session.commit()
    return row


def logout(session: Session, cookie: str, *, commit: bool = True) -> None:
    """Revoke the session behind a cookie (nothing happens for an unknown one)."""
    row = session.get(StaffSession, _digest(cookie))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(AuditEntry(at=row.revoked_at, user_id=row.user_id, actor=row.user.username,
                               action="logout", details=None))
    if commit:
        session.commit()


def create_api_token(session: Session, username: str, name: str) -> str:
    """A new bearer token for an integration acting as this user; shown once, stored hashed."""
    user = get_user(session, username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name.strip() or "token",
                         token_hash=_digest(token), created_at=utcnow()))
    session.commit()
    return token


def user_for_api_token(session: Session, token: str) -> StaffUser | None:
    """The active user behind a bearer token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return row.user
