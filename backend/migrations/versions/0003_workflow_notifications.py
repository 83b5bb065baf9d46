"""Workflow columns on reports; recipients, push subscriptions, the notification outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime
from backend.models.report import BigId

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

REPORT_COLUMNS = ("tracking_salt", "reject_reason", "duplicate_of_id", "resolved_at")


def upgrade() -> None:
    # Plain ALTER TABLE (no batch rebuild): SpatiaLite keeps its geometry registration.
    op.add_column("report", sa.Column("tracking_salt", sa.String(32)))
    op.add_column("report", sa.Column("reject_reason", sa.String(32)))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite can neither add a foreign key to a table nor drop a column that has one; the
        # service checks the reference there.
        op.add_column("report", sa.Column("duplicate_of_id", sa.Integer))
    else:
        op.add_column("report", sa.Column("duplicate_of_id", BigId, sa.ForeignKey(
            "report.id", name="fk_report_duplicate_of")))
    op.add_column("report", sa.Column("resolved_at", UTCDateTime))
    op.create_table(
        "recipient",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("email_unsubscribed_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_recipient_report_id", "recipient", ["report_id"])
    op.create_table(
        "push_subscription",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("recipient_id", BigId, sa.ForeignKey("recipient.id"), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("removed_at", UTCDateTime),
        sa.UniqueConstraint("recipient_id", "endpoint"),
    )
    op.create_index("ix_push_subscription_recipient_id", "push_subscription", ["recipient_id"])
    op.create_table(
        "notification",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id"), nullable=False),
        sa.Column("event_id", BigId, sa.ForeignKey("report_event.id"), nullable=False),
        sa.Column("recipient_id", BigId, sa.ForeignKey("recipient.id"), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("push_subscription_id", BigId, sa.ForeignKey("push_subscription.id")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("event_id", "recipient_id", "channel", "push_subscription_id"),
    )
    op.create_index("ix_notification_status_next", "notification", ["status", "next_attempt_at"])
    op.create_table(
        "server_key",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("server_key", "notification", "push_subscription", "recipient"):
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_report_duplicate_of", "report", type_="foreignkey")
    for column in REPORT_COLUMNS:
        op.execute(f"ALTER TABLE report DROP COLUMN {column}")
