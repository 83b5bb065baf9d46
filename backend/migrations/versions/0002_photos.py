"""Photos and their derivatives; review flags on reports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime
from backend.models.report import BigId

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends: a batch (copy-and-rename) rebuild would break
    # SpatiaLite's geometry registration of the report table.
    op.add_column("report", sa.Column("review_flags", sa.JSON))
    op.create_table(
        "photo",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("public_id", sa.String(16), nullable=False, unique=True),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("original_sha256", sa.String(64), nullable=False),
        sa.Column("original_key", sa.Text),
        sa.Column("original_size", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("exif_lat", sa.Float),
        sa.Column("exif_lon", sa.Float),
        sa.Column("taken_at", sa.String(40)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("report_id", "original_sha256"),
    )
    op.create_index("ix_photo_report_id", "photo", ["report_id"])
    op.create_index("ix_photo_status_updated", "photo", ["status", "updated_at"])
    op.create_table(
        "photo_derivative",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("photo_id", BigId, sa.ForeignKey("photo.id"), nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.UniqueConstraint("photo_id", "name", "format"),
    )
    op.create_index("ix_photo_derivative_photo_id", "photo_derivative", ["photo_id"])
    op.create_index("ix_photo_derivative_sha256", "photo_derivative", ["sha256"])


def downgrade() -> None:
    op.drop_table("photo_derivative")
    op.drop_table("photo")
    op.execute("ALTER TABLE report DROP COLUMN review_flags")
