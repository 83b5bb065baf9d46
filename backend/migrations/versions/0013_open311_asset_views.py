"""Open311 requests show their asset in `extended_attributes.asset`: views rendered before
this revision lack it, so they are dropped and rendered again (at start-up by
`public_views.render_missing`, on the spot by readers until then; web processes forget them
through 0010's log).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM report_public")


def downgrade() -> None:
    op.execute("DELETE FROM report_public")  # rendered again without the member
