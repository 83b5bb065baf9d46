"""Staff accounts: create, change, list; passwords hashed with argon2id."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput, NotFound
from backend.models import Department, StaffSession, StaffUser
from backend.models.base import utcnow
from backend.permissions import Role
from backend.services.city_cache import CitySnapshot, DepartmentInfo

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verified when the user name is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An argon2id hash with its parameters and salt."""
    return _hasher.hash(password)


def password_matches(user: StaffUser | None, password: str) -> bool:
    """Check a password in constant work whether or not the user exists."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.password_hash is not None


def _check_password(password: str | None, problems: dict[str, list[str]]) -> None:
    if password is not None and len(password) < MIN_PASSWORD:
        problems["password"] = [f"at least {MIN_PASSWORD} characters"]


def _departments(session: Session, codes: Sequence[str], problems: dict[str, list[str]]
                 ) -> list[Department]:
    # A code given twice is one membership (twice would break the membership table's key).
    codes = list(dict.fromkeys(codes))
    found = {d.code: d for d in session.scalars(
        select(Department).where(Department.code.in_(list(codes)), Department.active))}
    unknown = [code for code in codes if code not in found]
    if unknown:
        problems["departments"] = [f"unknown department(s): {', '.join(unknown)}"]
    return [found[code] for code in codes if code in found]


def _check_role(role: str | None, departments: list[Department] | None,
                problems: dict[str, list[str]]) -> None:
    if role is not None and role not in {r.value for r in Role}:
        problems["role"] = [f"one of {', '.join(r.value for r in Role)}"]
    if role == Role.CREW and departments is not None and not departments:
        problems.setdefault("departments", []).append("crew need at least one department")


def create_user(session: Session, *, username: str, password: str | None, role: str,
                departments: Sequence[str] = (), display_name: str | None = None
                ) -> StaffUser:
    """Create an account (commits). A crew member needs at least one department."""
    problems: dict[str, list[str]] = {}
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        problems["username"] = ["2–64 lowercase letters, digits, '.', '_' or '-'"]
    _check_password(password, problems)
    members = _departments(session, departments, problems)
    _check_role(role, members, problems)
    if problems:
        raise InvalidInput("The account is incomplete.", problems)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise Conflict("This user name is taken.", {"username": ["already exists"]})
    user = StaffUser(username=username, display_name=(display_name or username).strip(),
                     password_hash=hash_password(password) if password else None,
                     role=role, active=True, created_at=utcnow(), departments=members)
    session.add(user)
    session.commit()
    return user


def get_user(session: Session, username: str) -> StaffUser:
    """The account with this user name."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
    if user is None:
        raise NotFound("No such user.", {"username": ["not found"]})
    return user


def update_user(session: Session, username: str, *, display_name: str | None = None,
                password: str | None = None, role: str | None = None,
                departments: Sequence[str] | None = None, active: bool | None = None
                ) -> StaffUser:
    """Change an account (commits); a new password, role change or deactivation ends all
    of the person's sessions."""
    user = get_user(session, username)
    problems: dict[str, list[str]] = {}
    _check_password(password, problems)
    members = _departments(session, departments, problems) if departments is not None else None
    _check_role(role or user.role, members if members is not None else user.departments,
                problems)
    if problems:
        raise InvalidInput("The change is invalid.", problems)
    end_sessions = False
    if display_name is not None:
        user.display_name = display_name.strip() or user.username
    if password is not None:
        user.password_hash = hash_password(password)
        end_sessions = True
    if role is not None and role != user.role:
        user.role, end_sessions = role, True
    if members is not None:
        user.departments = members
    if active is not None and active != user.active:
        user.active, end_sessions = active, end_sessions or not active
    if end_sessions:
        now = utcnow()
        for row in session.scalars(select(StaffSession).where(
                StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None))):
            row.revoked_at = now
    session.commit()
    return user


def list_users(session: Session) -> list[StaffUser]:
    """Every account, by user name."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


# The demo's desk accounts; crews come from the routing (see demo_crews).
DEMO_ACCOUNTS = (
    ("dispatcher", "dispatcher", ("anliegenmanagement",), "Disposition"),
    ("analyst", "analyst", (), "Analyse"),
    ("admin", "admin", (), "Administration"),
)


def demo_crews(snapshot: CitySnapshot) -> list[tuple[str, str, tuple[str, ...], str]]:
    """A crew account for every active department that routing sends reports to, so that
    every report of the demo can be worked: `crew-` plus the department code's last part
    (`bezirksinspektion-mitte` → `crew-mitte`), longer where two would clash."""
    departments: dict[str, DepartmentInfo] = {}
    for rule in snapshot.rules:
        if rule.department.active:
            departments.setdefault(rule.department.code, rule.department)
    taken: set[str] = set()
    crews = []
    for code in sorted(departments):
        parts = code.split("-")
        for size in range(1, len(parts) + 1):
            username = "crew-" + "-".join(parts[-size:])
            if username not in taken:
                break
        taken.add(username)
        crews.append((username, "crew", (code,), f"Crew {departments[code].name.de}"[:120]))
    return crews


def create_demo_accounts(session: Session, snapshot: CitySnapshot
                         ) -> list[tuple[str, str, str]]:
    """Demo staff accounts with random passwords, only while there are no accounts at all:
    a crew for every department that receives reports, a dispatcher, an analyst and an
    admin. Returns (username, role, password) of each created account (the only copy of the
    passwords)."""
    if session.scalar(select(StaffUser.id).limit(1)) is not None:
        return []
    created = []
    for username, role, departments, name in (*demo_crews(snapshot), *DEMO_ACCOUNTS):
        password = secrets.token_urlsafe(12)
        create_user(session, username=username, password=password, role=role,
                    departments=departments, display_name=name)
        created.append((username, role, password))
    return created
