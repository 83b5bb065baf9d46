"""Foundation: city configuration, districts, reports and their history.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from backend.models.base import UTCDateTime
from backend.models.report import BigId

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The status history is append-only: the database itself refuses to change or remove an event.
APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER report_event_no_update BEFORE UPDATE ON report_event
       BEGIN SELECT RAISE(ABORT, 'report_event is append-only'); END""",
    """CREATE TRIGGER report_event_no_delete BEFORE DELETE ON report_event
       BEGIN SELECT RAISE(ABORT, 'report_event is append-only'); END""",
]
APPEND_ONLY_POSTGRES = [
    """CREATE FUNCTION report_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'report_event is append-only'; END $$""",
    """CREATE TRIGGER report_event_append_only BEFORE UPDATE OR DELETE ON report_event
       FOR EACH ROW EXECUTE FUNCTION report_event_append_only()""",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        has_meta = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'geometry_columns'"
        ).first()
        if not has_meta:
            bind.exec_driver_sql("SELECT InitSpatialMetadata(0)")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "department",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name_de", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "category_group",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name_de", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("description_de", sa.Text, nullable=False),
        sa.Column("description_en", sa.Text, nullable=False),
        sa.Column("icon", sa.String(64)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "category",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("category_group.id"), nullable=False),
        sa.Column("name_de", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("description_de", sa.Text, nullable=False),
        sa.Column("description_en", sa.Text, nullable=False),
        sa.Column("default_priority", sa.String(16), nullable=False),
        sa.Column("icon", sa.String(64)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category_code", sa.String(64)),
        sa.Column("group_code", sa.String(64)),
        sa.Column("district_numbers", sa.JSON),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=False),
    )
    op.create_table(
        "city_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("config_version", sa.String(32), nullable=False),
        sa.Column("layer_version", sa.String(32), nullable=False),
        sa.Column("city_code", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_geospatial_table(
        "district",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "geom",
            Geometry("MULTIPOLYGON", srid=4326, spatial_index=True),
            nullable=False,
        ),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("attribution", sa.Text, nullable=False),
        sa.Column("imported_at", UTCDateTime, nullable=False),
    )
    op.create_geospatial_table(
        "report",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("public_id", sa.String(16), nullable=False, unique=True),
        sa.Column("tracking_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("category_id", sa.Integer, sa.ForeignKey("category.id"), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
        sa.Column("address", sa.Text),
        sa.Column(
            "district_id", sa.Integer, sa.ForeignKey("district.id", ondelete="SET NULL")
        ),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("reporter_email", sa.String(254)),
        sa.Column("reporter_locale", sa.String(8), nullable=False),
        sa.Column("idempotency_key", sa.String(128), unique=True),
        sa.Column("request_fingerprint", sa.String(64)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_report_status_created", "report", ["status", "created_at"])
    op.create_index("ix_report_category_id", "report", ["category_id"])
    op.create_index("ix_report_department_status", "report", ["department_id", "status"])
    op.create_table(
        "report_event",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id"), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("public_note", sa.Text),
        sa.Column("internal_note", sa.Text),
    )
    op.create_index("ix_report_event_report_id", "report_event", ["report_id"])
    statements = APPEND_ONLY_SQLITE if bind.dialect.name == "sqlite" else APPEND_ONLY_POSTGRES
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in ("report_event_no_update", "report_event_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {statement}")
    op.drop_table("report_event")
    if bind.dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS report_event_append_only()")
    op.drop_geospatial_table("report")
    op.drop_geospatial_table("district")
    for table in ("city_state", "routing_rule", "category", "category_group", "department"):
        op.drop_table(table)
