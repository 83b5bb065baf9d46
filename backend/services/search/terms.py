"""What a staff member typed into the search field, sorted into what it can be."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.tokens import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH

MAX_WORDS = 8
MIN_PREFIX = 2  # one letter would match half the city
_TRACK = re.compile(r"/track/([A-Za-z0-9_-]{16,128})")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_WORD = re.compile(r"\w+", re.UNICODE)
_PUBLIC_ID = re.compile(f"[{re.escape(PUBLIC_ID_ALPHABET)}]{{{PUBLIC_ID_LENGTH}}}")


@dataclass(frozen=True)
class Terms:
    """The query, understood: at most one of the exact kinds, and the words."""

    text: str
    public_id: str | None = None  # a report number (it is also tried as words)
    token: str | None = None  # from a tracking link, or a pasted token
    email: str | None = None
    words: tuple[str, ...] = ()


def parse(text: str) -> Terms:
    """Sort `text` into report number, tracking token, e-mail address or words."""
    text = text.strip()
    link = _TRACK.search(text)
    if link:
        return Terms(text, token=link.group(1))
    if _EMAIL.fullmatch(text):
        return Terms(text, email=text.lower())
    if _TOKEN.fullmatch(text):
        return Terms(text, token=text)
    words = tuple(w.lower() for w in _WORD.findall(text) if len(w) >= MIN_PREFIX)[:MAX_WORDS]
    candidate = text.lower().lstrip("#")
    public_id = candidate if _PUBLIC_ID.fullmatch(candidate) else None
    return Terms(text, public_id=public_id, words=words)
