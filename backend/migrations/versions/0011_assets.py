"""Asset registers: asset types (from the city configuration), imported layers and their
assets (points with a stable external id), and the asset a report points at.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from backend.models.base import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "asset_type",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name_de", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("group_codes", sa.JSON, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "asset_layer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("asset_type_id", sa.Integer, sa.ForeignKey("asset_type.id"), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("licence", sa.Text, nullable=False),
        sa.Column("attribution", sa.Text, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        sa.Column("active_count", sa.Integer, nullable=False),
        sa.Column("retired_count", sa.Integer, nullable=False),
    )
    # create_geospatial_table registers the geometry column and builds its spatial index on
    # both backends (SpatiaLite: RecoverGeometryColumn + the R*Tree idx_asset_geom; PostGIS:
    # a GiST index).
    op.create_geospatial_table(
        "asset",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("asset_layer.id"), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300)),
        sa.Column("number", sa.String(100)),
        sa.Column("number_key", sa.String(100)),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
        sa.Column("properties", sa.JSON),
        sa.Column("retired_at", UTCDateTime),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("layer_id", "external_id", name="uq_asset_layer_external_id"),
    )
    op.create_index("ix_asset_number_key", "asset", ["number_key"])
    # Plain ALTER TABLE (no batch rebuild): SpatiaLite keeps the report's geometry registration.
    if bind.dialect.name == "sqlite":
        # SQLite cannot add a foreign key to an existing table; the service checks it there.
        op.add_column("report", sa.Column("asset_id", sa.Integer))
    else:
        op.add_column("report", sa.Column("asset_id", BigId, sa.ForeignKey(
            "asset.id", name="fk_report_asset_id_asset")))
    op.create_index("ix_report_asset_id", "report", ["asset_id"])


def downgrade() -> None:
    op.drop_index("ix_report_asset_id", "report")
    op.execute("ALTER TABLE report DROP COLUMN asset_id")  # drops the foreign key with it
    op.drop_index("ix_asset_number_key", "asset")
    op.drop_geospatial_table("asset")
    op.drop_table("asset_layer")
    op.drop_table("asset_type")
