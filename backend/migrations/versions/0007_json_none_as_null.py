"""JSON columns that mean "none": the JSON value null becomes SQL NULL.

The models stored Python None as the JSON text 'null', so `column IS NOT NULL` held for
every row — every department looked as if it forwarded to an Open311 system. The models
now store None as SQL NULL (`JSON(none_as_null=True)`); this turns the rows written before.

`audit_log.details` is left as it is: the audit log is append-only (database triggers), and
its old 'null' rows read back as None all the same.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, column) of every nullable JSON column whose null means "none".
COLUMNS = (
    ("department", "open311"),
    ("category", "attributes"),
    ("routing_rule", "district_numbers"),
    ("city_state", "service_levels"),
    ("report", "review_flags"),
    ("report", "attributes"),
)


def _is_json_null(dialect: str, column: str) -> str:
    # PostgreSQL's json type keeps the text it was given (json_typeof ignores whitespace);
    # SQLite stores the serialized text, and a JSON string "null" is stored with its quotes.
    if dialect == "postgresql":
        return f"json_typeof({column}) = 'null'"
    return f"{column} = 'null'"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, column in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = NULL "
                   f"WHERE {_is_json_null(dialect, column)}")


def downgrade() -> None:
    # SQL NULL reads back as None under the older models too: nothing to undo.
    pass
