"""JSON bytes as every answer carries them: orjson (fast), dates and times in ISO 8601 (UTC
when stored without a zone), and <, > and & escaped so user text can never become markup where
JSON is embedded. The Flask JSON provider and the pre-rendered public views both use this, so a
fragment rendered at write time is byte for byte what a handler would have answered."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

_HTML_UNSAFE = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))
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


def safe_json(obj: Any) -> bytes:
    """`obj` as compact JSON with <, > and & escaped (so a raw '<' never appears in it)."""
    data = orjson.dumps(obj, default=_fallback, option=_OPTIONS)
    for unsafe, escaped in _HTML_UNSAFE:
        if unsafe in data:
            data = data.replace(unsafe, escaped)
    return data
