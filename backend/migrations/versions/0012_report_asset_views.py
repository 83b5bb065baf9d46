"""Public views show the asset a report points at: the trigger of 0009 also watches
`report.asset_id` (a dispatcher correcting the asset), and a change of an asset a view shows
(renamed, moved, renumbered, retired or restored by a re-import) drops the views of its
reports. Dropped views are logged by 0010's trigger, so web processes forget them too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_COLUMNS = ("public_id, category_id, description, address, geom, district_id, "
               "department_id, status, priority, created_at, updated_at, due_at")
PUBLIC_COLUMNS = f"{OLD_COLUMNS}, asset_id"
# What an asset's representation (AssetRefSchema) shows. The importer updates only assets
# that changed, so the trigger stays off its bulk `last_seen_at` update.
ASSET_COLUMNS = "layer_id, external_id, name, number, geom, retired_at"
DROP = "DELETE FROM report_public WHERE report_id"
DROP_FOR_ASSET = "DELETE FROM report_public WHERE report_id IN (SELECT id FROM report " \
                 "WHERE asset_id = NEW.id)"


def _report_trigger_sqlite(columns: str) -> list[str]:
    return ["DROP TRIGGER IF EXISTS report_public_report",
            f"""CREATE TRIGGER report_public_report AFTER UPDATE OF {columns} ON report
                BEGIN {DROP} = NEW.id; END"""]


def _report_trigger_postgres(columns: str) -> list[str]:
    return ["DROP TRIGGER IF EXISTS report_public_report ON report",
            f"""CREATE TRIGGER report_public_report AFTER UPDATE OF {columns} ON report
                FOR EACH ROW EXECUTE FUNCTION report_public_report()"""]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        statements = [
            *_report_trigger_sqlite(PUBLIC_COLUMNS),
            f"""CREATE TRIGGER report_public_asset AFTER UPDATE OF {ASSET_COLUMNS} ON asset
                BEGIN {DROP_FOR_ASSET}; END""",
        ]
    else:
        statements = [
            *_report_trigger_postgres(PUBLIC_COLUMNS),
            f"""CREATE FUNCTION report_public_asset() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN {DROP_FOR_ASSET}; RETURN NULL; END $$""",
            f"""CREATE TRIGGER report_public_asset AFTER UPDATE OF {ASSET_COLUMNS} ON asset
                FOR EACH ROW EXECUTE FUNCTION report_public_asset()""",
        ]
    for statement in statements:
        op.execute(statement)
    # Views rendered before this revision have no `asset` member: rendered again at start-up
    # (public_views.render_missing), on the spot by readers until then.
    op.execute("DELETE FROM report_public")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS report_public_asset")
        statements = _report_trigger_sqlite(OLD_COLUMNS)
    else:
        op.execute("DROP TRIGGER IF EXISTS report_public_asset ON asset")
        op.execute("DROP FUNCTION IF EXISTS report_public_asset()")
        statements = _report_trigger_postgres(OLD_COLUMNS)
    for statement in statements:
        op.execute(statement)
