"""The optional geocoder against a real tiny Photon- and Nominatim-compatible server: what
it is sent (and not sent), the city's box, the cache, and failures that fall back to the
register and are logged once without the query."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from backend.services.addresses.geocoder import Geocoder, GeocoderConfig, GeocoderFailed
from backend.services.addresses.importer import import_addresses
from backend.services.addresses.places import search_places
from backend.services.city_cache import city_snapshot
from tests.backend.services.addresses.helpers import SAMPLE, empty_register
from tests.peers.geocoder import GeocoderPeer, KnownPlace

__all__ = ["empty_register"]
MUNICH_BOX = (11.36, 48.06, 11.72, 48.25)
PLACES = [
    KnownPlace("Tal", "12", "80331", "München", 11.5790, 48.1360),
    KnownPlace("Tal", "", "80331", "München", 11.5785, 48.1362, type="street"),
    # Same name, other city: a careless geocoder answers it; the server must drop it.
    KnownPlace("Tal", "12", "85354", "Freising", 11.7480, 48.4010),
    KnownPlace("Marienplatz", "1", "80331", "München", 11.57551, 48.13741),
]


@pytest.fixture(params=["photon", "nominatim"])
def peer(request: pytest.FixtureRequest) -> Iterator[tuple[GeocoderPeer, str]]:
    with GeocoderPeer(PLACES) as server:
        yield server, request.param


def _geocoder(peer: GeocoderPeer, kind: str, **kw: float) -> Geocoder:
    return Geocoder(GeocoderConfig(peer.url, kind, contact="http://mm.test", **kw))


def test_the_geocoder_gets_the_text_and_the_city_box_and_nothing_of_the_citizen(
        peer: tuple[GeocoderPeer, str]) -> None:
    server, kind = peer

    found = _geocoder(server, kind).search("Tal 12", 5, MUNICH_BOX)

    assert [(p.label, p.kind, p.source) for p in found] == \
        [("Tal 12, 80331 München", "address", "geocoder")]  # Freising is outside the box
    [sent] = server.requests
    assert sent.params["q"] == "Tal 12"
    if kind == "photon":
        assert sent.path == "/api" and sent.params["bbox"] == "11.36,48.06,11.72,48.25"
    else:
        assert sent.path == "/search" and sent.params["bounded"] == "1"
        assert sent.params["viewbox"] == "11.36,48.25,11.72,48.06"
    assert sent.headers["user-agent"] == "Maengelmelder address search (http://mm.test)"
    assert not {"cookie", "x-forwarded-for", "forwarded", "referer"} & set(sent.headers)


def test_answers_are_cached_and_the_geocoders_cookie_never_sent_back(
        peer: tuple[GeocoderPeer, str]) -> None:
    server, kind = peer
    geocoder = _geocoder(server, kind, cache_size=1)

    geocoder.search("Tal 12", 5, MUNICH_BOX)
    geocoder.search("tal 12", 5, MUNICH_BOX)  # the same after folding: from the cache
    geocoder.search("Marienplatz", 5, MUNICH_BOX)  # pushes "tal 12" out (size 1)
    geocoder.search("Tal 12", 5, MUNICH_BOX)

    assert [r.params["q"] for r in server.requests] == ["Tal 12", "Marienplatz", "Tal 12"]
    assert all("cookie" not in r.headers for r in server.requests)


def test_a_slow_geocoder_times_out(peer: tuple[GeocoderPeer, str]) -> None:
    server, kind = peer
    server.delay_s = 1.0

    with pytest.raises(GeocoderFailed, match="Timeout"):
        _geocoder(server, kind, timeout_s=0.2).search("Tal 12", 5, MUNICH_BOX)


def test_a_failing_geocoder_leaves_the_register_and_is_logged_once_without_the_query(
        empty_register: str, peer: tuple[GeocoderPeer, str], session: Session,
        caplog: pytest.LogCaptureFixture) -> None:
    server, kind = peer
    import_addresses(session, str(SAMPLE), place="München")
    geocoder = _geocoder(server, kind)
    snap = city_snapshot(session)
    server.status = 503

    with caplog.at_level(logging.INFO, logger="backend.services.addresses.geocoder"):
        first = search_places(session, snap, "Marienplatz", 8, geocoder)
        search_places(session, snap, "Leopoldstr", 8, geocoder)
        server.status = 200
        back = search_places(session, snap, "Tal 12", 8, geocoder)

    assert [f.place.source for f in first] == ["register"] * 3
    assert [f.place.label for f in back] == ["Tal 12, 80331 München"]
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "failed" in m]) == 1
    assert f"geocoder {kind} failed (HTTP 503)" in messages[0]
    assert not any("Marienplatz" in m or "Leopold" in m or "Tal" in m for m in messages)


def test_register_places_come_first_and_the_geocoders_copy_is_dropped(
        empty_register: str, peer: tuple[GeocoderPeer, str], session: Session) -> None:
    server, kind = peer
    import_addresses(session, str(SAMPLE), place="München")

    found = search_places(session, city_snapshot(session), "Marienplatz 1", 8,
                          _geocoder(server, kind))

    assert [(f.place.label, f.place.source) for f in found] == \
        [("Marienplatz 1, 80331 München", "register")]
