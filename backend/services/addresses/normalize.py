"""Search keys for addresses: what a citizen types and what the register holds meet here.

Both sides go through the same folding, so "Leopoldstr. 12", "leopoldstrasse 12" and
"Leopoldstraße 12" give one key, and so do "Münchner", "Muenchner" and "Munchner".
"""

from __future__ import annotations

import re
import unicodedata

# Ends of a partly typed "straße"/"strasse": folded to "str" so a prefix still matches.
_PARTIAL_STREET = re.compile(r"stra(s{1,2}e?)?$")
_STREET_WORD = re.compile(r"(strasse|str)\b")
_NUMBER = re.compile(r"^(?P<street>.*?)[\s,]*(?P<number>\d+\s*[a-z]?)$")


def fold(text: str) -> str:
    """Lower-case ASCII letters, digits and single spaces: ß → ss, umlauts and their
    ae/oe/ue spellings → a/o/u, other accents dropped, punctuation → space."""
    text = text.lower().replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"(?<=[a-z])(ae|oe|ue)", lambda m: m.group(1)[0], text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()


def street_key(street: str) -> str:
    """A street's key: folded, "strasse"/"str" as "str", without spaces."""
    return _STREET_WORD.sub("str", fold(street)).replace(" ", "")


def number_key(housenumber: str) -> str:
    """A house number's key: folded, without spaces ("12 a" → "12a")."""
    return fold(housenumber).replace(" ", "")


def address_key(street: str, housenumber: str) -> str:
    """The stored key of an address: street key, a space, house number key."""
    return f"{street_key(street)} {number_key(housenumber)}".strip()


def query_key(query: str) -> tuple[str, bool]:
    """The prefix a typed query searches for, and whether it named a house number.

    "Leopoldstra" searches "leopoldstr"; "Marienplatz 1" searches "marienplatz 1" (house
    numbers 1, 1a, 10, … match, the caller ranks the exact one first).
    """
    folded = fold(query)
    found = _NUMBER.match(folded)
    if found and found.group("street"):
        street = _partial(found.group("street"))
        return f"{street_key(street)} {number_key(found.group('number'))}", True
    return street_key(_partial(folded)), False


def _partial(street: str) -> str:
    return _PARTIAL_STREET.sub("str", street)
