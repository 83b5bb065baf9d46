"""The Flask application factory."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from backend.api import (
    analytics,
    app_shell,
    assets,
    categories,
    health,
    media,
    metrics,
    open311,
    openapi,
    opendata,
    photo_preview,
    places,
    report_clusters,
    reports,
    tracking,
)
from backend.api.context import close_read_session
from backend.api.cookie_sessions import LazyCookieSessionInterface
from backend.api.errors import register_error_handlers
from backend.api.json_provider import SafeJSONProvider
from backend.api.metrics import install_metrics
from backend.api.rate_limits import install_rate_limits
from backend.api.request_io import mark_localized_responses, refuse_nul_in_urls
from backend.api.security_headers import install_security_headers
from backend.api.staff import admin as staff_admin
from backend.api.staff import auth as staff_auth
from backend.api.staff import deliveries as staff_deliveries
from backend.api.staff import desk as staff_desk
from backend.api.staff import reports as staff_reports
from backend.city.config import load_city_config
from backend.db.engine import (
    absolute_database_url,
    configure_engine,
    engine_options,
    ensure_sqlite_dir,
    make_engine,
    make_sqlite_read_engine,
    read_only_options,
)
from backend.db.statements import HeldConnections
from backend.extensions import db
from backend.log_format import configure_logging
from backend.media.storage import storage_from_settings
from backend.queue import JobQueue
from backend.services.city_state import VersionProbe
from backend.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from settings (from the environment when none are given)."""
    settings = (settings or Settings.from_env()).with_secret()
    configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    app.json_provider_class = SafeJSONProvider
    app.json = SafeJSONProvider(app)
    app.session_interface = LazyCookieSessionInterface()
    database_url = absolute_database_url(settings.database_url)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(database_url),
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
    )
    app.extensions["mm_settings"] = settings
    app.extensions["mm_city_config"] = load_city_config(settings.city_config)
    app.extensions["mm_storage"] = storage_from_settings(settings)
    app.extensions["mm_jobs"] = JobQueue(settings.redis_url)
    ensure_sqlite_dir(database_url)
    if settings.database_read_url:
        app.extensions["mm_read_engine"] = make_engine(settings.database_read_url,
                                                       **read_only_options(settings.database_read_url))
    if database_url.startswith("sqlite"):
        app.extensions["mm_sqlite_read_engine"] = make_sqlite_read_engine(database_url)
    app.teardown_appcontext(close_read_session)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
        held = app.extensions["mm_held_connections"] = HeldConnections()
        app.extensions["mm_version_probe"] = VersionProbe(
            app.extensions.get("mm_sqlite_read_engine") or db.engine, held)
    for blueprint in (categories.bp, reports.bp, tracking.bp, media.bp, openapi.bp,
                      staff_auth.bp, staff_reports.bp, staff_admin.bp, staff_deliveries.bp,
                      analytics.bp, opendata.bp, open311.bp, health.bp, metrics.bp,
                      app_shell.bp, report_clusters.bp, assets.bp, places.bp, photo_preview.bp,
                      staff_desk.public_bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    refuse_nul_in_urls(app)
    install_security_headers(app)
    install_rate_limits(app)
    install_metrics(app)
    mark_localized_responses(app)
    app.extensions["mm_openapi"] = openapi.build_spec(app)
    if settings.proxy_hops > 0:
        # Client address (rate limits, /metrics), scheme and host as the proxy saw them; only
        # the hops we run are trusted, so a client cannot forge its address.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app
