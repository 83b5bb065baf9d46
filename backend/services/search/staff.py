"""Search for staff: the reports a person may see that match what they typed, newest first.

A report number or a tracking link finds that one report; an e-mail address finds the
reports it filed, only in the person's own departments (like reading the address, see
permissions.can_read_reporter_email) and audited; anything else is words matched against
descriptions and addresses. Crews see their departments' reports, dispatchers and admins
all; analysts do not search reports (they have the analysis screens).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, func, or_, select
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
    base = select(*QUEUE_COLUMNS)
    if visible is not None:
        if not visible:
            return SearchResult([], "words", False)
        base = base.where(Report.department_id.in_(sorted(visible)))
    kind, condition = _condition(session, user, terms)
    if condition is None:
        return SearchResult([], kind, False)
    rows = session.execute(base.where(condition).order_by(Report.id.desc())
                           .limit(limit + 1)).all()
    if kind == "email":
        session.add(audit_entry(user, "reporter_search", None,
                                {"matches": [r.public_id for r in rows[:limit]]}, None))
        session.commit()
    return SearchResult(rows[:limit], kind, len(rows) > limit)


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
    dialect = session.get_bind().dialect.name
    word_match = matches_words(dialect, terms.words) if terms.words else None
    if terms.public_id is not None:
        number = Report.public_id == terms.public_id
        return "number", or_(number, word_match) if word_match is not None else number
    return "words", word_match
