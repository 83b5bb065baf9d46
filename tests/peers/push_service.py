"""A real Web Push service (RFC 8030) on loopback, and the browser side of a subscription.

`PushServiceReceiver` accepts `POST /push/<name>` like a push service does: it checks the
VAPID authorization (RFC 8292) and the required headers, records every request, and answers
201 with a Location, or whatever a test told it to answer next; with `delay_s` set, the
answer comes that late (the message is recorded at once: a sender may die in between).
`make_subscription` creates keys the way a browser does and `decrypt` reads a recorded
message as the service worker would (RFC 8291), so a test sees exactly what a reporter's
device would get.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_RECORD_BYTES = 4096  # RFC 8291 §4: push services need not accept more
MAX_JWT_LIFETIME_S = 24 * 60 * 60  # RFC 8292 §2


@dataclass(frozen=True)
class VapidToken:
    """A verified VAPID authorization: the JWT claims and the signer's public key."""

    claims: dict[str, Any]
    key: str


@dataclass(frozen=True)
class Record:
    """One request the push service received, and what it answered."""

    name: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int
    vapid: VapidToken | None
    vapid_error: str | None
    at: float = field(default_factory=time.time)  # when it arrived (for latency figures)


@dataclass
class _Scripted:
    status: int
    retry_after: str | None
    times: int


@dataclass
class _State:
    records: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    scripted: dict[str, deque[_Scripted]] = field(default_factory=lambda: defaultdict(deque))
    changed: threading.Condition = field(default_factory=threading.Condition)


class PushServiceReceiver:
    """A threaded HTTP push service on 127.0.0.1 (or `host`, e.g. a container network's
    gateway) with a free port; use as context manager."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._state = _State()
        self.delay_s = 0.0  # how long each answer waits after the message was recorded
        self._server = ThreadingHTTPServer((host, 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for the next poll, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="push-service", daemon=True
        )
        self._started = False

    @property
    def origin(self) -> str:
        """`http://<host>:<port>`: what a VAPID `aud` claim must say."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def endpoint(self, name: str) -> str:
        """The push endpoint URL of subscription `name`."""
        return f"{self.origin}/push/{name}"

    def start(self) -> PushServiceReceiver:
        """Begin serving in a background thread."""
        self._thread.start()
        self._started = True
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._started = False
        self._server.server_close()

    def __enter__(self) -> PushServiceReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_response(
        self, name: str, status: int, retry_after: str | int | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` pushes to `name` with `status`, then 201 again."""
        with self._state.changed:
            self._state.scripted[name].append(
                _Scripted(status, None if retry_after is None else str(retry_after), times)
            )

    def received(self, name: str) -> list[Record]:
        """Every request to `name` so far, oldest first."""
        with self._state.changed:
            return list(self._state.records[name])

    def wait_for(self, name: str, count: int, timeout: float = 5.0) -> list[Record]:
        """Wait until `name` has at least `count` requests; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while len(self._state.records[name]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = len(self._state.records[name])
                    raise AssertionError(f"{name}: {got} of {count} pushes within {timeout}s")
                self._state.changed.wait(left)
            return list(self._state.records[name])

    def _answer(
        self, name: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str]]:
        """Decide the response to one push like a push service would, and record it."""
        vapid, vapid_error = None, None
        try:
            vapid = verify_vapid(headers.get("authorization", ""), self.origin)
        except ValueError as exc:
            vapid_error = str(exc)
        extra: dict[str, str] = {}
        if vapid_error is not None:
            status = 401  # RFC 8292 §4.1
        elif "ttl" not in headers:
            status = 400  # RFC 8030 §5.2: TTL is required
        elif headers.get("content-encoding") != "aes128gcm":
            status = 415
        elif len(body) > MAX_RECORD_BYTES:
            status = 413
        else:
            status, extra = self._scripted_or_created(name)
        record = Record(name, headers, body, status, vapid, vapid_error)
        with self._state.changed:
            self._state.records[name].append(record)
            self._state.changed.notify_all()
        return status, extra

    def _scripted_or_created(self, name: str) -> tuple[int, dict[str, str]]:
        with self._state.changed:
            queue = self._state.scripted[name]
            if not queue:
                count = len(self._state.records[name]) + 1
                return 201, {"Location": f"{self.origin}/message/{name}/{count}"}
            step = queue[0]
            step.times -= 1
            if step.times <= 0:
                queue.popleft()
        return step.status, {"Retry-After": step.retry_after} if step.retry_after else {}


def _handler_for(receiver: PushServiceReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            prefix = "/push/"
            if not self.path.startswith(prefix) or len(self.path) == len(prefix):
                self._reply(404, {})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra = receiver._answer(self.path[len(prefix):], headers, body)
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            self._reply(status, extra)

        def _reply(self, status: int, headers: dict[str, str]) -> None:
            # A sender that died while the answer was held (`delay_s`) is no error of ours.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean

    return Handler


def verify_vapid(authorization: str, audience: str) -> VapidToken:
    """Check an RFC 8292 `vapid t=<jwt>, k=<key>` header; ValueError says what is wrong."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"authorization scheme is {scheme!r}, not 'vapid'")
    values = dict(
        part.strip().split("=", 1) for part in params.split(",") if "=" in part
    )
    if "t" not in values or "k" not in values:
        raise ValueError("authorization lacks t= or k=")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), _b64url_decode(values["k"])
        )
        header_b64, claims_b64, signature_b64 = values["t"].split(".")
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(claims_b64))
        signature = _b64url_decode(signature_b64)
    except ValueError as exc:
        raise ValueError(f"malformed VAPID token: {exc}") from exc
    if header.get("alg") != "ES256" or len(signature) != 64:
        raise ValueError(f"JWT is not ES256: {header}")
    # JWS (RFC 7518 §3.4) carries r||s; cryptography verifies DER-encoded signatures.
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(
            der, f"{header_b64}.{claims_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature as exc:
        raise ValueError("JWT signature does not match k=") from exc
    if claims.get("aud") != audience:
        raise ValueError(f"aud is {claims.get('aud')!r}, expected {audience!r}")
    exp = claims.get("exp")
    now = time.time()
    if not isinstance(exp, int) or not now < exp <= now + MAX_JWT_LIFETIME_S:
        raise ValueError(f"exp {exp!r} is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError(f"sub {claims.get('sub')!r} is neither mailto: nor https:")
    return VapidToken(claims=claims, key=values["k"])


def make_subscription(
    receiver: PushServiceReceiver, name: str
) -> tuple[dict[str, str], ec.EllipticCurvePrivateKey]:
    """Subscribe like a browser: a fresh P-256 key pair and 16-byte auth secret for `name`."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    point = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    subscription = {
        "endpoint": receiver.endpoint(name),
        "p256dh": _b64url_encode(point),
        "auth": _b64url_encode(os.urandom(16)),
    }
    return subscription, private_key


def decrypt(
    record: Record, private_key: ec.EllipticCurvePrivateKey, auth: str | bytes
) -> dict[str, Any]:
    """Decrypt a recorded aes128gcm push as the browser would and parse its JSON."""
    secret = _b64url_decode(auth) if isinstance(auth, str) else auth
    plaintext = http_ece.decrypt(
        record.body, private_key=private_key, auth_secret=secret, version="aes128gcm"
    )
    return json.loads(plaintext.decode("utf-8"))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
