"""The address register: house addresses with a point, searched by a normalised key."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base


class Address(Base):
    """One house address (street, number, postcode) at a point, imported from a file."""

    __tablename__ = "address"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street: Mapped[str] = mapped_column(String(200))
    housenumber: Mapped[str] = mapped_column(String(20))
    postcode: Mapped[str] = mapped_column(String(10), default="")
    # What the place is called after the postcode ("München"); shown in labels.
    place: Mapped[str] = mapped_column(String(100), default="")
    # `backend.services.addresses.normalize.address_key`: lower-case ASCII, "straße", "str."
    # and "strasse" folded to "str", spaces dropped from the street; prefix-searched.
    search_key: Mapped[str] = mapped_column(String(240))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)

    __table_args__ = (Index("ix_address_search_key", "search_key"),)
