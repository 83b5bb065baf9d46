"""Create engines for PostGIS and SpatiaLite with the same options everywhere."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SPATIALITE_MODULE = "mod_spatialite"
CONNECT_TIMEOUT_S = 5  # seconds for a new PostgreSQL connection


def sqlite_dbapi() -> Any:
    """Return a sqlite3 DB-API module that can load extensions (pysqlite3 if the stdlib can't)."""
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        return importlib.import_module("pysqlite3.dbapi2")
    except ImportError as exc:  # pragma: no cover - depends on the Python build
        raise RuntimeError(
            "This Python's sqlite3 cannot load extensions; install `pysqlite3-binary`."
        ) from exc


def engine_options(database_url: str) -> dict[str, Any]:
    """Keyword arguments for `create_engine` (also handed to Flask-SQLAlchemy)."""
    if database_url.startswith("sqlite"):
        return {"module": sqlite_dbapi(), "connect_args": {"timeout": 30}}
    # pre_ping: after a database restart, stale pooled connections are replaced on checkout
    # instead of failing one request each.
    # connect_timeout: while PostgreSQL restarts (a container replaced, a failover) a new
    # connection can hang until the OS gives up, minutes later; the web process's request
    # would outlive gunicorn's worker timeout and end as a killed worker and a 500, instead
    # of the 503 a failed connection gets.
    return {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800, "pool_pre_ping": True,
            "connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}


def absolute_database_url(database_url: str) -> str:
    """The URL with a relative SQLite path made absolute against the working directory.

    Flask-SQLAlchemy would otherwise resolve it against the app's instance folder, and the CLI
    against the working directory: two different files.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


def ensure_sqlite_dir(database_url: str) -> None:
    """Create the directory of a SQLite file database if it does not exist yet."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" hook below emits BEGIN itself, so
    # that savepoints work and every transaction takes the write lock up front (no upgrade
    # deadlocks between concurrent writers in WAL mode).
    dbapi_conn.isolation_level = None
    dbapi_conn.enable_load_extension(True)
    dbapi_conn.load_extension(SPATIALITE_MODULE)
    dbapi_conn.enable_load_extension(False)
    for pragma in (
        "PRAGMA foreign_keys = ON",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",  # a 201 means the report is on disk
        "PRAGMA busy_timeout = 30000",
    ):
        dbapi_conn.execute(pragma)


def _on_sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _on_sqlite_read_connect(dbapi_conn: Any, record: Any) -> None:
    _on_sqlite_connect(dbapi_conn, record)
    dbapi_conn.execute("PRAGMA query_only = ON")  # a stray write fails at once


def _on_sqlite_read_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")  # deferred: readers never wait for the write lock


def configure_engine(engine: Engine) -> Engine:
    """Attach the per-dialect connection setup (SpatiaLite loading, pragmas) to an engine."""
    if engine.dialect.name == "sqlite" and not event.contains(
        engine, "connect", _on_sqlite_connect
    ):
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def make_sqlite_read_engine(database_url: str) -> Engine:
    """A read-only engine on a SQLite file: transactions begin deferred, so concurrent readers
    (the public map, Open311 lists) neither wait for nor block each other or a writer; the
    write engine's transactions take the write lock up front (see `_on_sqlite_begin`)."""
    database_url = absolute_database_url(database_url)
    engine = create_engine(database_url, **engine_options(database_url))
    event.listen(engine, "connect", _on_sqlite_read_connect)
    event.listen(engine, "begin", _on_sqlite_read_begin)
    return engine


def read_only_options(database_url: str) -> dict[str, Any]:
    """`make_engine` extras for a read replica: every transaction read-only, so a write that
    strays there fails at once, even when the URL points at a primary (or a pooler)."""
    if database_url.startswith("sqlite"):
        return {}
    return {"connect_args": {"options": "-c default_transaction_read_only=on"}}


def make_engine(database_url: str, **extra: Any) -> Engine:
    """Create a configured engine for the CLI, workers, tests and benchmarks."""
    database_url = absolute_database_url(database_url)
    ensure_sqlite_dir(database_url)
    options = engine_options(database_url)
    connect_args = {**options.get("connect_args", {}), **extra.pop("connect_args", {})}
    options.update(extra)
    if connect_args:
        options["connect_args"] = connect_args
    return configure_engine(create_engine(database_url, **options))
