"""`maengelmelder assets …`: import and list asset registers (traffic signals, sign posts)."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from backend.db.engine import make_engine


@click.group()
def assets() -> None:
    """Asset registers (traffic signals, sign posts, …) that reports can point at."""


@assets.command("import")
@click.argument("source")
@click.option("--layer", required=True, help="Code of the layer to create or update.")
@click.option("--type", "asset_type", required=True,
              help="Asset type code from the city configuration, e.g. traffic_signal.")
@click.option("--id-field", default=None,
              help="Property/column/tag with the stable id (default: id, osm_id, @id; "
                   "OpenStreetMap JSON: node/<id>).")
@click.option("--name-field", default=None, help="Property with the name (default: name).")
@click.option("--number-field", default=None,
              help="Property with the number (default: ref:lsa, ref, number, nummer).")
@click.option("--crs", default=None,
              help="CRS of the coordinates, e.g. EPSG:25832 (default: the GeoJSON crs member, "
                   "else lon/lat).")
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv", "osm"]), default=None,
              help="File format (default: detected).")
@click.option("--licence", default=None, help="Licence of the data (stored with the layer).")
@click.option("--attribution", default=None, help="Attribution text to show with the layer.")
@click.option("--margin", "margin_m", type=float, default=1000.0, show_default=True,
              help="Metres beyond the districts' bounding box that points may lie.")
def assets_import(source: str, layer: str, asset_type: str, id_field: str | None,
                  name_field: str | None, number_field: str | None, crs: str | None,
                  fmt: str | None, licence: str | None, attribution: str | None,
                  margin_m: float) -> None:
    """Import SOURCE (GeoJSON, CSV with lon/lat or x/y, OpenStreetMap JSON; file or http(s)
    URL) into a layer: new assets are added, changed ones updated, missing ones retired, all
    or nothing."""
    from backend.cli import _settings
    from backend.services.assets.importer import LayerSpec, import_assets
    from backend.services.assets.readers import ReadOptions

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        result = import_assets(
            session, source, LayerSpec(layer, asset_type, licence, attribution),
            ReadOptions(id_field=id_field, name_field=name_field, number_field=number_field,
                        crs=crs, format=fmt),
            margin_m=margin_m,
        )
    click.echo(f"Layer {layer}: {result.summary()}.")


@assets.command("list")
def assets_list() -> None:
    """List the asset layers with their counts, source, licence and attribution."""
    from backend.cli import _settings
    from backend.services.assets.queries import list_layers

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        layers = list_layers(session)
    if not layers:
        click.echo("No asset layers.")
    for info in layers:
        click.echo(f"{info.code} ({info.asset_type}): {info.active_count} active, "
                   f"{info.retired_count} retired, imported {info.imported_at:%Y-%m-%d %H:%M}")
        click.echo(f"    source: {info.source}")
        click.echo(f"    licence: {info.licence or '(none given)'}")
        click.echo(f"    attribution: {info.attribution or '(none given)'}")
