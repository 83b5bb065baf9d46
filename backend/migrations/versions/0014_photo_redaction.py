"""Photos safe to publish: what was hidden in a photo (`photo.redaction`: the detectors'
version and the regions found or drawn by staff), a staff rotation, a staff "hidden" mark,
and per category whether photos are ever public. The public-view trigger of 0009 also
watches `hidden_at`, so hiding a photo drops the views that show it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_COLUMNS = "report_id, public_id, position, status"
NEW_COLUMNS = f"{OLD_COLUMNS}, hidden_at"
DROP = "DELETE FROM report_public WHERE report_id"


def _photo_trigger(columns: str) -> list[str]:
    if op.get_bind().dialect.name == "sqlite":
        return ["DROP TRIGGER IF EXISTS report_public_photo_update",
                f"""CREATE TRIGGER report_public_photo_update AFTER UPDATE OF {columns} ON photo
                    BEGIN {DROP} IN (OLD.report_id, NEW.report_id); END"""]
    return ["DROP TRIGGER IF EXISTS report_public_photo ON photo",
            f"""CREATE TRIGGER report_public_photo AFTER INSERT OR DELETE OR UPDATE OF {columns}
                ON photo FOR EACH ROW EXECUTE FUNCTION report_public_photo()"""]


def upgrade() -> None:
    # Plain ALTER TABLE (no batch rebuild, which would drop the tables' triggers).
    op.add_column("photo", sa.Column("redaction", sa.JSON, nullable=True))
    op.add_column("photo", sa.Column("rotation", sa.Integer, nullable=False,
                                     server_default="0"))
    op.add_column("photo", sa.Column("hidden_at", UTCDateTime, nullable=True))
    op.add_column("category", sa.Column("photos_public", sa.Boolean, nullable=False,
                                        server_default=sa.true()))
    for statement in _photo_trigger(NEW_COLUMNS):
        op.execute(statement)


def downgrade() -> None:
    for statement in _photo_trigger(OLD_COLUMNS):
        op.execute(statement)
    op.execute("ALTER TABLE category DROP COLUMN photos_public")
    for column in ("hidden_at", "rotation", "redaction"):
        op.execute(f"ALTER TABLE photo DROP COLUMN {column}")
