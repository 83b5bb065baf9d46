"""Honest outcomes (issue 20.6): who is responsible when a report is closed as "not our
responsibility" (`report.responsible`: name and link, public), and how often the reporter said
"not fixed" (`report.reporter_reopens`, which counts against the fix rate and marks the report
in the staff queue). Both change only together with a status (a history event), which the
public-view triggers already watch. Stored public views are dropped so that they are rendered
again with `outcome`, `responsible` and `expected_at`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch rebuild, which would drop the table's triggers).
    op.add_column("report", sa.Column("responsible", sa.JSON, nullable=True))
    op.add_column("report", sa.Column("reporter_reopens", sa.Integer, nullable=False,
                                      server_default="0"))
    # A missing view is rendered on its next read.
    op.execute("DELETE FROM report_public")


def downgrade() -> None:
    op.drop_column("report", "reporter_reopens")
    op.drop_column("report", "responsible")
