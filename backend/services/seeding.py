"""Realistic demo reports: hotspots, mostly signs and lights, every status, three years.

Rows are generated in bulk (numpy for places and times, the district index for routing) and
written with COPY on PostgreSQL, so a million reports take well under a minute. Reports of a
category group with an asset layer (the traffic signals) point at the nearest asset when one
is close, see `backend.services.assets.seeding`.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from backend.db.report_insert import sqlite_time
from backend.errors import ServiceNotReady
from backend.models import Report
from backend.services.assets.seeding import asset_points_by_group, link_to_assets
from backend.services.city_cache import CitySnapshot, city_snapshot
from backend.services.public_views.store import render_missing
from backend.tokens import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH
from backend.workflow import RAISED_PRIORITY, Priority, RejectReason, Status
from geo.cells import h3_cells, metric_xy

# Share of reports per category group, and of each category within its group.
GROUP_WEIGHTS = {"schild": 0.52, "ampel": 0.38, "sonstiges": 0.10}
DESCRIPTIONS = {
    "ampel": ["Ampel dunkel, Kreuzung ohne Signal.", "Rotlicht Richtung Norden brennt nicht.",
              "Fußgängertaster reagiert nicht.", "Grünphase für Fußgänger viel zu kurz."],
    "schild": ["Stoppschild nach Unfall umgeknickt.", "Vorfahrtsschild zeigt in die falsche "
               "Richtung.", "Halteverbotsschild fehlt.", "Schild komplett zugewachsen."],
    "sonstiges": ["Poller umgefahren.", "Leitpfosten abgebrochen.", "Markierung abgefahren."],
}
YEARS = 3
HOTSPOTS = 200
HOTSPOT_SHARE = 0.7
HOTSPOT_SIGMA_M = 180.0
BATCH = 50_000
BULK_TEXT_INDEX = 100_000  # reports from which the text index is built after the rows


@dataclass
class SeedResult:
    """How many rows were written, and how long it took."""

    reports: int
    events: int
    seconds: float
    linked_to_assets: int = 0


def report_count(session: Session) -> int:
    """Number of stored reports."""
    return session.scalar(select(func.count()).select_from(Report)) or 0


def _points_in_city(snapshot: CitySnapshot, rng: np.random.Generator, n: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points inside the city, 70 % around hotspots; with each point's district code."""
    index = snapshot.index
    x0, y0, x1, y1 = index.bounds
    lat_scale = 111_320.0
    lon_scale = lat_scale * np.cos(np.radians((y0 + y1) / 2))

    def uniform(k: int) -> tuple[np.ndarray, np.ndarray]:
        lons, lats = np.empty(0), np.empty(0)
        while len(lons) < k:
            cx = rng.uniform(x0, x1, 2 * k)
            cy = rng.uniform(y0, y1, 2 * k)
            inside = index.lookup_codes(cx, cy) >= 0
            lons, lats = np.concatenate([lons, cx[inside]]), np.concatenate([lats, cy[inside]])
        return lons[:k], lats[:k]

    hx, hy = uniform(HOTSPOTS)
    lons, lats, codes = [], [], []
    remaining = n
    while remaining > 0:
        k = remaining
        around = rng.random(k) < HOTSPOT_SHARE
        ux, uy = uniform(k)
        spot = rng.integers(0, HOTSPOTS, k)
        px = np.where(around, hx[spot] + rng.normal(0, HOTSPOT_SIGMA_M, k) / lon_scale, ux)
        py = np.where(around, hy[spot] + rng.normal(0, HOTSPOT_SIGMA_M, k) / lat_scale, uy)
        c = index.lookup_codes(px, py)
        ok = c >= 0
        lons.append(px[ok])
        lats.append(py[ok])
        codes.append(c[ok])
        remaining -= int(ok.sum())
    return (np.concatenate(lons)[:n], np.concatenate(lats)[:n], np.concatenate(codes)[:n])


def _pick_categories(snapshot: CitySnapshot, rng: np.random.Generator, n: int) -> list:
    active = [c for c in snapshot.categories.values() if c.active and c.group.active]
    weights = np.array([
        GROUP_WEIGHTS.get(c.group.code, 0.05)
        / sum(1 for o in active if o.group.code == c.group.code)
        for c in active
    ])
    picks = rng.choice(len(active), size=n, p=weights / weights.sum())
    return [active[i] for i in picks]


def _lifecycle(rng: np.random.Generator, created: datetime, now: datetime
               ) -> list[tuple[str | None, str, datetime, str | None]]:
    """A plausible status history: (from, to, at, public note), ending no later than now."""
    events: list[tuple[str | None, str, datetime, str | None]] = [
        (None, Status.SUBMITTED, created, None)
    ]
    at, status = created, Status.SUBMITTED
    age_days = (now - created).total_seconds() / 86400
    # Older reports have gone further; a few stay stuck or get rejected.
    steps = [
        (Status.ACKNOWLEDGED, 0.92, 0.3, None),
        (Status.IN_PROGRESS, 0.85, 2.0, "Ein Team ist beauftragt."),
        (Status.RESOLVED, 0.9, 4.0, "Erledigt, danke für Ihre Meldung!"),
        (Status.CLOSED, 0.8, 14.0, None),
    ]
    if rng.random() < 0.06:
        at = at + timedelta(days=float(rng.exponential(1.0)))
        if at < now:
            events.append((status, Status.REJECTED, at, "Nicht in unserer Zuständigkeit."))
        return events
    for target, probability, mean_days, note in steps:
        if age_days < mean_days * 0.5 or rng.random() > probability:
            break
        at = at + timedelta(days=float(rng.exponential(mean_days)))
        if at >= now:
            break
        events.append((status, target, at, note))
        status = target
        if status == Status.RESOLVED and rng.random() < 0.05:
            reopen_at = at + timedelta(days=float(rng.exponential(3.0)))
            if reopen_at < now:
                events.append((status, Status.REOPENED, reopen_at, "Leider nicht behoben."))
                return events
    return events


def _public_ids(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    alphabet = np.array(list(PUBLIC_ID_ALPHABET))
    ids: list[str] = []
    while len(ids) < n:
        raw = alphabet[rng.integers(0, len(alphabet), (n - len(ids), PUBLIC_ID_LENGTH))]
        for chars in raw:
            candidate = "".join(chars)
            if candidate not in taken:
                taken.add(candidate)
                ids.append(candidate)
    return ids


def _department_for(snapshot: CitySnapshot, category, number: str):  # noqa: ANN001, ANN202
    for rule in snapshot.rules:
        if rule.matches(category, number):
            return rule.department
    raise ServiceNotReady("The routing rules have no fallback; load a city configuration.")


def seed_reports(session: Session, count: int, *, random_seed: int = 1) -> SeedResult:
    """Create `count` demo reports and their histories, in time order, then commit."""
    started = time.perf_counter()
    snapshot = city_snapshot(session)
    if snapshot.index is None:
        raise ServiceNotReady("Import a district layer before seeding.")
    rng = np.random.default_rng(random_seed)
    now = datetime.now(UTC)
    taken = set(session.scalars(select(Report.public_id)))
    next_id = (session.scalar(select(func.max(Report.id))) or 0) + 1
    dialect = session.get_bind().dialect.name
    total_events = total_linked = 0
    assets = asset_points_by_group(session, snapshot)
    # A big seed (benchmarks) builds the text search index once at the end, not row by row;
    # the table is locked meanwhile, which a demo of a few thousand reports never does.
    rebuild_text_index = dialect == "postgresql" and count >= BULK_TEXT_INDEX
    if rebuild_text_index:
        session.execute(text("DROP INDEX IF EXISTS ix_report_text"))
    for offset in range(0, count, BATCH):
        n = min(BATCH, count - offset)
        lons, lats, codes = _points_in_city(snapshot, rng, n)
        span = YEARS * 365 * 86400
        # Spread the batches over consecutive slices of the three years: rows arrive in time
        # order, like real intake.
        start = now - timedelta(seconds=span) + timedelta(seconds=span * offset / count)
        slice_s = span * n / count
        seconds = np.sort(rng.uniform(0, slice_s, n))
        categories = _pick_categories(snapshot, rng, n)
        # Without randomness: seeding with assets draws the same numbers as without.
        links = link_to_assets(snapshot, assets, lons, lats, codes,
                               [c.group.code for c in categories])
        lons, lats, codes = links.lons, links.lats, links.codes
        total_linked += links.linked
        xs, ys = metric_xy(lons, lats, snapshot.metric_crs)
        cells = h3_cells(lons, lats)
        ids = _public_ids(rng, n, taken)
        reports, events = [], []
        numbers = snapshot.index.numbers
        for i in range(n):
            category = categories[i]
            number = numbers[codes[i]]
            created = start + timedelta(seconds=float(seconds[i]))
            history = _lifecycle(rng, created, now)
            report_id = next_id + i
            clock_start = max((at for _, to, at, _ in history if to == Status.REOPENED),
                              default=created)
            # The reporter's "not fixed" raised the priority (as feedback.answer_fixed does);
            # the demo's rejections are "not ours", saying whose it is.
            reopens = sum(1 for _, to, _, _ in history if to == Status.REOPENED)
            priority = (RAISED_PRIORITY[Priority(category.default_priority)].value if reopens
                        else category.default_priority)
            rejected = history[-1][1] == Status.REJECTED
            due = snapshot.due_at(priority, clock_start)
            token_hash = hashlib.sha256(os.urandom(16)).hexdigest()
            descriptions = DESCRIPTIONS.get(category.group.code, DESCRIPTIONS["sonstiges"])
            reports.append((
                report_id, ids[i], token_hash, category.id,
                descriptions[int(rng.integers(len(descriptions)))],
                float(lons[i]), float(lats[i]), snapshot.districts[number].id,
                _department_for(snapshot, category, number).id, str(history[-1][1]),
                priority, created, history[-1][2], due,
                float(xs[i]), float(ys[i]), cells[i], links.asset_ids[i], reopens,
                RejectReason.NOT_RESPONSIBLE.value if rejected else None,
                SEEDED_RESPONSIBLE if rejected else None,
            ))
            for from_status, to_status, at, note in history:
                actor = "reporter" if to_status in (Status.SUBMITTED, Status.REOPENED) else "staff"
                events.append((report_id, at, actor, from_status and str(from_status),
                               str(to_status), note))
        next_id += n
        total_events += len(events)
        if dialect == "postgresql":
            _copy_postgres(session, reports, events)
        else:
            _insert_sqlite(session, reports, events)
    if rebuild_text_index:
        session.execute(text("CREATE INDEX ix_report_text ON report USING gin (search_text)"))
    if dialect == "postgresql":
        session.execute(text(
            "SELECT setval(pg_get_serial_sequence('report', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM report))"))
        session.execute(text(
            "SELECT setval(pg_get_serial_sequence('report_event', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM report_event))"))
    session.commit()
    if dialect == "postgresql":
        session.connection().exec_driver_sql("ANALYZE report")
        session.connection().exec_driver_sql("ANALYZE report_event")
        session.commit()
    render_missing(session)  # the public views of the new reports
    return SeedResult(count, total_events, time.perf_counter() - started, total_linked)


REPORT_COLUMNS = (
    "id, public_id, tracking_token_hash, category_id, description, geom, district_id, "
    "department_id, status, priority, reporter_locale, source, created_at, updated_at, due_at, "
    "x_m, y_m, h3_r10, asset_id, reporter_reopens, reject_reason, responsible"
)
SEEDED_RESPONSIBLE = '{"name": "Grundeigentümer (Privatgrund)", "url": null}'

EVENT_COLUMNS = "report_id, at, actor, from_status, to_status, public_note"


def _copy_postgres(session: Session, reports: list[tuple], events: list[tuple]) -> None:
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY report ({REPORT_COLUMNS}) FROM STDIN") as copy:
            for r in reports:
                copy.write_row((
                    r[0], r[1], r[2], r[3], r[4], f"SRID=4326;POINT({r[5]!r} {r[6]!r})",
                    r[7], r[8], r[9], r[10], "de", "seed", r[11], r[12], r[13],
                    r[14], r[15], r[16], r[17], r[18], r[19], r[20],
                ))
        with cursor.copy(f"COPY report_event ({EVENT_COLUMNS}) FROM STDIN") as copy:
            for e in events:
                copy.write_row(e)


def _insert_sqlite(session: Session, reports: list[tuple], events: list[tuple]) -> None:
    raw = session.connection().connection.driver_connection
    ts = sqlite_time
    raw.executemany(
        f"INSERT INTO report ({REPORT_COLUMNS}) VALUES "
        "(?, ?, ?, ?, ?, MakePoint(?, ?, 4326), ?, ?, ?, ?, 'de', 'seed', ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?)",
        [(*r[:5], r[5], r[6], *r[7:11], ts(r[11]), ts(r[12]), ts(r[13]), *r[14:21])
         for r in reports],
    )
    raw.executemany(
        f"INSERT INTO report_event ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [(e[0], ts(e[1]), e[2], e[3] and str(e[3]), e[4], e[5]) for e in events],
    )

