"""Search for staff: the reports a person may see that match what they typed, newest first.

A report number or a tracking link finds that one report; an e-mail address finds the
reports it filed, only in the person's own departments (like reading the address, see
permissions.can_read_reporter_email) and audited; anything else is words matched against
descriptions and addresses. Crews see their departments' reports, dispatchers and admins
all; analysts do not search reports (they have the analysis screens).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row, func, select, text, true
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Report, StaffUser
from backend.permissions import Forbidden, Role, visible_department_ids
from backend.services.search.terms import Terms, parse
from backend.services.search.text import matches_words
from backend.services.staff.actions import audit_entry
from backend.services.staff.queue import QUEUE_COLUMNS
from backend.tokens import hash_token

MAX_QUERY = 200
DEFAULT_LIMIT = 20
RECENT = 5000  # newest reports in scope checked one by one first
CANDIDATES = 2000  # matches listed from the text index before walking the newest instead


@dataclass(frozen=True)
class SearchResult:
    """The matching reports (queue rows) and how the query was understood."""

    rows: list[Row]
    kind: str  # number, tracking, email, words
    more: bool


def staff_search(session: Session, user: StaffUser, query: str,
                 limit: int = DEFAULT_LIMIT) -> SearchResult:
    """Reports matching `query` that `user` may see, newest first (at most `limit`)."""
    if user.role not in (Role.CREW, Role.DISPATCHER, Role.ADMIN) or not user.active:
        raise Forbidden("Only crews, dispatchers and admins search reports.")
    if not query.strip() or len(query) > MAX_QUERY:
        raise InvalidInput("Type what to look for.",
                           {"q": [f"between 1 and {MAX_QUERY} characters"]})
    terms = parse(query)
    visible = visible_department_ids(user)
    if visible is not None and not visible:
        return SearchResult([], "words", False)
    scope = Report.department_id.in_(sorted(visible)) if visible is not None else true()
    kind, condition = _condition(session, user, terms)
    if condition is None:
        return SearchResult([], kind, False)
    if kind in ("words", "email"):  # any number of matches
        rows = _newest_matching(session, condition, scope, limit + 1)
    else:
        rows = session.execute(select(*QUEUE_COLUMNS).where(condition, scope)
                               .order_by(Report.id.desc()).limit(limit + 1)).all()
    if kind == "email":
        session.add(audit_entry(user, "reporter_search", None,
                                {"matches": [r.public_id for r in rows[:limit]]}, None))
        session.commit()
    return SearchResult(rows[:limit], kind, len(rows) > limit)


def _newest_matching(session: Session, words: ColumnElement[bool], scope: ColumnElement[bool],
                     count: int) -> list[Row]:
    """The newest `count` reports in scope that match `words` (or an e-mail), in steps whose
    cost follows the number of matches, not the number of reports:

    1. the newest RECENT reports, checked one by one (those in scope): a common word is
       found here (a third of all reports say "Ampel");
    2. otherwise the index alone (a bitmap scan, never a walk of the table) lists every match
       in scope, up to CANDIDATES: a rare word, or one nobody wrote, ends here, sorted;
    3. more matches than that, but not among the newest: walk all reports in scope, newest
       first (matches are many, so it stops early).

    Left to itself, PostgreSQL's planner cannot tell a rare prefix from a common one: it
    walked the whole table for a word nobody wrote (0.5 s at a million reports), or built the
    whole bitmap of a common one (60 ms) for 20 rows.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    query = select(*QUEUE_COLUMNS).order_by(Report.id.desc()).limit(count)
    # The newest RECENT reports of all (for a crew, their share of them): the primary key
    # answers at once, where "the newest of a department" would read the whole department.
    oldest_recent = session.scalar(select(Report.id).order_by(Report.id.desc())
                                   .offset(RECENT - 1).limit(1))
    if oldest_recent is not None:
        _planner(session, postgres, bitmap=False)
        rows = session.execute(query.where(words, scope, Report.id >= oldest_recent)).all()
        _planner(session, postgres)
        if len(rows) == count:
            return rows
    _planner(session, postgres, walk=False)
    ids = session.scalars(select(Report.id).where(words, scope).limit(CANDIDATES + 1)).all()
    _planner(session, postgres)
    if len(ids) <= CANDIDATES:
        newest = sorted(ids, reverse=True)[:count]
        return session.execute(query.where(Report.id.in_(newest))).all() if newest else []
    _planner(session, postgres, bitmap=False)
    rows = session.execute(query.where(words, scope)).all()
    _planner(session, postgres)
    return rows


def _planner(session: Session, postgres: bool, *, walk: bool = True,
             bitmap: bool = True) -> None:
    """Steer PostgreSQL's plan for the next statement (in this transaction only): `walk`
    False forbids reading the table in order, `bitmap` False forbids the text index."""
    if not postgres:
        return  # SQLite's FTS5 table is a separate lookup: the plan is the query's
    on = {True: "on", False: "off"}
    session.execute(text(f"SET LOCAL enable_seqscan = {on[walk]}"))
    session.execute(text(f"SET LOCAL enable_indexscan = {on[walk]}"))
    session.execute(text(f"SET LOCAL enable_bitmapscan = {on[bitmap]}"))


def _condition(session: Session, user: StaffUser, terms: Terms) -> tuple[str, object]:
    if terms.token is not None:
        return "tracking", Report.tracking_token_hash == hash_token(terms.token)
    if terms.email is not None:
        own = sorted(user.department_ids)  # as for reading the address itself
        if not own:
            raise Forbidden("Only staff of a department may look for a reporter's address.",
                            {"q": ["searching by e-mail needs a department of your own"]})
        return "email", (func.lower(Report.reporter_email) == terms.email) & \
            Report.department_id.in_(own)
    if terms.public_id is not None and session.scalar(
            select(Report.id).where(Report.public_id == terms.public_id)) is not None:
        return "number", Report.public_id == terms.public_id
    if not terms.words:
        return "words", None
    return "words", matches_words(session.get_bind().dialect.name, terms.words)
