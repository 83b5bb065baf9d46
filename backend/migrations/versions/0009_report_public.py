"""Pre-rendered public views of reports (`report_public`), kept honest by triggers: a change to
anything a view shows deletes the report's row, so a row that exists is never stale.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# The report columns a public view shows (the trigger ignores private ones: an erasure or an
# assignment does not re-render anything).
PUBLIC_COLUMNS = ("public_id, category_id, description, address, geom, district_id, "
                  "department_id, status, priority, created_at, updated_at, due_at")
PHOTO_COLUMNS = "report_id, public_id, position, status"
DROP = "DELETE FROM report_public WHERE report_id"

SQLITE = [
    f"""CREATE TRIGGER report_public_report AFTER UPDATE OF {PUBLIC_COLUMNS} ON report
        BEGIN {DROP} = NEW.id; END""",
    f"""CREATE TRIGGER report_public_event AFTER INSERT ON report_event
        BEGIN {DROP} = NEW.report_id; END""",
    f"""CREATE TRIGGER report_public_photo_insert AFTER INSERT ON photo
        BEGIN {DROP} = NEW.report_id; END""",
    f"""CREATE TRIGGER report_public_photo_update AFTER UPDATE OF {PHOTO_COLUMNS} ON photo
        BEGIN {DROP} IN (OLD.report_id, NEW.report_id); END""",
    f"""CREATE TRIGGER report_public_photo_delete AFTER DELETE ON photo
        BEGIN {DROP} = OLD.report_id; END""",
    f"""CREATE TRIGGER report_public_file_insert AFTER INSERT ON photo_derivative
        BEGIN {DROP} = (SELECT report_id FROM photo WHERE id = NEW.photo_id); END""",
    f"""CREATE TRIGGER report_public_file_delete AFTER DELETE ON photo_derivative
        BEGIN {DROP} = (SELECT report_id FROM photo WHERE id = OLD.photo_id); END""",
]
SQLITE_TRIGGERS = ("report_public_report", "report_public_event", "report_public_photo_insert",
                   "report_public_photo_update", "report_public_photo_delete",
                   "report_public_file_insert", "report_public_file_delete")

POSTGRES = [
    f"""CREATE FUNCTION report_public_report() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {DROP} = NEW.id; RETURN NULL; END $$""",
    f"""CREATE TRIGGER report_public_report AFTER UPDATE OF {PUBLIC_COLUMNS} ON report
        FOR EACH ROW EXECUTE FUNCTION report_public_report()""",
    # Once per statement: seeding copies millions of events in a few statements.
    f"""CREATE FUNCTION report_public_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {DROP} IN (SELECT report_id FROM new_events); RETURN NULL; END $$""",
    """CREATE TRIGGER report_public_event AFTER INSERT ON report_event
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION report_public_events()""",
    f"""CREATE FUNCTION report_public_photo() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN {DROP} = OLD.report_id; END IF;
          IF TG_OP <> 'DELETE' THEN {DROP} = NEW.report_id; END IF;
          RETURN NULL;
        END $$""",
    f"""CREATE TRIGGER report_public_photo AFTER INSERT OR DELETE OR UPDATE OF {PHOTO_COLUMNS}
        ON photo FOR EACH ROW EXECUTE FUNCTION report_public_photo()""",
    f"""CREATE FUNCTION report_public_file() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {DROP} = (SELECT report_id FROM photo
                    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.photo_id ELSE NEW.photo_id END);
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER report_public_file AFTER INSERT OR DELETE ON photo_derivative
        FOR EACH ROW EXECUTE FUNCTION report_public_file()""",
]
POSTGRES_FUNCTIONS = ("report_public_report", "report_public_events", "report_public_photo",
                      "report_public_file")


def upgrade() -> None:
    op.create_table(
        "report_public",
        sa.Column("revision", BigId, primary_key=True, autoincrement=True),
        sa.Column("report_id", BigId, sa.ForeignKey("report.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("feature", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("open311", sa.Text, nullable=False),
        sa.Column("open311_ext", sa.Text, nullable=False),
        sa.UniqueConstraint("report_id", name="uq_report_public_report_id"),
        sqlite_autoincrement=True,
    )
    bind = op.get_bind()
    for statement in SQLITE if bind.dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)
    if bind.dialect.name == "postgresql":
        # The map's "newest reports in this box": a nearest-neighbour walk on the id within the
        # box (ORDER BY id <-> max) reads a page's worth of index entries at any zoom.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute("CREATE INDEX ix_report_geom_id ON report USING gist (geom, id)")
        # Open311's "newest requests in this box and time window": both in one index.
        op.execute("CREATE INDEX ix_report_geom_created ON report USING gist (geom, created_at)")
    # Existing reports are rendered by `maengelmelder` at start-up and by the housekeeping
    # sweep (public_views.render_missing); until then readers render them on the spot.


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.drop_table("report_public")
        return
    op.drop_table("report_public")
    op.execute("DROP INDEX IF EXISTS ix_report_geom_id")
    op.execute("DROP INDEX IF EXISTS ix_report_geom_created")
    for name, table in (("report_public_report", "report"),
                        ("report_public_event", "report_event"),
                        ("report_public_photo", "photo"),
                        ("report_public_file", "photo_derivative")):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name in POSTGRES_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
