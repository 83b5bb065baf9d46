"""`maengelmelder addresses …`: import the address register the map-free path searches."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from backend.db.engine import make_engine


@click.group()
def addresses() -> None:
    """The address register (street, house number, postcode, point) for address search."""


@addresses.command("import")
@click.argument("source")
@click.option("--replace", is_flag=True,
              help="Remove stored addresses the file does not list (default: add and update).")
@click.option("--place", default=None,
              help="Place name for rows without one (default: the city's name).")
@click.option("--margin", "margin_m", type=float, default=1000.0, show_default=True,
              help="Metres beyond the districts' bounding box that points may lie.")
def addresses_import(source: str, replace: bool, place: str | None, margin_m: float) -> None:
    """Import SOURCE (CSV with street,housenumber,postcode,lat,lon — further columns are
    ignored — or GeoJSON points with addr:street/addr:housenumber/addr:postcode; file or
    http(s) URL): all lines or none."""
    from backend.city.config import load_city_config
    from backend.cli import _settings
    from backend.services.addresses.importer import import_addresses

    settings = _settings()
    if place is None:
        place = str(load_city_config(settings.city_config).city.get("name", ""))
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        result = import_addresses(session, source, replace=replace, place=place,
                                  margin_m=margin_m)
    click.echo(f"Addresses: {result.summary()}.")
