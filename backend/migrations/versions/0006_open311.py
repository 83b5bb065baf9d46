"""Open311: API keys for clients; private reporter fields and attribute values on reports;
attribute definitions on categories.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime
from backend.models.report import BigId

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.add_column("report", sa.Column("reporter_name", sa.String(200)))
    op.add_column("report", sa.Column("reporter_phone", sa.String(50)))
    op.add_column("report", sa.Column("attributes", sa.JSON))
    op.add_column("report", sa.Column("api_key_id", sa.Integer))
    op.add_column("category", sa.Column("attributes", sa.JSON))
    op.add_column("category", sa.Column("keywords", sa.String(500)))
    op.add_column("department", sa.Column("open311", sa.JSON))
    op.create_table(
        "forwarding",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id"), nullable=False),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("remote_id", sa.String(100)),
        sa.Column("remote_status", sa.String(16)),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("synced_at", UTCDateTime),
        sa.UniqueConstraint("report_id", "department_id"),
    )
    op.create_index("ix_forwarding_state_next", "forwarding", ["state", "next_attempt_at"])
    # Open311 lists requests by creation time, newest first, across all statuses.
    op.create_index("ix_report_created_at", "report", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_report_created_at", "report")
    op.drop_table("forwarding")
    op.execute("ALTER TABLE department DROP COLUMN open311")
    for table, column in (("category", "keywords"), ("category", "attributes"),
                          ("report", "api_key_id"), ("report", "attributes"),
                          ("report", "reporter_phone"), ("report", "reporter_name")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("api_key")
