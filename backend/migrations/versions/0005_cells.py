"""Aggregation cells on reports: metric coordinates and the H3 cell; the city's metric CRS.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

The columns are filled at intake; rows that predate them are filled by `init` (it knows the
city's metric CRS, which a migration does not).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("report", sa.Column("x_m", sa.Float))
    op.add_column("report", sa.Column("y_m", sa.Float))
    op.add_column("report", sa.Column("h3_r10", sa.BigInteger))
    op.add_column("city_state", sa.Column("metric_crs", sa.String(32)))


def downgrade() -> None:
    for table, column in (("city_state", "metric_crs"), ("report", "h3_r10"),
                          ("report", "y_m"), ("report", "x_m")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
