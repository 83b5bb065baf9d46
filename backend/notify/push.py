"""Web Push delivery: one encrypted, VAPID-signed POST to the subscription's push service.

The payload is encrypted for the browser per RFC 8291 (`aes128gcm`, RFC 8188) by pywebpush's
`WebPusher`, and authorized with a VAPID JWT (RFC 8292) that we sign with py_vapid. We call
`WebPusher.send` rather than pywebpush's `webpush()` helper because the helper treats a
string key as a file path first and then as raw/DER (never PEM), writes into the claims dict
it is given, has no timeout by default, and raises for some outcomes while returning others;
here every outcome comes back as one response or one requests exception and is classified
in one place.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid, VapidException
from pywebpush import WebPusher

from backend.notify.addresses import private_address
from backend.notify.errors import GoneSubscription, PermanentDeliveryError, TransientDeliveryError
from backend.notify.vapid import load_private_key

# Push services accept 4096 bytes of encrypted record (RFC 8291 §4); aes128gcm adds 103 bytes.
# A smaller budget leaves room and keeps notifications short.
PAYLOAD_LIMIT_BYTES = 3 * 1024
# RFC 8292 §2: `exp` must be at most 24 h ahead; 12 h tolerates clock skew at the service.
JWT_LIFETIME_S = 12 * 60 * 60
# RFC 8030 §5.4: a topic is at most 32 characters of the URL-safe base64 alphabet.
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SUCCESS = frozenset({200, 201, 202})
_GONE = frozenset({404, 410})
# 408: the service gave up waiting for our request, so the same request may succeed later.
_TRANSIENT_4XX = frozenset({408, 429})
# A request that cannot even be sent will never succeed; anything else requests raises is
# about the network or the connection and may.
_UNSENDABLE = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


@dataclass(frozen=True)
class PushSubscriptionInfo:
    """A browser's push subscription: endpoint URL and its keys as unpadded base64url."""

    endpoint: str
    p256dh: str
    auth: str


def send_push(
    sub: PushSubscriptionInfo,
    payload: dict[str, Any],
    *,
    vapid_private_pem: str,
    vapid_subject: str,
    ttl_s: int = 86400,
    topic: str | None = None,
    timeout_s: float = 10.0,
    allow_private: bool = False,
) -> int:
    """Encrypt `payload` for `sub` and POST it to its push service; return the HTTP status.

    The endpoint's name is resolved again first: one that now points into a private network
    (its DNS changed after it was stored) is refused for good, unless `allow_private`
    (MM_PUSH_ALLOW_INSECURE_ENDPOINTS, for a push service on loopback in tests)."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) >= PAYLOAD_LIMIT_BYTES:
        raise PermanentDeliveryError(
            f"payload is {len(data)} bytes; it must stay below {PAYLOAD_LIMIT_BYTES}"
        )
    _check_subscription(sub)
    if not allow_private:
        parts = urlsplit(sub.endpoint)
        inside = private_address(parts.hostname or "", parts.port or 443)
        if inside:
            raise PermanentDeliveryError(f"push endpoint resolves to a private address ({inside})")
    headers = _vapid_headers(vapid_private_pem, vapid_subject, sub.endpoint)
    # Urgency (RFC 8030 §5.3): a status change is worth waking the device, but not at any cost.
    headers["Urgency"] = "normal"
    if topic is not None:
        if not _TOPIC.fullmatch(topic):
            raise ValueError("topic must be 1-32 characters of [A-Za-z0-9_-] (RFC 8030 §5.4)")
        # The push service replaces a still-undelivered message with the same topic, so a
        # retried or superseded status change does not reach the device twice.
        headers["Topic"] = topic
    pusher = WebPusher({"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}})
    try:
        response = pusher.send(
            data, headers, ttl=ttl_s, content_encoding="aes128gcm", timeout=timeout_s
        )
    except _UNSENDABLE as exc:
        raise PermanentDeliveryError(f"push request cannot be sent: {exc}") from exc
    except requests.RequestException as exc:
        raise TransientDeliveryError(f"push service unreachable: {exc}") from exc
    return _status_or_raise(response)


def _check_subscription(sub: PushSubscriptionInfo) -> None:
    """Reject a subscription that can never be delivered to, with a clear reason."""
    parts = urlsplit(sub.endpoint)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise PermanentDeliveryError(f"push endpoint is not an http(s) URL: {sub.endpoint!r}")
    try:
        point = _b64url_decode(sub.p256dh)
        auth = _b64url_decode(sub.auth)
        # pywebpush's own length check never fires (it compares an int with a str), and a bad
        # point would only surface as an obscure error deep inside the encryption.
        if len(point) != 65 or point[0] != 0x04:
            raise ValueError("p256dh is not an uncompressed P-256 point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(auth) != 16:
            raise ValueError("auth secret is not 16 bytes")
    except ValueError as exc:  # binascii.Error is a ValueError too
        raise PermanentDeliveryError(f"subscription keys are unusable: {exc}") from exc


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _vapid_headers(pem: str, subject: str, endpoint: str) -> dict[str, str]:
    """The RFC 8292 `Authorization: vapid t=<jwt>,k=<public key>` header for `endpoint`."""
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",  # the push service's origin
        "exp": int(time.time()) + JWT_LIFETIME_S,
        "sub": subject,
    }
    try:
        return dict(_vapid(pem).sign(claims))
    except VapidException as exc:
        # A bad subject is a configuration error, not a delivery outcome.
        raise ValueError(f"cannot sign VAPID claims: {exc}") from exc


@lru_cache(maxsize=4)
def _vapid(pem: str) -> Vapid:
    # Parsing the key once per process: a worker sends many notifications with the same key.
    return Vapid(private_key=load_private_key(pem))


def _status_or_raise(response: requests.Response) -> int:
    """Return a success status; raise the delivery error that any other status means."""
    status = response.status_code
    if status in _SUCCESS:
        return status
    reason = f"push service answered {status} {response.reason or ''}".rstrip()
    detail = response.text.strip()[:200]
    if detail:
        reason = f"{reason}: {detail}"
    if status in _GONE:
        raise GoneSubscription(reason, status=status)
    if status in _TRANSIENT_4XX or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise TransientDeliveryError(reason, status=status, retry_after_s=retry_after)
    raise PermanentDeliveryError(reason, status=status)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), None if absent."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unparsable: let the caller's own back-off decide
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
