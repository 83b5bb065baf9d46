"""Words of a report's description and address, matched as prefixes ("ampel dun" finds
"Ampel dunkel"), through each database's own text index:

- PostgreSQL: the stored generated column `search_text` (`to_tsvector('simple',
  description || ' ' || address)`) and its GIN index (migration 0018).
- SQLite: the FTS5 table `report_text` (external content: the report table itself), kept
  current by triggers.

Both fold case and keep accents and umlauts as typed ('simple' and unicode61 without
diacritics removal), so the two backends find the same reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, bindparam, text


def ts_query(words: Sequence[str]) -> str:
    """PostgreSQL tsquery text: every word as a prefix, all required."""
    return " & ".join(f"'{word}':*" for word in words)


def fts5_query(words: Sequence[str]) -> str:
    """SQLite FTS5 query text: every word as a prefix, all required."""
    return " AND ".join(f'"{word}"*' for word in words)


def matches_words(dialect: str, words: Sequence[str]) -> ColumnElement[bool]:
    """A condition on `report` true where the description or address holds every word (as
    a prefix). `words` hold only word characters (see terms.parse)."""
    if dialect == "postgresql":
        return text("report.search_text @@ to_tsquery('simple'::regconfig, :search_words)"
                    ).bindparams(bindparam("search_words", ts_query(words)))
    return text("report.id IN (SELECT rowid FROM report_text WHERE report_text MATCH "
                ":search_words)").bindparams(bindparam("search_words", fts5_query(words)))
