"""Waiting for something that happens in another process or thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], what: str = "the condition", *, timeout: float = 60.0,
               interval: float = 0.1) -> T:
    """Call `check` until it returns something true, and return that; fail after `timeout`
    seconds naming `what` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)
