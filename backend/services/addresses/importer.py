"""Import an address register from a file: add and update (or, with `replace`, make the
register equal the file), in one transaction; a bad file changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from backend.models import Address
from backend.services.addresses.normalize import address_key
from backend.services.addresses.reader import AddressRecord, read_addresses
from backend.services.assets.importer import DEFAULT_MARGIN_M, SAME_PLACE, _city_area
from backend.services.sources import read_source

MAX_ADDRESS_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class AddressImport:
    """What an import did to the register."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def summary(self) -> str:
        """One line of counts, for the command line."""
        return (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed")


def _identity(street: str, housenumber: str, postcode: str) -> tuple[str, str]:
    return address_key(street, housenumber), postcode


def import_addresses(session: Session, source: str, *, replace: bool = False,
                     place: str = "", margin_m: float = DEFAULT_MARGIN_M) -> AddressImport:
    """Read `source` (file or http(s) URL), check every line, and store it; commit.

    An address is the same as a stored one when street, house number (by search key) and
    postcode agree: its point, spelling and place are updated. With `replace`, stored
    addresses the file does not list are removed. `place` labels rows that name none.
    """
    area = _city_area(session, margin_m)
    data = read_source(source, what="address file", max_bytes=MAX_ADDRESS_FILE_BYTES)
    records = read_addresses(data, source, area)
    try:
        result = _write(session, records, replace, place)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def _write(session: Session, records: list[AddressRecord], replace: bool,
           place: str) -> AddressImport:
    stored = {
        _identity(row.street, row.housenumber, row.postcode): row
        for row in session.execute(select(
            Address.id, Address.street, Address.housenumber, Address.postcode, Address.place,
            func.ST_X(Address.geom).label("lon"), func.ST_Y(Address.geom).label("lat")))
    }
    result = AddressImport()
    new: list[dict] = []
    changed: list[dict] = []
    listed: set[int] = set()
    for record in records:
        values = {"street": record.street, "housenumber": record.housenumber,
                  "postcode": record.postcode, "place": record.place or place,
                  "search_key": address_key(record.street, record.housenumber),
                  "lon": record.lon, "lat": record.lat}
        row = stored.get(_identity(record.street, record.housenumber, record.postcode))
        if row is None:
            new.append(values)
            continue
        listed.add(row.id)
        if (row.street, row.housenumber, row.place) != (record.street, record.housenumber,
                                                         values["place"]) \
                or abs(row.lon - record.lon) > SAME_PLACE or abs(row.lat - record.lat) > SAME_PLACE:
            changed.append({**values, "id": row.id})
        else:
            result.unchanged += 1
    if replace:
        gone = [row.id for row in stored.values() if row.id not in listed]
        for start in range(0, len(gone), 500):
            session.execute(delete(Address).where(Address.id.in_(gone[start:start + 500])))
        result.removed = len(gone)
    point = ("ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
             if session.get_bind().dialect.name == "postgresql" else "MakePoint(:lon, :lat, 4326)")
    if new:
        session.execute(text(
            "INSERT INTO address (street, housenumber, postcode, place, search_key, geom) "
            f"VALUES (:street, :housenumber, :postcode, :place, :search_key, {point})"), new)
    if changed:
        session.execute(text(
            "UPDATE address SET street = :street, housenumber = :housenumber, "
            f"place = :place, search_key = :search_key, geom = {point} WHERE id = :id"), changed)
    result.added, result.updated = len(new), len(changed)
    return result
