"""Search keys: spellings a citizen types meet the register's."""

from __future__ import annotations

import pytest

from backend.services.addresses.normalize import address_key, query_key


@pytest.mark.parametrize(("typed", "key"), [
    ("Leopoldstraße 12", ("leopoldstr 12", True)),
    ("leopoldstr. 12", ("leopoldstr 12", True)),
    ("LEOPOLDSTRASSE 12", ("leopoldstr 12", True)),
    ("Leopoldstra", ("leopoldstr", False)),
    ("Leopoldstras", ("leopoldstr", False)),
    ("Münchner Freiheit", ("munchnerfreiheit", False)),
    ("Muenchner Frei", ("munchnerfrei", False)),
    ("Rosenheimer Str. 5 a", ("rosenheimerstr 5a", True)),
    ("Sendlinger-Tor-Platz 1", ("sendlingertorplatz 1", True)),
    ("  ", ("", False)),
])
def test_typed_spellings_fold_to_one_key(typed: str, key: tuple[str, bool]) -> None:
    assert query_key(typed) == key


def test_the_register_key_matches_the_typed_one() -> None:
    assert address_key("Leopoldstraße", "12") == query_key("leopoldstr 12")[0]
    assert address_key("Münchner Freiheit", "1").startswith(query_key("muenchner fr")[0])
