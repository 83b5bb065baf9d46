"""Staff search (issue 20.3): a text index over report descriptions and addresses, and the
reporter's e-mail address findable without reading every report.

PostgreSQL: a stored generated column `search_text`, the 'simple' tsvector of description and
address, with a GIN index. Stored rather than an expression index: ANALYZE then keeps word
statistics for it, so the planner knows a rare word (GIN, then sort) from a common one (walk
the newest reports), and checking a row costs no to_tsvector call. SQLite: an FTS5 table
with the report table as its content, kept current by triggers (and filled once here).
Both: an index on lower(reporter_email).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TSVECTOR = ("to_tsvector('simple'::regconfig, coalesce(description, '') || ' ' || "
            "coalesce(address, ''))")
# Not in the model: nothing in Python reads or writes it (backend/services/search/text.py).
COLUMN = f"search_text tsvector GENERATED ALWAYS AS ({TSVECTOR}) STORED"
SQLITE = (
    "CREATE VIRTUAL TABLE report_text USING fts5(description, address, content='report', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    """CREATE TRIGGER report_text_new AFTER INSERT ON report BEGIN
         INSERT INTO report_text(rowid, description, address)
         VALUES (NEW.id, NEW.description, NEW.address); END""",
    """CREATE TRIGGER report_text_gone AFTER DELETE ON report BEGIN
         INSERT INTO report_text(report_text, rowid, description, address)
         VALUES ('delete', OLD.id, OLD.description, OLD.address); END""",
    """CREATE TRIGGER report_text_changed AFTER UPDATE OF description, address ON report BEGIN
         INSERT INTO report_text(report_text, rowid, description, address)
         VALUES ('delete', OLD.id, OLD.description, OLD.address);
         INSERT INTO report_text(rowid, description, address)
         VALUES (NEW.id, NEW.description, NEW.address); END""",
    "INSERT INTO report_text(report_text) VALUES ('rebuild')",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE report ADD COLUMN {COLUMN}")
        op.execute("CREATE INDEX ix_report_text ON report USING gin (search_text)")
    else:
        for statement in SQLITE:
            op.execute(statement)
    op.execute("CREATE INDEX ix_report_reporter_email ON report (lower(reporter_email))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_report_reporter_email")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_report_text")
        op.execute("ALTER TABLE report DROP COLUMN search_text")
    else:
        for name in ("report_text_new", "report_text_gone", "report_text_changed"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE report_text")
