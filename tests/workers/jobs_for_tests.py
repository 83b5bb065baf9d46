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
