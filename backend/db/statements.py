"""Plain SQL for the hottest reads, each statement built once: on the public read path,
building a SQLAlchemy expression costs more than the database takes to answer it."""

from __future__ import annotations

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.types import TypeEngine

_statements: dict[tuple[str, tuple[str, ...]], TextClause] = {}


def statement(sql: str, **types: TypeEngine) -> TextClause:
    """`text(sql)` with typed parameters where the driver needs a conversion (timestamps on
    SQLite), cached by the SQL."""
    key = (sql, tuple(sorted(types)))
    found = _statements.get(key)
    if found is None:
        found = text(sql)
        if types:
            found = found.bindparams(*(bindparam(name, type_=kind) for name, kind in types.items()))
        if len(_statements) > 512:
            _statements.clear()
        _statements[key] = found
    return found
