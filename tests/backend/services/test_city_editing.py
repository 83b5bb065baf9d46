"""The city editing service checks what it writes itself, whoever calls it (the API's schemas
check first): wrong JSON types and text longer than its column are named, nothing is written.
On both backends: PostgreSQL refused such values with a database error, SQLite took them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Category, Department, StaffUser
from backend.services.city_editing import save_category, save_department
from backend.services.city_state import read_versions
from backend.services.staff.users import create_user

HUGE = "a" * 100_000


@pytest.fixture
def dispatcher(session: Session) -> StaffUser:
    return create_user(session, username="dora", password=None, role="dispatcher",
                       departments=["anliegenmanagement"])


def _stored(session: Session, model: type[Category] | type[Department], code: str
            ) -> tuple[Any, ...]:
    """The row's values and the configuration version, read in a fresh transaction."""
    try:
        row = session.scalars(select(model).where(model.code == code)).one()
        values = {c.name: getattr(row, c.name) for c in model.__table__.columns}
        return values, read_versions(session)
    finally:
        session.rollback()


@pytest.mark.parametrize(("values", "fields"), [
    ({"priority": []}, {"priority"}),
    ({"priority": {}}, {"priority"}),
    ({"group": {"code": "schild"}}, {"group"}),
    ({"group": ["schild"]}, {"group"}),
    ({"group": 7}, {"group"}),
    ({"group": True}, {"group"}),
    ({"group": HUGE}, {"group"}),
    ({"name_de": HUGE, "name_en": "a" * 201}, {"name_de", "name_en"}),
    ({"description_en": ["x"]}, {"description_en"}),
], ids=["priority-list", "priority-object", "group-object", "group-list", "group-number",
        "group-true", "group-100000-characters", "names-too-long", "description-list"])
def test_a_category_change_of_the_wrong_type_or_size_is_named(
    session: Session, dispatcher: StaffUser, values: dict[str, Any], fields: set[str],
) -> None:
    before = _stored(session, Category, "schild-fehlt")

    with pytest.raises(InvalidInput) as raised:
        save_category(session, dispatcher, "schild-fehlt", values, create=False)
    session.rollback()

    assert set(raised.value.fields) == fields
    assert _stored(session, Category, "schild-fehlt") == before


@pytest.mark.parametrize("code", [7, ["schild-neu"], {"code": "x"}, None, HUGE])
def test_a_new_category_with_a_code_that_is_no_code_is_named(
    session: Session, dispatcher: StaffUser, code: Any,
) -> None:
    values = {"group": "schild", "name_de": "Neu", "name_en": "New", "priority": "low"}
    with pytest.raises(InvalidInput) as raised:
        save_category(session, dispatcher, code, values, create=True)
    session.rollback()

    assert set(raised.value.fields) == {"code"}


@pytest.mark.parametrize(("values", "fields"), [
    ({"email": HUGE + "@example.org"}, {"email"}),
    ({"email": 5}, {"email"}),
    ({"name_de": HUGE}, {"name_de"}),
    ({"name_en": {"en": "x"}}, {"name_en"}),
], ids=["email-100000-characters", "email-number", "name-100000-characters", "name-object"])
def test_a_department_change_of_the_wrong_type_or_size_is_named(
    session: Session, dispatcher: StaffUser, values: dict[str, Any], fields: set[str],
) -> None:
    before = _stored(session, Department, "verkehrstechnik")

    with pytest.raises(InvalidInput) as raised:
        save_department(session, dispatcher, "verkehrstechnik", values, create=False)
    session.rollback()

    assert set(raised.value.fields) == fields
    assert _stored(session, Department, "verkehrstechnik") == before
