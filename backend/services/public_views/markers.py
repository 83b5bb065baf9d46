"""Markers in pre-rendered fragments, and their expansion for one language and base URL.

A fragment is compact, HTML-safe JSON (backend.jsonout.safe_json), in which a raw '<' can
never come from data (it is always escaped as \\u003c). Markers are the only raw '<...>' in
it: `<b>` inside a string is the base URL; `<cc12>` and friends are whole JSON values that
belong to the city's configuration (a category's name in the asked language, a district's
number). Renaming a category or moving the site therefore changes no stored fragment.

While rendering, a marker is first written as a sentinel string that user text cannot contain
(private-use characters around a random per-process nonce), then swapped for the marker.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from backend.jsonout import safe_json

if TYPE_CHECKING:
    from backend.services.city_cache import CitySnapshot

_NONCE = secrets.token_hex(8)
MARKER = re.compile(rb"<([a-z]{1,3})(\d*)>")
BASE = f"\ue000{_NONCE}\ue002"  # put in front of a path inside a string: "<b>/media/..."
_BASE = BASE.encode()


def value(kind: str, ident: int) -> str:
    """A sentinel standing for a whole JSON value (e.g. kind "cn": a category's name)."""
    return f"\ue000{_NONCE}{kind}{ident}\ue001"


_OPEN = f'"\ue000{_NONCE}'.encode()
_CLOSE = '\ue001"'.encode()


def finish(rendered: bytes) -> bytes:
    """Swap the sentinels of freshly dumped JSON for markers (a split, not a regex: this runs
    for every view of every report rendered)."""
    parts = rendered.replace(_BASE, b"<b>").split(_OPEN)
    for i in range(1, len(parts)):
        name, _, rest = parts[i].partition(_CLOSE)
        parts[i] = b"<" + name + b">" + rest
    return b"".join(parts)


# Adjacent markers of a map feature, folded into one (fewer substitutions per read).
_CATEGORY_RUN = re.compile(rb'"category":<cc(\d+)>,"category_name":<cn\1>,"group":<cg\1>')


def fold(feature: bytes) -> bytes:
    """A feature's three category markers as one `<fc..>`."""
    return _CATEGORY_RUN.sub(rb"<fc\1>", feature)


class Expansion:
    """Marker → bytes for one snapshot of the city, one language and one base URL."""

    def __init__(self, snapshot: CitySnapshot, locale: str, base_url: str) -> None:
        from backend.api.schemas import CategoryRefSchema, DistrictRefSchema, NamedSchema

        self.base = safe_json(base_url)[1:-1]
        table: dict[bytes, bytes] = {b"<b>": self.base}
        category_ref, district_ref, named = CategoryRefSchema(), DistrictRefSchema(), NamedSchema()
        for c in snapshot.categories_by_id.values():
            code, name, group = safe_json(c.code), safe_json(c.name.get(locale)), safe_json(
                c.group.code)
            table[b"<cc%d>" % c.id], table[b"<cn%d>" % c.id] = code, name
            table[b"<cg%d>" % c.id] = group
            table[b"<fc%d>" % c.id] = (b'"category":' + code + b',"category_name":' + name
                                       + b',"group":' + group)
            table[b"<cd%d>" % c.id] = safe_json(category_ref.dump({
                "code": c.code, "name": c.name.get(locale),
                "group": {"code": c.group.code, "name": c.group.name.get(locale)}}))
        for d in snapshot.departments_by_id.values():
            table[b"<an%d>" % d.id] = safe_json(d.name.get(locale))
            table[b"<ac%d>" % d.id] = safe_json(d.code)
            table[b"<pd%d>" % d.id] = safe_json(named.dump({"code": d.code,
                                                             "name": d.name.get(locale)}))
        for d in snapshot.districts_by_id.values():
            table[b"<dn%d>" % d.id] = safe_json(str(d.number))
            table[b"<dd%d>" % d.id] = safe_json(district_ref.dump(
                {"number": d.number, "name": d.name}))
            table[b"<xn%d>" % d.id] = safe_json(d.number)
            table[b"<xm%d>" % d.id] = safe_json(d.name)
        self.table = table
        # A district that no longer exists reads as none, as it would when rendered live.
        get = table.get
        self._replace: Callable[[re.Match[bytes]], bytes] = lambda m: get(m.group(), b"null")

    def __call__(self, fragment: bytes) -> bytes:
        """The fragment (or a concatenation of fragments) with every marker expanded (the
        base URL, the most frequent one, in a single pass of its own)."""
        return MARKER.sub(self._replace, fragment.replace(b"<b>", self.base))
