"""Prefix search in the register on both backends: spellings, house numbers, streets."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from backend.services.addresses.importer import import_addresses
from backend.services.addresses.places import search_places
from backend.services.addresses.search import search_register
from backend.services.city_cache import city_snapshot
from tests.backend.services.addresses.helpers import SAMPLE, empty_register

pytestmark = pytest.mark.usefixtures("empty_register")
__all__ = ["empty_register"]


@pytest.fixture
def register(session: Session) -> Session:
    import_addresses(session, str(SAMPLE), place="München")
    return session


@pytest.mark.parametrize("typed", ["Leopoldstraße 12", "leopoldstr. 12", "LEOPOLDSTRASSE 12"])
def test_any_spelling_finds_the_house_with_the_exact_number_first(register: Session,
                                                                  typed: str) -> None:
    found = search_register(register, typed, 5)

    assert [p.label for p in found] == ["Leopoldstraße 12, 80802 München",
                                        "Leopoldstraße 12a, 80802 München"]
    assert found[0].kind == "address" and found[0].source == "register"


def test_a_street_without_number_gives_the_street_then_its_houses(register: Session) -> None:
    found = search_register(register, "Leopoldstra", 10)

    assert [(p.kind, p.label) for p in found] == [
        ("street", "Leopoldstraße, 80802 München"),
        ("address", "Leopoldstraße 1, 80802 München"),
        ("address", "Leopoldstraße 12, 80802 München"),
        ("address", "Leopoldstraße 12a, 80802 München"),
    ]


def test_umlauts_typed_as_ae_oe_ue_match(register: Session) -> None:
    found = search_register(register, "Muenchner Freiheit 1", 3)

    assert found[0].label == "Münchner Freiheit 1, 80802 München"


def test_a_partly_typed_street_with_a_number_finds_that_house(register: Session) -> None:
    found = search_register(register, "Leopoldstr 12", 5) == search_register(
        register, "Leopold 12", 5)

    assert found
    assert [p.label for p in search_register(register, "Marienpl 8", 5)] == \
        ["Marienplatz 8, 80331 München"]


def test_nothing_matching_finds_nothing(register: Session) -> None:
    assert search_register(register, "Unter den Linden", 5) == []


def test_places_carry_their_district(register: Session) -> None:
    found = search_places(register, city_snapshot(register), "Marienplatz 1", 1)

    assert found[0].place.label == "Marienplatz 1, 80331 München"
    assert (found[0].district.number, found[0].district.name) == ("01", "Altstadt-Lehel")
