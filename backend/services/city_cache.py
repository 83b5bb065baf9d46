"""A per-process, read-only snapshot of the city (categories, rules, districts and their index).

Rebuilt whenever the version tokens in `city_state` change, so a configuration change or a new
district layer takes effect for the next request in every process without a restart.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

import shapely
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend.city.config import DEFAULT_SERVICE_LEVELS
from backend.models import (
    AssetType,
    Category,
    CategoryGroup,
    CityState,
    Department,
    District,
    RoutingRule,
)
from backend.services.city_state import read_versions
from geo.district_index import DistrictIndex

# Until a configuration names one (UTM zone 32N covers Germany west of 12° E).
DEFAULT_METRIC_CRS = "EPSG:25832"


@dataclass(frozen=True)
class Localized:
    """A German and an English text."""

    de: str
    en: str

    def get(self, locale: str) -> str:
        """The text in `locale`, German when that is not English."""
        return self.en if locale == "en" else self.de


@dataclass(frozen=True)
class GroupInfo:
    code: str
    name: Localized
    description: Localized
    icon: str | None
    position: int
    active: bool


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    code: str
    group: GroupInfo
    name: Localized
    description: Localized
    default_priority: str
    icon: str | None
    position: int
    active: bool
    attributes: tuple[dict, ...] = ()  # Open311 service attributes (config dicts)
    keywords: str | None = None


@dataclass(frozen=True)
class AssetTypeInfo:
    """A kind of asset (traffic signal, sign post) and the category groups it serves."""

    code: str
    name: Localized
    group_codes: tuple[str, ...]


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    code: str
    name: Localized
    active: bool = True


@dataclass(frozen=True)
class DistrictInfo:
    id: int
    number: str
    name: str


@dataclass(frozen=True)
class RuleInfo:
    category_code: str | None
    group_code: str | None
    districts: frozenset[str] | None
    department: DepartmentInfo

    @property
    def specificity(self) -> tuple[int, int]:
        """Category beats group beats anything; a district list beats city-wide."""
        level = 2 if self.category_code else 1 if self.group_code else 0
        return (level, 1 if self.districts else 0)

    def matches(self, category: CategoryInfo, district_number: str) -> bool:
        """Whether this rule applies to a report of `category` in `district_number`."""
        if self.category_code and self.category_code != category.code:
            return False
        if self.group_code and self.group_code != category.group.code:
            return False
        return self.districts is None or district_number in self.districts


@dataclass(frozen=True)
class CitySnapshot:
    """Everything routing and the public views need, immutable once built."""

    versions: tuple[str, str]
    categories: dict[str, CategoryInfo]
    categories_by_id: dict[int, CategoryInfo]
    groups: dict[str, GroupInfo]
    departments_by_id: dict[int, DepartmentInfo]
    districts: dict[str, DistrictInfo]
    districts_by_id: dict[int, DistrictInfo]
    rules: tuple[RuleInfo, ...]  # most specific first
    index: DistrictIndex | None  # None until a district layer is imported
    service_levels: dict[str, float]  # hours per priority
    metric_crs: str  # the city's projected CRS in metres, for aggregation cells
    asset_types: tuple[AssetTypeInfo, ...] = ()  # the active ones, in configured order

    def asset_types_for(self, group_code: str) -> tuple[AssetTypeInfo, ...]:
        """The asset types a report of this category group may point at."""
        return tuple(t for t in self.asset_types if group_code in t.group_codes)

    def due_at(self, priority: str, start: datetime) -> datetime:
        """When a report of this priority, created or reopened at `start`, is due."""
        hours = self.service_levels.get(priority, DEFAULT_SERVICE_LEVELS.get(priority, 72.0))
        return start + timedelta(hours=hours)


def _load_config(session: Session) -> tuple:
    groups: dict[int, GroupInfo] = {}
    for g in session.scalars(select(CategoryGroup)):
        groups[g.id] = GroupInfo(
            g.code, Localized(g.name_de, g.name_en),
            Localized(g.description_de, g.description_en), g.icon, g.position, g.active,
        )
    categories = [
        CategoryInfo(
            c.id, c.code, groups[c.group_id], Localized(c.name_de, c.name_en),
            Localized(c.description_de, c.description_en), c.default_priority, c.icon,
            c.position, c.active, tuple(c.attributes or ()), c.keywords,
        )
        for c in session.scalars(select(Category))
    ]
    departments = {
        d.id: DepartmentInfo(d.id, d.code, Localized(d.name_de, d.name_en), d.active)
        for d in session.scalars(select(Department))
    }
    rules = [
        RuleInfo(
            r.category_code, r.group_code,
            frozenset(r.district_numbers) if r.district_numbers else None,
            departments[r.department_id],
        )
        for r in session.scalars(select(RoutingRule).order_by(RoutingRule.id))
    ]
    # Stable sort keeps file order among equally specific rules.
    rules.sort(key=lambda rule: rule.specificity, reverse=True)
    levels, crs = session.execute(select(CityState.service_levels, CityState.metric_crs)
                                  .where(CityState.id == 1)).one_or_none() or (None, None)
    asset_types = tuple(
        AssetTypeInfo(t.code, Localized(t.name_de, t.name_en), tuple(t.group_codes or ()))
        for t in session.scalars(select(AssetType).where(AssetType.active)
                                 .order_by(AssetType.position, AssetType.id)))
    return (groups, categories, departments, tuple(rules),
            {**DEFAULT_SERVICE_LEVELS, **(levels or {})}, crs or DEFAULT_METRIC_CRS,
            asset_types)


def _load_districts(session: Session) -> tuple[list[DistrictInfo], DistrictIndex | None]:
    rows = session.execute(
        select(District.id, District.number, District.name, func.ST_AsBinary(District.geom))
        .order_by(District.number)
    ).all()
    infos = [DistrictInfo(row[0], row[1], row[2]) for row in rows]
    if not rows:
        return infos, None
    index = DistrictIndex((row[1], shapely.from_wkb(bytes(row[3]))) for row in rows)
    return infos, index


_lock = threading.Lock()
# Keyed by engine: one snapshot per database a process talks to (tests use many).
_snapshots: weakref.WeakKeyDictionary[Engine, CitySnapshot] = weakref.WeakKeyDictionary()


def _cache_key(session: Session) -> Engine:
    return session.get_bind()  # type: ignore[return-value]


def cached_snapshot(engine: Engine, versions: tuple[str, str]) -> CitySnapshot | None:
    """The snapshot this process holds for the engine's database, if it has these versions
    (no session needed: the cheapest check, for every request)."""
    snapshot = _snapshots.get(engine)
    return snapshot if snapshot is not None and snapshot.versions == versions else None


def last_snapshot(session: Session) -> CitySnapshot:
    """The snapshot this process last saw, without asking the database whether it is current.

    For the hot write path: the insert itself verifies the version tokens in the same
    statement (see backend.db.report_insert) and the service retries with a fresh snapshot
    when they changed, so nothing is routed with stale rules.
    """
    snapshot = _snapshots.get(_cache_key(session))
    return snapshot if snapshot is not None else city_snapshot(session)


def city_snapshot(session: Session) -> CitySnapshot:
    """The current snapshot for this database, rebuilt only when a version token changed."""
    return snapshot_for_versions(session, read_versions(session))


def snapshot_for_versions(session: Session, versions: tuple[str, str]) -> CitySnapshot:
    """The snapshot for known version tokens, rebuilt only for the parts that changed."""
    key = _cache_key(session)
    snapshot = _snapshots.get(key)
    if snapshot is not None and snapshot.versions == versions:
        return snapshot
    with _lock:
        snapshot = _snapshots.get(key)
        if snapshot is not None and snapshot.versions == versions:
            return snapshot
        old = snapshot
        if old is not None and old.versions[0] == versions[0]:
            groups_by_code, categories, departments, rules, levels, crs, asset_types = (
                old.groups, list(old.categories.values()), old.departments_by_id, old.rules,
                old.service_levels, old.metric_crs, old.asset_types,
            )
        else:
            groups, categories, departments, rules, levels, crs, asset_types = \
                _load_config(session)
            groups_by_code = {g.code: g for g in groups.values()}
        if old is not None and old.versions[1] == versions[1]:
            districts, index = list(old.districts.values()), old.index
        else:
            districts, index = _load_districts(session)
        snapshot = CitySnapshot(
            versions=versions,
            categories={c.code: c for c in categories},
            categories_by_id={c.id: c for c in categories},
            groups=groups_by_code,
            departments_by_id=departments,
            districts={d.number: d for d in districts},
            districts_by_id={d.id: d for d in districts},
            rules=rules,
            index=index,
            service_levels=levels,
            metric_crs=crs,
            asset_types=asset_types,
        )
        _snapshots[key] = snapshot
        return snapshot
