"""Tiny jobs for worker tests; module-level so that rq can import them by name."""

from __future__ import annotations

import json
from typing import Any


def append_json(path: str, payload: Any) -> str:
    """Append the payload, and the Python type it arrived as, to `path` as one JSON line."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"payload": payload, "type": type(payload).__name__}) + "\n")
    return "ok"


def fail(message: str) -> None:
    """A job that always fails."""
    raise RuntimeError(message)


def spin_in_c(path: str) -> None:
    """Hang in C code that checks no signals (a key derivation with a billion rounds, the
    interpreter lock released): a poison job that only the kernel's CPU limit stops."""
    import hashlib

    open(path, "a", encoding="utf-8").close()  # it started
    hashlib.pbkdf2_hmac("sha256", b"poison", b"salt", 10**9)


def sleep(seconds: float) -> None:
    """Hang in Python: wait far longer than any limit."""
    import time

    time.sleep(seconds)


def allocate(megabytes: int) -> int:
    """Ask for more memory than a job may have."""
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def append_pid(path: str, payload: Any) -> None:
    """Append the payload and the id of the process that ran the job."""
    import os

    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"payload": payload, "pid": os.getpid()}) + "\n")
