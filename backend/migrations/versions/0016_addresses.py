"""The address register: house addresses with a point and a normalised search key, indexed
for prefix search (PostgreSQL: text_pattern_ops so `LIKE 'key%'` uses it whatever the
database's collation; SQLite: a plain index, used by `GLOB 'key*'`). Stored public views
are dropped so that they are rendered again with `approximate`.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "address",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("housenumber", sa.String(20), nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("place", sa.String(100), nullable=False),
        sa.Column("search_key", sa.String(240), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_address_search_key ON address "
                   "(search_key text_pattern_ops)")
    else:
        op.create_index("ix_address_search_key", "address", ["search_key"])
    # The public views gained `approximate`: a missing view is rendered on its next read.
    op.execute("DELETE FROM report_public")


def downgrade() -> None:
    op.drop_index("ix_address_search_key", "address")
    op.drop_geospatial_table("address")
