"""What a browser context fetches over the network: page requests and service-worker requests.

Counted at context level (Playwright reports a Chromium service worker's own fetches on the
context, with `request.service_worker` set). A page request the service worker answered
(`response.from_service_worker`) costs nothing on the wire itself: its network fetch, if any,
is the worker's request and counted there. Sizes are what Chromium received over the network:
response headers plus the body as encoded on the wire (gzip when our server compressed it;
no body for a 304 revalidation; nothing for an answer from the HTTP cache).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fetched:
    """One finished request: its URL, who asked, and the bytes it cost on the wire."""

    url: str
    worker: bool
    status: int
    body: int
    headers: int


@dataclass
class WireTally:
    """Every request of a browser context, page-level and service-worker, with its bytes."""

    fetched: list[Fetched] = field(default_factory=list)
    answered_by_worker: int = 0
    in_flight: int = 0
    last_change: float = field(default_factory=time.monotonic)

    def attach(self, context: Any) -> WireTally:
        """Listen to the context's request events (pages and service workers alike)."""
        context.on("request", self._started)
        context.on("requestfinished", self._finished)
        context.on("requestfailed", self._failed)
        return self

    def _started(self, request: Any) -> None:
        self.in_flight += 1
        self.last_change = time.monotonic()

    def _failed(self, request: Any) -> None:
        self.in_flight -= 1
        self.last_change = time.monotonic()

    def _finished(self, request: Any) -> None:
        self.in_flight -= 1
        self.last_change = time.monotonic()
        response = request.response() if not request.url.startswith("data:") else None
        if response is None:
            return
        if response.from_service_worker:
            self.answered_by_worker += 1
            return
        sizes: dict[str, int] = dict(request.sizes())
        # transferSize is Chromium's encodedDataLength: what came over the network. 0 for an
        # answer from the HTTP cache (Playwright then estimates headers that never travelled).
        wire = sizes.get("transferSize", sizes["responseBodySize"] + sizes["responseHeadersSize"])
        headers = min(wire, max(0, sizes["responseHeadersSize"]))
        self.fetched.append(Fetched(
            url=request.url, worker=request.service_worker is not None, status=response.status,
            body=wire - headers, headers=headers))

    def settle(self, page: Any, quiet: float = 1.0, timeout: float = 30.0) -> None:
        """Wait until nothing is in flight and nothing started for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while self.in_flight > 0 or time.monotonic() - self.last_change < quiet:
            assert time.monotonic() < deadline, f"{self.in_flight} requests still in flight"
            page.wait_for_timeout(100)

    def total(self, *, worker: bool | None = None) -> int:
        """Bytes received (headers + encoded body), of the worker's requests, the pages' or all."""
        return sum(f.body + f.headers for f in self.fetched if worker is None or f.worker == worker)

    def count(self, *, worker: bool | None = None) -> int:
        """How many network requests finished (of the worker, the pages, or all)."""
        return sum(1 for f in self.fetched if worker is None or f.worker == worker)


class ServerTally:
    """WSGI middleware: what our server sent, per request (path, header bytes, body bytes) —
    the other side of WireTally, which it cross-checks."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.sent: list[tuple[str, int, int]] = []

    @classmethod
    def install(cls, flask_app: Any) -> ServerTally:
        """Wrap a Flask app's WSGI callable (also while its server runs)."""
        tally = cls(flask_app.wsgi_app)
        flask_app.wsgi_app = tally
        return tally

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        """Pass the request through, adding up status line, headers and body as they go out."""
        sent, head = 0, 0

        def counting_start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            nonlocal head  # as HTTP/1.1 writes them (the server adds Date and Server: ≈ 70 more)
            head = (len(f"HTTP/1.1 {status}\r\n") + 2
                    + sum(len(f"{k}: {v}\r\n") for k, v in headers))
            return start_response(status, headers, *args)

        try:
            for chunk in self.app(environ, counting_start):
                sent += len(chunk)
                yield chunk
        finally:
            self.sent.append((environ.get("PATH_INFO", ""), head, sent))

    def total(self) -> int:
        """Header and body bytes of every response so far."""
        return sum(head + body for _, head, body in self.sent)

    def bodies(self) -> int:
        """Body bytes (as encoded: gzip where we compress) of every response so far."""
        return sum(body for *_, body in self.sent)


def wait_for_installed_worker(page: Any, timeout: float = 30000) -> None:
    """Until the service worker is activated: its install (the precache) and its activate
    step (the API warm-up) have both finished, and it controls the page."""
    page.evaluate("""async () => {
        const worker = (await navigator.serviceWorker.ready).active;
        while (worker.state !== 'activated') {
          await new Promise((done) => worker.addEventListener('statechange', done, { once: true }));
        }
        return true;
      }""")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=timeout)
