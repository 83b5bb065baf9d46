"""EXIF place and time of a photo, and haversine distances."""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pillow_heif
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from geo.photo_exif import (
    EARTH_RADIUS_M,
    NO_FACTS,
    PhotoFacts,
    PhotoPlace,
    distance_m,
    read_photo_facts,
)
from tests.shared_data import shared_data_dir

pillow_heif.register_heif_opener()

GPS, EXIF = 0x8825, 0x8769


def r(num: int, den: int = 1) -> IFDRational:
    """An EXIF rational."""
    return IFDRational(num, den)


def dms(deg: float, minutes: float, seconds: float) -> tuple[IFDRational, ...]:
    """Degrees, minutes, seconds as the three rationals cameras write."""
    return (
        r(round(deg * 1000), 1000),
        r(round(minutes * 1000), 1000),
        r(round(seconds * 1000), 1000),
    )


def exif_block(gps: dict[int, Any] | None = None, exif: dict[int, Any] | None = None) -> Image.Exif:
    """An Exif object that went through real EXIF bytes, as one read from a file would."""
    built = Image.Exif()
    if gps:
        built.get_ifd(GPS).update(gps)
    if exif:
        built.get_ifd(EXIF).update(exif)
    loaded = Image.Exif()
    loaded.load(built.tobytes())
    return loaded


def photos() -> Path:
    """The shared photo collection (skips when absent)."""
    return shared_data_dir() / "photos"


def facts_of(path: Path) -> PhotoFacts:
    """The facts read_photo_facts finds in a photo file (no pixels decoded)."""
    with Image.open(path) as img:
        return read_photo_facts(img.getexif())


# --- GPS --------------------------------------------------------------------------------------


def test_north_east_position_is_read_from_degrees_minutes_seconds() -> None:
    exif = exif_block(gps={1: "N", 2: dms(43, 28, 2.814), 3: "E", 4: dms(11, 53, 6.456)})
    place = read_photo_facts(exif).place
    assert place is not None
    assert place.lat == pytest.approx(43 + 28 / 60 + 2.814 / 3600)
    assert place.lon == pytest.approx(11 + 53 / 60 + 6.456 / 3600)


def test_south_and_west_references_make_coordinates_negative() -> None:
    exif = exif_block(gps={1: "S", 2: dms(33, 51, 0), 3: "W", 4: dms(70, 40, 0)})
    assert read_photo_facts(exif).place == PhotoPlace(lat=-(33 + 51 / 60), lon=-(70 + 40 / 60))


def test_decimal_degrees_in_the_first_rational_are_accepted() -> None:
    exif = exif_block(gps={1: "N", 2: (r(481374, 10000), r(0), r(0)), 3: "E", 4: dms(11.5, 0, 0)})
    assert read_photo_facts(exif).place == PhotoPlace(lat=48.1374, lon=11.5)


@pytest.mark.parametrize(
    "gps",
    [
        pytest.param({2: dms(48, 8, 0), 3: "E", 4: dms(11, 34, 0)}, id="missing-lat-ref"),
        pytest.param({1: "N", 2: dms(48, 8, 0), 4: dms(11, 34, 0)}, id="missing-lon-ref"),
        pytest.param({1: "X", 2: dms(48, 8, 0), 3: "E", 4: dms(11, 34, 0)}, id="bad-ref"),
        pytest.param({1: "N", 3: "E", 4: dms(11, 34, 0)}, id="missing-lat"),
        pytest.param(
            {1: "N", 2: (r(48, 0), r(8), r(0)), 3: "E", 4: dms(11, 34, 0)}, id="zero-denominator"
        ),
        pytest.param({1: "N", 2: dms(95, 0, 0), 3: "E", 4: dms(11, 34, 0)}, id="lat-over-90"),
        pytest.param({1: "N", 2: dms(48, 8, 0), 3: "E", 4: dms(181, 0, 0)}, id="lon-over-180"),
        pytest.param({1: "N", 2: dms(0, 0, 0), 3: "E", 4: dms(0, 0, 0)}, id="null-island"),
        pytest.param({1: "N", 2: dms(48, 75, 0), 3: "E", 4: dms(11, 34, 0)}, id="minutes-over-60"),
        pytest.param({1: "N", 2: (r(48), r(8)), 3: "E", 4: dms(11, 34, 0)}, id="two-rationals"),
    ],
)
def test_nonsense_gps_gives_no_place(gps: dict[int, Any]) -> None:
    assert read_photo_facts(exif_block(gps=gps)).place is None


def test_reference_letters_with_padding_are_understood() -> None:
    exif = Image.Exif()
    exif.get_ifd(GPS).update({1: b"N\x00", 2: dms(48, 8, 0), 3: "e ", 4: dms(11, 34, 0)})
    assert read_photo_facts(exif).place == PhotoPlace(lat=48 + 8 / 60, lon=11 + 34 / 60)


# --- time -------------------------------------------------------------------------------------


def test_taken_at_with_offset_is_timezone_aware() -> None:
    facts = read_photo_facts(exif_block(exif={0x9003: "2022:08:14 14:12:31", 0x9011: "+03:00"}))
    assert facts.taken_at == datetime(2022, 8, 14, 14, 12, 31, tzinfo=timezone(timedelta(hours=3)))
    assert facts.taken_at_offset == "+03:00"


def test_taken_at_without_offset_is_naive_local_camera_time() -> None:
    facts = read_photo_facts(exif_block(exif={0x9003: "2008:10:22 16:28:39"}))
    assert facts.taken_at == datetime(2008, 10, 22, 16, 28, 39)
    assert facts.taken_at.tzinfo is None
    assert facts.taken_at_offset is None


@pytest.mark.parametrize("offset", ["+25:00", "03:00", "+3:00", "", "garbage"])
def test_invalid_offset_falls_back_to_naive_time(offset: str) -> None:
    facts = read_photo_facts(exif_block(exif={0x9003: "2021:04:11 15:47:53", 0x9011: offset}))
    assert facts.taken_at == datetime(2021, 4, 11, 15, 47, 53)
    assert facts.taken_at_offset is None


@pytest.mark.parametrize("value", ["    :  :     :  :  ", "0000:00:00 00:00:00", "yesterday", ""])
def test_unset_or_garbled_date_gives_no_time(value: str) -> None:
    facts = read_photo_facts(exif_block(exif={0x9003: value, 0x9011: "+01:00"}))
    assert facts.taken_at is None
    assert facts.taken_at_offset is None


def test_empty_exif_gives_no_facts() -> None:
    assert read_photo_facts(Image.Exif()) == NO_FACTS


def test_truncated_exif_bytes_give_no_facts() -> None:
    exif = Image.Exif()
    with pytest.warns(UserWarning):  # Pillow reports the corruption, it must not raise
        exif.load(b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x88\x25\x00\x04\x00\x00\x00\x01")
    assert read_photo_facts(exif) == NO_FACTS


def test_exceptions_from_a_broken_block_are_contained() -> None:
    class Broken(Image.Exif):
        def get_ifd(self, tag: int) -> dict[int, Any]:
            raise struct.error("unpack requires a buffer of 12 bytes")

    assert read_photo_facts(Broken()) == NO_FACTS


def test_a_broken_gps_block_keeps_the_date() -> None:
    exif = Image.Exif()
    exif.get_ifd(GPS).update({1: "N", 2: "not a number", 3: "E", 4: object()})
    exif.get_ifd(EXIF).update({0x9003: "2014:09:21 16:00:56"})
    facts = read_photo_facts(exif)
    assert facts.place is None
    assert facts.taken_at == datetime(2014, 9, 21, 16, 0, 56)


# --- real photos ------------------------------------------------------------------------------


def test_nikon_photos_are_in_tuscany_with_capture_time() -> None:
    files = sorted((photos() / "gps").glob("*.jpg"))
    assert len(files) == 9
    for path in files:
        facts = facts_of(path)
        assert facts.place is not None, path.name
        assert 43.46 <= facts.place.lat <= 43.47, path.name
        assert 11.87 <= facts.place.lon <= 11.89, path.name
        assert facts.taken_at is not None and facts.taken_at.year == 2008, path.name


def test_nokia_photo_is_in_finland_at_plus_three_hours() -> None:
    facts = facts_of(photos() / "mobile" / "HMD_Nokia_8.3_5G.jpg")
    assert facts.place is not None
    assert 60 <= facts.place.lat <= 70 and 20 <= facts.place.lon <= 32
    assert facts.taken_at == datetime(2022, 8, 14, 11, 12, 31, tzinfo=UTC)
    assert facts.taken_at_offset == "+03:00"


def test_heic_gps_in_kansas_city_is_west_of_greenwich() -> None:
    facts = facts_of(photos() / "mobile" / "IMG_5195.HEIC")
    assert facts.place is not None
    assert 38.8 <= facts.place.lat <= 39.4
    assert -95.0 <= facts.place.lon <= -94.0
    assert facts.taken_at_offset == "-05:00"


def test_jolla_photo_has_time_but_no_place() -> None:
    facts = facts_of(photos() / "mobile" / "jolla.jpg")
    assert facts.place is None
    assert facts.taken_at == datetime(2014, 9, 21, 16, 0, 56)


def test_photos_with_broken_exif_do_not_raise() -> None:
    files = sorted((photos() / "invalid").glob("*"))
    assert files
    for path in files:
        facts = facts_of(path)
        assert facts.place is None, path.name


# --- distance ---------------------------------------------------------------------------------


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert distance_m(0, 0, 1, 0) == pytest.approx(math.pi * EARTH_RADIUS_M / 180)
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195.08, abs=0.01)


def test_distance_is_symmetric_and_zero_for_the_same_point() -> None:
    marienplatz, hauptbahnhof = (48.1374, 11.5755), (48.1402, 11.5600)
    there = distance_m(*marienplatz, *hauptbahnhof)
    assert there == pytest.approx(distance_m(*hauptbahnhof, *marienplatz))
    assert 1_100 < there < 1_250
    assert distance_m(*marienplatz, *marienplatz) == 0.0


def test_antipodes_are_half_a_circumference_apart() -> None:
    assert distance_m(10, 20, -10, -160) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert distance_m(0, 179.9999, 0, -179.9999) == pytest.approx(22.24, abs=0.01)
