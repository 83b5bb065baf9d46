"""Open311: API keys for clients; private reporter fields and attribute values on reports;
attribute definitions on categories.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

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


def downgrade() -> None:
    for table, column in (("category", "keywords"), ("category", "attributes"),
                          ("report", "api_key_id"), ("report", "attributes"),
                          ("report", "reporter_phone"), ("report", "reporter_name")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("api_key")
