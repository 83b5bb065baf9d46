"""The search service's ways to the newest matches (the newest reports checked one by one, the
text index alone, a walk of all reports) give what a plain filter of every report gives, on
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


# (recent, candidates): the newest alone; the index alone; the index, then the whole walk
@pytest.mark.parametrize("steps", [(5000, 2000), (10, 2000), (10, 5)])
@pytest.mark.parametrize("word", ["ampel", "halteverbotsschild", "poller", "zebra"])
def test_every_way_finds_the_newest_matches_in_scope(session: Session, word: str,
                                                     steps: tuple[int, int],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seed_reports(session, 600)
    dispatcher = create_user(session, username="dora", password=None, role="dispatcher",
                             departments=[])
    crew = create_user(session, username="carl", password=None, role="crew",
                       departments=["bezirksinspektion-mitte"])
    session.commit()
    monkeypatch.setattr(search, "RECENT", steps[0])
    monkeypatch.setattr(search, "CANDIDATES", steps[1])
    for user, scope in ((dispatcher, None), (crew, set(crew.department_ids))):
        found = staff_search(session, user, word)
        assert [r.public_id for r in found.rows] == _expected(session, word, scope), user.role
        session.rollback()
