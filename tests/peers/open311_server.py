"""A small Open311 GeoReport v2 server on loopback: a department's own ticket system.

It accepts `POST /requests.json` (form-encoded, checks the api_key), answers with a remote
id, and serves `GET /requests.json?service_request_id=…` with whatever status a test set.
A repeated `Idempotency-Key` answers the remote id of the first request and creates nothing.
Switches make it fail like real systems do: `fail_with` (every POST gets that status, e.g.
500), `answer` (a 200 with a body of the test's choosing), `delay_s` (the request is created
at once, the answer comes late: a client may die in between).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class RemoteRequest:
    """One request the remote system received."""

    id: str
    form: dict[str, str]
    status: str = "open"
    status_notes: str | None = None
    idempotency_key: str | None = None


@dataclass
class Open311Server:
    """The running server and what it received."""

    api_key: str
    requests: dict[str, RemoteRequest] = field(default_factory=dict)
    posts: int = 0  # every POST, answered or not
    replays: int = 0  # POSTs answered from an earlier request with the same Idempotency-Key
    fail_with: int | None = None
    answer: Any = None
    delay_s: float = 0.0
    port: int = 0  # 0: any free port; a given one brings a dead system back where it was
    _by_key: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/open311/v2"

    @property
    def created(self) -> int:
        """How many requests exist remotely."""
        return len(self.requests)

    def _create(self, form: dict[str, str], key: str | None) -> str:
        with self._lock:
            if key and key in self._by_key:
                self.replays += 1
                return self._by_key[key]
            remote_id = f"R-{len(self.requests) + 1}"
            self.requests[remote_id] = RemoteRequest(remote_id, form, idempotency_key=key)
            if key:
                self._by_key[key] = remote_id
            return remote_id

    def start(self) -> Open311Server:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                # A client that died while the answer was held (`delay_s`) is no error here.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                if urlparse(self.path).path != "/open311/v2/requests.json":
                    return self._send(404, [{"code": 404, "description": "no such path"}])
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with owner._lock:
                    owner.posts += 1
                if owner.fail_with is not None:
                    return self._send(owner.fail_with, [{"code": owner.fail_with,
                                                         "description": "internal error"}])
                if form.get("api_key") != owner.api_key:
                    return self._send(403, [{"code": 403, "description": "bad api_key"}])
                problem = _invalid_request(self.headers.get("Content-Type", ""), form)
                if problem:
                    return self._send(400, [{"code": 400, "description": problem}])
                if owner.answer is not None:
                    return self._send(200, owner.answer)
                remote_id = owner._create(form, self.headers.get("Idempotency-Key"))
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                return self._send(200, [{"service_request_id": remote_id}])

            def do_GET(self) -> None:  # noqa: N802
                if owner.fail_with is not None:
                    return self._send(owner.fail_with, [{"code": owner.fail_with,
                                                         "description": "internal error"}])
                url = urlparse(self.path)
                ids = parse_qs(url.query).get("service_request_id", [""])[0].split(",")
                found = [owner.requests[i] for i in ids if i in owner.requests]
                return self._send(200, [{
                    "service_request_id": r.id, "status": r.status,
                    "status_notes": r.status_notes, "service_code": r.form["service_code"],
                    "requested_datetime": "2026-11-22T00:00:00+00:00"} for r in found])

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _invalid_request(content_type: str, form: dict[str, str]) -> str | None:
    """What GeoReport v2 rejects in a POST service request (None when it is valid): it is
    form-encoded, names a service, and has a location (lat and long, an address_string or an
    address_id), with lat/long as numbers in range."""
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return f"expected a form, got {content_type or 'no content type'}"
    if not form.get("service_code"):
        return "service_code is required"
    has_point = "lat" in form or "long" in form
    if not (has_point or form.get("address_string") or form.get("address_id")):
        return "a location is required: lat and long, address_string or address_id"
    if has_point:
        try:
            lat, lon = float(form["lat"]), float(form["long"])
        except (KeyError, ValueError):
            return "lat and long must both be numbers"
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return "lat/long out of range"
    return None
