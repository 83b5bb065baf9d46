"""Public report ids, tracking tokens and request fingerprints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

# Crockford-style base32 without look-alikes (no i, l, o, u): easy to read out on the phone.
PUBLIC_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PUBLIC_ID_LENGTH = 8  # 32**8 ≈ 1.1e12 ids; a collision on insert is retried


def new_public_id() -> str:
    """A short random id that is safe in URLs, e.g. `k7p3xr9q` (40 random bits)."""
    bits = int.from_bytes(secrets.token_bytes(PUBLIC_ID_LENGTH * 5 // 8))
    chars = []
    for _ in range(PUBLIC_ID_LENGTH):
        bits, index = divmod(bits, 32)
        chars.append(PUBLIC_ID_ALPHABET[index])
    return "".join(chars)


def new_salt() -> str:
    """A random per-report salt for deriving its tracking token."""
    return secrets.token_hex(12)


def tracking_token(secret_key: str, public_id: str, salt: str) -> str:
    """The secret the reporter keeps to follow their report.

    Only its hash is stored; deriving it from our secret and the report's stored salt lets a
    retried request get the same token back and lets e-mails carry the tracking link.
    """
    return signed_value(secret_key, f"tracking:{public_id}:{salt}")


def signed_value(secret_key: str, message: str) -> str:
    """A URL-safe HMAC-SHA256 of `message` (192 bits), e.g. for unsubscribe links."""
    digest = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def hash_token(token: str) -> str:
    """The stored form of a tracking token."""
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a request body, to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
