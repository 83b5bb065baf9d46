"""JSON output that is safe to embed in HTML and strict about what it accepts."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

from backend.jsonout import safe_json


class SafeJSONProvider(DefaultJSONProvider):
    """Every JSON answer: orjson (fast), dates and times in ISO 8601 (UTC when stored without
    a zone; Flask's default would be an HTTP date), and <, > and & escaped so user text can
    never become markup where JSON is embedded."""

    ensure_ascii = False
    sort_keys = False
    compact = True

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return safe_json(obj).decode("utf-8")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def strict_loads(data: bytes | str) -> Any:
    """Parse JSON, refusing NaN and Infinity (which Python's json module accepts)."""
    return json.loads(data, parse_constant=_reject_constant)
