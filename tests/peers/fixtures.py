"""pytest fixtures for the protocol peers; import them into a conftest.py to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.push_service import PushServiceReceiver
from tests.peers.smtp_server import SmtpServer


@pytest.fixture
def push_service() -> Iterator[PushServiceReceiver]:
    """A real push service on loopback for one test."""
    with PushServiceReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback for one test."""
    with SmtpServer() as server:
        yield server
