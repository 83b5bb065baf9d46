"""The search service's two ways to the newest matches (the text index alone, or walking the
newest reports when matches are many) give what a plain filter of every report gives, on
both backends, for dispatchers and crews."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Report
from backend.services.search import staff as search
from backend.services.search.staff import staff_search
from backend.services.seeding import seed_reports
from backend.services.staff.users import create_user


def _expected(session: Session, word: str, department_ids: set[int] | None) -> list[str]:
    rows = session.execute(select(Report.id, Report.public_id, Report.description,
                                  Report.department_id).order_by(Report.id.desc())).all()
    return [r.public_id for r in rows
            if any(w.lower().startswith(word) for w in r.description.replace(",", " ")
                   .replace(".", " ").split())
            and (department_ids is None or r.department_id in department_ids)][:20]


@pytest.mark.parametrize("candidates", [5, 2000])  # many matches: walk; few: the index alone
@pytest.mark.parametrize("word", ["ampel", "halteverbotsschild", "poller", "zebra"])
def test_both_ways_find_the_newest_matches_in_scope(session: Session, word: str,
                                                    candidates: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    seed_reports(session, 600)
    dispatcher = create_user(session, username="dora", password=None, role="dispatcher",
                             departments=[])
    crew = create_user(session, username="carl", password=None, role="crew",
                       departments=["bezirksinspektion-mitte"])
    session.commit()
    monkeypatch.setattr(search, "CANDIDATES", candidates)
    for user, scope in ((dispatcher, None), (crew, set(crew.department_ids))):
        found = staff_search(session, user, word)
        assert [r.public_id for r in found.rows] == _expected(session, word, scope), user.role
        session.rollback()
