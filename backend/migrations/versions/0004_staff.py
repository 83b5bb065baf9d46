"""Staff accounts, sessions, API tokens, audit log, internal notes; queue columns on reports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime
from backend.models.report import BigId

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = "status IN ('submitted','acknowledged','in_progress','reopened')"
# Default targets (hours) for rows that exist before a configuration with service levels.
DEFAULT_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}

APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]
APPEND_ONLY_POSTGRES = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def _backfill_due_at(dialect: str) -> None:
    cases = " ".join(
        f"WHEN '{p}' THEN " + (
            f"created_at + interval '{h} hours'" if dialect == "postgresql"
            else f"strftime('%Y-%m-%d %H:%M:%f000', created_at, '+{h} hours')")
        for p, h in DEFAULT_HOURS.items())
    op.execute(f"UPDATE report SET due_at = CASE priority {cases} END")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "staff_membership",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("department.id"),
                  primary_key=True),
    )
    op.create_table(
        "staff_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_staff_session_user_id", "staff_session", ["user_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_user.id")),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id")),
        sa.Column("details", sa.JSON),
        sa.Column("idempotency_key", sa.String(128)),
        sa.UniqueConstraint("user_id", "idempotency_key"),
    )
    op.create_index("ix_audit_log_report_id", "audit_log", ["report_id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    for statement in APPEND_ONLY_SQLITE if dialect == "sqlite" else APPEND_ONLY_POSTGRES:
        op.execute(statement)
    op.create_table(
        "report_note",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_user.id")),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_report_note_report_id", "report_note", ["report_id"])
    # Plain ALTER TABLE (no batch rebuild): SpatiaLite keeps its geometry registration.
    op.add_column("report", sa.Column("due_at", UTCDateTime))
    if dialect == "sqlite":
        op.add_column("report", sa.Column("assigned_to_id", sa.Integer))
    else:
        op.add_column("report", sa.Column("assigned_to_id", sa.Integer, sa.ForeignKey(
            "staff_user.id", name="fk_report_assigned_to_id_staff_user")))
    _backfill_due_at(dialect)
    op.create_index("ix_report_queue", "report", ["department_id", "due_at"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    if dialect == "postgresql":
        # The crew's map: open reports in a viewport. A spatial index over open reports only
        # is a small fraction of the whole one (see ADR 0006).
        op.execute(f"CREATE INDEX ix_report_open_geom ON report USING gist (geom) WHERE {OPEN}")
    op.add_column("photo", sa.Column("kind", sa.String(8), nullable=False,
                                     server_default="report"))
    op.add_column("city_state", sa.Column("service_levels", sa.JSON))
    op.add_column("city_state", sa.Column("config_file_hash", sa.String(64)))


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.execute("ALTER TABLE city_state DROP COLUMN config_file_hash")
    op.execute("ALTER TABLE city_state DROP COLUMN service_levels")
    op.execute("ALTER TABLE photo DROP COLUMN kind")
    op.drop_index("ix_report_queue", "report")
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_report_open_geom")
    if dialect != "sqlite":
        op.drop_constraint("fk_report_assigned_to_id_staff_user", "report", type_="foreignkey")
    for column in ("assigned_to_id", "due_at"):
        op.execute(f"ALTER TABLE report DROP COLUMN {column}")
    if dialect == "sqlite":
        for name in ("audit_log_no_update", "audit_log_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("report_note", "audit_log", "api_token", "staff_session", "staff_membership",
                  "staff_user"):
        op.drop_table(table)
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
