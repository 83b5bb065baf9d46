"""Failing destinations: a circuit breaker per destination; forwardings and notifications
record their destination, when they failed, and (forwardings) when a worker claimed them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "destination_circuit",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("opened_at", UTCDateTime),
        sa.Column("next_probe_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    # Nullable columns without defaults: a plain ADD COLUMN on both backends.
    op.add_column("forwarding", sa.Column("destination", sa.String(300)))
    op.add_column("forwarding", sa.Column("claimed_at", UTCDateTime))
    op.add_column("forwarding", sa.Column("failed_at", UTCDateTime))
    op.add_column("notification", sa.Column("destination", sa.String(300)))
    op.add_column("notification", sa.Column("failed_at", UTCDateTime))
    op.create_index("ix_forwarding_destination_state", "forwarding", ["destination", "state"])
    op.create_index("ix_notification_destination_status", "notification",
                    ["destination", "status"])


def downgrade() -> None:
    op.drop_index("ix_notification_destination_status", "notification")
    op.drop_index("ix_forwarding_destination_state", "forwarding")
    for table, column in (("notification", "failed_at"), ("notification", "destination"),
                          ("forwarding", "failed_at"), ("forwarding", "claimed_at"),
                          ("forwarding", "destination")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("destination_circuit")
