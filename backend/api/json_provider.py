"""JSON output that is safe to embed in HTML and strict about what it accepts."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_HTML_UNSAFE = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))


class SafeJSONProvider(DefaultJSONProvider):
    """Every JSON answer: orjson (fast), dates and times in ISO 8601 (UTC when stored without
    a zone; Flask's default would be an HTTP date), and <, > and & escaped so user text can
    never become markup where JSON is embedded."""

    ensure_ascii = False
    sort_keys = False
    compact = True

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        data = orjson.dumps(obj, default=_fallback, option=_OPTIONS)
        for unsafe, escaped in _HTML_UNSAFE:
            data = data.replace(unsafe, escaped)
        return data.decode("utf-8")


_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def _fallback(value: Any) -> Any:
    """What orjson does not know: decimals as numbers, sets as sorted lists, and anything
    that says how it is JSON (`__html__` objects as text)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def strict_loads(data: bytes | str) -> Any:
    """Parse JSON, refusing NaN and Infinity (which Python's json module accepts)."""
    return json.loads(data, parse_constant=_reject_constant)
