"""A log of the reports whose public state changed (`report_change`), written by triggers: a
new report, a dropped public view (anything a view shows changed), a deleted report. Web
processes follow it to keep their in-memory map index and their cache of rendered views
exact. The box indexes of 0009 are dropped: pages are chosen from that index now.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
LOG = "INSERT INTO report_change (report_id) VALUES"

SQLITE = [
    f"CREATE TRIGGER report_change_new AFTER INSERT ON report BEGIN {LOG} (NEW.id); END",
    f"CREATE TRIGGER report_change_gone AFTER DELETE ON report BEGIN {LOG} (OLD.id); END",
    f"""CREATE TRIGGER report_change_view AFTER DELETE ON report_public
        BEGIN {LOG} (OLD.report_id); END""",
]
SQLITE_TRIGGERS = ("report_change_new", "report_change_gone", "report_change_view")

# Once per statement (seeding inserts a million reports in a few statements).
POSTGRES = [
    """CREATE FUNCTION report_change_log() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_TABLE_NAME = 'report_public' THEN
            INSERT INTO report_change (report_id) SELECT report_id FROM changed;
          ELSE
            INSERT INTO report_change (report_id) SELECT id FROM changed;
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER report_change_new AFTER INSERT ON report REFERENCING NEW TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION report_change_log()""",
    """CREATE TRIGGER report_change_gone AFTER DELETE ON report REFERENCING OLD TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION report_change_log()""",
    """CREATE TRIGGER report_change_view AFTER DELETE ON report_public
        REFERENCING OLD TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION report_change_log()""",
    # TRUNCATE fires no delete triggers: report id 0 tells readers to load everything again.
    f"""CREATE FUNCTION report_change_reset() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {LOG} (0); RETURN NULL; END $$""",
    """CREATE TRIGGER report_change_reset AFTER TRUNCATE ON report
        FOR EACH STATEMENT EXECUTE FUNCTION report_change_reset()""",
    """CREATE TRIGGER report_change_reset AFTER TRUNCATE ON report_public
        FOR EACH STATEMENT EXECUTE FUNCTION report_change_reset()""",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # `tx`, the writing transaction: a reader takes every row of a transaction that was
        # still running at its last look (sequence numbers are not handed out in commit order).
        op.execute("""CREATE TABLE report_change (
            seq bigserial PRIMARY KEY,
            report_id bigint NOT NULL,
            at timestamptz NOT NULL DEFAULT now(),
            tx xid8 NOT NULL DEFAULT pg_current_xact_id())""")
        op.create_index("ix_report_change_tx", "report_change", ["tx"])
    else:
        op.create_table(
            "report_change",
            sa.Column("seq", BigId, primary_key=True, autoincrement=True),
            sa.Column("report_id", BigId, nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False,
                      server_default=sa.func.current_timestamp()),
            sqlite_autoincrement=True,
        )
    op.create_index("ix_report_change_at", "report_change", ["at"])
    for statement in SQLITE if bind.dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)
    if bind.dialect.name == "postgresql":
        # The map's pages are chosen in the web processes now: 0009's box indexes only cost
        # writes.
        op.execute("DROP INDEX IF EXISTS ix_report_geom_id")
        op.execute("DROP INDEX IF EXISTS ix_report_geom_created")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table in (("report_change_new", "report"), ("report_change_gone", "report"),
                            ("report_change_view", "report_public"),
                            ("report_change_reset", "report"),
                            ("report_change_reset", "report_public")):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS report_change_log()")
        op.execute("DROP FUNCTION IF EXISTS report_change_reset()")
        op.execute("CREATE INDEX ix_report_geom_id ON report USING gist (geom, id)")
        op.execute("CREATE INDEX ix_report_geom_created ON report USING gist (geom, created_at)")
    op.drop_table("report_change")
