"""A real SMTP server in the test process (aiosmtpd) that collects what it is sent.

It speaks the protocol for real, so a test sees exactly what a mail relay would: envelope,
headers and MIME body. It can refuse the next N recipients with a 4xx or 5xx reply, and it
can require STARTTLS and AUTH with a throwaway self-signed certificate.
"""

from __future__ import annotations

import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.peers.certificates import self_signed_certificate
from tests.servers import free_port

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Delivery:
    """One accepted message: the envelope and the message as received."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage


class _Handler:
    """aiosmtpd hooks: refuse scripted recipients, collect accepted messages."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.deliveries: list[Delivery] = []
        self.refusals: list[str] = []  # SMTP replies for the next RCPTs, in order

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # SMTP carries CRLF line ends; a mail client reads them as plain newlines.
        message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)
        delivery = Delivery(str(envelope.mail_from), tuple(envelope.rcpt_tos), raw, message)
        with self.lock:
            self.deliveries.append(delivery)
            self.lock.notify_all()
        return "250 OK: queued"


class SmtpServer:
    """An SMTP server on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self, *, tls: bool = False, credentials: tuple[str, str] | None = None) -> None:
        self.host = HOST
        self.port = 0
        self.credentials = credentials
        self._handler = _Handler()
        self._controller: Controller | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="mm-smtp-")
        # The CA file a client must trust to accept our certificate (None without TLS).
        self.ca_file: Path | None = None
        self._tls_context = self._make_tls_context() if tls else None

    def start(self) -> SmtpServer:
        """Start serving in aiosmtpd's background thread."""
        kwargs: dict[str, Any] = {"server_hostname": "mm-test-smtp"}  # skips a getfqdn()
        if self._tls_context is not None:
            kwargs |= {"tls_context": self._tls_context, "require_starttls": True}
        if self.credentials is not None:
            kwargs |= {"authenticator": self._authenticate, "auth_required": True}
        # aiosmtpd needs a concrete port; another process may take it between free_port() and
        # bind, so try a few.
        for attempt in range(3):
            self.port = free_port()
            controller = Controller(self._handler, hostname=HOST, port=self.port, **kwargs)
            try:
                controller.start()
            except OSError:
                if attempt == 2:
                    raise
                continue
            self._controller = controller
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server thread and remove the temporary certificate."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._tmp.cleanup()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def refuse_next_rcpts(self, code: int, count: int = 1, text: str | None = None) -> None:
        """Answer the next `count` RCPT commands with `code` (e.g. 451 or 550)."""
        if not 400 <= code < 600:
            raise ValueError("a refusal is a 4xx or 5xx reply")
        default = "4.7.1 Try again later" if code < 500 else "5.1.1 No such user here"
        with self._handler.lock:
            self._handler.refusals.extend([f"{code} {text or default}"] * count)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every accepted message so far, oldest first."""
        with self._handler.lock:
            return list(self._handler.deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        """The parsed messages accepted so far, oldest first."""
        return [d.message for d in self.deliveries]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._handler.lock:
            while len(self._handler.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = len(self._handler.deliveries)
                    raise AssertionError(f"{got} of {count} messages within {timeout}s")
                self._handler.lock.wait(left)
            return [d.message for d in self._handler.deliveries]

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok, handled=False)

    def _make_tls_context(self) -> ssl.SSLContext:
        """A self-signed certificate for 127.0.0.1, written where a client can trust it."""
        cert_file, key_file = self_signed_certificate(Path(self._tmp.name), "mm-test-smtp", HOST)
        self.ca_file = cert_file
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context
