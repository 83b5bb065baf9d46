"""City configuration as data: departments, category groups, categories, routing rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, UTCDateTime, utcnow


class Department(Base):
    """A team of the city administration that fixes reports (its queue)."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Forward this department's reports to its own Open311 system: {url, api_key_env,
    # jurisdiction_id, service_codes: {ours: theirs}, send_contact}. None is stored as SQL NULL
    # (here and in every JSON column), so `open311 IS NOT NULL` means "forwards" (issue 15).
    open311: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))


class CategoryGroup(Base):
    """A group of categories the citizen picks first (Ampel, Verkehrszeichen, …)."""

    __tablename__ = "category_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Category(Base):
    """A kind of defect a citizen can report."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("category_group.id"))
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    default_priority: Mapped[str] = mapped_column(String(16))
    # Extra questions for this category (Open311 service definition attributes).
    attributes: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    keywords: Mapped[str | None] = mapped_column(String(500))
    icon: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # False: its reports' photos are for staff only, never published.
    photos_public: Mapped[bool] = mapped_column(Boolean, default=True)

    group: Mapped[CategoryGroup] = relationship()


class RoutingRule(Base):
    """(category or group or anything) × (district set or city-wide) → department."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str | None] = mapped_column(String(64))
    group_code: Mapped[str | None] = mapped_column(String(64))
    # District numbers as a JSON list; null means city-wide. Numbers, not foreign keys: the
    # configuration is loaded before (and independently of) the district layer.
    district_numbers: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))

    department: Mapped[Department] = relationship()


class CityState(Base):
    """Single-row version tokens that tell every process when cached configuration is stale."""

    __tablename__ = "city_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random tokens, new on every change: unlike counters they never repeat across databases.
    config_version: Mapped[str] = mapped_column(String(32), default="")
    layer_version: Mapped[str] = mapped_column(String(32), default="")
    city_code: Mapped[str] = mapped_column(String(64), default="")
    # Service-level targets in hours per priority, from the city configuration.
    service_levels: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # SHA-256 of the configuration file last applied: `init` re-applies the file only when it
    # changed, so edits made by dispatchers in the running system survive restarts.
    config_file_hash: Mapped[str | None] = mapped_column(String(64))
    metric_crs: Mapped[str | None] = mapped_column(String(32))  # e.g. EPSG:25832
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
