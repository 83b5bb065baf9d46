"""Facts a photo's EXIF block tells about where and when it was taken, and distances on Earth."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from PIL import Image

# Tag numbers from the EXIF 2.32 specification (CIPA DC-008).
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
GPS_LATITUDE_REF = 0x0001
GPS_LATITUDE = 0x0002
GPS_LONGITUDE_REF = 0x0003
GPS_LONGITUDE = 0x0004
DATE_TIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011

T = TypeVar("T")

# The IUGG mean Earth radius: the usual choice for a spherical (haversine) distance.
EARTH_RADIUS_M = 6_371_008.8

# EXIF writes offsets as "+HH:MM"; real zones span -12:00..+14:00.
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class PhotoPlace:
    """Where a photo was taken, in WGS84 degrees."""

    lat: float
    lon: float


@dataclass(frozen=True)
class PhotoFacts:
    """What a photo's EXIF says about place and time; every field is None when unknown.

    `taken_at` is timezone-aware when the camera wrote OffsetTimeOriginal (then
    `taken_at_offset` holds it, e.g. "+03:00"). Without an offset `taken_at` is naive: local
    camera time, zone unknown. It must not be read as UTC.
    """

    place: PhotoPlace | None
    taken_at: datetime | None
    taken_at_offset: str | None = None


NO_FACTS = PhotoFacts(place=None, taken_at=None, taken_at_offset=None)


def read_photo_facts(exif: Image.Exif) -> PhotoFacts:
    """Read GPS position and capture time from an EXIF block; never raises on broken EXIF."""
    # Each half is guarded separately: a broken GPS block must not cost us a good date.
    place = _guarded(lambda: _read_place(_sub_ifd(exif, GPS_IFD)))
    taken_at, offset = _guarded(lambda: _read_taken_at(_sub_ifd(exif, EXIF_IFD))) or (None, None)
    return PhotoFacts(place=place, taken_at=taken_at, taken_at_offset=offset)


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance in metres between two WGS84 points (haversine, spherical Earth)."""
    phi1, phi2 = math.radians(a_lat), math.radians(b_lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b_lon - a_lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    # Rounding can push h a hair above 1 for antipodal points; asin would then fail.
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def _guarded(read: Callable[[], T]) -> T | None:
    # EXIF comes from arbitrary uploads: Pillow raises a wide, undocumented range of errors
    # (struct.error, SyntaxError, KeyError, ...) on damaged blocks. Unknown is the right answer.
    try:
        return read()
    except Exception:
        return None


def _sub_ifd(exif: Image.Exif, tag: int) -> Mapping[int, Any]:
    ifd = exif.get_ifd(tag)
    return ifd if isinstance(ifd, Mapping) else {}


def _read_place(gps: Mapping[int, Any]) -> PhotoPlace | None:
    lat_ref = _ref(gps.get(GPS_LATITUDE_REF), "NS")
    lon_ref = _ref(gps.get(GPS_LONGITUDE_REF), "EW")
    lat = _degrees(gps.get(GPS_LATITUDE))
    lon = _degrees(gps.get(GPS_LONGITUDE))
    # Without the reference letter the hemisphere is a guess; a wrong guess is worse than none.
    if lat_ref is None or lon_ref is None or lat is None or lon is None:
        return None
    if lat_ref == "S":
        lat = -lat
    if lon_ref == "W":
        lon = -lon
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    # 0/0 ("null island") is what firmware writes when it has no fix, not a real position.
    if lat == 0.0 and lon == 0.0:
        return None
    return PhotoPlace(lat=lat, lon=lon)


def _ref(value: Any, allowed: str) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    letter = value.strip("\x00 ").upper()
    return letter if len(letter) == 1 and letter in allowed else None


def _degrees(value: Any) -> float | None:
    # GPSLatitude/GPSLongitude are three rationals: degrees, minutes, seconds.
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    parts = [_rational(v) for v in value]
    if any(p is None or p < 0 for p in parts):
        return None
    deg, minutes, seconds = parts  # type: ignore[misc]
    # Minutes or seconds past 60 mean the writer mixed up the layout; don't guess.
    if minutes > 60 or seconds > 60:
        return None
    return deg + minutes / 60 + seconds / 3600


def _rational(value: Any) -> float | None:
    denominator = getattr(value, "denominator", None)
    if denominator is not None and denominator == 0:
        # Pillow turns x/0 into nan (or inf); either way the camera had no value.
        return None
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        if not isinstance(num, int | float) or not isinstance(den, int | float) or den == 0:
            return None
        value = num / den
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _read_taken_at(exif_ifd: Mapping[int, Any]) -> tuple[datetime | None, str | None]:
    taken = _text(exif_ifd.get(DATE_TIME_ORIGINAL))
    if taken is None:
        return None, None
    try:
        # "YYYY:MM:DD HH:MM:SS"; blanks or "0000:00:00 00:00:00" mean "not set" and fail here.
        local = datetime.strptime(taken[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, None
    offset = _text(exif_ifd.get(OFFSET_TIME_ORIGINAL))
    zone = _zone(offset) if offset is not None else None
    if zone is None:
        return local, None
    return local.replace(tzinfo=zone), offset


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip("\x00 ")
    return text or None


def _zone(offset: str) -> timezone | None:
    match = _OFFSET_RE.match(offset)
    if match is None:
        return None
    sign, hours, minutes = match[1], int(match[2]), int(match[3])
    if hours > 14 or minutes >= 60:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)
